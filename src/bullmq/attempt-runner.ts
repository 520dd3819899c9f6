import type { JobHandlerSource } from '../background-job-engine'
import { JobTimeoutError, ManagerStoppedError, UnknownJobError, UnrecoverableJobError } from '../errors'
import type { JobLogger } from '../logger'
import { backoffDelay } from '../policy/retry-policy'
import type { JobContext } from '../types'
import type { BullmqJob } from './job-mapping'

/** What the runner is built with. */
export interface AttemptRunnerParts {
  readonly handlers: JobHandlerSource
  readonly logger: JobLogger
  /** BullMQ's `WaitingError`: thrown after moving a job back to waiting, so the worker leaves it there. */
  readonly WaitingError: new () => Error
}

/** The context of one attempt, with the controller only the runner aborts. */
class BullmqAttempt implements JobContext {
  readonly controller = new AbortController()
  constructor(
    readonly jobId: string,
    readonly jobName: string,
    readonly attempt: number,
    readonly maxAttempts: number,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal
  }

  toJSON(): Omit<JobContext, 'signal'> {
    return { jobId: this.jobId, jobName: this.jobName, attempt: this.attempt, maxAttempts: this.maxAttempts }
  }
}

/**
 * Runs BullMQ jobs through the kit's handlers: one attempt per call of the worker's processor,
 * with the per-attempt timeout BullMQ has not (a timer that aborts the attempt's signal with a
 * {@link JobTimeoutError} and fails the attempt), and the kit's backoff as BullMQ's custom
 * `backoffStrategy`.
 */
export class AttemptRunner {
  readonly #handlers: JobHandlerSource
  readonly #WaitingError: new () => Error
  readonly #running = new Set<BullmqAttempt>()
  #interrupted = 0

  constructor(parts: AttemptRunnerParts) {
    this.#handlers = parts.handlers
    this.#WaitingError = parts.WaitingError
  }

  /** Attempts whose body is running now. */
  get active(): number {
    return this.#running.size
  }

  /** Attempts that stop aborted and that ended without completing: their jobs went back to waiting. */
  get interrupted(): number {
    return this.#interrupted
  }

  /**
   * The worker's processor: three parameters, so BullMQ passes its signal (it checks
   * `processor.length`). Resolves when the attempt succeeds; rejects when it fails.
   */
  async run(job: BullmqJob, token: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    const handler = this.#handlers.handler(job.name)
    if (handler === undefined) throw new UnknownJobError(job.name)
    const attempt = new BullmqAttempt(job.id ?? '', job.name, job.attemptsMade + 1, handler.maxAttempts)
    const onAbort = (): void => attempt.controller.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#running.add(attempt)
    let timer: NodeJS.Timeout | undefined
    try {
      const body = handler.run(job.data, attempt)
      if (handler.timeoutMs > 0) {
        const timeout = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            const error = new JobTimeoutError({
              jobId: attempt.jobId,
              jobName: attempt.jobName,
              attempt: attempt.attempt,
              timeoutMs: handler.timeoutMs,
            })
            attempt.controller.abort(error)
            reject(error)
          }, handler.timeoutMs)
        })
        // The body may go on after its timeout; its later rejection is the attempt's no more.
        body.catch(() => {})
        await Promise.race([body, timeout])
      } else {
        await body
      }
    } catch (error) {
      if (attempt.signal.reason instanceof ManagerStoppedError) {
        this.#interrupted++
        await job.moveToWait(token)
        throw new this.#WaitingError()
      }
      throw error
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      this.#running.delete(attempt)
    }
  }

  /**
   * BullMQ's `backoffStrategy`: the wait before retrying after failed attempt `attemptsMade`
   * (1-based), or -1 for no retry: the job is unknown here, threw {@link UnrecoverableJobError},
   * or used the attempts its handler allows.
   */
  backoff(attemptsMade: number, error: Error | undefined, job: { name: string } | undefined): number {
    const handler = job === undefined ? undefined : this.#handlers.handler(job.name)
    if (handler === undefined || error instanceof UnknownJobError || error instanceof UnrecoverableJobError) return -1
    if (attemptsMade >= handler.maxAttempts) return -1
    return backoffDelay(handler.retry, attemptsMade)
  }

  /** Aborts the signal of every running attempt with `reason()`. */
  abortAll(reason: () => Error): void {
    for (const attempt of this.#running) attempt.controller.abort(reason())
  }
}
