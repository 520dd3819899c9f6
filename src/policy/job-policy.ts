import { MAX_TIMER_MS } from '../limits'
import type { RetryOptions } from '../types'
import { checkInteger, readOptions } from '../validation'
import { DEFAULT_RETRY, resolveRetryOptions, type ResolvedRetryOptions } from './retry-policy'

/**
 * The policy every engine applies to the jobs it runs, whatever it stores them in. An engine
 * factory declares its defaults; a job class may override `timeoutMs` and `retry` statically.
 */
export interface JobPolicyOptions {
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
   * The largest job arguments accepted, measured as the UTF-8 bytes of their JSON text.
   * @default 1048576 (1 MiB)
   */
  readonly maxArgsBytes?: number
}

/** {@link JobPolicyOptions} with every field present and validated. */
export interface JobPolicy {
  readonly timeoutMs: number
  readonly retry: ResolvedRetryOptions
  readonly maxArgsBytes: number
}

/** The kit's policy defaults. */
export const DEFAULT_JOB_POLICY: JobPolicy = {
  timeoutMs: 300_000,
  retry: DEFAULT_RETRY,
  maxArgsBytes: 1_048_576,
}

/** The keys of {@link JobPolicyOptions}, for engines whose options include them. */
export const JOB_POLICY_KEYS = ['timeoutMs', 'retry', 'maxArgsBytes'] as const

/** Applies the kit's defaults to `options` and validates every field once. */
export function resolveJobPolicy(options: JobPolicyOptions | undefined, where = 'the job policy'): JobPolicy {
  const given = readOptions(options, JOB_POLICY_KEYS, where)
  return {
    timeoutMs: checkInteger('timeoutMs', given.timeoutMs ?? DEFAULT_JOB_POLICY.timeoutMs, 0, MAX_TIMER_MS),
    retry: resolveRetryOptions(given.retry, DEFAULT_RETRY),
    maxArgsBytes: checkInteger('maxArgsBytes', given.maxArgsBytes ?? DEFAULT_JOB_POLICY.maxArgsBytes, 2),
  }
}
