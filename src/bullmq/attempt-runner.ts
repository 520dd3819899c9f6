import type { JobHandler, JobHandlerSource } from '../background-job-engine'
import { JobTimeoutError, ManagerStoppedError, UnknownJobError, UnrecoverableJobError } from '../errors'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown, toErrorInfo } from '../policy/error-info'
import { cloneJobArgs } from '../policy/job-args'
import { backoffDelay } from '../policy/retry-policy'
import type { JobAttemptInfo, JobContext, JobProgress } from '../types'
import { AttemptReports, hasEarlierAttempts } from './attempt-reports'
import type { BullmqJob } from './job-mapping'
import type { JobReports } from './job-reports'

/** What the runner asks of the engine around an attempt. */
export interface AttemptHooks {
  /** Records the failed attempt's error on the job while its body still runs (a timed-out attempt). */
  recordError(job: BullmqJob, error: Error): Promise<void>
  /** The job was moved straight back to waiting at `at`: records that it is due then. */
  recordDue(jobId: string, at: number): Promise<void>
  /** A schedule's run has started. */
  recordScheduleRun(job: BullmqJob): Promise<void>
  /** An attempt that stop aborted ended without completing; its job is waiting again. */
  interrupted(job: BullmqJob, at: number): void
  /** An attempt of `job` starts (its body is called next). */
  started(job: BullmqJob): void
  /** Reads what `job`'s earlier attempts stored: progress, log lines, past attempts. */
  readReports(job: BullmqJob): Promise<JobReports>
  /** Stores `entry`, an attempt of `job` that failed and is retried, in its past attempts. */
  recordAttempt(job: BullmqJob, entry: JobAttemptInfo): Promise<void>
}

/** What the runner is built with. */
export interface AttemptRunnerParts {
  readonly handlers: JobHandlerSource
  readonly logger: JobLogger
  readonly hooks: AttemptHooks
  /** BullMQ's `WaitingError`: thrown after moving a job back to waiting, so the worker leaves it there. */
  readonly WaitingError: new () => Error
}

/**
 * The context of one attempt; only the runner aborts its signal (timeout, stop): the worker takes
 * no signal from BullMQ (see worker-wiring.ts). The signal is made on its first read: most bodies
 * never read it, and an `AbortController` per attempt costs more than the rest of the attempt's
 * bookkeeping (workload B1). Until then an abort is only noted, and the signal is made already
 * aborted, with the first reason, as it would have been.
 */
class BullmqAttempt implements JobContext {
  #controller: AbortController | undefined
  #isAborted = false
  #reason: unknown = undefined
  /** Ends the grace a timed-out body gets before its retry (stop ends it early). */
  endGrace: (() => void) | undefined = undefined

