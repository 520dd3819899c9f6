import type { JobHandler, JobHandlerSource, NewJob, NewJobBatch } from '../background-job-engine'
import { afterAtLeast, type Clock } from '../clock'
import {
  JobTimeoutError,
  ManagerStoppedError,
  PendingJobsLimitError,
  UnknownJobError,
  UnrecoverableJobError,
} from '../errors'
import type { JobEventHub } from '../job-events'
import { isDebugLogged, safeLog, type JobLogger } from '../logger'
import { describeThrown, toErrorInfo } from '../policy/error-info'
import { cloneJobArgs } from '../policy/job-args'
import { backoffDelay } from '../policy/retry-policy'
import { AttemptTimeouts, RunningAttemptPool, type AttemptHooks, type RunningAttempt } from './attempt-timeouts'
import { JobAttempt } from './job-attempt'
import { EngineJobKind, type JobRecord } from './job-record'
import type { JobStore } from './job-store'
import type { ResolvedMemoryStoreOptions } from './memory-options'
import { ReadyQueue } from './ready-queue'
import type { TimerWheel } from './timer-wheel'
import type { JobWaiters } from './waiters'

/**
 * Attempts started in one macrotask before the processor yields to the event loop. Quick jobs
 * settle in microtasks and start the next ones from there, so without this a backlog of them would
 * run to its end in one turn, holding back timers, I/O and HTTP responses all that time.
 */
const STARTS_PER_TURN = 1024

/** What the processor is built from; the memory engine's facade wires it. */
export interface ProcessorParts {
  readonly store: JobStore
  readonly wheel: TimerWheel
  readonly handlers: JobHandlerSource
  readonly options: ResolvedMemoryStoreOptions
  readonly logger: JobLogger
  readonly events: JobEventHub
  readonly waiters: JobWaiters
}

/**
 * The memory engine's processor: jobs come in through {@link JobProcessor.add}, wait in the job
 * wheel until due, then in a FIFO ready queue, and start while fewer than `concurrency` attempts
 * run. Each attempt runs to its end or its timeout (filed in a second wheel on monotonic time),
 * and is settled once: completed, retried after its backoff, or failed for good.
 */
