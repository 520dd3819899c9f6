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
  checkNumber(`${option}.factor`, resolved.factor, 1)
  checkInteger(`${option}.maxDelayMs`, resolved.maxDelayMs, 0, MAX_TIMER_MS)
  return resolved
}

/**
 * The wait before the retry that follows failed attempt number `attempt` (1-based): MASA's
 * exponential backoff, `initialDelayMs * factor^(attempt - 1)`, never over `maxDelayMs`.
 * Every engine applies it: it is policy, not storage.
 */
export function backoffDelay(retry: ResolvedRetryOptions, attempt: number): number {
  return Math.min(retry.initialDelayMs * retry.factor ** (attempt - 1), retry.maxDelayMs)
}
