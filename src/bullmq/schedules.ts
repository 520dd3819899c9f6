import type { JobsOptions, RepeatOptions } from 'bullmq'
import type { NewSchedule } from '../background-job-engine'
import { CronSchedule } from '../policy/cron-schedule'
import { scheduleInfo } from '../policy/schedule-info'
import type { ScheduleInfo } from '../types'
import type { QueueAccess } from './job-reader'

/** The largest number of parsed expressions kept for the repeat strategy. */
const MAX_CACHED_EXPRESSIONS = 1000

const parsed = new Map<string, CronSchedule>()

/**
 * BullMQ's `repeatStrategy` for both the queue and the worker: the next occurrence after `millis`
 * as the kit's cron dialect (croner, through {@link CronSchedule}) computes it, so an expression
 * means the same on both engines instead of going through BullMQ's own cron parser.
 */
export function kitRepeatStrategy(millis: number, opts: RepeatOptions): number | undefined {
  const pattern = opts.pattern
  if (pattern === undefined) return undefined
  const key = `${opts.tz ?? ''}\u0000${pattern}`
  let schedule = parsed.get(key)
  if (schedule === undefined) {
    // The manager validated the expression; one that no longer parses (changed by hand in Redis) ends the schedule.
    try {
      schedule = new CronSchedule(opts.key ?? 'schedule', pattern, opts.tz)
    } catch {
      return undefined
    }
    if (parsed.size >= MAX_CACHED_EXPRESSIONS) parsed.clear()
    parsed.set(key, schedule)
  }
  return schedule.nextAfter(millis)
}

/** When each schedule last enqueued a job: kept by the worker that starts a schedule's run. */
interface LastRun {
  readonly jobId: string
  readonly at: number
}

/**
 * The recurring schedules as BullMQ job schedulers: one scheduler per schedule id, whose next run
 * BullMQ keeps as a delayed job (`repeat:<id>:<ms>`) and replaces when that run starts. What
 * BullMQ does not keep, the last run of each schedule, is in a hash of the engine's own
 * (`<prefix>:<queue>:ebj:schedules:last`).
 */
export class BullmqSchedules {
  readonly #lastKey: string

  /** @param keyBase `<prefix>:<queueName>` */
  constructor(keyBase: string) {
    this.#lastKey = `${keyBase}:ebj:schedules:last`
  }

  /** Adds or replaces `schedule`; its jobs get `jobOptions` (attempts, backoff, keep bounds). */
  async upsert(access: QueueAccess, schedule: NewSchedule, jobOptions: JobsOptions): Promise<ScheduleInfo> {
    const { id, cron, name, args } = schedule
    const next = await access.queue.upsertJobScheduler(
      id,
      { pattern: cron.expression, ...(cron.timezone !== undefined && { tz: cron.timezone }) },
      { name, data: args, opts: jobOptions },
    )
    await access.client.hdel(this.#lastKey, id)
    return scheduleInfo(schedule, {
      nextRunAt: next === undefined ? undefined : nextRunOf(next.id, next.opts.prevMillis),
    })
  }

  /** Removes schedule `id` and its next run; false when there was none. */
  async remove(access: QueueAccess, id: string): Promise<boolean> {
    const removed = await access.queue.removeJobScheduler(id)
    await access.client.hdel(this.#lastKey, id)
    return removed
  }

  async list(access: QueueAccess): Promise<ScheduleInfo[]> {
    const [schedulers, last] = await Promise.all([
      access.queue.getJobSchedulers(0, -1, true),
      access.client.hgetall(this.#lastKey),
    ])
    return schedulers.map((scheduler) => {
      const id = scheduler.key
      const lastRun = parseLastRun(last[id])
      return {
        id,
        cron: scheduler.pattern ?? '',
        jobName: scheduler.name,
        args: scheduler.template?.data ?? null,
        ...(scheduler.tz !== undefined && scheduler.tz !== null && { timezone: scheduler.tz }),
        ...(scheduler.next !== undefined && { nextRunAt: new Date(scheduler.next) }),
        ...(lastRun !== undefined && { lastEnqueuedAt: new Date(lastRun.at), lastJobId: lastRun.jobId }),
      }
    })
  }

  /** A schedule's run `jobId`, due at `at`, has started: it is the schedule's last enqueued job. */
  async recordRun(access: QueueAccess, scheduleId: string, jobId: string, at: number): Promise<void> {
    await access.client.hset(this.#lastKey, scheduleId, JSON.stringify({ jobId, at } satisfies LastRun))
  }
}

/** The due time of a schedule's run: the milliseconds its id ends with, or its `prevMillis`. */
export function nextRunOf(jobId: string | undefined, prevMillis: number | undefined): number | undefined {
  const ms = Number(jobId?.slice(jobId.lastIndexOf(':') + 1))
  if (Number.isSafeInteger(ms) && ms > 0) return ms
  return prevMillis
}

function parseLastRun(text: string | undefined): LastRun | undefined {
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as Partial<LastRun>
    return typeof value.jobId === 'string' && typeof value.at === 'number'
      ? { jobId: value.jobId, at: value.at }
      : undefined
  } catch {
    return undefined
  }
}
