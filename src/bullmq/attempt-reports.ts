import { MAX_JOB_LOG_LINES, readLogMessage, readProgress } from '../policy/job-progress'
import type { JobAttemptInfo, JobLogLine, JobProgress } from '../types'
import type { BullmqJob } from './job-mapping'
import { NO_REPORTS, encodeLogLine, type JobReports } from './job-reports'

/**
 * What one attempt of a BullMQ job reports (`ctx.updateProgress`, `ctx.log`) and what the job
 * reported before it, for the snapshots this process makes of the job (its events and its
 * `onSettled`) without reading Redis again:
 * - each report is sent at once through BullMQ (`job.updateProgress`, `job.log`), on the worker's
 *   connection, in the order made (not one round trip after another: a body that logs 100 lines
 *   sends them together); {@link AttemptReports.settled} resolves once all are stored, and
 *   the runner waits for it before the attempt ends, so that the job's end never overtakes them;
 * - what earlier attempts stored is read once, at the start, only when there were earlier
 *   attempts ({@link hasEarlierAttempts}); the first attempt of a job, the common case, reads
 *   nothing. Its reports are sent only after that read, so that the read never sees them.
 * A job that reports nothing costs nothing here beyond this object.
 */
export class AttemptReports {
  readonly #job: BullmqJob
  readonly #onWriteError: (what: string, error: unknown) => void
  #earlier: JobReports = NO_REPORTS
  #progress: JobProgress | undefined = undefined
  #logs: { at: number; message: string }[] | undefined = undefined
  readonly #past: JobAttemptInfo[] = []
  /** The read of what came before, which this attempt's writes wait for; undefined when none. */
  readonly #read: Promise<void> | undefined
  /**
   * The last write sent (or the read): one connection answers in order, so once it has settled
   * every earlier one has.
   */
  #writes: Promise<void> | undefined

  /**
   * @param read reads what the job's earlier attempts stored; undefined when it had none
   * @param onWriteError told a write that failed (the attempt goes on)
   */
  constructor(
    job: BullmqJob,
    read: (() => Promise<JobReports>) | undefined,
    onWriteError: (what: string, error: unknown) => void,
  ) {
    this.#job = job
    this.#onWriteError = onWriteError
    if (read !== undefined) {
      this.#read = read().then(
        (earlier) => {
          this.#earlier = earlier
        },
        (error: unknown) => onWriteError('reading its earlier progress, log and attempts', error),
      )
      this.#writes = this.#read
    }
  }

  /** Stores the job's progress (see `JobContext.updateProgress`). */
  updateProgress(value: JobProgress): void {
    const progress = readProgress(value)
    this.#progress = progress
    this.#send('storing its progress', () => this.#job.updateProgress(progress))
  }

  /** Adds a line to the job's log (see `JobContext.log`). */
  log(message: string): void {
    const line = { at: Date.now(), message: readLogMessage(message) }
    const logs = (this.#logs ??= [])
    logs.push(line)
    if (logs.length > MAX_JOB_LOG_LINES) logs.splice(0, logs.length - MAX_JOB_LOG_LINES)
    this.#send('storing a log line', () => this.#job.log(encodeLogLine(line.at, line.message)))
  }

  /** This attempt failed and a retry follows: it is a past attempt now (already stored). */
  addPast(entry: JobAttemptInfo): void {
    this.#past.push(entry)
  }

  /**
   * Resolves once every report made so far is stored (or failed, and was told); never rejects.
   * Reports made later (by a timed-out body that still runs) are not waited for.
   */
  settled(): Promise<void> {
    return this.#writes ?? SETTLED
  }

  /** Whether nothing was sent or read: {@link AttemptReports.settled} has nothing to wait for. */
  get isIdle(): boolean {
    return this.#writes === undefined
  }

  /** The job's reports as this process knows them: what came before, then this attempt's. */
  snapshot(): JobReports {
    const earlier = this.#earlier
    const own = this.#logs
    if (own === undefined && this.#progress === undefined && this.#past.length === 0) return earlier
    const progress = this.#progress ?? earlier.progress
    const logs: JobLogLine[] = [...earlier.logs]
    for (const line of own ?? []) logs.push({ at: new Date(line.at), message: line.message })
    return {
      ...(progress !== undefined && { progress }),
      logs: logs.length > MAX_JOB_LOG_LINES ? logs.slice(-MAX_JOB_LOG_LINES) : logs,
      past: this.#past.length === 0 ? earlier.past : [...earlier.past, ...this.#past],
    }
  }

  /** Sends `write` now (after the read, if one is under way): writes go out in the order made. */
  #send(what: string, write: () => Promise<unknown>): void {
    const sent = this.#read === undefined ? write() : this.#read.then(write)
    this.#writes = sent.then(
      () => undefined,
      (error: unknown) => this.#onWriteError(what, error),
    )
  }
}

const SETTLED: Promise<void> = Promise.resolve()

/**
 * Whether `job`, about to run an attempt, ran attempts before (retried, retried by hand, stalled,
 * or interrupted by a stop): only then may it have stored progress, log lines or past attempts.
 */
export function hasEarlierAttempts(job: BullmqJob): boolean {
  return job.attemptsStarted > 1 || job.attemptsMade > 0 || (job.stacktrace ?? []).length > 0
}
