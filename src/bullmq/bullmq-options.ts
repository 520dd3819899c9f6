import type { RedisOptions } from 'ioredis'
import { InvalidOptionError } from '../errors'
import { MAX_TIMER_MS } from '../limits'
import { JOB_POLICY_KEYS, type JobPolicyOptions } from '../policy/job-policy'
import { checkBoolean, checkInteger, checkName, readOptions } from '../validation'

/** Options of the BullMQ engine (`o.useEngine(bullmqEngine(options))`), beside the job policy. */
export interface BullmqEngineOptions extends JobPolicyOptions {
  /**
   * How to reach Redis: ioredis options (`{ host, port, password, tls, ... }`) or a URL
   * (`redis://user:password@host:6379/0`, `rediss://` for TLS). The engine opens its own
   * connections from it: one for enqueuing and the admin (fails fast while Redis is unreachable),
   * and BullMQ's worker and event connections (which wait and reconnect).
   * @default { host: '127.0.0.1', port: 6379 }
   */
  readonly connection?: RedisOptions | string
  /**
   * The BullMQ queue every job of this application goes to. Processes that share it share jobs.
   * @default 'background-jobs'
   */
  readonly queueName?: string
  /**
   * BullMQ's key prefix: every Redis key of the queue starts with `<prefix>:<queueName>:`.
   * @default 'bull'
   */
  readonly prefix?: string
  /**
   * Whether this process runs jobs. `false` makes an enqueue-only process (MASA's
   * `DisableBackgroundJob`, ABP's `IsJobExecutionEnabled = false`): it enqueues, inspects and
   * controls jobs, and another process runs them.
   * @default true
   */
  readonly worker?: boolean
  /**
   * The most attempts this process runs at once (each worker process has its own).
   * @default 10
   */
  readonly concurrency?: number
  /**
   * Completed jobs kept in Redis for inspection; BullMQ drops the oldest past it.
   * @default 1000
   */
  readonly keepCompleted?: number
  /**
   * Failed jobs kept in Redis for inspection and manual retry; BullMQ drops the oldest past it.
   * @default 10000
   */
  readonly keepFailed?: number
  /**
   * Cancelled jobs kept (in the engine's own keys: BullMQ has no cancelled state); the oldest
   * are forgotten first.
   * @default 1000
   */
  readonly keepCancelled?: number
  /**
   * How long a worker's lock on a running job lasts, in ms; the worker renews it while the job
   * runs. A worker that dies (or blocks its event loop) this long loses the job to another
   * worker, which runs it again.
   * @default 30000
   */
  readonly lockDurationMs?: number
  /**
   * How often a worker looks for jobs whose lock expired (stalled jobs), in ms.
   * @default 30000
   */
  readonly stalledIntervalMs?: number
  /**
   * How many times a job may stall (its worker died or lost the lock) before it fails for good.
   * @default 1
   */
  readonly maxStalledCount?: number
}

/** What the BullMQ engine itself reads, validated; the job policy is resolved by `addBackgroundJobs`. */
export interface ResolvedBullmqEngineOptions {
  readonly connection: RedisOptions | string
  readonly queueName: string
  readonly prefix: string
  readonly worker: boolean
  readonly concurrency: number
  readonly keepCompleted: number
  readonly keepFailed: number
  readonly keepCancelled: number
  readonly lockDurationMs: number
  readonly stalledIntervalMs: number
  readonly maxStalledCount: number
}

/** Defaults of the BullMQ engine's own options. */
export const DEFAULT_BULLMQ_ENGINE_OPTIONS: ResolvedBullmqEngineOptions = {
  connection: { host: '127.0.0.1', port: 6379 },
  queueName: 'background-jobs',
  prefix: 'bull',
  worker: true,
  concurrency: 10,
  keepCompleted: 1000,
  keepFailed: 10_000,
  keepCancelled: 1000,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 1,
}

const ENGINE_KEYS = [
  ...(Object.keys(DEFAULT_BULLMQ_ENGINE_OPTIONS) as (keyof ResolvedBullmqEngineOptions)[]),
  ...JOB_POLICY_KEYS,
]