export class JobProcessor {
  readonly #store: JobStore
  readonly #wheel: TimerWheel
  readonly #handlers: JobHandlerSource
  readonly #clock: Clock
  readonly #logger: JobLogger
  readonly #events: JobEventHub
  readonly #waiters: JobWaiters
  readonly #concurrency: number
  readonly #maxPendingJobs: number
  readonly #kinds = new Map<string, EngineJobKind>()
  /** The kind {@link JobProcessor.#kindOf} last found in `#kinds` (see there). */
  #lastKind: EngineJobKind | undefined = undefined
  readonly #timeouts: AttemptTimeouts
  readonly #ready = new ReadyQueue<JobRecord>((record) => record.state === 'pending' && !record.isScheduled)
  #active = 0
  #isPumpQueued = false
  #startsThisTurn = 0
  /** Whether debug entries are logged, read once per turn (see {@link isDebugLogged}). */
  #isDebug = false
  #isHalted = false
  #interrupted = 0
  #drained: (() => void) | undefined
  readonly #onJobDue = (record: JobRecord): void => this.#makeReady(record)
  readonly #attemptHooks: AttemptHooks = {
    timedOut: (run) => this.#timeOut(run),
    ended: (run, failed, error) => this.#ended(run, failed, error),
  }
  readonly #runs: RunningAttemptPool
  readonly #pump = (): void => {
    this.#isPumpQueued = false
    this.#startsThisTurn = 0
    this.#isDebug = isDebugLogged(this.#logger)
    this.#startReady()
  }

  constructor(parts: ProcessorParts) {
    this.#store = parts.store
    this.#wheel = parts.wheel
    this.#handlers = parts.handlers
    this.#clock = parts.options.clock
    this.#logger = parts.logger
    this.#events = parts.events
    this.#waiters = parts.waiters
    this.#concurrency = parts.options.concurrency
    this.#maxPendingJobs = parts.options.maxPendingJobs
    this.#timeouts = new AttemptTimeouts(this.#clock, parts.options.unref, parts.logger)
    this.#runs = new RunningAttemptPool(this.#attemptHooks, this.#concurrency)
  }

  /** Attempts running now. */
  get active(): number {
    return this.#active
  }

  /** Whether nothing is pending or running. */
  get isIdle(): boolean {
    return this.#store.count('pending') === 0 && this.#store.count('running') === 0
  }

  /** Resolves the idle waiters if nothing is pending or running now (checked only when some wait). */
  resolveIdleWaiters(): void {
    if (this.#waiters.hasIdleWaiters && this.isIdle) this.#waiters.resolveIdle()
  }

  /** Stores a new pending job and schedules it (or queues it when due). @throws PendingJobsLimitError */
  add(job: NewJob): JobRecord {
    this.#assertRoomFor(job.name)
    const now = job.enqueuedAt
    const record = this.#store.create(this.#kindOf(job.name), job.args, this.#wheel.tickOf(now))
    if (job.scheduleId !== undefined) record.written().scheduleId = job.scheduleId
    this.#file(record, job.runAt, now)
    // Guarded so no snapshot thunk is made per job when nobody listens.
    if (this.#events.has('enqueued')) this.#events.emit('enqueued', () => record.toInfo())
    return record
  }

  /**
   * Stores a batch given as columns, each job as {@link JobProcessor.add} stores one, and returns
   * their ids in order. The caller has checked that there is room for all of them.
   */
  addBatch(batch: NewJobBatch): string[] {
    const { args, runAt } = batch
    const count = args.length
    const ids = new Array<string>(count)
    const store = this.#store
    const kind = this.#kindOf(batch.name)
    const now = batch.enqueuedAt
    const createdTick = this.#wheel.tickOf(now)
    // No listener can be added while none listens: only the engine's code runs in this loop.
    const isHeard = this.#events.has('enqueued')
    for (let i = 0; i < count; i++) {
      const record = store.create(kind, args[i], createdTick)
      this.#file(record, runAt[i]!, now)
      if (isHeard && this.#events.has('enqueued')) this.#events.emit('enqueued', () => record.toInfo())
      ids[i] = record.id
    }
    return ids
  }

  /** Schedules a new `record` due at `runAt`, or queues it when that is not after `now`. */
  #file(record: JobRecord, runAt: number, now: number): void {
    if (runAt > now) {
      this.#wheel.schedule(record, runAt)
    } else {
      record.dueTick = record.createdTick
      this.#makeReady(record)
    }
  }

  /**
   * Cancels a pending record: it leaves the wheel and ends `cancelled`, at `finishedAt` (by
   * default the clock's reading now; a batch passes one reading for all its jobs). `isUnseen`
   * says no one can see it end (no `cancelled` listener, no settled waiter): it then only moves
   * to its state, and the caller resolves idle waiters, if the engine is idle, once it is done.
   */
  cancel(record: JobRecord, finishedAt: number = this.#clock.now(), isUnseen = false): void {
    const isQueued = !record.isScheduled
    this.#wheel.cancel(record)
    record.finishedAt = finishedAt
    if (isUnseen) this.#store.cancelPending(record)
    else this.#finish(record, 'cancelled')
    // A due record sits in the ready queue, which skips it and drops it with the other stale ones.
    if (isQueued) this.#ready.markStale()
  }

  /** Moves a failed record back to pending, due now, with a fresh retry budget. */
  retry(record: JobRecord): void {
    this.#assertRoomFor(record.name)
    record.keepFailedAttempt(record.finishedAt)
    const history = record.written()
    history.attempts = 0
    record.finishedAt = 0
    record.dueTick = this.#wheel.tickOf(this.#clock.now())
    this.#store.transition(record, 'pending')
    this.#makeReady(record)
  }

  /** @throws PendingJobsLimitError when `maxPendingJobs` jobs are pending already */
  #assertRoomFor(jobName: string): void {
    if (this.#store.count('pending') >= this.#maxPendingJobs)
      throw new PendingJobsLimitError(jobName, this.#maxPendingJobs)
  }

  /** Starts nothing from now on (stop). */
  halt(): void {
    this.#isHalted = true
  }

  /** Resolves when no attempt runs, or after `timeoutMs`, whichever comes first. */
  async whenDrained(timeoutMs: number): Promise<void> {
    if (this.#active === 0) return
    await new Promise<void>((resolve) => {
      const cancel = afterAtLeast(this.#clock, timeoutMs, resolve)
      this.#drained = () => {
        cancel()
        resolve()
      }
    })
    this.#drained = undefined
  }

  /** Ends a draining {@link JobProcessor.whenDrained} wait now (a second, forcing stop). */
  endDrain(): void {
    this.#drained?.()
  }

  /** Attempts that stop aborted and that ended without completing. */
  get interrupted(): number {
    return this.#interrupted
  }

  /** Aborts the signal of every running attempt with `reason`, then closes the deadline wheel. */
  abortRunning(reason: () => Error): void {
    for (const record of this.#store.list('running', 0, Infinity)) {
      try {
        const attempt = record.attempt
        if (attempt !== undefined) JobAttempt.abort(attempt, reason())
      } catch (error) {
        safeLog(this.#logger, 'error', 'An abort listener of a running job threw', {
          jobId: record.id,
          error: describeThrown(error),
        })
      }
    }
    try {
      this.#timeouts.close()
    } catch (error) {
      safeLog(this.#logger, 'error', 'Closing the attempt timeouts failed', { error: describeThrown(error) })
    }
  }

  /** The kind of the jobs named `name`; kept for registered names, so odd names cannot grow the map. */
  #kindOf(name: string): EngineJobKind {
    // Speed trick (workload W3, enqueue): jobs come in runs of one name, so the last kind found
    // is asked first; the obvious version asks the map every time.
    const last = this.#lastKind
    if (last !== undefined && last.name === name) return last
    let kind = this.#kinds.get(name)
    if (kind === undefined) {
      kind = new EngineJobKind(name, this.#wheel.origin, this.#onJobDue, this.#handlers)
      if (this.#handlers.handler(name) === undefined) return kind
      this.#kinds.set(name, kind)
    }
    this.#lastKind = kind
    return kind
  }

  #makeReady(record: JobRecord): void {
    this.#ready.push(record)
    this.#queuePump()
  }

  #queuePump(): void {
    if (!this.#isPumpQueued && !this.#isHalted) {
      this.#isPumpQueued = true
      // A macrotask, not a microtask: the enqueuing code (and its HTTP response) goes first.
      setImmediate(this.#pump)
    }
  }

  /**
   * Starts due jobs while slots are free. `now`, when given, is a clock reading that no code but
   * the engine's has run since; the first job started takes it as its start time (see
   * {@link JobProcessor.#settle}).
   */
  #startReady(now?: number): void {
    let startedAt = now
    const concurrency = this.#concurrency
    const ready = this.#ready
    while (this.#active < concurrency && !ready.isEmpty && !this.#isHalted) {
      if (this.#startsThisTurn >= STARTS_PER_TURN) {
        this.#queuePump()
        break
      }
      const record = ready.shift()
      if (record !== undefined && record.state === 'pending' && !record.isScheduled && !record.isBodyRunning) {
        this.#startsThisTurn++
        this.#start(record, startedAt)
        // The job's constructor and body have run since: the next start reads the clock.
        startedAt = undefined
      }
    }
    ready.compact()
  }

  #start(record: JobRecord, startedAt: number | undefined): void {
    this.#store.transition(record, 'running')
    const history = record.written()
    history.attempts++
    record.lastRunAt = startedAt ?? this.#clock.now()
    const handler = this.#handlers.handler(record.name)
    if (handler === undefined) {
      this.#fail(record, new UnknownJobError(record.name), undefined)
      return
    }
    history.maxAttempts = handler.maxAttempts
    this.#active++
    const attempt = new JobAttempt(record, history.attempts, handler.maxAttempts, this.#clock)
    history.attempt = attempt
    if (this.#events.has('started')) this.#events.emit('started', () => record.toInfo())
    if (this.#isDebug)
      safeLog(this.#logger, 'debug', `Job ${record.name} started`, { jobId: record.id, attempt: attempt.attempt })
    void this.#run(record, handler, attempt)
  }

  /**
   * Runs one attempt to its end or its timeout, whichever comes first; {@link JobProcessor.#ended}
   * settles it once. Not `async`: `then` on the body's promise is one promise per attempt where an
   * async function awaiting it is two (workload W1).
   */
  #run(record: JobRecord, handler: JobHandler, attempt: JobAttempt): void {
    const run = this.#runs.take(record, handler, attempt)
    let running: unknown
    try {
      // Inside the try: a clock whose monotonic time is not a number fails the attempt, no more.
      this.#timeouts.start(run)
      // A copy per attempt: a job that changes its args must not change what its retries get,
      // as a distributed store, which hands each attempt the stored JSON, would not.
      const args = cloneJobArgs(record.args)
      if (handler.begin === undefined) {
        running = handler.run(args, attempt)
      } else {
        // Settled from the body's own promise, its scope released in #ended (workload W1).
        const begun = handler.begin(args, attempt)
        run.begun = begun
        running = begun.body
      }
    } catch (thrown) {
      // Settle on a later turn like any rejection, so a run of synchronous throws cannot recurse.
      running = Promise.reject(thrown)
    }
    // What `await running` does: a promise as it is, a thenable or a plain value adopted.
    void Promise.resolve(running).then(run.fulfilled, run.rejected)
  }

  /** The body of `run`'s attempt ended: settles the attempt, unless its timeout settled it already. */
  #ended(run: RunningAttempt, failed: boolean, error: unknown): void {
    let ending: Promise<void> | undefined
    try {
      ending = run.begun?.end()
    } catch (endError) {
      safeLog(this.#logger, 'error', 'Releasing what an attempt held failed', {
        jobId: run.record.id,
        error: describeThrown(endError),
      })
    }
    if (ending !== undefined) {
      // The attempt ends once what it held is released, as `run`'s promise would settle.
      const release = (): void => this.#released(run, failed, error)
      void ending.then(release, release)
      return
    }
    this.#released(run, failed, error)
  }

  /** `run`'s body ended and its attempt released what it held: settles it, unless its timeout did. */
  #released(run: RunningAttempt, failed: boolean, error: unknown): void {
    if (run.isSettled) {
      if (run.isOverrun) this.#endOverrun(run)
      return
    }
    const { record, handler, context: attempt } = run
    run.isSettled = true
    this.#timeouts.cancel(run)
    // Given back before settling, which starts the next attempt: that one may take it.
    this.#runs.give(run)
    this.#settle(record, handler, attempt, error, failed)
  }

  /** Aborts an attempt that ran past its timeout and settles it as failed (it may be retried). */
  #timeOut(run: RunningAttempt): void {
    const { record, handler, context } = run
    const error = timeoutError(run, false)
    try {
      JobAttempt.abort(context, error)
    } catch (abortError) {
      safeLog(this.#logger, 'error', 'An abort listener of a timed-out job threw', {
        jobId: record.id,
        error: describeThrown(abortError),
      })
    }
    if (run.isOverrun) {
      this.#abandon(run)
      return
    }
    if (run.isSettled) return
    // The attempt fails now and frees its slot, but a body that ignores its signal goes on
    // running: the job's next attempt waits for it to end (no two attempts of a job overlap);
    // if it has not ended when the retry is due (and one more timeoutMs), the job fails for good.
    run.isSettled = true
    run.isOverrun = true
    const history = record.written()
    history.attempt = undefined
    history.isBodyRunning = true
    this.#active--
    safeLog(
      this.#logger,
      'warn',
      `Job ${record.name} (${record.id}) attempt ${context.attempt} timed out and was aborted, but its body still runs; its next attempt waits for it to end`,
      { jobName: record.name, jobId: record.id, attempt: context.attempt },
    )
    this.#fail(record, error, handler)
    // The body gets until its retry is due, and at least one more timeoutMs, to end.
    if (record.state === 'pending')
      this.#timeouts.startIn(run, Math.max(handler.timeoutMs, record.runAt - this.#clock.now()))
    this.#slotFreed()
  }

  /** The body of a timed-out attempt has ended at last: the job's next attempt may start. */
  #endOverrun(run: RunningAttempt): void {
    const { record } = run
    this.#timeouts.cancel(run)
    this.#runs.give(run)
    record.written().isBodyRunning = false
    // Its retry may have fallen due meanwhile and been passed over; queue it (again).
    if (record.state === 'pending' && !record.isScheduled) this.#makeReady(record)
  }

  /**
   * A timed-out body did not end within another timeoutMs of its abort: a retry would run beside
   * it, so the job waiting for one fails for good instead (kept failed; `retry` can still run it).
   */
  #abandon(run: RunningAttempt): void {
    const { record } = run
    if (record.state !== 'pending' || !record.isBodyRunning) return
    this.#wheel.cancel(record)
    this.#fail(record, timeoutError(run, true), undefined)
  }

  #settle(record: JobRecord, handler: JobHandler, attempt: JobAttempt, error: unknown, failed: boolean): void {
    record.written().attempt = undefined
    this.#active--
    if (!failed) {
      const now = this.#clock.now()
      this.#complete(record, now)
      // Speed trick (workload W1): a clock reading costs a tenth of a quick job, and the attempt
      // that frees a slot is most often followed at once by the one that takes it. When no
      // listener or logger (code not the engine's, which may take any time) ran since `now`, it
      // is also the moment the next job starts (counters such as the admin's metrics are quick
      // enough to count as the engine's own). The obvious version reads the clock again.
      this.#slotFreed(this.#isDebug || this.#events.hasSnapshotListeners('completed') ? undefined : now)
      return
    }
    if (this.#isHalted && JobAttempt.abortReason(attempt) instanceof ManagerStoppedError) this.#interrupt(record)
    else this.#fail(record, error, isUnrecoverable(error) ? undefined : handler)
    this.#slotFreed()
  }

  /**
   * An attempt gave its slot back: ends a drain waiting for the last one, and starts what is due
   * (the first at `now`, a reading no code but the engine's has run since, when given).
   */
  #slotFreed(now?: number): void {
    if (this.#active === 0) this.#drained?.()
    this.#startReady(now)
  }

  /**
   * An attempt that stop aborted ended without completing: not a failure of the job, which goes
   * back to pending (the attempt not counted), as a durable store would keep it for the next start.
   */
  #interrupt(record: JobRecord): void {
    this.#interrupted++
    record.written().attempts--
    record.dueTick = this.#wheel.tickOf(this.#clock.now())
    this.#store.transition(record, 'pending')
    this.#events.emit('interrupted', () => record.toInfo())
    this.#waiters.rejectStranded(leftPending, this.#active === 0)
  }

  #complete(record: JobRecord, now: number): void {
    record.finishedAt = now
    record.lastError = undefined
    if (this.#isDebug)
      safeLog(this.#logger, 'debug', `Job ${record.name} completed`, { jobId: record.id, attempt: record.attempts })
    this.#finish(record, 'completed')
  }

  /** Records a failed attempt; retries it when `handler` (undefined: not retryable) allows another. */
  #fail(record: JobRecord, error: unknown, handler: JobHandler | undefined): void {
    record.lastError = toErrorInfo(error)
    const { attempts, maxAttempts } = record
    const meta = {
      jobName: record.name,
      jobId: record.id,
      attempt: attempts,
      maxAttempts,
      error: record.lastError.message,
    }
    const failure = `Job ${record.name} (${record.id}) attempt ${attempts}/${maxAttempts} failed`
    if (handler !== undefined && attempts < maxAttempts) {
      const delay = backoffDelay(handler.retry, attempts)
      const now = this.#clock.now()
      const runAt = now + delay
      record.keepFailedAttempt(now)
      this.#store.transition(record, 'pending')
      safeLog(this.#logger, 'error', `${failure}: ${record.lastError.message}; retrying in ${delay} ms`, meta)
      if (delay > 0) {
        this.#wheel.schedule(record, runAt)
      } else {
        record.dueTick = this.#wheel.tickOf(runAt)
        this.#makeReady(record)
      }
      this.#events.emit('retrying', () => record.toInfo())
      if (this.#isHalted) this.#waiters.rejectStranded(leftPending, this.#active === 0)
      return
    }
    record.finishedAt = this.#clock.now()
    safeLog(this.#logger, 'error', `${failure} for good: ${record.lastError.message}`, meta)
    this.#finish(record, 'failed')
  }

  /** Moves a job to its final state, tells listeners and waiters, and checks for idleness. */
  #finish(record: JobRecord, state: 'completed' | 'failed' | 'cancelled'): void {
    this.#store.transition(record, state)
    // Waiters first: their snapshot is the job as it settled, before a listener can retry it.
    this.#waiters.resolveSettled(record)
    if (this.#events.has(state)) this.#events.emitEnded(state, () => record.toInfo(), record.name, record.finishedAt)
    this.resolveIdleWaiters()
  }
}

/** The timeout of `run`'s attempt; `isAbandoned` when its body outlived its retry's due time. */
function timeoutError(run: RunningAttempt, isAbandoned: boolean): JobTimeoutError {
  const { record, handler, context } = run
  return new JobTimeoutError({
    jobId: record.id,
    jobName: record.name,
    attempt: context.attempt,
    timeoutMs: handler.timeoutMs,
    isAbandoned,
  })
}

/** The error of a waiter whose job stop left pending. */
export function leftPending(): ManagerStoppedError {
  return new ManagerStoppedError('left-pending')
}

/** Whether a job threw {@link UnrecoverableJobError}; never throws (`instanceof` on a revoked proxy does). */
function isUnrecoverable(error: unknown): boolean {
  try {
    return error instanceof UnrecoverableJobError
  } catch {
    return false
  }
}
