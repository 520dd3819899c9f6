import { types } from 'node:util'
import type { JobState } from './types'

/**
 * Every error this package throws extends {@link BackgroundJobError}, so callers can catch the
 * whole family with one `instanceof`. Each subclass sets `name` to its class name, carries the
 * facts of the failure as fields, and builds its message from them in its constructor: the message
 * says what was wrong and how to fix it.
 */
export class BackgroundJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * How long a client should wait before retrying a request refused with 503 because the pending
 * limit was reached: a producer that waits this long lets the processor drain some of the backlog.
 */
export const PENDING_LIMIT_RETRY_AFTER_SECONDS = 1

/**
 * How long a client should wait before retrying a request refused with 503 because the manager was
 * stopped: the process is shutting down, so the retry should reach another instance or the restarted one.
 */
export const MANAGER_STOPPED_RETRY_AFTER_SECONDS = 5

/** The facts of an {@link InvalidOptionError}. */
export interface InvalidOptionFacts {
  /** The option as the caller wrote it: `concurrency`, `retry.factor`, a query parameter. */
  readonly option: string
  /** The value given (undefined for a missing one). */
  readonly value: unknown
  /** What a valid value is, e.g. `an integer from 1 to 100000`; absent for an unknown option. */
  readonly expected?: string
  /** For an unknown option: the options that exist there. */
  readonly knownOptions?: readonly string[]
  /** Where the option was given, e.g. `useInMemoryStore options`. */
  readonly where?: string
  /** One sentence on how to fix it. */
  readonly hint?: string
  /** Whether `value` is the whole options object (then `option` describes it, e.g. `the stop options`). */
  readonly isWhole?: boolean
}

/**
 * An option is unknown, missing, of the wrong type or out of range. `option` names it, `value` is
 * what was given; for an unknown option, `knownOptions` lists the ones that exist.
 */
export class InvalidOptionError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 400, the request (or the caller) gave a bad value. */
  readonly status: number = 400
  readonly option: string
  readonly value: unknown
  readonly expected: string | undefined
  readonly knownOptions: readonly string[] | undefined

  constructor(facts: InvalidOptionFacts) {
    const where = facts.where === undefined ? '' : ` in ${facts.where}`
    const hint = facts.hint === undefined ? '' : ` ${facts.hint}`
    const subject = facts.isWhole === true ? facts.option : `\`${facts.option}\`${where}`
    super(
      facts.knownOptions !== undefined
        ? `Unknown option \`${facts.option}\`${where}. Known options: ${facts.knownOptions.join(', ')}.${hint}`
        : `Expected ${subject} to be ${facts.expected ?? 'valid'}, got ${describeValue(facts.value)}.${hint}`,
    )
    this.option = facts.option
    this.value = facts.value
    this.expected = facts.expected
    this.knownOptions = facts.knownOptions
  }
}

/** Enqueue options (`delay`, `runAt`) are not valid. */
export class InvalidEnqueueOptionsError extends InvalidOptionError {}

/** The facts of an {@link InvalidArgumentError}. */
export interface InvalidArgumentFacts {
  /** Which argument, e.g. `the first argument of enqueue`. */
  readonly argument: string
  readonly value: unknown
  /** What it must be, e.g. `an awilix container`. */
  readonly expected: string
  /** One sentence on how to fix it. */
  readonly hint?: string
}

/** A function was called with an argument of the wrong type (not a container, not a class, ...). */
export class InvalidArgumentError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 400, bad input. */
  readonly status: number = 400
  readonly argument: string
  readonly value: unknown
  readonly expected: string

  constructor(facts: InvalidArgumentFacts) {
    const hint = facts.hint === undefined ? '' : ` ${facts.hint}`
    super(`Expected ${facts.argument} to be ${facts.expected}, got ${describeValue(facts.value)}.${hint}`)
    this.argument = facts.argument
    this.value = facts.value
    this.expected = facts.expected
  }
}

