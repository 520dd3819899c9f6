import type * as Bullmq from 'bullmq'
import type * as IORedis from 'ioredis'
import { BackgroundJobError } from '../errors'

/** A package the BullMQ engine needs, declared as an optional peer dependency. */
export type PeerDependency = 'bullmq' | 'ioredis'

/** The versions the engine is built and tested against, as in package.json's `peerDependencies`. */
const RANGES: Readonly<Record<PeerDependency, string>> = { bullmq: '^6.7.0', ioredis: '^5.4.0' }

/**
 * `express-background-jobs/bullmq` was used, but `bullmq` or `ioredis` (optional peer
 * dependencies, which an application on the memory engine never loads) is not installed.
 */
export class MissingPeerDependencyError extends BackgroundJobError {
  /** The package that could not be loaded. */
  readonly packageName: PeerDependency

  constructor(packageName: PeerDependency, cause: unknown) {
    super(
      `The BullMQ engine needs the package "${packageName}", which could not be loaded. Install both of its peer dependencies: npm install bullmq@"${RANGES.bullmq}" ioredis@"${RANGES.ioredis}"`,
      { cause },
    )
    this.packageName = packageName
  }
}

/** What the engine uses of its peer dependencies. */
export interface BullmqModules {
  readonly bullmq: typeof Bullmq
  readonly Redis: typeof IORedis.Redis
}

let loaded: BullmqModules | undefined

/**
 * Loads `bullmq` and `ioredis`, once, when the first BullMQ engine is made: only this subpath
 * loads them, so the kit's main entry point works without them.
 * @throws MissingPeerDependencyError naming the package missing and the command that installs it
 */
export function loadBullmq(): BullmqModules {
  if (loaded !== undefined) return loaded
  // ioredis first: bullmq itself only finds out it is missing at the first `new Queue`.
  const ioredis = load<typeof IORedis>('ioredis')
  const bullmq = load<typeof Bullmq>('bullmq')
  loaded = { bullmq, Redis: ioredis.Redis }
  return loaded
}

function load<T>(name: PeerDependency): T {
  try {
    // A plain require at run time, not an import: the package is optional and loaded on demand.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND')
      throw new MissingPeerDependencyError(name, error)
    throw error
  }
}
