import { InvalidArgumentError } from '../errors'
import type { JobProgress } from '../types'

/** The log lines kept per job: older ones are dropped first. */
export const MAX_JOB_LOG_LINES = 100

/** The longest log line kept; longer ones are cut and end in `…`. */
export const MAX_JOB_LOG_LINE_CHARS = 2000

/** The most characters of JSON a progress object may have. */
export const MAX_PROGRESS_JSON_CHARS = 1024

/**
 * A copy of `value` that every engine may store as a job's progress: a finite number from 0 to
 * 100, or a plain JSON object of at most {@link MAX_PROGRESS_JSON_CHARS} characters.
 * @throws InvalidArgumentError for anything else
 */
export function readProgress(value: unknown): JobProgress {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0 && value <= 100) return value
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch {
      json = undefined
    }
    if (json !== undefined && json.length <= MAX_PROGRESS_JSON_CHARS) {
      return JSON.parse(json) as { readonly [key: string]: unknown }
    }
  }
  throw new InvalidArgumentError({
    argument: 'the progress given to ctx.updateProgress',
    value,
    expected: `a number from 0 to 100 or a JSON object of at most ${MAX_PROGRESS_JSON_CHARS} characters`,
  })
}

/**
 * The log line to store for `message`, cut to {@link MAX_JOB_LOG_LINE_CHARS} characters.
 * @throws InvalidArgumentError when it is not a string
 */
export function readLogMessage(message: unknown): string {
  if (typeof message !== 'string') {
    throw new InvalidArgumentError({ argument: 'the message given to ctx.log', value: message, expected: 'a string' })
  }
  return message.length > MAX_JOB_LOG_LINE_CHARS ? `${message.slice(0, MAX_JOB_LOG_LINE_CHARS - 1)}\u2026` : message
}
