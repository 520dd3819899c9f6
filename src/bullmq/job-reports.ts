import type { Redis } from 'ioredis'
import { MAX_JOB_LOG_LINES } from '../policy/job-progress'
import type { JobAttemptInfo, JobErrorInfo, JobLogLine, JobProgress, JobState } from '../types'

/**
 * What a BullMQ job reported and its past attempts, as the engine stores them. All of it lives in
 * keys that BullMQ removes with the job (removeOnComplete/removeOnFail counts, `remove()`), so
 * nothing outlives it:
 * - the progress in BullMQ's own `progress` field of the job hash (`job.updateProgress`), absent
 *   until the job reports one;
 * - the log lines in BullMQ's `<job key>:logs` list (`job.log`, trimmed by the job's `keepLogs`),
 *   each stored as `<ISO time> <message>` so that other BullMQ tools show them readably;
 * - the attempts that ended before the last one (failed and retried, or retried by hand) in the
 *   {@link HISTORY_FIELD} field of the job hash, one JSON entry per line. The last attempt is read
 *   from BullMQ's own fields (`processedOn`, `finishedOn`, the last error), as the memory engine
 *   reads it from its record, so a job that runs once stores no history at all.
 */
export interface JobReports {
  /** The last progress reported; absent when none was. */
  readonly progress?: JobProgress
  /** The last {@link MAX_JOB_LOG_LINES} lines logged, oldest first. */
  readonly logs: readonly JobLogLine[]
  /** The attempts before the last one, oldest first. */
  readonly past: readonly JobAttemptInfo[]
}

/** The job-hash field holding a job's past attempts. */
export const HISTORY_FIELD = 'ebjHistory'

/** BullMQ's job-hash field of the progress, JSON. */
export const PROGRESS_FIELD = 'progress'

/** A job's reports when it has reported nothing and has no past attempt (shared, frozen). */
export const NO_REPORTS: JobReports = Object.freeze({ logs: Object.freeze([]), past: Object.freeze([]) })

/** The key of job `jobKey`'s log list (BullMQ's). */
export function logsKeyOf(jobKey: string): string {
  return `${jobKey}:logs`
}

/** A log line as stored: `<ISO time> <message>`. */
export function encodeLogLine(at: number, message: string): string {
  return `${new Date(at).toISOString()} ${message}`
}

/** Length of `new Date(ms).toISOString()` for years 0 to 9999. */
const ISO_LENGTH = 24

/**
 * A stored log line back as `{ at, message }`; a line not written by the engine (another tool's
 * `job.log`) is kept whole, at `fallbackAt`.
 */
export function decodeLogLine(stored: string, fallbackAt: number): JobLogLine {
  if (stored.length > ISO_LENGTH && stored.charCodeAt(ISO_LENGTH) === 32 && stored.charCodeAt(ISO_LENGTH - 1) === 90) {
    const at = Date.parse(stored.slice(0, ISO_LENGTH))
    if (!Number.isNaN(at)) return { at: new Date(at), message: stored.slice(ISO_LENGTH + 1) }
  }
  return { at: new Date(fallbackAt), message: stored }
}

/** One past attempt as stored in {@link HISTORY_FIELD}: one line of JSON. */
export function encodeAttempt(entry: JobAttemptInfo): string {
  return JSON.stringify(entry)
}

/**
 * The reports read from a job's hash fields and log list.
 * @param fallbackAt the time given to a log line whose time cannot be read
 */
export function decodeReports(
  progress: string | null | undefined,
  history: string | null | undefined,
  logs: readonly string[] | null | undefined,
  fallbackAt: number,
): JobReports {
  const lines = logs ?? []
  const hasProgress = typeof progress === 'string'
  const hasHistory = typeof history === 'string' && history !== ''
  if (!hasProgress && !hasHistory && lines.length === 0) return NO_REPORTS
  return {
    ...(hasProgress && { progress: JSON.parse(progress) as JobProgress }),
    logs: lines.slice(-MAX_JOB_LOG_LINES).map((line) => decodeLogLine(line, fallbackAt)),
    past: hasHistory ? decodeHistory(history) : [],
  }
}

function decodeHistory(stored: string): JobAttemptInfo[] {
  const entries = stored.split('\n').map((line) => reviveAttempt(JSON.parse(line) as Record<string, unknown>))
  // Appended by the process that ended each attempt; in the order they started.
  return entries.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime())
}

/** An attempt as `JSON.parse` gives it back (dates as strings), with its dates as dates. */
export function reviveAttempt(raw: Record<string, unknown>): JobAttemptInfo {
  return {
    attempt: raw.attempt as number,
    startedAt: new Date(raw.startedAt as string),
    ...(raw.finishedAt !== undefined && { finishedAt: new Date(raw.finishedAt as string) }),
    outcome: raw.outcome as JobAttemptInfo['outcome'],
    ...(raw.error !== undefined && { error: raw.error as JobErrorInfo }),
  }
}

/** Reads the reports of the job at `jobKey` (one round trip). */
export async function readJobReports(client: Redis, jobKey: string, fallbackAt: number): Promise<JobReports> {
  const replies =
    (await client
      .pipeline()
      .hmget(jobKey, PROGRESS_FIELD, HISTORY_FIELD)
      .lrange(logsKeyOf(jobKey), -MAX_JOB_LOG_LINES, -1)
      .exec()) ?? []
  const [fields, logs] = replies.map(([error, reply]) => {
    if (error !== null) throw error
    return reply
  }) as [(string | null)[] | undefined, string[] | undefined]
  return decodeReports(fields?.[0], fields?.[1], logs, fallbackAt)
}

/**
 * Appends `entry` to the past attempts of the job at `jobKey`, in one step, and only if the job
 * still exists: a write for a job removed meanwhile must not make a hash of it again.
 */
export async function appendAttempt(client: Redis, jobKey: string, entry: JobAttemptInfo): Promise<void> {
  await client.eval(APPEND_ATTEMPT, 1, jobKey, HISTORY_FIELD, encodeAttempt(entry))
}

const APPEND_ATTEMPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and old ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], old .. '\\n' .. ARGV[2])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
`

/** What the last attempt of a job is read from: BullMQ's fields, in the kit's terms. */
export interface LastAttemptFacts {
  readonly state: JobState
  /** Attempts started, as the kit counts them. */
  readonly attempts: number
  /** When the last attempt started (ms), 0 when none did. */
  readonly startedAt: number
  /** When the job finished (ms), 0 when it has not. */
  readonly finishedAt: number
  readonly lastError: JobErrorInfo | undefined
}

/**
 * One entry per attempt, oldest first: the past ones, then the last one when it runs or ended the
 * job (as on the memory engine: a job waiting for a retry shows only its past attempts).
 */
export function attemptHistory(past: readonly JobAttemptInfo[], last: LastAttemptFacts): readonly JobAttemptInfo[] {
  const { state, attempts, startedAt, finishedAt, lastError } = last
  if (startedAt <= 0 || attempts <= 0 || (state !== 'running' && state !== 'completed' && state !== 'failed')) {
    return past
  }
  const entry: JobAttemptInfo = {
    attempt: attempts,
    startedAt: new Date(startedAt),
    ...(state !== 'running' && finishedAt > 0 && { finishedAt: new Date(finishedAt) }),
    outcome: state,
    ...(state === 'failed' && lastError !== undefined && { error: lastError }),
  }
  return past.length === 0 ? [entry] : [...past, entry]
}
