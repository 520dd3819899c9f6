import type { Job, JobType } from 'bullmq'
import type { JobErrorInfo, JobInfo, JobState } from '../types'
import { NO_REPORTS, attemptHistory, type JobReports } from './job-reports'

/** A BullMQ job as this engine stores it: the kit's args as its data. */
export type BullmqJob = Job<unknown, unknown, string>

/** What `job.getState()` answers: a BullMQ state, or `unknown` for a job that is gone. */
export type BullmqState = JobType | 'unknown'

/** The BullMQ states that are the kit's `pending`: waiting, waiting for a retry or a delay, prioritized. */
export const PENDING_TYPES = ['waiting', 'prioritized', 'delayed', 'waiting-children'] as const satisfies JobType[]

/** The kit's state of a job in BullMQ state `state`; undefined for a state the kit has no name for. */
export function kitState(state: BullmqState): JobState | undefined {
  switch (state) {
    case 'waiting':
    case 'wait':
    case 'prioritized':
    case 'delayed':
    case 'waiting-children':
      return 'pending'
    case 'active':
      return 'running'
    case 'completed':
      return 'completed'
    case 'failed':
      return 'failed'
    default:
      return undefined
  }
}

/**
 * The kit's snapshot of a BullMQ job in `state`.
 * @param dueAt when a delayed job is due, read from its score in the delayed set (ms); BullMQ
 *   keeps it nowhere else once a retry has been scheduled
 * @param reports its progress, log lines and past attempts, read with it (none when not given)
 */
export function toJobInfo(job: BullmqJob, state: JobState, dueAt?: number, reports: JobReports = NO_REPORTS): JobInfo {
  // attemptsMade counts ended attempts (failed or completed), not those cut off by a stop or a
  // crash: the kit's count of attempts, plus the one running.
  const attempts = job.attemptsMade + (state === 'running' ? 1 : 0)
  // In the documented field order; `logs` and `history`, last in it, are set at the end.
  const info = {
    id: job.id ?? '',
    name: job.name,
    args: job.data,
    state,
    attempts,
    maxAttempts: job.opts.attempts ?? 1,
    createdAt: new Date(job.timestamp),
    runAt: new Date(dueAt ?? runAtOf(job)),
  } as { -readonly [K in keyof JobInfo]: JobInfo[K] }
  const startedAt = job.processedOn ?? 0
  const finishedAt = job.finishedOn ?? 0
  if (startedAt > 0 && attempts > 0) info.lastRunAt = new Date(startedAt)
  // Retried by hand: BullMQ's retry clears `processedOn`, and the last attempt is the newest past one.
  else if (reports.past.length > 0) info.lastRunAt = reports.past.at(-1)!.startedAt
  if (finishedAt > 0 && (state === 'completed' || state === 'failed')) info.finishedAt = new Date(finishedAt)
  const lastError = lastErrorOf(job)
  if (lastError !== undefined && state !== 'completed') info.lastError = lastError
  if (job.repeatJobKey !== undefined && job.repeatJobKey !== '') info.scheduleId = job.repeatJobKey
  const progress = reports.progress
  if (progress !== undefined) info.progress = typeof progress === 'number' ? progress : structuredClone(progress)
  info.logs = reports.logs
  info.history = attemptHistory(reports.past, { state, attempts, startedAt, finishedAt, lastError })
  return info
}

/**
 * When a job not in the delayed set was (last) due: a schedule's run at the time in its id
 * (`repeat:<scheduleId>:<ms>`), any other at its creation time plus its first delay.
 */
function runAtOf(job: BullmqJob): number {
  const id = job.id ?? ''
  if (job.repeatJobKey !== undefined && id.startsWith('repeat:')) {
    const ms = Number(id.slice(id.lastIndexOf(':') + 1))
    if (Number.isSafeInteger(ms)) return ms
  }
  return job.timestamp + (job.opts.delay ?? 0)
}

/**
 * The error of the last failed attempt. BullMQ keeps the message and the stacks, not the name: the
 * name is read from the first line of the last stack (`TypeError: boom`).
 */
export function lastErrorOf(job: BullmqJob): JobErrorInfo | undefined {
  const message = job.failedReason
  if (typeof message !== 'string' || (message === '' && (job.stacktrace ?? []).length === 0)) return undefined
  const stack = job.stacktrace?.at(-1) ?? undefined
  return { name: errorNameOf(stack), message, ...(stack !== undefined && stack !== '' && { stack }) }
}

/** The error name a stack starts with, `Error` when it names none. */
function errorNameOf(stack: string | undefined): string {
  const first = stack?.split('\n', 1)[0] ?? ''
  const match = /^([A-Za-z_$][\w$]*)(?::|$)/.exec(first)
  return match?.[1] ?? 'Error'
}
