import type { NewJob, NewSchedule } from '../background-job-engine'
import type { Clock } from '../clock'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown } from '../policy/error-info'
import { scheduleInfo } from '../policy/schedule-info'
import type { ScheduleInfo } from '../types'
import type { JobRecord } from './job-record'
import { TimerNode, type TimerWheel } from './timer-wheel'

/** A recurring schedule: its own timer-wheel node, due at its next occurrence. */
class ScheduleRecord extends TimerNode {
  nextRunAt: number | undefined = undefined
  lastEnqueuedAt = 0
  lastJobId: string | undefined = undefined

  constructor(
    readonly definition: NewSchedule,
    readonly onDue: (schedule: ScheduleRecord) => void,
  ) {
    super()
  }

  override expire(): void {
    this.onDue(this)
  }

  toInfo(): ScheduleInfo {
    return scheduleInfo(this.definition, {
      nextRunAt: this.nextRunAt,
      lastEnqueuedAt: this.lastEnqueuedAt > 0 ? this.lastEnqueuedAt : undefined,
      lastJobId: this.lastJobId,
    })
  }
}

/** What the schedules are built with. */
export interface MemorySchedulesParts {
  readonly wheel: TimerWheel
  readonly clock: Clock
  readonly logger: JobLogger
  /** Adds a job now; throws when it cannot (stopped, pending limit). */
  readonly add: (job: NewJob) => JobRecord
}

/**
 * The memory engine's recurring schedules, by id. Each waits in the job wheel for its next
 * occurrence, then enqueues a job with a copy of its args and waits for the one after.
 */
export class MemorySchedules {
  readonly #parts: MemorySchedulesParts
  readonly #byId = new Map<string, ScheduleRecord>()
  readonly #onDue = (schedule: ScheduleRecord): void => this.#fire(schedule)

  constructor(parts: MemorySchedulesParts) {
    this.#parts = parts
  }

  /** Adds `definition`, or replaces the schedule with its id. */
  upsert(definition: NewSchedule): ScheduleInfo {
    const previous = this.#byId.get(definition.id)
    if (previous !== undefined) this.#parts.wheel.cancel(previous)
    const schedule = new ScheduleRecord(definition, this.#onDue)
    this.#byId.set(definition.id, schedule)
    this.#arm(schedule)
    return schedule.toInfo()
  }

  /** Removes a schedule; false when there was none. */
  remove(id: string): boolean {
    const schedule = this.#byId.get(id)
    if (schedule === undefined) return false
    this.#parts.wheel.cancel(schedule)
    this.#byId.delete(id)
    return true
  }

  list(): ScheduleInfo[] {
    return [...this.#byId.values()].map((schedule) => schedule.toInfo())
  }

  #arm(schedule: ScheduleRecord): void {
    schedule.nextRunAt = schedule.definition.cron.nextAfter(this.#parts.clock.now())
    if (schedule.nextRunAt !== undefined) this.#parts.wheel.schedule(schedule, schedule.nextRunAt)
  }

  #fire(schedule: ScheduleRecord): void {
    if (this.#byId.get(schedule.definition.id) !== schedule) return
    const { id, name, args } = schedule.definition
    try {
      const now = this.#parts.clock.now()
      const record = this.#parts.add({ name, args: structuredClone(args), runAt: now, enqueuedAt: now, scheduleId: id })
      schedule.lastEnqueuedAt = this.#parts.wheel.timeOf(record.createdTick)
      schedule.lastJobId = record.id
    } catch (error) {
      // No job was created, so none is lost; the occurrence is skipped and said so.
      safeLog(
        this.#parts.logger,
        'error',
        `Schedule "${id}" could not enqueue job "${name}": ${describeThrown(error)}`,
        {
          scheduleId: id,
        },
      )
    }
    this.#arm(schedule)
  }
}
