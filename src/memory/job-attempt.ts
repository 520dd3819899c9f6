import type { JobContext } from '../types'
import type { JobRecord } from './job-record'

/**
 * One attempt of a job as the job sees it: the {@link JobContext} its `executing` method gets.
 * Its `AbortSignal` is made on first read: most jobs never read `context.signal`, and an
 * `AbortController` costs more than running a no-op job. Aborting before that read keeps the
 * reason; the signal, once read, is already aborted with it. Only the engine aborts, through
 * {@link JobAttempt.abort}, so a job cannot reach the engine's state through its context.
 */
export class JobAttempt implements JobContext {
  readonly attempt: number
  readonly maxAttempts: number
  readonly #record: JobRecord
  #controller: AbortController | undefined = undefined
  #isAborted = false
  #reason: unknown = undefined

  constructor(record: JobRecord, attempt: number, maxAttempts: number) {
    this.#record = record
    this.attempt = attempt
    this.maxAttempts = maxAttempts
  }

  get jobId(): string {
    return this.#record.id
  }

  get jobName(): string {
    return this.#record.name
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#isAborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** What `JSON.stringify(context)` shows, as for a plain object of the context's fields. */
  toJSON(): Omit<JobContext, 'signal'> {
    return { jobId: this.jobId, jobName: this.jobName, attempt: this.attempt, maxAttempts: this.maxAttempts }
  }

  /** The reason `attempt` was aborted with, or undefined when it was not. */
  static abortReason(attempt: JobAttempt): unknown {
    return attempt.#controller !== undefined ? (attempt.#controller.signal.reason as unknown) : attempt.#reason
  }

  /** Aborts `attempt`'s signal with `reason` (the first reason wins). May run the job's abort listeners, which may throw. */
  static abort(attempt: JobAttempt, reason: unknown): void {
    if (attempt.#controller !== undefined) {
      attempt.#controller.abort(reason)
    } else if (!attempt.#isAborted) {
      attempt.#isAborted = true
      attempt.#reason = reason
    }
  }
}
