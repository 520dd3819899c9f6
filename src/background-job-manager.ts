import { types } from 'node:util'
import type { ArgsInstance, JobArgsOf, JobClass, ValidJobClass } from './background-job-base'
import {
  MEMORY_CAPABILITIES,
  type BackgroundJobEngine,
  type EngineCapabilities,
  type NewJobBatch,
} from './background-job-engine'
import type { Clock } from './clock'
import {
  InvalidArgumentError,
  InvalidEnqueueOptionsError,
  InvalidOptionError,
  InvalidScheduleError,
  ScheduleNotFoundError,
  describeValue,
} from './errors'
import type { JobEventListener } from './job-events'
import type { JobRegistry, RegisteredJob } from './job-registry'
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_PAGE_SIZE, MAX_TIMER_MS, MAX_TIME_MS } from './limits'
import { CronSchedule } from './policy/cron-schedule'
import { copyJobArgs } from './policy/job-args'
import {
  JOB_EVENT_NAMES,
  JOB_EVENT_SCOPES,
  JOB_STATES,
  type BulkJob,
  type CancelManyResult,
  type EnqueueOptions,
  type JobCounts,
  type JobEventName,
  type JobEventOptions,
  type JobInfo,
  type JobPage,
  type JobState,
  type ListJobsQuery,
  type ScheduleInfo,
  type StopOptions,
  type StopResult,
} from './types'

import { checkBoolean, checkFunction, checkInteger, readOptions } from './validation'

const ENQUEUE_KEYS = ['delay', 'runAt'] as const
const BULK_JOB_KEYS = ['args', 'delay', 'runAt'] as const
const LIST_KEYS = ['state', 'offset', 'limit'] as const
const STOP_KEYS = ['drain', 'timeoutMs'] as const
const SCHEDULE_KEYS = ['id', 'cron', 'job', 'args', 'timezone'] as const
const EVENT_KEYS = ['scope'] as const