/**
 * Job arguments cannot be stored: they hold a function, symbol, bigint, cycle, non-finite number,
 * a non-plain object, or are too large or too deep. Arguments must survive a JSON round trip so
 * the same job can later move to a distributed store.
 */
export class InvalidJobArgsError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 400, the arguments (often client data) cannot be stored. */
  readonly status: number = 400
  /** Where in the arguments the bad value sits, e.g. `args.user.callback`. */
  readonly path: string

  /**
   * @param path where the bad value sits
   * @param problem what is wrong with it, e.g. `is a function`
   * @param fix how to fix it, one sentence
   * @param options `cause`: what reading the value threw (a getter, a proxy's trap, a `toJSON()`)
   */
  constructor(path: string, problem: string, fix: string, options?: { cause?: unknown }) {
    super(`Job arguments must be JSON data, but \`${path}\` ${problem}. ${fix}`, options)
    this.path = path
  }
}

/** What {@link JobNotRegisteredError} could not find. */
export type UnregisteredJob =
  { readonly jobClass: string } | { readonly argsType: string } | { readonly plainObject: true }

/** A job class or args class is not registered with the background-job service. */
export class JobNotRegisteredError extends BackgroundJobError {
  /** The job class's name, when a job class was given. */
  readonly jobClass: string | undefined
  /** The args class's name, when an args instance was given. */
  readonly argsType: string | undefined

  constructor(missing: UnregisteredJob) {
    let message: string
    if ('jobClass' in missing) {
      message = `Job class ${missing.jobClass} is not registered. Add it with addBackgroundJobs(container, o => o.useInMemoryStore().addJob(${missing.jobClass})).`
    } else if ('argsType' in missing) {
      message = `No registered job has \`static argsType = ${missing.argsType}\`. Set it on the job class and register the job with o.addJob(...), or enqueue with the job class: enqueue(MyJob, args).`
    } else {
      message =
        'Cannot tell which job to run from a plain object. Enqueue with the job class, enqueue(MyJob, args), or pass an instance of an args class that a registered job names as its static `argsType`.'
    }
    super(message)
    this.jobClass = 'jobClass' in missing ? missing.jobClass : undefined
    this.argsType = 'argsType' in missing ? missing.argsType : undefined
  }
}

/** Two different job classes were registered under the same job name or args class. */
export class DuplicateJobError extends BackgroundJobError {}

/** A value given where a job class was expected is not a class extending `BackgroundJobBase`. */
export class InvalidJobClassError extends BackgroundJobError {}

/** No job has the given id (it never existed, was deleted, or was evicted from the bounded history). */
export class JobNotFoundError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 404. */
  readonly status: number = 404
  readonly jobId: string

  constructor(jobId: string) {
    super(
      `No job has id ${describeValue(jobId)}: it never existed, was deleted, or finished and was dropped from the bounded history (keepCompleted, keepFailed, keepCancelled).`,
    )
    this.jobId = jobId
  }
}

/** What was asked of a job in the wrong state. */
export type JobAction = 'cancel' | 'retry' | 'delete'

const ACTION_DONE: Readonly<Record<JobAction, string>> = { cancel: 'cancelled', retry: 'retried', delete: 'deleted' }
const ACTION_FIX: Readonly<Record<JobAction, string>> = {
  cancel: 'A running job cannot be cancelled; a finished one needs no cancelling.',
  retry: 'Only a job that failed for good can be retried.',
  delete: 'Cancel it or wait for it to finish before deleting it.',
}

/** The operation does not apply to a job in its current state (e.g. cancelling a running job). */
export class JobStateError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 409, the job is in the wrong state. */
  readonly status: number = 409
  readonly jobId: string
  /** The job's state when the operation was refused. */
  readonly state: JobState
  /** The states the operation applies to. */
  readonly expected: readonly JobState[]
  readonly action: JobAction

  constructor(facts: { jobId: string; state: JobState; expected: readonly JobState[]; action: JobAction }) {
    super(
      `Job ${facts.jobId} is ${facts.state}; only ${facts.expected.join(', ')} jobs can be ${ACTION_DONE[facts.action]}. ${ACTION_FIX[facts.action]}`,
    )
    this.jobId = facts.jobId
    this.state = facts.state
    this.expected = facts.expected
    this.action = facts.action
  }
}

