import { systemClock, type Clock } from './clock'
import { InvalidOptionError, describeValue } from './errors'
import type { RetryOptions } from './types'

/** Options of the in-memory store and its processor (`o.useInMemoryStore(options)`). */
export interface MemoryStoreOptions {
  /**
   * The most attempts running at once.
   * @default 10
   */
  readonly concurrency?: number
  /**
   * The longest an attempt may run, in ms; then its signal is aborted and the attempt fails.
   * 0 disables the timeout (a job that never settles then holds a slot forever).
   * @default 300000 (5 minutes)
   */
  readonly timeoutMs?: number
  /**
   * The retry policy of every job; a job class may override it with a static `retry`.
   * @default MASA's: 10 retries, first wait 60 s, factor 2, no wait over a day
   */
  readonly retry?: RetryOptions
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
   * The largest job arguments accepted, measured as their JSON size in bytes (roughly).
   * @default 1048576 (1 MiB)
   */
  readonly maxArgsBytes?: number
  /**
   * Time source and timers; tests pass a `ManualClock`.
   * @default systemClock
   */
  readonly clock?: Clock
  /**
   * Let the process exit while only pending jobs' timers remain (they are lost, as the memory
   * store's contract says). Set false to keep the process alive for them.
   * @default true
   */
  readonly unref?: boolean
}

/** Retry options with every field present. */
export type ResolvedRetryOptions = Required<RetryOptions>

/** Memory store options with defaults applied and validated. */
export interface ResolvedMemoryStoreOptions extends Required<Omit<MemoryStoreOptions, 'retry'>> {
  readonly retry: ResolvedRetryOptions
}

/** MASA's retry defaults. */
export const DEFAULT_RETRY: ResolvedRetryOptions = {
  maxRetries: 10,
  initialDelayMs: 60_000,
  factor: 2,
  maxDelayMs: 86_400_000,
}

/** Defaults of {@link MemoryStoreOptions}. */
export const DEFAULT_MEMORY_STORE_OPTIONS: ResolvedMemoryStoreOptions = {
  concurrency: 10,
  timeoutMs: 300_000,
  retry: DEFAULT_RETRY,
  maxPendingJobs: 1_000_000,
  keepCompleted: 1000,
  keepFailed: 10_000,
  keepCancelled: 1000,
  maxArgsBytes: 1_048_576,
  clock: systemClock,
  unref: true,
}

/** Checks that `options` is an object (or undefined) before its fields are read. */
export function assertOptionsObject(options: unknown, what: string): void {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new InvalidOptionError(`Expected ${what} to be an object, got ${describeValue(options)}.`)
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function assertInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw new InvalidOptionError(`Expected \`${name}\` to be an integer ${range}, got ${describeValue(value)}.`)
  }
}

/** Throws unless `value` is a finite number >= min. */
export function assertNumber(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(`Expected \`${name}\` to be a finite number >= ${min}, got ${describeValue(value)}.`)
  }
}

/** Applies defaults to retry options and validates them; `prefix` names them in messages. */
export function resolveRetryOptions(retry: RetryOptions | undefined, base: ResolvedRetryOptions, prefix = 'retry'): ResolvedRetryOptions {
  assertOptionsObject(retry, `\`${prefix}\``)
  const resolved = { ...base, ...retry }
  assertInteger(`${prefix}.maxRetries`, resolved.maxRetries, 0, 1000)
  assertInteger(`${prefix}.initialDelayMs`, resolved.initialDelayMs, 0, 2 ** 31 - 1)
  assertNumber(`${prefix}.factor`, resolved.factor, 1)
  assertInteger(`${prefix}.maxDelayMs`, resolved.maxDelayMs, 0, 2 ** 31 - 1)
  return resolved
}

/** Applies defaults to memory store options and validates every field once. */
export function resolveMemoryStoreOptions(options: MemoryStoreOptions | undefined): ResolvedMemoryStoreOptions {
  assertOptionsObject(options, 'the in-memory store options')
  const resolved = { ...DEFAULT_MEMORY_STORE_OPTIONS, ...options }
  assertInteger('concurrency', resolved.concurrency, 1, 100_000)
  assertInteger('timeoutMs', resolved.timeoutMs, 0, 2 ** 31 - 1)
  assertInteger('maxPendingJobs', resolved.maxPendingJobs, 1)
  assertInteger('keepCompleted', resolved.keepCompleted, 0)
  assertInteger('keepFailed', resolved.keepFailed, 0)
  assertInteger('keepCancelled', resolved.keepCancelled, 0)
  assertInteger('maxArgsBytes', resolved.maxArgsBytes, 2)
  const { clock } = resolved
  if (
    clock === null ||
    typeof clock !== 'object' ||
    typeof clock.now !== 'function' ||
    typeof clock.monotonicNow !== 'function' ||
    typeof clock.setTimer !== 'function' ||
    typeof clock.clearTimer !== 'function'
  ) {
    throw new InvalidOptionError(`Expected \`clock\` to be a Clock (now, monotonicNow, setTimer, clearTimer), got ${describeValue(clock)}.`)
  }
  if (typeof resolved.unref !== 'boolean') {
    throw new InvalidOptionError(`Expected \`unref\` to be a boolean, got ${describeValue(resolved.unref)}.`)
  }
  return { ...resolved, retry: resolveRetryOptions(options?.retry, DEFAULT_RETRY) }
}
