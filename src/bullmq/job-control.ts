import { JobNotFoundError, JobStateError } from '../errors'
import { toErrorInfo } from '../policy/error-info'
import type { JobInfo, JobState } from '../types'
import { lastErrorOf, toJobInfo, type BullmqJob } from './job-mapping'
import { DUE_AT_FIELD, type JobReader, type QueueAccess } from './job-reader'
import { appendAttempt, readJobReports } from './job-reports'

/** The states a job may be deleted in. */
export const FINISHED: readonly JobState[] = ['completed', 'failed', 'cancelled']

/**
 * A schedule's next run, which BullMQ keeps ahead of its time, cannot be cancelled on its own: a
 * {@link JobStateError} whose message says to remove (or replace) the schedule instead.
 */
export class ScheduleRunCancelError extends JobStateError {
  constructor(jobId: string) {
    super({ jobId, state: 'pending', expected: ['pending'], action: 'cancel' })
    this.message = `Job ${jobId} is the next run of a recurring schedule, which BullMQ keeps until it is due; it cannot be cancelled on its own. Remove the schedule (removeSchedule) or replace it (addOrUpdateSchedule) instead.`
  }
}

/**
 * Cancels pending job `id`: keeps its snapshot in the cancelled store, then removes it from
 * BullMQ. Resolves with the cancelled snapshot.
 * @throws JobNotFoundError, JobStateError (not pending, or started meanwhile), ScheduleRunCancelError
 */
export async function cancelJob(reader: JobReader, access: QueueAccess, id: string): Promise<JobInfo> {
  const found = await requireJob(reader, access, id, 'cancel', ['pending'])
  const [snapshot] = await reader.snapshots([found.job], 'pending')
  const info: JobInfo = {
    ...(snapshot ?? toJobInfo(found.job, 'pending')),
    state: 'cancelled',
    finishedAt: new Date(),
  }
  // Kept first, so that whoever hears BullMQ's `removed` finds it cancelled.
  await access.cancelled.add(access.client, info)
  // BullMQ's removal takes a job in any state but running: one that ran (and went back to
  // waiting, or finished) since the check would be removed as if it were still the job checked.
  // A schedule's next run is left to the removal, which refuses it.
  const isScheduleRun = isScheduleRunJob(found.job)
  if (!isScheduleRun && !(await takeOutIfUnstarted(access, id, found.job))) {
    await access.cancelled.delete(access.client, id)
    const now = await reader.raw(id)
    // It ran meanwhile and is pending again: cancelled as it is now.
    if (now?.state === 'pending') return cancelJob(reader, access, id)
    throw new JobStateError({ jobId: id, state: now?.state ?? 'running', expected: ['pending'], action: 'cancel' })
  }
  const removed = await access.queue.remove(id).catch(async (error: unknown) => {
    // Taken out of its list, the job can no longer run: its cancelled record stays, so it is
    // found cancelled rather than lost, and the failure is still reported.
    if (!isScheduleRun) throw error
    await access.cancelled.delete(access.client, id)
    if (/job scheduler/.test(toErrorInfo(error).message)) throw new ScheduleRunCancelError(id)
    throw error
  })
  // 0: the job left its set between the check and the removal (a worker started it).
  if (removed !== 1) {
    await access.cancelled.delete(access.client, id)
    const state = (await reader.raw(id))?.state ?? 'running'
    throw new JobStateError({ jobId: id, state, expected: ['pending'], action: 'cancel' })
  }
  return info
}

/** Whether `job` is a schedule's next run, which BullMQ's removal refuses on its own. */
export function isScheduleRunJob(job: BullmqJob): boolean {
  return job.repeatJobKey !== undefined && job.repeatJobKey !== ''
}

/**
 * In one step: if job `id` is not locked and has started and made as many attempts as when it
 * was read (it has not run since, and was not running then), takes it out of the list or set it
 * waits in, so that no worker can start it before BullMQ's removal. 1 when taken out, else 0.
 */
