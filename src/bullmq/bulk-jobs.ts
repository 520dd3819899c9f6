import type { JobsOptions } from 'bullmq'
import type { NewJobBatch } from '../background-job-engine'
import { BackgroundJobError } from '../errors'
import type { JobEventHub } from '../job-events'
import { describeThrown, toErrorInfo } from '../policy/error-info'
import type { CancelManyResult, JobInfo } from '../types'
import { toJobInfo, type BullmqJob } from './job-mapping'
import { isScheduleRunJob, takeOutIfUnstarted } from './job-control'
import type { JobReader, QueueAccess } from './job-reader'
import type { RedisConnections } from './redis-connections'
import type { EngineWaiters } from './waiters'

/**
 * The most jobs one `addBulk` call writes. Each call is one MULTI, which Redis runs without
 * serving anyone else: a chunk bounds that pause, and the memory a batch's commands take at once.
 */
export const BULK_CHUNK_SIZE = 1000

/** The most ids whose jobs `cancelMany` reads and removes in one go (its commands pipelined). */
export const CANCEL_CHUNK_SIZE = 500

/**
 * `enqueueMany` on the BullMQ engine stored part of its batch and then failed (Redis went away
 * between two chunks). The jobs in `storedIds` are stored and will run; the others were not
 * stored, except that the chunk being written when the connection dropped may have been (as a
 * single enqueue may have been): jobs must be idempotent. `cause` is what the failing chunk threw.
 */
export class BulkEnqueueError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 503, the store is unavailable. */
  readonly status: number = 503
  readonly jobName: string
  /** The jobs of the batch. */
  readonly requested: number
  /** The ids of the jobs stored before the failure, in the batch's order (its first ones). */
  readonly storedIds: readonly string[]

  constructor(facts: { jobName: string; requested: number; storedIds: readonly string[]; cause: unknown }) {
    const stored = facts.storedIds.length
    super(
      `Enqueuing a batch of ${facts.requested} "${facts.jobName}" jobs failed after ${stored} of them were stored (${toErrorInfo(facts.cause).message}). Those ${stored} (their ids are in \`storedIds\`) will run; enqueue the remaining ${facts.requested - stored} again once Redis is back.`,
      { cause: facts.cause },
    )
    this.jobName = facts.jobName
    this.requested = facts.requested
    this.storedIds = facts.storedIds
  }
}

/** What {@link addJobsInChunks} writes through. */
export interface BulkEnqueueParts {
  readonly connections: Pick<RedisConnections, 'run'>
  readonly access: QueueAccess
  readonly events: JobEventHub
  /** The BullMQ options of every job of a name (attempts, backoff, the keep bounds). */
  readonly jobOptions: (name: string) => JobsOptions
}

/**
 * Stores the jobs of `batch` with `queue.addBulk`, {@link BULK_CHUNK_SIZE} at a time, and
 * resolves with their ids in order; emits `enqueued` for each stored job.
 * @throws BackendUnavailableError when the first chunk fails; BulkEnqueueError when a later one does
 */
export async function addJobsInChunks(parts: BulkEnqueueParts, batch: NewJobBatch): Promise<string[]> {
  const { name, enqueuedAt, args, runAt } = batch
  const count = args.length
  if (count === 0) return []
  const { connections, access, events } = parts
  const options = { ...parts.jobOptions(name), timestamp: enqueuedAt }
  const ids: string[] = []
  for (let start = 0; start < count; start += BULK_CHUNK_SIZE) {
    const chunk: { name: string; data: unknown; opts: JobsOptions }[] = []
    for (let i = start; i < Math.min(count, start + BULK_CHUNK_SIZE); i++) {
      const delay = runAt[i]! - enqueuedAt
      chunk.push({ name, data: args[i], opts: delay > 0 ? { ...options, delay } : options })
    }
    let added: BullmqJob[]
    try {
      added = await connections.run(`enqueue ${chunk.length} jobs "${name}"`, () => access.queue.addBulk(chunk))
    } catch (error) {
      if (ids.length === 0) throw error
      throw new BulkEnqueueError({ jobName: name, requested: count, storedIds: ids, cause: error })
    }
    for (const job of added) {
      ids.push(job.id ?? '')
      if (events.has('enqueued')) events.emit('enqueued', () => toJobInfo(job, 'pending'))
    }
  }
  return ids
}

