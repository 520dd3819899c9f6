import { systemClock, type Clock } from '../clock'
import { DEFAULT_JOB_POLICY, JOB_POLICY_KEYS, type JobPolicyOptions } from '../policy/job-policy'
import { checkBoolean, checkClock, checkInteger, readOptions } from '../validation'

/** Options of the in-memory engine (`o.useInMemoryStore(options)`), beside the job policy. */
export interface MemoryStoreOptions extends JobPolicyOptions {
  /**
   * The most attempts running at once.
   * @default 10
   */
  readonly concurrency?: number
  /**
   * The most jobs that may be pending; past it `enqueue` rejects with `PendingJobsLimitError`.
   * @default 1000000
   */
  readonly maxPendingJobs?: number
  /**
   * Completed jobs kept for inspection; the oldest are forgotten first.
   * @default 1000
   */
  readonly keepCompleted?: number
  /**
   * Failed jobs kept for inspection and manual retry; the oldest are forgotten first.
   * @default 10000
   */
  readonly keepFailed?: number
  /**
   * Cancelled jobs kept for inspection; the oldest are forgotten first.
   * @default 1000
   */
  readonly keepCancelled?: number
  /**
   * Time source and timers; tests pass a `ManualClock`.
   * @default systemClock
   */
  readonly clock?: Clock
  /**
   * Let the process exit while only pending jobs' timers remain (Node's `unref`). By default
   * pending and running work keeps the process alive, as a `setTimeout` would, so a script that
   * enqueues a delayed job and ends still runs it. With `true`, the process may exit with jobs
   * pending; they are lost (the memory store's contract), and one warning at exit says how many.
   * @default false
   */
  readonly unref?: boolean
}

/** What the memory engine itself reads, validated; the job policy is resolved by `addBackgroundJobs`. */
export interface ResolvedMemoryStoreOptions {
  readonly concurrency: number
  readonly maxPendingJobs: number
  readonly keepCompleted: number
  readonly keepFailed: number
  readonly keepCancelled: number
  readonly clock: Clock
  readonly unref: boolean
}

/** Defaults of the memory engine's own options. */
export const DEFAULT_MEMORY_STORE_OPTIONS: ResolvedMemoryStoreOptions = {
  concurrency: 10,
  maxPendingJobs: 1_000_000,
  keepCompleted: 1000,
  keepFailed: 10_000,
  keepCancelled: 1000,
  clock: systemClock,
  unref: false,
}

/** Every default of {@link MemoryStoreOptions}, the job policy's included, for the README and tests. */
export const MEMORY_STORE_DEFAULTS = { ...DEFAULT_JOB_POLICY, ...DEFAULT_MEMORY_STORE_OPTIONS } as const

const MEMORY_KEYS = [
  ...(Object.keys(DEFAULT_MEMORY_STORE_OPTIONS) as (keyof ResolvedMemoryStoreOptions)[]),
  ...JOB_POLICY_KEYS,
]

/** The largest `concurrency`: more attempts than this at once is a mistake, not a setting. */
const MAX_CONCURRENCY = 100_000

/**
 * Refuses unknown keys, applies defaults and validates the memory engine's own options once; the
 * job policy fields (`timeoutMs`, `retry`, `maxArgsBytes`) are split off for `addBackgroundJobs`.
 */
export function resolveMemoryStoreOptions(options: MemoryStoreOptions | undefined): {
  readonly engine: ResolvedMemoryStoreOptions
  readonly policy: JobPolicyOptions
} {
  const { timeoutMs, retry, maxArgsBytes, ...own } = readOptions(options, MEMORY_KEYS, 'the in-memory store options')
  const resolved = { ...DEFAULT_MEMORY_STORE_OPTIONS, ...withoutUndefined(own) }
  checkInteger('concurrency', resolved.concurrency, 1, MAX_CONCURRENCY)
  checkInteger('maxPendingJobs', resolved.maxPendingJobs, 1)
  checkInteger('keepCompleted', resolved.keepCompleted, 0)
  checkInteger('keepFailed', resolved.keepFailed, 0)
  checkInteger('keepCancelled', resolved.keepCancelled, 0)
  checkClock(resolved.clock)
  checkBoolean('unref', resolved.unref)
  const policy: JobPolicyOptions = {
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(retry !== undefined && { retry }),
    ...(maxArgsBytes !== undefined && { maxArgsBytes }),
  }
  return { engine: resolved, policy }
}

/** `options` without the keys whose value is undefined, so they take the default. */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {}
  for (const key of Object.keys(options) as (keyof T)[]) if (options[key] !== undefined) out[key] = options[key]
  return out
}
