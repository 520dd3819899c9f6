import { types } from 'node:util'
import type { BackgroundJobEngine } from './background-job-engine'
import type { JobArgsOf, JobClass } from './background-job-base'
import type { Clock } from './clock'
import { copyJobArgs } from './engine/job-args'
import {
  InvalidEnqueueOptionsError,
  InvalidOptionError,
  InvalidScheduleError,
  JobNotRegisteredError,
  describeValue,
} from './errors'
import type { JobEventListener } from './job-events'
import type { JobRegistry, RegisteredJob } from './job-registry'
import { assertOptionsObject } from './options'
import {
  JOB_STATES,
  type EnqueueOptions,
  type JobCounts,
  type JobEventName,
  type JobInfo,
  type JobPage,
  type JobState,
  type ListJobsQuery,
  type ScheduleInfo,
  type StopOptions,
  type StopResult,
} from './types'

/** The largest time a `Date` can hold, in ms: no job can be due later. */
const MAX_TIME = 8.64e15
const MAX_ID_LENGTH = 200
const MAX_PAGE_SIZE = 1000

/** A recurring schedule definition for {@link BackgroundJobManager.addOrUpdateSchedule}. */
export interface ScheduleDefinition<J extends JobClass = JobClass> {
  /** Your id for the schedule; adding one with an existing id replaces it. */
  readonly id: string
  /** A cron expression: five fields, or six with seconds first (parsed by croner). */
  readonly cron: string
  /** The job class to enqueue at each occurrence. */
  readonly job: J
  /** The arguments of each enqueued job (copied once, here). */
  readonly args: JobArgsOf<J>
  /** IANA time zone to evaluate the expression in; the process's zone when absent. */
  readonly timezone?: string
}

/** What the manager is built from; `addBackgroundJobs` wires it. */
export interface BackgroundJobManagerParts {
  readonly engine: BackgroundJobEngine
  readonly registry: JobRegistry
  readonly clock: Clock
  readonly maxArgsBytes: number
}

/**
 * The one entry point for background jobs, MASA's `IBackgroundJobManager`: enqueue typed jobs now,
 * after a delay or at a time, add recurring schedules, inspect, cancel and retry jobs, and stop.
 * It validates every input and copies arguments, then hands the job to its engine, so the same
 * code runs on the in-memory engine today and on a distributed one later.
 */
export class BackgroundJobManager {
  readonly #engine: BackgroundJobEngine
  readonly #registry: JobRegistry
  readonly #clock: Clock
  readonly #maxArgsBytes: number

  constructor(parts: BackgroundJobManagerParts) {
    this.#engine = parts.engine
    this.#registry = parts.registry
    this.#clock = parts.clock
    this.#maxArgsBytes = parts.maxArgsBytes
  }