/** What {@link cancelJobs} reads and writes through. */
export interface BulkCancelParts {
  readonly reader: JobReader
  readonly access: QueueAccess
  readonly events: JobEventHub
  readonly waiters: EngineWaiters
}

/**
 * Cancels the pending jobs of `ids` as the engine's `cancel` does each: the snapshot kept in the
 * cancelled store first, then the job removed from BullMQ. Works through {@link CANCEL_CHUNK_SIZE}
 * ids at a time, each step's commands sent together (ioredis pipelines commands issued in the same
 * turn), so a chunk costs a few round trips instead of a few per job. An id whose job is missing,
 * not pending, started (or ran and went back to pending) between the read and the removal, or is a
 * schedule's next run (which BullMQ will not remove on its own) is skipped. A Redis failure rejects; the jobs cancelled before it
 * stay cancelled.
 */
export async function cancelJobs(parts: BulkCancelParts, ids: readonly string[]): Promise<CancelManyResult> {
  const { reader, access, events, waiters } = parts
  const { client, cancelled: store, queue } = access
  const isCancelled = new Array<boolean>(ids.length).fill(false)
  const seen = new Set<string>()
  let cancelled = 0
  for (let start = 0; start < ids.length; start += CANCEL_CHUNK_SIZE) {
    // An id named twice is looked at once: its second mention is skipped.
    const indexes: number[] = []
    for (let i = start; i < Math.min(ids.length, start + CANCEL_CHUNK_SIZE); i++) {
      if (!seen.has(ids[i]!)) {
        seen.add(ids[i]!)
        indexes.push(i)
      }
    }
    const found = await Promise.all(indexes.map((i) => reader.raw(ids[i]!)))
    const pending: { index: number; job: BullmqJob; isScheduleRun: boolean }[] = []
    found.forEach((entry, k) => {
      if (entry?.state === 'pending')
        pending.push({ index: indexes[k]!, job: entry.job, isScheduleRun: isScheduleRunJob(entry.job) })
    })
    if (pending.length === 0) continue
    const snapshots = await reader.snapshots(
      pending.map((entry) => entry.job),
      'pending',
    )
    const finishedAt = new Date()
    const infos: JobInfo[] = snapshots.map((snapshot) => ({ ...snapshot, state: 'cancelled', finishedAt }))
    // Kept first, so that whoever hears BullMQ's `removed` finds it cancelled.
    await Promise.all(infos.map((info) => store.add(client, info)))
    // As cancel does: a job that ran since it was read (and may be pending again) is not removed
    // as if it were the job read; it is skipped. A schedule's next run is left to the removal,
    // which refuses it.
    const takenOut = await Promise.all(
      pending.map(({ job, isScheduleRun }) =>
        isScheduleRun ? Promise.resolve(false) : takeOutIfUnstarted(access, job.id ?? '', job),
      ),
    )
    const removals = await Promise.all(
      pending.map(({ job, isScheduleRun }, k) =>
        isScheduleRun || takenOut[k] === true
          ? queue.remove(job.id ?? '').then(
              (removed) => ({ removed, error: undefined }),
              (error: unknown) => ({ removed: 0, error }),
            )
          : Promise.resolve({ removed: 0, error: undefined }),
      ),
    )
    let failure: Error | undefined
    const undo: Promise<boolean>[] = []
    removals.forEach(({ removed, error }, k) => {
      const info = infos[k]!
      // Taken out of its list, a job whose removal then failed can no longer run: it stays
      // cancelled (and counted), and the failure is still reported.
      if (removed === 1 || (takenOut[k] === true && error !== undefined)) {
        isCancelled[pending[k]!.index] = true
        cancelled++
        waiters.resolveSettled(info)
        if (events.has('cancelled')) events.emit('cancelled', () => info)
      } else {
        // Not taken out (it ran meanwhile), or 0: the job left its set between the read and the removal.
        undo.push(store.delete(client, info.id))
      }
      if (error !== undefined && !/job scheduler/.test(toErrorInfo(error).message))
        failure ??= error instanceof Error ? error : new Error(describeThrown(error))
    })
    await Promise.all(undo)
    if (failure !== undefined) throw failure
  }
  return { cancelled, skipped: ids.filter((_id, i) => !isCancelled[i]) }
}