  constructor(
    readonly jobId: string,
    readonly jobName: string,
    readonly attempt: number,
    readonly maxAttempts: number,
    readonly reports: AttemptReports,
  ) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController()
      this.#controller = controller
      if (this.#isAborted) controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** Why the attempt was aborted first (undefined when it was not). */
  get abortReason(): unknown {
    return this.#reason
  }

  /**
   * Aborts the attempt with `reason`, unless it was aborted already. Listeners of the signal run
   * now, and what they throw is thrown here, as from `AbortController.abort`.
   */
  abort(reason: unknown): void {
    if (this.#isAborted) return
    this.#isAborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }

  updateProgress(value: JobProgress): void {
    this.reports.updateProgress(value)
  }

  log(message: string): void {
    this.reports.log(message)
  }

  /** What `JSON.stringify(context)` shows, as on the memory engine. */
  toJSON(): Pick<JobContext, 'jobId' | 'jobName' | 'attempt' | 'maxAttempts'> {
    return { jobId: this.jobId, jobName: this.jobName, attempt: this.attempt, maxAttempts: this.maxAttempts }
  }
}

/**
 * Runs BullMQ jobs through the kit's handlers, one attempt per call of the worker's processor:
 * - the per-attempt timeout BullMQ has not: a timer aborts the attempt's signal with a
 *   {@link JobTimeoutError}. When a retry would follow, the attempt keeps its slot (and its lock,
 *   so no worker anywhere starts the retry) until the body ends, for at most the longer of its
 *   timeout and its backoff; a body still running then fails the job for good, since a retry
 *   would run beside it;
 * - the kit's backoff, as BullMQ's custom `backoffStrategy`;
 * - stop: attempts whose body ends on the stop's abort go back to waiting, not counted.
 */
export class AttemptRunner {
  readonly #handlers: JobHandlerSource
  readonly #logger: JobLogger
  readonly #hooks: AttemptHooks
  readonly #WaitingError: new () => Error
  readonly #running = new Set<BullmqAttempt>()
  /** What each job run here reported, by the BullMQ job object its events carry. */
  readonly #reports = new WeakMap<BullmqJob, AttemptReports>()
  #idleWaiters: (() => void)[] = []
  /** When each job failing now is due again, by id, from the backoff strategy to the `failed` event. */
  readonly #retryAt = new Map<string, number>()
  #interrupted = 0
  #isHalted = false

  constructor(parts: AttemptRunnerParts) {
    this.#handlers = parts.handlers
    this.#logger = parts.logger
    this.#hooks = parts.hooks
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
   * Runs one attempt of `job` for the worker's processor. Resolves when the attempt succeeds;
   * rejects when it fails.
   */
  async run(job: BullmqJob, token: string | undefined): Promise<void> {
    if (this.#isHalted) {
      // Fetched while stop began: not this process's to run any more.
      await job.moveToWait(token)
      throw new this.#WaitingError()
    }
    if (job.repeatJobKey !== undefined && job.repeatJobKey !== '') {
      this.#hooks.recordScheduleRun(job).catch((error: unknown) => this.#warn(job, 'recording a schedule run', error))
    }
    const handler = this.#handlers.handler(job.name)
    if (handler === undefined) {
      this.#hooks.started(job)
      throw new UnknownJobError(job.name)
    }
    const reports = new AttemptReports(
      job,
      hasEarlierAttempts(job) ? () => this.#hooks.readReports(job) : undefined,
      (what, error) => this.#warn(job, what, error),
    )
    this.#reports.set(job, reports)
    const attempt = new BullmqAttempt(job.id ?? '', job.name, job.attemptsMade + 1, handler.maxAttempts, reports)
    this.#running.add(attempt)
    try {
      try {
        // A retry's snapshot shows what its earlier attempts stored: read before it is told.
        if (!reports.isIdle) await reports.settled()
        this.#hooks.started(job)
        await this.#attempt(job, handler, attempt)
      } finally {
        // Its reports are stored before BullMQ moves the job on (nothing to wait for when none).
        if (!reports.isIdle) await reports.settled()
      }
    } catch (error) {
      if (attempt.abortReason instanceof ManagerStoppedError) {
        // An attempt that ends on stop's abort is not a failure of the job: back to waiting, not counted.
        this.#interrupted++
        await job.moveToWait(token)
        const at = Date.now()
        await this.#hooks.recordDue(attempt.jobId, at).catch(() => {})
        this.#hooks.interrupted(job, at)
        throw new this.#WaitingError()
      }
      throw AttemptFailure.of(error)
    } finally {
      this.#running.delete(attempt)
      if (this.#running.size === 0 && this.#idleWaiters.length > 0) {
        const waiters = this.#idleWaiters
        this.#idleWaiters = []
        for (const resolve of waiters) resolve()
      }
    }
  }

  /** Runs the body to its end, or to its timeout and grace. */
  async #attempt(job: BullmqJob, handler: JobHandler, attempt: BullmqAttempt): Promise<void> {
    // A copy per attempt, as on the memory engine: what the body does to its args stays with it.
    const body = Promise.resolve().then(() => handler.run(cloneJobArgs(job.data), attempt))
    if (handler.timeoutMs === 0) return body
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      // Unref'd: a body that never settles after stop must not keep the process alive for timeoutMs.
      timer = setTimeout(() => resolve('timeout'), handler.timeoutMs).unref()
    })
    const ended = body.then(
      () => 'ended' as const,
      () => 'ended' as const,
    )
    try {
      if ((await Promise.race([ended, timedOut])) === 'ended') return await body
    } finally {
      clearTimeout(timer)
    }
    const error = timeoutError(attempt, handler, false)
    attempt.abort(error)
    const retryDelay = attempt.attempt < handler.maxAttempts ? backoffDelay(handler.retry, attempt.attempt) : -1
    // No retry follows, or the body ended on its abort: the attempt fails now.
    if (retryDelay < 0 || (await settlesWithin(ended, 0))) throw error
    await this.#hooks.recordError(job, error).catch((thrown: unknown) => this.#warn(job, 'recording a timeout', thrown))
    safeLog(
      this.#logger,
      'warn',
      `Job ${attempt.jobName} (${attempt.jobId}) attempt ${attempt.attempt} timed out and was aborted, but its body still runs; its retry waits for it to end`,
      { jobName: attempt.jobName, jobId: attempt.jobId, attempt: attempt.attempt },
    )
    const graceMs = Math.max(handler.timeoutMs, retryDelay)
    const isEnded = await new Promise<boolean>((resolve) => {
      const graceTimer = setTimeout(() => resolve(false), graceMs).unref()
      // Stop ends the grace: the attempt fails as timed out, and its retry waits in Redis.
      attempt.endGrace = () => {
        clearTimeout(graceTimer)
        resolve(true)
      }
      void ended.then(() => {
        clearTimeout(graceTimer)
        resolve(true)
      })
    })
    attempt.endGrace = undefined
    throw isEnded ? error : timeoutError(attempt, handler, true)
  }

  /**
   * BullMQ's `backoffStrategy`: the wait before retrying after failed attempt `attemptsMade`
   * (1-based), or -1 for no retry: the job is unknown here, threw {@link UnrecoverableJobError},
   * outlived its timeout's grace, or used the attempts its handler allows.
   */
  async backoff(attemptsMade: number, failure: Error | undefined, job: BullmqJob | undefined): Promise<number> {
    const handler = job === undefined ? undefined : this.#handlers.handler(job.name)
    const error = failure instanceof AttemptFailure ? failure.thrown : failure
    if (
      handler === undefined ||
      error instanceof UnknownJobError ||
      error instanceof UnrecoverableJobError ||
      (error instanceof JobTimeoutError && error.isAbandoned) ||
      attemptsMade >= handler.maxAttempts
    ) {
      return -1
    }
    const delay = backoffDelay(handler.retry, attemptsMade)
    if (job !== undefined) await this.#keepFailedAttempt(job, attemptsMade, error)
    const id = job?.id
    if (id !== undefined) {
      const at = Date.now() + delay
      this.#retryAt.set(id, at)
      // BullMQ puts a job retried at once straight back to waiting, where it keeps no due time.
      if (delay === 0) await this.#hooks.recordDue(id, at).catch(() => {})
    }
    return delay
  }

  /** What `job` (the object BullMQ ran and tells its events with) reported, as this process knows it. */
  reportsOf(job: BullmqJob): JobReports | undefined {
    return this.#reports.get(job)?.snapshot()
  }

  /** Stores failed attempt `attemptsMade` of `job`, which is retried, in its past attempts. */
  async #keepFailedAttempt(job: BullmqJob, attemptsMade: number, error: unknown): Promise<void> {
    const entry: JobAttemptInfo = {
      attempt: attemptsMade,
      startedAt: new Date(job.processedOn ?? Date.now()),
      finishedAt: new Date(),
      outcome: 'failed',
      error: toErrorInfo(error),
    }
    this.#reports.get(job)?.addPast(entry)
    await this.#hooks
      .recordAttempt(job, entry)
      .catch((thrown: unknown) => this.#warn(job, 'recording an attempt', thrown))
  }

  /** When job `id`, which just failed an attempt, is due again (read once). */
  takeRetryAt(id: string): number | undefined {
    const at = this.#retryAt.get(id)
    this.#retryAt.delete(id)
    return at
  }

  /** Resolves once no attempt runs. */
  whenIdle(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Starts no attempt from now on (stop). */
  halt(): void {
    this.#isHalted = true
  }

  /** Aborts the signal of every running attempt with `reason()`, and ends the grace of timed-out ones. */
  abortAll(reason: () => Error): void {
    for (const attempt of this.#running) {
      try {
        attempt.abort(reason())
      } catch (error) {
        safeLog(this.#logger, 'error', 'An abort listener of a running job threw', {
          jobId: attempt.jobId,
          error: describeThrown(error),
        })
      }
      attempt.endGrace?.()
    }
  }

  #warn(job: BullmqJob, what: string, error: unknown): void {
    safeLog(this.#logger, 'warn', `Job ${job.name} (${job.id ?? '?'}): ${what} failed: ${describeThrown(error)}`, {
      jobId: job.id,
    })
  }
}

