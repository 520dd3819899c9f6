import type { JobEventHub } from '../job-events'
import { toErrorInfo } from '../policy/error-info'
import type { AttemptHooks } from './attempt-runner'
import { toJobInfo, type BullmqJob } from './job-mapping'
import { DUE_AT_FIELD, type QueueAccess } from './job-reader'
import { appendAttempt, readJobReports, type JobReports } from './job-reports'
import { nextRunOf, type BullmqSchedules } from './schedules'

/** What the attempt hooks write through and tell. */
export interface AttemptHookParts {
  readonly access: QueueAccess
  readonly schedules: BullmqSchedules
  readonly events: JobEventHub
  /** Tells the job's `started` event. */
  readonly started: (job: BullmqJob) => void
  /** What the runner knows of `job`'s reports, for the snapshots of its events. */
  readonly reportsOf: (job: BullmqJob) => JobReports | undefined
}

/** The engine's side of an attempt: what the runner records on the job in Redis, and tells. */
export function createAttemptHooks({ access, schedules, events, started, reportsOf }: AttemptHookParts): AttemptHooks {
  return {
    started,
    readReports: (job) =>
      readJobReports(access.client, access.queue.toKey(job.id ?? ''), job.processedOn ?? job.timestamp),
    recordAttempt: (job, entry) => appendAttempt(access.client, access.queue.toKey(job.id ?? ''), entry),
    recordError: (job, error) => recordError(access, job, error),
    recordDue: async (jobId, at) => {
      await access.client.hset(access.queue.toKey(jobId), DUE_AT_FIELD, String(at))
    },
    recordScheduleRun: (job) => {
      const at = nextRunOf(job.id, job.opts.prevMillis) ?? job.timestamp
      return schedules.recordRun(access, job.repeatJobKey ?? '', job.id ?? '', at)
    },
    interrupted: (job, at) => {
      if (events.has('interrupted')) events.emit('interrupted', () => toJobInfo(job, 'pending', at, reportsOf(job)))
    },
  }
}

/** Writes a timed-out attempt's error on its job, which stays active while its body ends. */
async function recordError(access: QueueAccess, job: BullmqJob, error: Error): Promise<void> {
  const info = toErrorInfo(error)
  const stacktrace = [...(job.stacktrace ?? []), info.stack ?? `${info.name}: ${info.message}`]
  await access.client.hset(access.queue.toKey(job.id ?? ''), {
    failedReason: info.message,
    stacktrace: JSON.stringify(stacktrace),
  })
}