/** A recurring schedule definition for {@link BackgroundJobManager.addOrUpdateSchedule}. */
export interface ScheduleDefinition<J extends JobClass = JobClass> {
  /** Your id for the schedule; adding one with an existing id replaces it. */
  readonly id: string
  /** A cron expression: five fields, or six with seconds first (parsed by croner). */
  readonly cron: string
  /** The job class to enqueue at each occurrence. */
  readonly job: ValidJobClass<J>
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
  /** The job class {@link BackgroundJobManager.#nameOf} last named, and its name (see there). */
  #lastClass: JobClass | undefined = undefined
  #lastName = ''

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
  enqueue<J extends JobClass>(job: ValidJobClass<J>, args: JobArgsOf<J>, options?: EnqueueOptions): Promise<string>
  enqueue(args: ArgsInstance, options?: EnqueueOptions): Promise<string>
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
      name = this.#nameOf(target as JobClass)
      args = second
      options = third
    } else if (typeof target === 'string') {
      name = checkJobName(target)
      args = second
      options = third
    } else if (target !== null && typeof target === 'object') {
      name = this.#registry.byArgs(target).name
      args = target
      options = second
    } else {
      throw new InvalidArgumentError({
        argument: 'the first argument of enqueue',
        value: target,
        expected: 'a job class, an args instance or a job name',
        hint: 'Call enqueue(MyJob, args), enqueue(new MyArgs(...)) or enqueue("MyJob", args).',
      })
    }
    // One clock reading per enqueue: the job's creation time and what a delay counts from.
    const enqueuedAt = this.#clock.now()
    const runAt = runAtOf(options, enqueuedAt)
    return this.#engine.enqueue({ name, args: copyJobArgs(args, this.#maxArgsBytes), runAt, enqueuedAt })
  }

  /**
   * The registered name of `jobClass`. @throws JobNotRegisteredError
   *
   * Speed trick (workload W3, enqueue): jobs come in runs of one class, and a class's registration
   * never changes once made, so the last class named is asked first; the obvious version asks the
   * registry's map every time.
   */
  #nameOf(jobClass: JobClass): string {
    if (jobClass === this.#lastClass) return this.#lastName
    const name = this.#registry.byClass(jobClass).name
    this.#lastClass = jobClass
    this.#lastName = name
    return name
  }

  /**
   * Enqueues a batch of jobs of one class (or one name) and resolves, once, with their ids in the
   * order given: `enqueueMany(SendMailJob, [{ args: { to: 'a@b.c' } }, { args: { to: 'd@e.f' }, delay: 60_000 }])`.
   * Each item is `{ args, delay? }` or `{ args, runAt? }`, as for {@link BackgroundJobManager.enqueue};
   * they all share one creation time. Validation is all-or-nothing: every item is checked and its
   * args copied before any is stored, and a bad one rejects the batch with the error a single
   * enqueue would give, its message naming the item (`jobs[37]`). A batch that would take the
   * pending jobs past `maxPendingJobs` is refused whole. An empty batch resolves with `[]`.
   *
   * On BullMQ the batch is written in chunks of 1,000 jobs, each chunk one
   * `addBulk` (one MULTI): if Redis fails part-way, it rejects with `BulkEnqueueError`, whose
   * `storedIds` are the jobs already stored (they will run; the rest were not stored).
   *
   * @throws InvalidArgumentError, InvalidEnqueueOptionsError, InvalidJobArgsError,
   *   JobNotRegisteredError, PendingJobsLimitError, ManagerStoppedError (as a rejected promise)
   */
  enqueueMany<J extends JobClass>(job: ValidJobClass<J>, jobs: readonly BulkJob<JobArgsOf<J>>[]): Promise<string[]>
  enqueueMany(jobName: string, jobs: readonly BulkJob<unknown>[]): Promise<string[]>
  enqueueMany(target: unknown, jobs: unknown): Promise<string[]> {
    try {
      return this.#enqueueMany(target, jobs)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #enqueueMany(target: unknown, jobs: unknown): Promise<string[]> {
    let name: string
    if (typeof target === 'function') name = this.#nameOf(target as JobClass)
    else if (typeof target === 'string') name = checkJobName(target)
    else {
      throw new InvalidArgumentError({
        argument: 'the first argument of enqueueMany',
        value: target,
        expected: 'a job class or a job name',
        hint: 'Call enqueueMany(MyJob, [{ args }, ...]) or enqueueMany("MyJob", [{ args }, ...]).',
      })
    }
    if (!Array.isArray(jobs)) {
      throw new InvalidArgumentError({
        argument: 'the jobs given to enqueueMany',
        value: jobs,
        expected: 'an array of { args, delay?, runAt? }',
      })
    }
    const count = jobs.length
    if (count === 0) return Promise.resolve([])
    const enqueuedAt = this.#clock.now()
    const args = new Array<unknown>(count)
    const runAt = new Array<number>(count)
    for (let i = 0; i < count; i++) {
      const item: unknown = jobs[i]
      if (!isPlainObject(item) || !hasOnlyKnownKeys(item, BULK_JOB_KEYS)) {
        if (item === null || typeof item !== 'object' || Array.isArray(item) || types.isDate(item)) {
          throw new InvalidEnqueueOptionsError({
            option: `jobs[${i}]`,
            value: item,
            expected: 'an object { args, delay?, runAt? }',
            isWhole: true,
          })
        }
        readOptions(item as BulkJob<unknown>, BULK_JOB_KEYS, `jobs[${i}]`, InvalidEnqueueOptionsError)
      }
      const { args: given, delay, runAt: at } = item as BulkJob<unknown>
      args[i] = copyJobArgs(given, this.#maxArgsBytes, i)
      runAt[i] = dueAt(delay, at, enqueuedAt, i)
    }
    const batch: NewJobBatch = { name, enqueuedAt, args, runAt }
    return this.#engine.enqueueMany(batch)
  }

  /**
   * Adds a recurring schedule, or replaces the one with the same id: at each occurrence of `cron`
   * a job is enqueued with a copy of `args`. (MASA's memory store has no recurring jobs; this one does.)
   * @throws InvalidScheduleError for a bad id or cron expression or time zone
   */
  async addOrUpdateSchedule<J extends JobClass>(definition: ScheduleDefinition<J>): Promise<ScheduleInfo> {
    if (definition === null || typeof definition !== 'object') {
      throw new InvalidScheduleError(
        undefined,
        `definition must be an object { id, cron, job, args }, got ${describeValue(definition)}.`,
      )
    }
    readOptions(definition, SCHEDULE_KEYS, 'the schedule definition')
    const { id, cron, job, args, timezone } = definition
    checkScheduleId(id)
    if (typeof cron !== 'string' || cron.trim() === '') {
      throw new InvalidScheduleError(
        id,
        `needs \`cron\` to be a cron expression such as "*/5 * * * *", got ${describeValue(cron)}.`,
      )
    }
    if (timezone !== undefined && typeof timezone !== 'string') {
      throw new InvalidScheduleError(
        id,
        `needs \`timezone\` to be an IANA zone name such as "Europe/Paris", got ${describeValue(timezone)}.`,
      )
    }
    const registered: RegisteredJob = this.#registry.byClass(job)
    return this.#engine.upsertSchedule({
      id,
      cron: new CronSchedule(id, cron, timezone),
      name: registered.name,
      args: copyJobArgs(args, this.#maxArgsBytes),
    })
  }

  /** Removes a schedule; resolves false when none had that id. Jobs it already enqueued stay. */
  async removeSchedule(id: string): Promise<boolean> {
    checkScheduleId(id)
    return this.#engine.removeSchedule(id)
  }

  /**
   * Enqueues the job of schedule `id` now, with a copy of the schedule's args and its `scheduleId`,
   * besides its cron occurrences, which go on unchanged (its `nextRunAt`, `lastEnqueuedAt` and
   * `lastJobId` stay as they are). Resolves with the new job's id. Uses only `listSchedules` and
   * `enqueue` of the engine, so every engine supports it.
   * @throws InvalidScheduleError for a bad id, ScheduleNotFoundError when no schedule has it
   */
  async triggerSchedule(id: string): Promise<string> {
    checkScheduleId(id)
    const schedule = (await this.#engine.listSchedules()).find((candidate) => candidate.id === id)
    if (schedule === undefined) throw new ScheduleNotFoundError(id)
    const enqueuedAt = this.#clock.now()
    return this.#engine.enqueue({
      name: schedule.jobName,
      args: copyJobArgs(schedule.args, this.#maxArgsBytes),
      runAt: enqueuedAt,
      enqueuedAt,
      scheduleId: schedule.id,
    })
  }

  /** All recurring schedules with their next occurrence. */
  listSchedules(): Promise<ScheduleInfo[]> {
    return this.#engine.listSchedules()
  }

  /** A snapshot of one job, or undefined when no job has that id. */
  async getJob(id: string): Promise<JobInfo | undefined> {
    checkId(id, 'job id')
    return this.#engine.getJob(id)
  }

  /** One page of the jobs in a state. @throws InvalidOptionError for a bad state, offset or limit, or an unknown key */
  async listJobs(query: ListJobsQuery): Promise<JobPage> {
    if (query === undefined) {
      throw new InvalidOptionError({
        option: 'the list query',
        value: query,
        expected: 'an object { state, offset?, limit? }',
        isWhole: true,
      })
    }
    const { state, offset = 0, limit = 50 } = readOptions(query, LIST_KEYS, 'the list query')
    if (!JOB_STATES.includes(state as JobState)) {
      throw new InvalidOptionError({ option: 'state', value: state, expected: `one of ${JOB_STATES.join(', ')}` })
    }
    checkInteger('offset', offset, 0)
    checkInteger('limit', limit, 1, MAX_PAGE_SIZE)
    return this.#engine.listJobs({ state: state as JobState, offset, limit })
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
      checkId(id, 'job id')
      return this.#engine.cancel(id)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Cancels every pending job of `ids`, as {@link BackgroundJobManager.cancel} does each (it ends
   * `cancelled`, never runs, and the same events are emitted), and resolves with how many it
   * cancelled and the ids it `skipped`: those no job has, or whose job is not pending (running,
   * finished, already cancelled). Skipping is not an error, as in the admin's bulk actions. An id
   * that is not an id at all (not a string, empty, too long) rejects the call, naming its index,
   * before anything is cancelled.
   * @throws InvalidArgumentError (as a rejected promise)
   */
  cancelMany(ids: readonly string[]): Promise<CancelManyResult> {
    try {
      if (!Array.isArray(ids)) {
        throw new InvalidArgumentError({
          argument: 'the ids given to cancelMany',
          value: ids,
          expected: 'an array of job ids',
        })
      }
      // Checked inline, its label written only for a bad id: a template string per id was a fifth
      // of a bulk cancel (workload W3). The obvious version is checkId(ids[i], label) per id.
      for (let i = 0; i < ids.length; i++) {
        const id: unknown = ids[i]
        if (!isIdShaped(id)) checkId(id, `job id at ids[${i}]`)
      }
      if (ids.length === 0) return Promise.resolve({ cancelled: 0, skipped: [] })
      return this.#engine.cancelMany(ids)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Runs a failed job again now, with a fresh retry budget. @throws JobNotFoundError, JobStateError */
  async retry(id: string): Promise<JobInfo> {
    checkId(id, 'job id')
    return this.#engine.retry(id)
  }

  /** Forgets a completed, failed or cancelled job. @throws JobNotFoundError, JobStateError */
  async deleteJob(id: string): Promise<void> {
    checkId(id, 'job id')
    return this.#engine.deleteJob(id)
  }

  /**
   * Listens to a job event; returns a function that removes the listener. A throwing listener is
   * logged and ignored. By default a listener hears this process's transitions, each with the
   * job's snapshot; `{ scope: 'queue' }` hears every process's on a shared engine, best-effort
   * (see {@link JobEventScope}).
   * @throws InvalidOptionError for an unknown event, a listener that is not a function, or bad options
   */
  on<E extends JobEventName>(event: E, listener: JobEventListener<E>, options?: JobEventOptions): () => void {
    checkEvent(event)
    checkFunction(`the listener of "${event}"`, listener, 'a function')
    return this.#engine.on(event, listener, checkEventOptions(options))
  }

  /** Removes a listener added with {@link BackgroundJobManager.on} (with the same scope), as EventEmitter's `off` does. */
  off<E extends JobEventName>(event: E, listener: JobEventListener<E>, options?: JobEventOptions): void {
    checkEvent(event)
    this.#engine.off(event, listener, checkEventOptions(options))
  }

  /**
   * Resolves when no job is pending or running. On a shared engine (BullMQ) that means in every
   * process, and a schedule's next run that is not due yet does not count; it is checked by
   * polling, so it suits tests and shutdown scripts more than hot paths.
   */
  onIdle(): Promise<void> {
    return this.#engine.onIdle()
  }

  /**
   * Resolves with the job once it is completed, failed for good, or cancelled, in whichever
   * process ran it. After stop it rejects with `ManagerStoppedError` for a job still pending:
   * this process stopped waiting (on a shared engine another process may still run the job).
   * @throws JobNotFoundError when no job has that id (or it was dropped from the bounded history)
   */
  async onSettled(id: string): Promise<JobInfo> {
    checkId(id, 'job id')
    return this.#engine.onSettled(id)
  }

  /**
   * Stops for good: no attempt starts after this; with `drain` (default) running attempts get up to
   * `timeoutMs` to finish, then their signals are aborted. Resolves with what was left: pending
   * jobs are lost when the process exits on the memory engine, and stay in the store on a durable
   * one (`capabilities.durable`). Idempotent: every call returns the same promise.
   * @throws InvalidOptionError for an unknown option or an invalid value
   */
  stop(options?: StopOptions): Promise<StopResult> {
    try {
      const { drain, timeoutMs } = readOptions(options, STOP_KEYS, 'the stop options')
      if (drain !== undefined) checkBoolean('drain', drain, 'the stop options')
      if (timeoutMs !== undefined) checkInteger('timeoutMs', timeoutMs, 0, MAX_TIMER_MS, 'the stop options')
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#engine.stop(options)
  }

  /** Whether `stop` was called. */
  get isStopped(): boolean {
    return this.#engine.isStopped
  }

  /** What the engine can promise: durability, sharing across processes, a pending-jobs bound. */
  get capabilities(): EngineCapabilities {
    return this.#engine.capabilities ?? MEMORY_CAPABILITIES
  }
}

/** Checks the options of `on` and `off`; undefined stays undefined (the local scope). */
function checkEventOptions(options: JobEventOptions | undefined): JobEventOptions | undefined {
  if (options === undefined) return undefined
  const { scope } = readOptions(options, EVENT_KEYS, 'the event options')
  if (scope !== undefined && !JOB_EVENT_SCOPES.includes(scope)) {
    throw new InvalidOptionError({ option: 'scope', value: scope, expected: `one of ${JOB_EVENT_SCOPES.join(', ')}` })
  }
  return options
}

/** Checks that `event` is a job event's name. */
function checkEvent(event: unknown): void {
  if (!(JOB_EVENT_NAMES as readonly unknown[]).includes(event)) {
    throw new InvalidOptionError({ option: 'event', value: event, expected: `one of ${JOB_EVENT_NAMES.join(', ')}` })
  }
}

/** When a job enqueued `now` with `options` may run, in ms since the epoch. */
function runAtOf(options: unknown, now: number): number {
  if (options === undefined) return now
  if (isPlainObject(options) && hasOnlyKnownKeys(options, ENQUEUE_KEYS)) {
    const { delay, runAt } = options as EnqueueOptions
    return dueAt(delay, runAt, now, -1)
  }
  if (types.isDate(options)) {
    throw new InvalidEnqueueOptionsError({
      option: 'the enqueue options',
      value: options,
      expected: 'an object',
      isWhole: true,
    })
  }
  // A misspelt option (`dealy`) would otherwise run the job now, silently.
  const { delay, runAt } = readOptions(
    options as EnqueueOptions,
    ENQUEUE_KEYS,
    'the enqueue options',
    InvalidEnqueueOptionsError,
  )
  return dueAt(delay, runAt, now, -1)
}

/**
 * Workload W3 (schedule): whether `value` is an object literal (its prototype `Object.prototype`),
 * which needs none of the other checks an options object gets (array, Date).
 */
function isPlainObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype
}

/**
 * Workload W3 (schedule): whether every enumerable key of `options` is one of `known`, found
 * without the array `Object.keys` makes on every call. When it answers no, `readOptions` decides,
 * and names the unknown key.
 */
function hasOnlyKnownKeys(options: object, known: readonly string[]): boolean {
  for (const key in options) if (!isKnownKey(key, known)) return false
  return true
}

/**
 * Whether `key` is one of `known`: `known.includes(key)`. Speed trick (workload W3, enqueue and
 * enqueueMany): a loop V8 compiles in place, where it left `includes` a call of its builtin per key
 * of every options object and batch item. The obvious version is `known.includes(key)`.
 */
function isKnownKey(key: string, known: readonly string[]): boolean {
  for (let i = 0; i < known.length; i++) if (known[i] === key) return true
  return false
}

/**
 * When a job given `delay` or `runAt` (at most one), enqueued `now`, may run, in ms since the
 * epoch. `index` is the job's in a batch, named in the error's message (`jobs[3]`), or -1.
 */
function dueAt(delay: unknown, runAt: unknown, now: number, index: number): number {
  if (delay !== undefined && runAt !== undefined) {
    throw new InvalidEnqueueOptionsError({
      option: 'runAt',
      value: runAt,
      expected: 'left out when `delay` is given',
      where: batchItem(index),
      hint: 'Give either `delay` or `runAt`, not both.',
    })
  }
  if (runAt !== undefined) {
    // Not `instanceof`: an object made from Date.prototype passes it but holds no time, and a
    // Date's own `getTime` may have been replaced; read the time the Date really holds.
    const time = types.isDate(runAt) ? Date.prototype.getTime.call(runAt) : Number.NaN
    if (Number.isNaN(time)) {
      throw new InvalidEnqueueOptionsError({
        option: 'runAt',
        value: runAt,
        expected: 'a valid Date',
        where: batchItem(index),
        hint: 'Use new Date(...) or { delay: ms }.',
      })
    }
    return time
  }
  if (delay === undefined) return now
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0 || now + delay > MAX_TIME_MS) {
    throw new InvalidEnqueueOptionsError({
      option: 'delay',
      value: delay,
      expected: 'a finite number of milliseconds >= 0 that ends before the last time a Date can hold',
      where: batchItem(index),
      hint: 'For a fixed time, use { runAt: date }.',
    })
  }
  return now + delay
}

/** Where a job sits in a batch, for messages: `jobs[3]`; undefined for a job enqueued alone (-1). */
function batchItem(index: number): string | undefined {
  return index < 0 ? undefined : `jobs[${index}]`
}

/** Checks a job name given to `enqueue('name', args)`. */
function checkJobName(name: string): string {
  if (name.trim() === '' || name.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError({
      argument: 'the job name given to enqueue',
      value: name,
      expected: `a string of 1 to ${MAX_NAME_LENGTH} characters`,
    })
  }
  return name
}

/** Checks a schedule id: a bad one is a bad schedule definition. */
function checkScheduleId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id === '' || id.length > MAX_NAME_LENGTH) {
    throw new InvalidScheduleError(
      undefined,
      `needs an \`id\` of 1 to ${MAX_NAME_LENGTH} characters, got ${describeValue(id)}.`,
    )
  }
}

/** Checks a job id: an opaque string of the engine's making. */
/** Whether `id` is a string a job or schedule id may be: 1 to {@link MAX_ID_LENGTH} characters. */
function isIdShaped(id: unknown): id is string {
  return typeof id === 'string' && id !== '' && id.length <= MAX_ID_LENGTH
}

function checkId(id: unknown, what: string): asserts id is string {
  if (!isIdShaped(id)) {
    throw new InvalidArgumentError({
      argument: `the ${what}`,
      value: id,
      expected: `a string of 1 to ${MAX_ID_LENGTH} characters`,
    })
  }
}