/**
 * `enqueue` was called while `maxPendingJobs` jobs are already waiting, or `enqueueMany` with a
 * batch that would take them past it. Nothing was enqueued.
 */
export class PendingJobsLimitError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 503, try again later. */
  readonly status: number = 503
  /** The seconds an HTTP edge sends as `Retry-After`. */
  readonly retryAfterSeconds: number = PENDING_LIMIT_RETRY_AFTER_SECONDS
  /** The `maxPendingJobs` in force. */
  readonly limit: number
  readonly jobName: string
  /** For a refused batch: the jobs it held; undefined for one job. */
  readonly batch: number | undefined

  /** @param refusedBatch for `enqueueMany`: the jobs pending before it, and the jobs it held */
  constructor(jobName: string, limit: number, refusedBatch?: { readonly pending: number; readonly batch: number }) {
    super(
      refusedBatch === undefined
        ? `Cannot enqueue "${jobName}": ${limit} jobs are already pending (\`maxPendingJobs\`). Nothing was enqueued; retry later, slow the producer down, or raise \`maxPendingJobs\`.`
        : `Cannot enqueue a batch of ${refusedBatch.batch} "${jobName}" jobs: with the ${refusedBatch.pending} already pending it would pass the ${limit} of \`maxPendingJobs\`. Nothing of it was enqueued; send smaller batches, retry later, or raise \`maxPendingJobs\`.`,
    )
    this.limit = limit
    this.jobName = jobName
    this.batch = refusedBatch?.batch
  }
}

/** Why a {@link ManagerStoppedError} was raised. */
export type StoppedSituation = 'stopped' | 'left-pending' | 'interrupted'

const STOPPED_MESSAGES: Readonly<Record<StoppedSituation, string>> = {
  stopped:
    'The background-job manager has been stopped and accepts no new work. Create a new container to start again.',
  'left-pending': 'The background-job manager was stopped while this job was pending; it will not run in this process.',
  interrupted: 'The background-job manager stopped while this attempt was running.',
}

/** The manager was stopped: it accepts no new jobs or schedules, and jobs left pending will not run. */
export class ManagerStoppedError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 503, this process no longer takes work. */
  readonly status: number = 503
  /** The seconds an HTTP edge sends as `Retry-After`. */
  readonly retryAfterSeconds: number = MANAGER_STOPPED_RETRY_AFTER_SECONDS
  readonly situation: StoppedSituation

  constructor(situation: StoppedSituation = 'stopped') {
    super(STOPPED_MESSAGES[situation])
    this.situation = situation
  }
}

/** A job ran longer than its `timeoutMs`; its `AbortSignal` was aborted and the attempt failed. */
export class JobTimeoutError extends BackgroundJobError {
  readonly jobId: string
  readonly jobName: string
  readonly attempt: number
  readonly timeoutMs: number

  /** Whether the body went on running after its abort, past another timeoutMs, so the job was not retried. */
  readonly isAbandoned: boolean

  constructor(facts: { jobId: string; jobName: string; attempt: number; timeoutMs: number; isAbandoned?: boolean }) {
    super(
      facts.isAbandoned === true
        ? `Job "${facts.jobName}" (${facts.jobId}) attempt ${facts.attempt} timed out and was still running when its retry was due (and at least ${facts.timeoutMs} ms after its abort), so it was not retried (a retry would have run beside it). Make the job honour context.signal.`
        : `Job "${facts.jobName}" (${facts.jobId}) attempt ${facts.attempt} ran longer than its ${facts.timeoutMs} ms timeout and was aborted. Make it finish sooner, honour context.signal, or raise \`timeoutMs\`.`,
    )
    this.isAbandoned = facts.isAbandoned === true
    this.jobId = facts.jobId
    this.jobName = facts.jobName
    this.attempt = facts.attempt
    this.timeoutMs = facts.timeoutMs
  }
}