const WHERE = 'the BullMQ engine options'

/** The largest `concurrency`, as on the memory engine. */
const MAX_CONCURRENCY = 100_000

/** Longest queue name or prefix: BullMQ puts both in every key. */
const MAX_KEY_PART_LENGTH = 100

/**
 * Refuses unknown keys, applies defaults and validates the engine's own options once; the job
 * policy fields (`timeoutMs`, `retry`, `maxArgsBytes`) are split off for `addBackgroundJobs`.
 */
export function resolveBullmqEngineOptions(options: BullmqEngineOptions | undefined): {
  readonly engine: ResolvedBullmqEngineOptions
  readonly policy: JobPolicyOptions
} {
  const { timeoutMs, retry, maxArgsBytes, ...own } = readOptions(options, ENGINE_KEYS, WHERE)
  const resolved: ResolvedBullmqEngineOptions = { ...DEFAULT_BULLMQ_ENGINE_OPTIONS, ...withoutUndefined(own) }
  checkConnection(resolved.connection)
  checkKeyPart('queueName', resolved.queueName)
  checkKeyPart('prefix', resolved.prefix)
  checkBoolean('worker', resolved.worker, WHERE)
  checkInteger('concurrency', resolved.concurrency, 1, MAX_CONCURRENCY, WHERE)
  checkInteger('keepCompleted', resolved.keepCompleted, 0, Number.MAX_SAFE_INTEGER, WHERE)
  checkInteger('keepFailed', resolved.keepFailed, 0, Number.MAX_SAFE_INTEGER, WHERE)
  checkInteger('keepCancelled', resolved.keepCancelled, 0, Number.MAX_SAFE_INTEGER, WHERE)
  checkInteger('lockDurationMs', resolved.lockDurationMs, 100, MAX_TIMER_MS, WHERE)
  checkInteger('stalledIntervalMs', resolved.stalledIntervalMs, 100, MAX_TIMER_MS, WHERE)
  checkInteger('maxStalledCount', resolved.maxStalledCount, 0, 1000, WHERE)
  const policy: JobPolicyOptions = {
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(retry !== undefined && { retry }),
    ...(maxArgsBytes !== undefined && { maxArgsBytes }),
  }
  return { engine: resolved, policy }
}

/** A queue name or prefix: a non-empty string without `:`, which BullMQ uses to join key parts. */
function checkKeyPart(option: 'queueName' | 'prefix', value: unknown): void {
  checkName(option, value, MAX_KEY_PART_LENGTH, WHERE)
  if ((value as string).includes(':') || /\s/.test(value as string)) {
    throw new InvalidOptionError({
      option,
      value,
      expected: 'a string without `:` or white space',
      where: WHERE,
      hint: 'BullMQ joins key parts with `:`.',
    })
  }
}

/** `connection`: a redis:// or rediss:// URL, or an ioredis options object. */
function checkConnection(value: unknown): void {
  if (typeof value === 'string') {
    let url: URL | undefined
    try {
      url = new URL(value)
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
      throw new InvalidOptionError({
        option: 'connection',
        value: '(a URL, not shown: it may hold a password)',
        expected: 'a redis:// or rediss:// URL, or ioredis options { host, port, ... }',
        where: WHERE,
      })
    }
    return
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError({
      option: 'connection',
      value,
      expected: 'a redis:// or rediss:// URL, or ioredis options { host, port, ... }',
      where: WHERE,
    })
  }
  const { keyPrefix } = value as RedisOptions
  if (keyPrefix !== undefined && keyPrefix !== '') {
    throw new InvalidOptionError({
      option: 'connection.keyPrefix',
      value: keyPrefix,
      expected: 'left out',
      where: WHERE,
      hint: "BullMQ does not support ioredis's keyPrefix; use the engine's `prefix` option.",
    })
  }
}

/** `options` without the keys whose value is undefined, so they take the default. */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {}
  for (const key of Object.keys(options) as (keyof T)[]) if (options[key] !== undefined) out[key] = options[key]
  return out
}