/**
 * What a failed attempt threw, in the shape BullMQ stores: BullMQ keeps `message` and `stack`
 * only, so the stack starts with `<name>: <message>` (the kit reads the name back from it), and a
 * thrown value that is not an Error gets the kit's message for it. What was thrown is `thrown`.
 */
class AttemptFailure extends Error {
  constructor(
    readonly thrown: unknown,
    name: string,
    message: string,
    stack: string,
  ) {
    super(message)
    this.name = name
    this.stack = stack
  }

  static of(thrown: unknown): AttemptFailure {
    const { name, message, stack } = toErrorInfo(thrown)
    const header = `${name}: ${message}`
    if (stack !== undefined && stack.startsWith(`${name}:`)) return new AttemptFailure(thrown, name, message, stack)
    // A stack whose first line is not the name (changed after construction, or made by hand): the
    // header is rewritten and the frames kept.
    const framesAt = stack?.search(/\n\s+at /) ?? -1
    const shown = stack !== undefined && framesAt >= 0 ? `${header}${stack.slice(framesAt)}` : header
    return new AttemptFailure(thrown, name, message, shown)
  }
}

function timeoutError(attempt: BullmqAttempt, handler: JobHandler, isAbandoned: boolean): JobTimeoutError {
  return new JobTimeoutError({
    jobId: attempt.jobId,
    jobName: attempt.jobName,
    attempt: attempt.attempt,
    timeoutMs: handler.timeoutMs,
    isAbandoned,
  })
}

/** Whether `promise` settles within `ms` (0: within the current turn's microtasks and one macrotask). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const result = await Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ])
  clearTimeout(timer)
  return result
}
