import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express'
import { BackgroundJobError } from '../errors'
import { createDefaultLogger, safeLog, type JobLogger } from '../logger'
import { describeThrown, toErrorInfo } from '../policy/error-info'
import { REGISTRATIONS } from '../registrations'
import { checkLogger, readOptions } from '../validation'

/** Options of {@link backgroundJobsErrorHandler}. */
export interface ErrorHandlerOptions {
  /**
   * Where errors answered with a 5xx status are logged, with their stack (the response never holds
   * it).
   * @default the `logger` registered in the request scope (`req.container`, opened by
   *   `backgroundJobsMiddleware`), else a winston console logger made on first need
   */
  readonly logger?: JobLogger
}

/** @internal What an HTTP edge answers for an error: status, the body's `error` fields, and `Retry-After`. */
export interface HttpErrorAnswer {
  readonly status: number
  readonly name: string
  readonly message: string
  /** Seconds for a `Retry-After` header, for 503 answers whose error says how long to wait. */
  readonly retryAfterSeconds: number | undefined
}

/** @internal The message of every answer whose error is not one the edge knows to be safe to show. */
export const INTERNAL_ERROR_MESSAGE = 'The server failed to answer this request; the error was logged on the server.'

/**
 * @internal What to answer for `error`. The kit's errors carry their `status` (400 bad input, 404 not found,
 * 409 wrong state, 503 try later, with `retryAfterSeconds`), and their message is written for the
 * caller, so both are shown. An error in the `http-errors` shape (Express's body parsers throw
 * them) with a 4xx `status` and `expose: true` is shown too. Anything else is a 500 with a generic
 * message: its text may hold secrets or file paths.
 */
export function describeHttpError(error: unknown): HttpErrorAnswer {
  try {
    if (error instanceof BackgroundJobError) {
      const status = readStatus(error, 400, 599)
      if (status !== undefined) {
        const wait: unknown = Reflect.get(error, 'retryAfterSeconds')
        const retryAfterSeconds =
          status === 503 && typeof wait === 'number' && Number.isInteger(wait) && wait >= 0 ? wait : undefined
        return { status, name: error.name, message: error.message, retryAfterSeconds }
      }
    } else if (error instanceof Error && Reflect.get(error, 'expose') === true) {
      const status = readStatus(error, 400, 499)
      const { name, message } = error
      if (status !== undefined && typeof name === 'string' && typeof message === 'string') {
        return { status, name, message, retryAfterSeconds: undefined }
      }
    }
  } catch {
    // A getter on a hostile error threw: answer as for any unknown error.
  }
  return { status: 500, name: 'InternalServerError', message: INTERNAL_ERROR_MESSAGE, retryAfterSeconds: undefined }
}

function readStatus(error: Error, min: number, max: number): number | undefined {
  const given: unknown = Reflect.get(error, 'status') ?? Reflect.get(error, 'statusCode')
  return typeof given === 'number' && Number.isInteger(given) && given >= min && given <= max ? given : undefined
}

/** @internal Sends `answer` as `{ error: { name, message } }` with its status (and `Retry-After`). */
export function sendHttpError(res: Response, answer: HttpErrorAnswer): void {
  if (answer.retryAfterSeconds !== undefined) res.set('Retry-After', String(answer.retryAfterSeconds))
  res.status(answer.status).json({ error: { name: answer.name, message: answer.message } })
}

/**
 * An Express error handler that answers every error as JSON, `{ error: { name, message } }`, never
 * with a stack: the kit's errors with their own status (`InvalidJobArgsError` 400,
 * `JobNotFoundError` 404, `JobStateError` 409, `PendingJobsLimitError` and `ManagerStoppedError`
 * 503 with `Retry-After`), errors of Express's body parsers with theirs, and anything else as 500
 * with a generic message, the real error going to the log. Mount it after the routes:
 * `app.use(backgroundJobsErrorHandler())`.
 *
 * When the response has already started, it passes the error on to Express, which closes the
 * connection.
 *
 * @throws InvalidOptionError for unknown or invalid options
 */
export function backgroundJobsErrorHandler(options?: ErrorHandlerOptions): ErrorRequestHandler {
  const { logger: given } = readOptions(options, ['logger'], 'the backgroundJobsErrorHandler options')
  if (given !== undefined) checkLogger('logger', given, 'the backgroundJobsErrorHandler options')
  let fallback: JobLogger | undefined

  const loggerFor = (req: Request): JobLogger => {
    if (given !== undefined) return given
    try {
      const scope: unknown = Reflect.get(req, 'container')
      if (scope !== undefined && typeof (scope as { hasRegistration?: unknown }).hasRegistration === 'function') {
        const container = scope as Request['container']
        if (container.hasRegistration(REGISTRATIONS.logger)) return container.resolve<JobLogger>(REGISTRATIONS.logger)
      }
    } catch {
      // The scope was disposed or its logger cannot be built: fall back to the console.
    }
    fallback ??= createDefaultLogger()
    return fallback
  }

  return function backgroundJobsErrorHandler(error: unknown, req: Request, res: Response, next: NextFunction): void {
    const answer = describeHttpError(error)
    if (answer.status >= 500) {
      safeLog(loggerFor(req), 'error', 'A request failed', {
        method: req.method,
        path: req.originalUrl,
        status: answer.status,
        error: toErrorInfo(error).stack ?? describeThrown(error),
      })
    }
    if (res.headersSent) {
      next(error)
      return
    }
    sendHttpError(res, answer)
  }
}
