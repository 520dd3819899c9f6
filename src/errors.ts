import { types } from 'node:util'

/**
 * Every error this package throws extends {@link BackgroundJobError}, so callers can catch the
 * whole family with one `instanceof`. Each subclass sets `name` to its class name and carries a
 * message that says what was wrong and how to fix it.
 */
export class BackgroundJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** An option passed to a constructor or factory is missing, of the wrong type or out of range. */
export class InvalidOptionError extends BackgroundJobError {}

/** Enqueue options (`delay`, `runAt`) are not valid. */
export class InvalidEnqueueOptionsError extends BackgroundJobError {}

/**
 * Job arguments cannot be stored: they hold a function, symbol, bigint, cycle, non-finite number,
 * a non-plain object, or are too large or too deep. Arguments must survive a JSON round trip so
 * the same job can later move to a distributed store.
 */
export class InvalidJobArgsError extends BackgroundJobError {
  /** Where in the arguments the bad value sits, e.g. `args.user.callback`. */
  readonly path: string

  constructor(message: string, path: string) {
    super(message)
    this.path = path
  }
}

/** A job class, job name or args class is not registered with the background-job service. */
export class JobNotRegisteredError extends BackgroundJobError {}

/** Two different job classes were registered under the same job name or args class. */
export class DuplicateJobError extends BackgroundJobError {}

/** A value given where a job class was expected is not a class extending `BackgroundJobBase`. */
export class InvalidJobClassError extends BackgroundJobError {}

/** No job has the given id (it never existed, or it was evicted from the bounded history). */
export class JobNotFoundError extends BackgroundJobError {}

/** The operation does not apply to a job in its current state (e.g. cancelling a running job). */
export class JobStateError extends BackgroundJobError {}

/** `enqueue` was called while `maxPendingJobs` jobs are already waiting. Nothing was enqueued. */
export class PendingJobsLimitError extends BackgroundJobError {}

/** The manager was stopped; it accepts no new jobs or schedules. */
export class ManagerStoppedError extends BackgroundJobError {}

/** A job ran longer than its `timeoutMs`; its `AbortSignal` was aborted and the attempt failed. */
export class JobTimeoutError extends BackgroundJobError {}

/** A job ran whose name has no registered handler. The job fails without retry. */
export class UnknownJobError extends BackgroundJobError {}

/** A cron expression or schedule definition is not valid. */
export class InvalidScheduleError extends BackgroundJobError {}

/**
 * The static manager (`BackgroundJobs.manager`, `ServiceBase.backgroundJobManager`) was used before
 * the root container was set with `BackgroundJobs.build(container)` (or `mapServices`).
 */
export class BackgroundJobsNotBuiltError extends BackgroundJobError {}

/** A service class cannot be mapped to routes by the minimal-API conventions. */
export class RouteConventionError extends BackgroundJobError {}

/** Describes a value and its type for error messages: `` `0` (number) ``. */
export function describeValue(value: unknown): string {
  let shown: string
  if (typeof value === 'string') shown = JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  else if (typeof value === 'function') shown = value.name ? `[function ${value.name}]` : '[function]'
  else if (typeof value === 'symbol' || typeof value === 'bigint') shown = `${String(value)}${typeof value === 'bigint' ? 'n' : ''}`
  // `types.isDate`: an object made from Date.prototype passes `instanceof Date` and throws on getTime().
  else if (types.isDate(value)) shown = Number.isNaN(Date.prototype.getTime.call(value)) ? 'Invalid Date' : Date.prototype.toISOString.call(value)
  else if (value !== null && typeof value === 'object') shown = Array.isArray(value) ? '[array]' : `[object ${value.constructor?.name ?? 'null-prototype'}]`
  else shown = String(value)
  const type = value === null ? 'null' : types.isDate(value) ? 'Date' : typeof value
  return `\`${shown}\` (${type})`
}
