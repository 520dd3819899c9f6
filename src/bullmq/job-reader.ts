import type { JobSchedulerJson, Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { JobCounts, JobInfo, JobPage, JobState, ListJobsQuery } from '../types'
import type { CancelledStore } from './cancelled-store'
import { PENDING_TYPES, kitState, toJobInfo, type BullmqJob } from './job-mapping'
import { HISTORY_FIELD, PROGRESS_FIELD, decodeReports, logsKeyOf } from './job-reports'
import { MAX_JOB_LOG_LINES } from '../policy/job-progress'

/** A BullMQ queue holding the kit's jobs. */
export type KitQueue = Queue<unknown, unknown, string>

/**
 * The job-hash field where the engine keeps when a job that BullMQ moved straight to waiting is
 * due (a manual retry, an interrupted attempt): BullMQ records that time nowhere.
 */
export const DUE_AT_FIELD = 'ebjDueAt'

/** BullMQ scores delayed jobs as `dueAt * 4096 + a counter`. */
const DELAYED_SCORE_FACTOR = 0x1000

/** What reads go through: a queue, its client, and the engine's cancelled store. */
export interface QueueAccess {
  readonly queue: KitQueue
  readonly client: Redis
  readonly cancelled: CancelledStore
}

/**
 * The engine's reads: snapshots, pages and counts, in the kit's states. A schedule's next run,
 * which BullMQ keeps as a delayed job ahead of its time, is not pending until it is due: the
 * memory engine enqueues an occurrence only then, and `pending` means the same on both engines.
 */
export class JobReader {
  readonly #access: QueueAccess

  constructor(access: QueueAccess) {
    this.#access = access
  }

  /** The BullMQ job `id` and its kit state, or undefined when BullMQ has no such job. */
  async raw(id: string): Promise<{ job: BullmqJob; state: JobState } | undefined> {
    const { queue } = this.#access
    // The state first, then the hash: two reads, and the job may move between them. Read in this
    // order, a job that finishes meanwhile shows as still running (and a waiter waits on), never
    // as finished with the counters of its last attempt missing.
    let state = kitState(await queue.getJobState(id))
    const job = await queue.getJob(id)
    if (job === undefined || state === undefined) return undefined
    if ((state === 'pending' || state === 'running') && job.finishedOn !== undefined && job.finishedOn > 0) {
      state = kitState(await queue.getJobState(id))
      if (state === undefined) return undefined
    }
    return { job, state }
  }

  /** The snapshot of job `id`, wherever it is kept; undefined when it is nowhere. */
  async get(id: string): Promise<JobInfo | undefined> {
    const found = await this.raw(id)
    if (found === undefined) return this.#access.cancelled.get(this.#access.client, id)
    const [info] = await this.snapshots([found.job], found.state)
    return info
  }

  /**
   * Snapshots of `jobs`, all in `state`, with their due times, progress, log lines and past
   * attempts read in one round trip.
   */
  async snapshots(jobs: readonly BullmqJob[], state: JobState): Promise<JobInfo[]> {
    if (jobs.length === 0) return []
    const { queue, client } = this.#access
    const pipeline = client.pipeline()
    for (const job of jobs) {
      const id = job.id ?? ''
      const key = queue.toKey(id)
      pipeline.zscore(queue.keys.delayed ?? '', id)
      pipeline.hmget(key, DUE_AT_FIELD, PROGRESS_FIELD, HISTORY_FIELD)
      pipeline.lrange(logsKeyOf(key), -MAX_JOB_LOG_LINES, -1)
    }
    const replies = (await pipeline.exec()) ?? []
    return jobs.map((job, i) => {
      const score = replies[3 * i]?.[1]
      const [dueAt, progress, history] = (replies[3 * i + 1]?.[1] ?? []) as (string | null)[]
      const logs = replies[3 * i + 2]?.[1] as string[] | undefined
      let due: number | undefined
      if (typeof score === 'string') due = Math.floor(Number(score) / DELAYED_SCORE_FACTOR)
      else if (typeof dueAt === 'string' && state === 'pending') due = Number(dueAt)
      return toJobInfo(job, state, due, decodeReports(progress, history, logs, job.processedOn ?? job.timestamp))
    })
  }

  /** Jobs in each state; `pending` leaves out the schedules' runs not due yet. */
  async counts(): Promise<JobCounts> {
    const { queue, client, cancelled } = this.#access
    const [counts, early, cancelledCount] = await Promise.all([
      queue.getJobCounts('active', 'completed', 'failed', ...PENDING_TYPES),
      this.#earlyScheduleRuns(),
      cancelled.count(client),
    ])
    const pending = PENDING_TYPES.reduce((sum, type) => sum + (counts[type] ?? 0), 0)
    return {
      pending: Math.max(0, pending - early.length),
      running: counts.active ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
      cancelled: cancelledCount,
    }
  }

  /**
   * One page of the jobs in a state. Pending jobs come in the order they run: due ones first
   * (BullMQ's waiting list, oldest first, then prioritized), then delayed ones by due time; each
   * BullMQ set is paged on its own and the page is stitched from them (not a snapshot: jobs may
   * move between the reads). Running jobs oldest first; finished ones newest first.
   */
  async list(query: Required<ListJobsQuery>): Promise<JobPage> {
    const { state, offset, limit } = query
    const { queue, client, cancelled } = this.#access
    if (state === 'cancelled') {
      const [items, total] = await Promise.all([cancelled.list(client, offset, limit), cancelled.count(client)])
      return { items, total, offset, limit }
    }
    if (state !== 'pending') {
      const type = state === 'running' ? 'active' : state
      const [counts, jobs] = await Promise.all([
        queue.getJobCounts(type),
        queue.getJobs([type], offset, offset + limit - 1, state === 'running'),
      ])
      return { items: await this.snapshots(jobs, state), total: counts[type] ?? 0, offset, limit }
    }
    return this.#listPending(offset, limit)
  }

  async #listPending(offset: number, limit: number): Promise<JobPage> {
    const { queue, client } = this.#access
    const [counts, early] = await Promise.all([queue.getJobCounts(...PENDING_TYPES), this.#earlyScheduleRuns()])
    // Where the schedules' early runs sit in the delayed set, to page around them.
    const ranks =
      early.length === 0 ? [] : await Promise.all(early.map((id) => client.zrank(queue.keys.delayed ?? '', id)))
    const skipped = ranks.filter((rank): rank is number => rank !== null).sort((a, b) => a - b)
    const jobs: BullmqJob[] = []
    let total = 0
    let skip = offset
    let left = limit
    for (const type of PENDING_TYPES) {
      const isDelayed = type === 'delayed'
      const count = (counts[type] ?? 0) - (isDelayed ? skipped.length : 0)
      total += Math.max(0, count)
      if (left === 0 || skip >= count) {
        skip = Math.max(0, skip - Math.max(0, count))
        continue
      }
      let start = skip
      let end = skip + left - 1
      if (isDelayed) {
        start = physicalIndex(skip, skipped)
        end = start + left - 1 + skipped.filter((rank) => rank >= start).length
      }
      const page = (await queue.getJobs([type], start, end, true)) as BullmqJob[]
      const wanted = isDelayed ? page.filter((job) => !early.includes(job.id ?? '')).slice(0, left) : page
      jobs.push(...wanted)
      left -= wanted.length
      skip = 0
    }
    return { items: await this.snapshots(jobs, 'pending'), total, offset, limit }
  }

  /**
   * The ids of the schedules' next runs that are not due yet (`repeat:<id>:<ms>` with ms in the
   * future): BullMQ holds them as delayed jobs; the kit does not count them as pending.
   */
  async #earlyScheduleRuns(): Promise<string[]> {
    const schedulers = (await this.#access.queue.getJobSchedulers(0, -1, true)) as JobSchedulerJson[]
    const now = Date.now()
    return schedulers
      .filter((scheduler) => scheduler.next !== undefined && scheduler.next > now)
      .map((scheduler) => `repeat:${scheduler.key}:${scheduler.next}`)
  }
}

/** The index in a set of `logical`, the index among its members once those at `skipped` ranks are left out. */
function physicalIndex(logical: number, skipped: readonly number[]): number {
  let physical = logical
  for (const rank of skipped) {
    if (rank <= physical) physical++
    else break
  }
  return physical
}