  /**
   * Enqueues a job and resolves with its id. Three forms:
   * - `enqueue(RegisterUserBackgroundJob, { name: 'masa' }, { delay: 3000 })`: typed by the job class;
   * - `enqueue(new RegisterUserDto('masa'), { delay: 3000 })`: MASA's form, the job found from the
   *   args class (the job's static `argsType`);
   * - `enqueue('RegisterUserBackgroundJob', args)`: by name, for jobs whose class this process does
   *   not import; if no job by that name is registered when it runs, it fails without retry.
   *
   * @throws InvalidEnqueueOptionsError, InvalidJobArgsError, JobNotRegisteredError,
   *   PendingJobsLimitError, ManagerStoppedError (as a rejected promise)
   */
  enqueue<J extends JobClass>(job: J, args: JobArgsOf<J>, options?: EnqueueOptions): Promise<string>
  enqueue<TArgs extends object>(args: TArgs, options?: EnqueueOptions): Promise<string>
  enqueue(jobName: string, args: unknown, options?: EnqueueOptions): Promise<string>
  enqueue(target: unknown, second?: unknown, third?: unknown): Promise<string> {
    // Not `async`: the engine's promise is returned as it is, instead of being wrapped in a second one.
    try {
      return this.#enqueue(target, second, third)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #enqueue(target: unknown, second: unknown, third: unknown): Promise<string> {
    let name: string
    let args: unknown
    let options: unknown
    if (typeof target === 'function') {
      name = this.#registry.byClass(target as JobClass).name
      args = second
      options = third
    } else if (typeof target === 'string') {
      name = this.#checkJobName(target)
      args = second
      options = third
    } else if (target !== null && typeof target === 'object') {
      name = this.#registry.byArgs(target).name
      args = target
      options = second
    } else {
      throw new JobNotRegisteredError(
        `Expected a job class, an args instance or a job name as the first argument of enqueue, got ${describeValue(target)}.`,
      )
    }
    // One clock reading per enqueue: the job's creation time and what a delay counts from.
    const enqueuedAt = this.#clock.now()
    const runAt = this.#runAt(options, enqueuedAt)
    return this.#engine.enqueue({ name, args: copyJobArgs(args, this.#maxArgsBytes), runAt, enqueuedAt })
  }

  /**
   * Adds a recurring schedule, or replaces the one with the same id: at each occurrence of `cron`
   * a job is enqueued with a copy of `args`. (MASA's memory store has no recurring jobs; this one does.)
   * @throws InvalidScheduleError for a bad id or cron expression or time zone
   */
  async addOrUpdateSchedule<J extends JobClass>(definition: ScheduleDefinition<J>): Promise<ScheduleInfo> {
    if (definition === null || typeof definition !== 'object') {
      throw new InvalidScheduleError(`Expected a schedule definition { id, cron, job, args }, got ${describeValue(definition)}.`)
    }
    const { id, cron, job, args, timezone } = definition
    this.#checkId(id, 'schedule id', InvalidScheduleError)
    if (typeof cron !== 'string' || cron.trim() === '') {
      throw new InvalidScheduleError(`Expected \`cron\` of schedule "${id}" to be a cron expression such as "*/5 * * * *", got ${describeValue(cron)}.`)
    }
    if (timezone !== undefined && typeof timezone !== 'string') {
      throw new InvalidScheduleError(`Expected \`timezone\` of schedule "${id}" to be an IANA zone name such as "Europe/Paris", got ${describeValue(timezone)}.`)
    }
    const registered: RegisteredJob = this.#registry.byClass(job)
    return this.#engine.upsertSchedule({
      id,
      cron,
      name: registered.name,
      args: copyJobArgs(args, this.#maxArgsBytes),
      ...(timezone !== undefined && { timezone }),
    })
  }

  /** Removes a schedule; resolves false when none had that id. Jobs it already enqueued stay. */
  async removeSchedule(id: string): Promise<boolean> {
    this.#checkId(id, 'schedule id', InvalidScheduleError)
    return this.#engine.removeSchedule(id)
  }

  /** All recurring schedules with their next occurrence. */
  listSchedules(): Promise<ScheduleInfo[]> {
    return this.#engine.listSchedules()
  }

  /** A snapshot of one job, or undefined when no job has that id. */
  async getJob(id: string): Promise<JobInfo | undefined> {
    this.#checkId(id, 'job id', InvalidOptionError)
    return this.#engine.getJob(id)
  }

