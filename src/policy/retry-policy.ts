import { MAX_RETRIES, MAX_TIMER_MS } from '../limits'
import type { RetryOptions } from '../types'
import { checkInteger, checkNumber, readOptions } from '../validation'

/** Retry options with every field present. */
export type ResolvedRetryOptions = Required<RetryOptions>

/** MASA's retry defaults: 10 retries, the first after a minute, each wait twice the last, none over a day. */
export const DEFAULT_RETRY: ResolvedRetryOptions = {
  maxRetries: 10,
  initialDelayMs: 60_000,
  factor: 2,
  maxDelayMs: 86_400_000,
}

const RETRY_KEYS = ['maxRetries', 'initialDelayMs', 'factor', 'maxDelayMs'] as const

/**
 * The largest backoff `factor` accepted. A larger one says nothing more: from the second retry on
 * every wait would already be `maxDelayMs`. Far larger ones (`1e200`) overflowed the wait to
 * Infinity, and `0 * Infinity` is NaN.
 */
export const MAX_BACKOFF_FACTOR = 1000

/**
 * Applies `base` to the fields `retry` leaves out and validates the result; `option` names the
 * options in messages (`retry`, `SendMailJob.retry`).
 */
export function resolveRetryOptions(
  retry: RetryOptions | undefined,
  base: ResolvedRetryOptions,
  option = 'retry',
): ResolvedRetryOptions {
  const resolved = { ...base, ...readOptions(retry, RETRY_KEYS, `\`${option}\``) }
  checkInteger(`${option}.maxRetries`, resolved.maxRetries, 0, MAX_RETRIES)
  checkInteger(`${option}.initialDelayMs`, resolved.initialDelayMs, 0, MAX_TIMER_MS)
  checkNumber(`${option}.factor`, resolved.factor, 1, MAX_BACKOFF_FACTOR)
  checkInteger(`${option}.maxDelayMs`, resolved.maxDelayMs, 0, MAX_TIMER_MS)
  return resolved
}

/**
 * The wait before the retry that follows failed attempt number `attempt` (1-based): MASA's
 * exponential backoff, `initialDelayMs * factor^(attempt - 1)` rounded to a whole ms, never over
 * `maxDelayMs`. For every resolved policy and attempt it is an integer from 0 to `maxDelayMs`,
 * and it never shrinks from one attempt to the next. Every engine applies it: it is policy, not
 * storage.
 */
export function backoffDelay(retry: ResolvedRetryOptions, attempt: number): number {
  const { initialDelayMs, factor, maxDelayMs } = retry
  // `factor ** (attempt - 1)` overflows to Infinity after enough attempts, and 0 * Infinity is NaN.
  if (initialDelayMs === 0 || attempt <= 1) return Math.min(initialDelayMs, maxDelayMs)
  const delay = initialDelayMs * factor ** (attempt - 1)
  // Written so that Infinity, and NaN from a non-numeric attempt, give `maxDelayMs`.
  return delay < maxDelayMs ? Math.round(delay) : maxDelayMs
}
