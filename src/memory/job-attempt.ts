import { MAX_JOB_LOG_LINES, readLogMessage, readProgress } from '../policy/job-progress'
import { systemClock, type Clock } from '../clock'
import type { JobContext, JobProgress } from '../types'
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
  readonly #clock: Clock
  #controller: AbortController | undefined = undefined
  #isAborted = false
  #reason: unknown = undefined

  constructor(record: JobRecord, attempt: number, maxAttempts: number, clock: Clock = systemClock) {
    this.#record = record
    this.#clock = clock
    this.attempt = attempt
    this.maxAttempts = maxAttempts
  }

  get jobId(): string {
    return this.#record.id
  }

  get jobName(): string {
    return this.#record.name
  }

  /** Stores the job's progress (see {@link JobContext.updateProgress}). */
  updateProgress(value: JobProgress): void {
    this.#record.written().progress = readProgress(value)
  }

  /** Adds a line to the job's log, dropping the oldest past {@link MAX_JOB_LOG_LINES}. */
  log(message: string): void {
    const line = { at: this.#clock.now(), message: readLogMessage(message) }
    const logs = (this.#record.written().logs ??= [])
    logs.push(line)
    if (logs.length > MAX_JOB_LOG_LINES) logs.splice(0, logs.length - MAX_JOB_LOG_LINES)
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#isAborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** What `JSON.stringify(context)` shows, as for a plain object of the context's fields. */
  toJSON(): Pick<JobContext, 'jobId' | 'jobName' | 'attempt' | 'maxAttempts'> {
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