/** A job ran whose name has no registered handler. The job fails without retry. */
export class UnknownJobError extends BackgroundJobError {
  readonly jobName: string

  constructor(jobName: string) {
    super(
      `No job named "${jobName}" is registered. Register its class with addBackgroundJobs(container, o => o.addJob(...)); the job was not retried.`,
    )
    this.jobName = jobName
  }
}

/**
 * Thrown by a job to fail at once, without retry (BullMQ's `UnrecoverableError`): for failures
 * no retry can mend, such as a user that no longer exists. The job ends `failed`, kept for
 * inspection, and can still be retried by hand.
 *
 * @example throw new UnrecoverableJobError(`User ${args.userId} was deleted`)
 */
export class UnrecoverableJobError extends BackgroundJobError {}

/**
 * A job whose class sets `static argsType` was stored with args that are not a JSON object (null,
 * an array, a string: only `enqueue('jobName', args)` can store those), so they cannot become an
 * instance of its args class. The job fails without retry: no retry changes its args.
 */
export class JobArgsTypeError extends UnrecoverableJobError {
  readonly jobName: string
  /** The name of the job's args class. */
  readonly argsType: string

  constructor(jobName: string, argsType: string, value: unknown) {
    super(
      `Job "${jobName}" has \`static argsType = ${argsType}\`, so its args must be a JSON object, got ${describeValue(value)}. Enqueue it with enqueue(new ${argsType}(...)); the job was not retried.`,
    )
    this.jobName = jobName
    this.argsType = argsType
  }
}

/** No recurring schedule has the given id (triggering one that was removed, or never added). */
export class ScheduleNotFoundError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 404. */
  readonly status: number = 404
  readonly scheduleId: string

  constructor(scheduleId: string) {
    super(
      `No recurring schedule has id ${describeValue(scheduleId)}: it was never added or was removed. List them with listSchedules().`,
    )
    this.scheduleId = scheduleId
  }
}

/** A cron expression or schedule definition is not valid. */
export class InvalidScheduleError extends BackgroundJobError {
  /** The HTTP status an HTTP edge answers with: 400, a bad cron expression or definition. */
  readonly status: number = 400
  /** The schedule's id, when it had a readable one. */
  readonly scheduleId: string | undefined

  /**
   * @param scheduleId the schedule's id, when known
   * @param problem what is wrong, as the rest of a sentence whose subject is the schedule (`has ...`)
   */
  constructor(scheduleId: string | undefined, problem: string, options?: { cause?: unknown }) {
    super(`${scheduleId === undefined ? 'The schedule' : `Schedule ${JSON.stringify(scheduleId)}`} ${problem}`, options)
    this.scheduleId = scheduleId
  }
}

/**
 * Something was resolved from a request scope (`req.container`) after the scope was disposed: the
 * response had ended and no handler held the scope open. An instance made now would never be
 * disposed, so none is made. Resolve what a handler needs before it answers, or keep the scope
 * open with `holdRequestScope(req)` while it works after answering.
 */
export class RequestScopeDisposedError extends BackgroundJobError {
  /** The registration that was asked for. */
  readonly registration: string

  constructor(registration: string) {
    super(
      `Cannot resolve \`${registration}\` from the request scope (req.container): the response has ended and the scope was disposed, so an instance made now would never be disposed. Resolve it before answering, or call holdRequestScope(req) and release it when the work is done.`,
    )
    this.registration = registration
  }
}

/**
 * The static manager (`BackgroundJobs.manager`, `ServiceBase.backgroundJobManager`) was used before
 * the root container was set with `BackgroundJobs.build(container)` (or `mapServices`).
 */
export class BackgroundJobsNotBuiltError extends BackgroundJobError {}

/** Why a {@link BackgroundJobsRootConflictError} was raised. */
export type RootConflict =
  | { readonly situation: 'second-build' }
  | { readonly situation: 'several-containers' }
  | { readonly situation: 'class-in-several'; readonly serviceClass: string }