  /** One page of the jobs in a state. @throws InvalidOptionError for a bad state, offset or limit */
  async listJobs(query: ListJobsQuery): Promise<JobPage> {
    assertOptionsObject(query, 'the list query')
    const { state, offset = 0, limit = 50 } = query
    if (!JOB_STATES.includes(state as JobState)) {
      throw new InvalidOptionError(`Expected \`state\` to be one of ${JOB_STATES.join(', ')}, got ${describeValue(state)}.`)
    }
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidOptionError(`Expected \`offset\` to be an integer >= 0, got ${describeValue(offset)}.`)
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new InvalidOptionError(`Expected \`limit\` to be an integer from 1 to ${MAX_PAGE_SIZE}, got ${describeValue(limit)}.`)
    }
    return this.#engine.listJobs({ state, offset, limit })
  }

  /** How many jobs are in each state. */
  counts(): Promise<JobCounts> {
    return this.#engine.counts()
  }

  /**
   * Cancels a pending job; it ends `cancelled` and never runs. Resolves with nothing, as BullMQ's
   * `remove()` does: on a distributed engine a snapshot would cost another round trip; call
   * {@link BackgroundJobManager.getJob} when you need one.
   * @throws JobNotFoundError, JobStateError (it is not pending)
   */
  cancel(id: string): Promise<void> {
    try {
      this.#checkId(id, 'job id', InvalidOptionError)
      return this.#engine.cancel(id)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Runs a failed job again now, with a fresh retry budget. @throws JobNotFoundError, JobStateError */
  async retry(id: string): Promise<JobInfo> {
    this.#checkId(id, 'job id', InvalidOptionError)
    return this.#engine.retry(id)
  }

  /** Forgets a completed, failed or cancelled job. @throws JobNotFoundError, JobStateError */
  async deleteJob(id: string): Promise<void> {
    this.#checkId(id, 'job id', InvalidOptionError)
    return this.#engine.deleteJob(id)
  }

  /** Listens to a job event; returns a function that removes the listener. A throwing listener is logged and ignored. */
  on<E extends JobEventName>(event: E, listener: JobEventListener<E>): () => void {
    if (typeof listener !== 'function') {
      throw new InvalidOptionError(`Expected the listener of "${String(event)}" to be a function, got ${describeValue(listener)}.`)
    }
    return this.#engine.on(event, listener)
  }

  /** Resolves when no job is pending or running. */
  onIdle(): Promise<void> {
    return this.#engine.onIdle()
  }

  /** Resolves with the job once it is completed, failed for good, or cancelled. */
  async onSettled(id: string): Promise<JobInfo> {
    this.#checkId(id, 'job id', InvalidOptionError)
    return this.#engine.onSettled(id)
  }

  /**
   * Stops for good: no attempt starts after this; with `drain` (default) running attempts get up to
   * `timeoutMs` to finish, then their signals are aborted. Resolves with what was left: pending
   * jobs are lost when the process exits. Idempotent: every call returns the same promise.
   */
  stop(options?: StopOptions): Promise<StopResult> {
    assertOptionsObject(options, 'the stop options')
    const timeoutMs = options?.timeoutMs
    if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 2 ** 31 - 1)) {
      throw new InvalidOptionError(`Expected \`timeoutMs\` to be an integer from 0 to 2147483647, got ${describeValue(timeoutMs)}.`)
    }
    return this.#engine.stop(options)
  }

  /** Whether `stop` was called. */
  get isStopped(): boolean {
    return this.#engine.isStopped
  }

  #runAt(options: unknown, now: number): number {
    if (options === undefined) return now
    if (options === null || typeof options !== 'object' || Array.isArray(options) || types.isDate(options)) {
      throw new InvalidEnqueueOptionsError(`Expected enqueue options to be an object such as { delay: 3000 }, got ${describeValue(options)}.`)
    }
    // A misspelt option (`dealy`) would otherwise run the job now, silently.
    for (const key of Object.keys(options)) {
      if (key !== 'delay' && key !== 'runAt') {
        throw new InvalidEnqueueOptionsError(`Unknown enqueue option ${JSON.stringify(key)}. The options are \`delay\` (ms) and \`runAt\` (a Date).`)
      }
    }
    const { delay, runAt } = options as EnqueueOptions
    if (delay !== undefined && runAt !== undefined) {
      throw new InvalidEnqueueOptionsError('Give either `delay` or `runAt` in enqueue options, not both.')
    }
    if (runAt !== undefined) {
      // Not `instanceof`: an object made from Date.prototype passes it but holds no time, and a
      // Date's own `getTime` may have been replaced; read the time the Date really holds.
      const time = types.isDate(runAt) ? Date.prototype.getTime.call(runAt) : Number.NaN
      if (Number.isNaN(time)) {
        throw new InvalidEnqueueOptionsError(`Expected \`runAt\` to be a valid Date, got ${describeValue(runAt)}. Use new Date(...) or { delay: ms }.`)
      }
      return time
    }
    if (delay === undefined) return now
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0 || now + delay > MAX_TIME) {
      throw new InvalidEnqueueOptionsError(
        `Expected \`delay\` to be a finite number of milliseconds >= 0 that ends before the last time a Date can hold, got ${describeValue(delay)}. For a fixed time, use { runAt: date }.`,
      )
    }
    return now + delay
  }

  #checkJobName(name: string): string {
    if (name.trim() === '' || name.length > MAX_ID_LENGTH) {
      throw new JobNotRegisteredError(`Expected a job name of 1 to ${MAX_ID_LENGTH} characters, got ${describeValue(name)}.`)
    }
    return name
  }

  #checkId(id: unknown, what: string, ErrorClass: new (message: string) => Error): asserts id is string {
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) {
      throw new ErrorClass(`Expected the ${what} to be a string of 1 to ${MAX_ID_LENGTH} characters, got ${describeValue(id)}.`)
    }
  }
}