const TAKE_OUT_IF_UNSTARTED = `
if redis.call('EXISTS', KEYS[1] .. ':lock') == 1 then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'ats') or '0') ~= tonumber(ARGV[2]) then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'atm') or '0') ~= tonumber(ARGV[3]) then return 0 end
if redis.call('LREM', KEYS[2], 1, ARGV[1]) == 1 then return 1 end
if redis.call('LREM', KEYS[3], 1, ARGV[1]) == 1 then return 1 end
if redis.call('ZREM', KEYS[4], ARGV[1]) == 1 then return 1 end
return redis.call('ZREM', KEYS[5], ARGV[1])
`

/** Runs {@link TAKE_OUT_IF_UNSTARTED} for job `id`: whether it was taken out. */
export async function takeOutIfUnstarted(access: QueueAccess, id: string, read: BullmqJob): Promise<boolean> {
  const { queue } = access
  const keys = [queue.toKey(id), ...['wait', 'paused', 'delayed', 'prioritized'].map((set) => queue.toKey(set))]
  return (
    (await access.client.eval(
      TAKE_OUT_IF_UNSTARTED,
      keys.length,
      ...keys,
      id,
      read.attemptsStarted,
      read.attemptsMade,
    )) === 1
  )
}

/**
 * Retries failed job `id` with a fresh attempt budget, due now; its last attempt joins its past
 * attempts, as on the memory engine. Resolves with its pending snapshot.
 * @throws JobNotFoundError, JobStateError (not failed, or retried or deleted by another process first)
 */
export async function retryJob(reader: JobReader, access: QueueAccess, id: string): Promise<JobInfo> {
  const { job } = await requireJob(reader, access, id, 'retry', ['failed'])
  const key = access.queue.toKey(id)
  // Read while it is failed, before BullMQ's retry clears the fields its last attempt is read from.
  const reports = await readJobReports(access.client, key, job.processedOn ?? job.timestamp)
  const lastError = lastErrorOf(job)
  const hasRun = (job.processedOn ?? 0) > 0
  const last = {
    attempt: job.attemptsMade,
    startedAt: new Date(job.processedOn ?? job.timestamp),
    ...(job.finishedOn !== undefined && job.finishedOn > 0 && { finishedAt: new Date(job.finishedOn) }),
    outcome: 'failed' as const,
    ...(lastError !== undefined && { error: lastError }),
  }
  try {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
  } catch (error) {
    // Another process retried or deleted it first.
    const state = (await reader.raw(id))?.state
    if (state === undefined) throw new JobNotFoundError(id)
    if (state !== 'failed') throw new JobStateError({ jobId: id, state, expected: ['failed'], action: 'retry' })
    throw error
  }
  const now = Date.now()
  // After the retry, by the one process whose retry took: kept once. Entries are read in the
  // order they started, so an attempt of the retry that ends first is not put before it.
  await Promise.all([
    access.client.hset(key, DUE_AT_FIELD, String(now)),
    hasRun ? appendAttempt(access.client, key, last) : undefined,
  ])
  return toJobInfo(job, 'pending', now, { ...reports, past: hasRun ? [...reports.past, last] : reports.past })
}

/**
 * Deletes finished job `id`, from BullMQ or from the cancelled store.
 * @throws JobNotFoundError, JobStateError (pending or running)
 */
export async function deleteJob(reader: JobReader, access: QueueAccess, id: string): Promise<void> {
  const found = await reader.raw(id)
  if (found === undefined) {
    if (!(await access.cancelled.delete(access.client, id))) throw new JobNotFoundError(id)
    return
  }
  if (found.state !== 'completed' && found.state !== 'failed') {
    throw new JobStateError({ jobId: id, state: found.state, expected: FINISHED, action: 'delete' })
  }
  await found.job.remove()
}

/** The BullMQ job `id` when it is in one of the states `action` applies to. */
async function requireJob(
  reader: JobReader,
  access: QueueAccess,
  id: string,
  action: 'cancel' | 'retry',
  expected: readonly JobState[],
): Promise<{ job: BullmqJob; state: JobState }> {
  const found = await reader.raw(id)
  if (found === undefined) {
    if ((await access.cancelled.get(access.client, id)) === undefined) throw new JobNotFoundError(id)
    throw new JobStateError({ jobId: id, state: 'cancelled', expected, action })
  }
  if (!expected.includes(found.state)) throw new JobStateError({ jobId: id, state: found.state, expected, action })
  return found
}