/**
 * The static manager cannot tell which container's manager is meant: `BackgroundJobs.build` was
 * called with a second container, `mapServices` mapped services of several containers and
 * `BackgroundJobs.manager` was asked, or one service class was mapped with several containers.
 */
export class BackgroundJobsRootConflictError extends BackgroundJobError {
  readonly situation: RootConflict['situation']
  /** The service class, for `class-in-several`. */
  readonly serviceClass: string | undefined

  constructor(conflict: RootConflict) {
    let message: string
    if (conflict.situation === 'second-build') {
      message =
        'BackgroundJobs.build was called with a second, different container while the first is still in use, so the static manager would silently switch containers. Call BackgroundJobs.build(container, { replace: true }) to switch on purpose, or dispose the first container first.'
    } else if (conflict.situation === 'several-containers') {
      message =
        'BackgroundJobs.manager cannot tell which container is meant: mapServices mapped services of several containers. Use YourService.backgroundJobManager (it reaches the container its class was mapped with), req.backgroundJobs, or choose one with BackgroundJobs.build(container, { replace: true }).'
    } else {
      message = `${conflict.serviceClass}.backgroundJobManager cannot tell which container is meant: mapServices mapped ${conflict.serviceClass} with several containers. Map each service class with one container (a subclass per app), or use req.backgroundJobs.`
    }
    super(message)
    this.situation = conflict.situation
    this.serviceClass = conflict.situation === 'class-in-several' ? conflict.serviceClass : undefined
  }
}

/** A service class cannot be mapped to routes by the minimal-API conventions. */
export class RouteConventionError extends BackgroundJobError {}

/** Describes a value and its type for error messages: `` `0` (number) ``. Never throws. */
export function describeValue(value: unknown): string {
  try {
    return `\`${shownValue(value)}\` (${value === null ? 'null' : types.isDate(value) ? 'Date' : typeof value})`
  } catch {
    return `an unreadable ${typeof value}`
  }
}

function shownValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
    case 'function':
      return value.name ? `[function ${value.name}]` : '[function]'
    case 'symbol':
      return value.toString()
    case 'bigint':
      return `${value}n`
    case 'object':
      if (value === null) return 'null'
      // `types.isDate`: an object made from Date.prototype passes `instanceof Date` and throws on getTime().
      if (types.isDate(value)) {
        return Number.isNaN(Date.prototype.getTime.call(value))
          ? 'Invalid Date'
          : Date.prototype.toISOString.call(value)
      }
      if (Array.isArray(value)) return '[array]'
      return `[object ${constructorName(value)}]`
    default:
      return String(value)
  }
}

/** The name of `value`'s constructor, or `null-prototype` when it has none that is named. */
function constructorName(value: object): string {
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' ? name : 'null-prototype'
}

/**
 * The engine's backend (Redis, for the BullMQ engine) is unreachable or did not answer in time.
 * What it was asked to do may not have happened: an enqueue that rejects with it stored no job,
 * unless Redis took the command just before the connection dropped (then the job exists; jobs
 * must be idempotent). The admin router answers it with 503 and `Retry-After`.
 */
export class BackendUnavailableError extends BackgroundJobError {
  /** The HTTP status that stands for it: 503 Service Unavailable. */
  readonly status: number = 503
  /** How long a client should wait before trying again, in seconds (`Retry-After`). */
  readonly retryAfterSeconds: number = 1
  /** What was being done, e.g. `enqueue`, `counts`. */
  readonly operation: string
  /** The backend, e.g. `Redis at 127.0.0.1:6379`. */
  readonly backend: string

  constructor(facts: { operation: string; backend: string; reason: string; cause?: unknown }) {
    super(
      `Could not ${facts.operation}: ${facts.backend} is unavailable (${facts.reason}). Nothing is lost that it had accepted; try again once it is back (the engine reconnects by itself), and check that Redis runs and the connection options are right.`,
      facts.cause === undefined ? undefined : { cause: facts.cause },
    )
    this.operation = facts.operation
    this.backend = facts.backend
  }
}
