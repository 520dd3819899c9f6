import { Cron } from 'croner'
import type { BackgroundJobEngine, JobHandler, JobHandlerSource, NewJob, NewSchedule } from '../background-job-engine'
import { monotonicView, type Clock } from '../clock'
import {
  InvalidScheduleError,
  JobNotFoundError,
  JobStateError,
  JobTimeoutError,
  ManagerStoppedError,
  PendingJobsLimitError,
  UnknownJobError,
} from '../errors'
import { JobEventHub, type JobEventListener } from '../job-events'
import { safeLog, safeString, type JobLogger } from '../logger'
import type { ResolvedMemoryStoreOptions, ResolvedRetryOptions } from '../options'
import type {
  JobCounts,
  JobErrorInfo,
  JobEventName,
  JobInfo,
  JobPage,
  ListJobsQuery,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from '../types'
import { JobAttempt } from './job-attempt'
import { JobRecord, JobStore, type JobKind } from './job-store'
import { TimerNode, TimerWheel } from './timer-wheel'

/** What the memory engine is built from; the container wires these. */
export interface MemoryEngineParts {
  readonly store: JobStore
  readonly wheel: TimerWheel
  readonly handlers: JobHandlerSource
  readonly options: ResolvedMemoryStoreOptions
  readonly logger: JobLogger
}

/** A recurring schedule: enqueues its job at each occurrence of its cron expression. */
class ScheduleRecord extends TimerNode {
  nextRunAt: number | undefined = undefined
  lastEnqueuedAt = 0
  lastJobId: string | undefined = undefined

  constructor(
    readonly definition: NewSchedule,
    readonly cron: Cron,
    readonly onDue: (schedule: ScheduleRecord) => void,
  ) {
    super()
  }
  override expire(): void {
    this.onDue(this)
  }
  toInfo(): ScheduleInfo {
    const { id, cron, name, args, timezone } = this.definition
    return {
      id,
      cron,
      jobName: name,
      args: structuredClone(args),
      ...(timezone !== undefined && { timezone }),
      ...(this.nextRunAt !== undefined && { nextRunAt: new Date(this.nextRunAt) }),
      ...(this.lastEnqueuedAt > 0 && { lastEnqueuedAt: new Date(this.lastEnqueuedAt) }),
      ...(this.lastJobId !== undefined && { lastJobId: this.lastJobId }),
    }
  }
}

/**
 * An attempt that is running, filed in the engine's deadline wheel while it can still time out. It
 * is the engine's side of the attempt; the job sees only its {@link JobAttempt}.
 */
class RunningAttempt extends TimerNode {
  isSettled = false

  constructor(
    readonly record: JobRecord,
    readonly handler: JobHandler,
    readonly context: JobAttempt,
    readonly onTimeout: (run: RunningAttempt) => void,
  ) {
    super()
  }
  override expire(): void {
    this.onTimeout(this)
  }
}

/** The memory engine's {@link JobKind}: one per job name. */
class EngineJobKind implements JobKind {
  constructor(
    readonly name: string,
    readonly origin: number,
    readonly due: (record: JobRecord) => void,
    readonly handlers: JobHandlerSource,
  ) {}

  get maxAttempts(): number {
    return this.handlers.handler(this.name)?.maxAttempts ?? 1
  }
}

/**
 * Attempts started in one macrotask before the processor yields to the event loop. Quick jobs
 * settle in microtasks and start the next ones from there, so without this a backlog of them would
 * run to its end in one turn, holding back timers, I/O and HTTP responses all that time.
 */
const STARTS_PER_TURN = 1024

/** Shared by every call that resolves with nothing: a settled promise cannot be changed. */
const RESOLVED: Promise<void> = Promise.resolve()

interface Waiter<T> {
  resolve(value: T): void
  reject(error: Error): void
}

/**
 * Converts anything thrown into the stored error shape, with string fields. Never throws: reading
 * the thrown value may itself throw (a getter, a revoked proxy), and a throw here would leave the
 * job running forever and escape as an unhandled rejection.
 */
export function toErrorInfo(error: unknown): JobErrorInfo {
  try {
    if (error instanceof Error) {
      const { name, message, stack } = error
      return { name: safeString(name), message: safeString(message), ...(stack !== undefined && { stack: safeString(stack) }) }
    }
    let message: string
    try {
      message = typeof error === 'string' ? error : JSON.stringify(error) ?? safeString(error)
    } catch {
      message = safeString(error)
    }
    return { name: 'Error', message: `Non-error value thrown: ${message}` }
  } catch {
    return { name: 'Error', message: `An unreadable ${typeof error} was thrown` }
  }
}

/** The wait before retry number `attempt` (1-based attempt that just failed). */
export function backoffDelay(retry: ResolvedRetryOptions, attempt: number): number {
  return Math.min(retry.initialDelayMs * retry.factor ** (attempt - 1), retry.maxDelayMs)
}

/**
 * The in-memory engine: jobs in a {@link JobStore}, delayed ones in a {@link TimerWheel}, due ones
 * in a FIFO ready queue drained by a processor that runs at most `concurrency` attempts at once,
 * times them out, retries them with exponential backoff and records every outcome. Nothing is
 * dropped: a job ends completed, failed (kept), cancelled, or stays pending.
 */
export class MemoryJobEngine implements BackgroundJobEngine {
  readonly #store: JobStore
  readonly #wheel: TimerWheel
  readonly #handlers: JobHandlerSource
  readonly #options: ResolvedMemoryStoreOptions
  readonly #clock: Clock
  readonly #logger: JobLogger
  readonly #events: JobEventHub
  readonly #schedules = new Map<string, ScheduleRecord>()
  readonly #kinds = new Map<string, EngineJobKind>()
  readonly #settledWaiters = new Map<JobRecord, Waiter<JobInfo>[]>()
  #idleWaiters: Waiter<void>[] = []
  /**
   * Running attempts by the time they time out, on the clock's monotonic time: a timeout is a
   * duration, and the job wheel follows the wall clock, so setting the clock forward would abort
   * every running attempt at once. One wheel instead of a Node timer per attempt: its one timer is
   * armed while attempts run and none is left when they end.
   */
  readonly #deadlines: TimerWheel
  /** Due jobs in start order; `#readyHead` avoids shifting the array on every start. */
  #ready: (JobRecord | undefined)[] = []
  #readyHead = 0
  #active = 0
  #isPumpQueued = false
  #startsThisTurn = 0
  /** Whether debug entries are logged, read once per turn (see {@link MemoryJobEngine.#isDebugLogged}). */
  #isDebug = false
  #stopPromise: Promise<StopResult> | undefined
  #drained: (() => void) | undefined
  readonly #onJobDue = (record: JobRecord): void => this.#makeReady(record)
  readonly #onScheduleDue = (schedule: ScheduleRecord): void => this.#fireSchedule(schedule)
  readonly #onAttemptTimeout = (run: RunningAttempt): void => this.#timeOut(run)
  readonly #pump = (): void => {
    this.#isPumpQueued = false
    this.#startsThisTurn = 0
    this.#isDebug = this.#isDebugLogged()
    this.#startReady()
  }

  constructor(parts: MemoryEngineParts) {
    this.#store = parts.store
    this.#wheel = parts.wheel
    this.#handlers = parts.handlers
    this.#options = parts.options
    this.#clock = parts.options.clock
    this.#logger = parts.logger
    this.#events = new JobEventHub(parts.logger)
    this.#deadlines = new TimerWheel({
      clock: monotonicView(this.#clock),
      unref: parts.options.unref,
      // Capped sleeps guard the job wheel against wall-clock jumps; monotonic time has none.
      maxSleepMs: 2 ** 31 - 1,
      onError: (error) => safeLog(this.#logger, 'error', 'Timing out an attempt failed', { error: String(error) }),
    })
  }

  get isStopped(): boolean {
    return this.#stopPromise !== undefined
  }

  enqueue(job: NewJob): Promise<string> {
    // Not `async`: this is the hot path, and an async wrapper costs a second promise per job.
    try {
      return Promise.resolve(this.#add(job).id)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async getJob(id: string): Promise<JobInfo | undefined> {
    return this.#store.get(id)?.toInfo()
  }

  async listJobs(query: Required<ListJobsQuery>): Promise<JobPage> {
    const items = this.#store.list(query.state, query.offset, query.limit).map((record) => record.toInfo())
    return { items, total: this.#store.count(query.state), offset: query.offset, limit: query.limit }
  }

  async counts(): Promise<JobCounts> {
    return this.#store.counts()
  }

  cancel(id: string): Promise<void> {
    try {
      const record = this.#require(id)
      if (record.state !== 'pending') {
        throw new JobStateError(`Job ${id} is ${record.state}; only pending jobs can be cancelled.`)
      }
      this.#wheel.cancel(record)
      record.finishedAt = this.#clock.now()
      // A cancelled record may still sit in the ready queue; the processor skips it there.
      this.#finish(record, 'cancelled')
      return RESOLVED
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async retry(id: string): Promise<JobInfo> {
    const record = this.#require(id)
    if (record.state !== 'failed') {
      throw new JobStateError(`Job ${id} is ${record.state}; only failed jobs can be retried.`)
    }
    this.#assertRunning()
    const history = record.written()
    history.attempts = 0
    record.finishedAt = 0
    record.dueTick = this.#wheel.tickOf(this.#clock.now())
    this.#store.transition(record, 'pending')
    this.#makeReady(record)
    return record.toInfo()
  }

  async deleteJob(id: string): Promise<void> {
    const record = this.#require(id)
    if (record.state === 'pending' || record.state === 'running') {
      throw new JobStateError(`Job ${id} is ${record.state}; cancel it or wait for it to finish before deleting it.`)
    }
    this.#store.delete(record)
  }

  async upsertSchedule(definition: NewSchedule): Promise<ScheduleInfo> {
    this.#assertRunning()
    let cron: Cron
    try {
      cron = new Cron(definition.cron, { ...(definition.timezone !== undefined && { timezone: definition.timezone }), paused: true })
      cron.nextRun(new Date(this.#clock.now()))
    } catch (error) {
      throw new InvalidScheduleError(
        `Schedule "${definition.id}" has an invalid cron expression or time zone (${JSON.stringify(definition.cron)}${definition.timezone !== undefined ? `, ${JSON.stringify(definition.timezone)}` : ''}): ${error instanceof Error ? error.message : String(error)}. Use five fields (minute hour day month weekday) or six with seconds first, and an IANA time zone.`,
        { cause: error },
      )
    }
    const previous = this.#schedules.get(definition.id)
    if (previous !== undefined) this.#wheel.cancel(previous)
    const schedule = new ScheduleRecord(definition, cron, this.#onScheduleDue)
    this.#schedules.set(definition.id, schedule)
    this.#armSchedule(schedule)
    return schedule.toInfo()
  }

  async removeSchedule(id: string): Promise<boolean> {
    const schedule = this.#schedules.get(id)
    if (schedule === undefined) return false
    this.#wheel.cancel(schedule)
    this.#schedules.delete(id)
    return true
  }

  async listSchedules(): Promise<ScheduleInfo[]> {
    return [...this.#schedules.values()].map((schedule) => schedule.toInfo())
  }

  on<E extends JobEventName>(event: E, listener: JobEventListener<E>): () => void {
    return this.#events.on(event, listener)
  }

  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    if (this.#stopPromise !== undefined && this.#active === 0) return Promise.reject(this.#leftPending())
    return new Promise((resolve, reject) => this.#idleWaiters.push({ resolve, reject }))
  }

  onSettled(id: string): Promise<JobInfo> {
    const record = this.#store.get(id)
    if (record === undefined) return Promise.reject(this.#notFound(id))
    if (this.#isSettled(record)) return Promise.resolve(record.toInfo())
    if (this.#stopPromise !== undefined && record.state === 'pending') return Promise.reject(this.#leftPending())
    return new Promise((resolve, reject) => {
      const waiters = this.#settledWaiters.get(record)
      if (waiters === undefined) this.#settledWaiters.set(record, [{ resolve, reject }])
      else waiters.push({ resolve, reject })
    })
  }

  stop(options: StopOptions = {}): Promise<StopResult> {
    this.#stopPromise ??= this.#stop(options)
    return this.#stopPromise
  }

  async #stop({ drain = true, timeoutMs = 30_000 }: StopOptions): Promise<StopResult> {
    // Each step in its own try: a failure in one must not leave the others undone.
    try {
      this.#wheel.close()
    } catch (error) {
      safeLog(this.#logger, 'error', 'Closing the timer wheel failed', { error: String(error) })
    }
    if (drain && this.#active > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#clock.setTimer(() => resolve(), timeoutMs)
        this.#drained = () => {
          this.#clock.clearTimer(timer)
          resolve()
        }
      })
      this.#drained = undefined
    }
    const running = this.#active
    for (const record of this.#store.list('running', 0, Infinity)) {
      try {
        const attempt = record.attempt
        if (attempt !== undefined) JobAttempt.abort(attempt, new ManagerStoppedError('The background-job manager stopped while this attempt was running.'))
      } catch (error) {
        safeLog(this.#logger, 'error', 'An abort listener of a running job threw', { jobId: record.id, error: String(error) })
      }
    }
    try {
      this.#deadlines.close()
    } catch (error) {
      safeLog(this.#logger, 'error', 'Closing the attempt deadlines failed', { error: String(error) })
    }
    const pending = this.#store.count('pending')
    this.#rejectStrandedWaiters()
    if (pending > 0 || running > 0) {
      safeLog(this.#logger, 'warn', `Background jobs stopped with ${pending} pending and ${running} running; in-memory jobs are lost when the process exits`, { pending, running })
    }
    return { pending, running }
  }

  #add(job: NewJob): JobRecord {
    this.#assertRunning()
    const max = this.#options.maxPendingJobs
    if (this.#store.count('pending') >= max) {
      throw new PendingJobsLimitError(
        `Cannot enqueue "${job.name}": ${max} jobs are already pending (\`maxPendingJobs\`). Nothing was enqueued; retry later, slow the producer down, or raise \`maxPendingJobs\`.`,
      )
    }
    const now = job.enqueuedAt
    const record = this.#store.create(this.#kindOf(job.name), job.args, this.#wheel.tickOf(now))
    if (job.scheduleId !== undefined) record.written().scheduleId = job.scheduleId
    if (job.runAt > now) {
      this.#wheel.schedule(record, job.runAt)
    } else {
      record.dueTick = record.createdTick
      this.#makeReady(record)
    }
    // Guarded so no snapshot thunk is made per job when nobody listens.
    if (this.#events.has('enqueued')) this.#events.emit('enqueued', () => record.toInfo())
    return record
  }

  /** The kind of the jobs named `name`; kept for registered names, so odd names cannot grow the map. */
  #kindOf(name: string): EngineJobKind {
    let kind = this.#kinds.get(name)
    if (kind === undefined) {
      kind = new EngineJobKind(name, this.#wheel.origin, this.#onJobDue, this.#handlers)
      if (this.#handlers.handler(name) !== undefined) this.#kinds.set(name, kind)
    }
    return kind
  }

  #makeReady(record: JobRecord): void {
    this.#ready.push(record)
    this.#queuePump()
  }

  #queuePump(): void {
    if (!this.#isPumpQueued && this.#stopPromise === undefined) {
      this.#isPumpQueued = true
      // A macrotask, not a microtask: the enqueuing code (and its HTTP response) goes first.
      setImmediate(this.#pump)
    }
  }

  #startReady(): void {
    const concurrency = this.#options.concurrency
    while (this.#active < concurrency && this.#readyHead < this.#ready.length && this.#stopPromise === undefined) {
      if (this.#startsThisTurn >= STARTS_PER_TURN) {
        this.#queuePump()
        break
      }
      const record = this.#ready[this.#readyHead]
      this.#ready[this.#readyHead++] = undefined
      if (record !== undefined && record.state === 'pending' && !record.isScheduled) {
        this.#startsThisTurn++
        this.#start(record)
      }
    }
    if (this.#readyHead === this.#ready.length) {
      this.#ready = []
      this.#readyHead = 0
    } else if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead)
      this.#readyHead = 0
    }
  }

  #start(record: JobRecord): void {
    this.#store.transition(record, 'running')
    const history = record.written()
    history.attempts++
    record.lastRunAt = this.#clock.now()
    const handler = this.#handlers.handler(record.name)
    if (handler === undefined) {
      this.#fail(record, new UnknownJobError(`No job named "${record.name}" is registered. Register its class with addBackgroundJobs(container, o => o.addJob(...)); the job was not retried.`), undefined)
      return
    }
    history.maxAttempts = handler.maxAttempts
    this.#active++
    const attempt = new JobAttempt(record, history.attempts, handler.maxAttempts)
    history.attempt = attempt
    if (this.#events.has('started')) this.#events.emit('started', () => record.toInfo())
    if (this.#isDebug) safeLog(this.#logger, 'debug', `Job ${record.name} started`, { jobId: record.id, attempt: attempt.attempt })
    void this.#run(record, handler, attempt)
  }

  /** Runs one attempt to its end or its timeout, whichever comes first, and settles it once. Never rejects. */
  async #run(record: JobRecord, handler: JobHandler, attempt: JobAttempt): Promise<void> {
    const run = new RunningAttempt(record, handler, attempt, this.#onAttemptTimeout)
    let failed = false
    let error: unknown
    try {
      let running: unknown
      try {
        // Inside the try: a clock whose monotonic time is not a number fails the attempt, no more.
        if (handler.timeoutMs > 0) this.#deadlines.schedule(run, this.#clock.monotonicNow() + handler.timeoutMs)
        running = handler.run(record.args, attempt)
      } catch (thrown) {
        // Settle on a later turn like any rejection, so a run of synchronous throws cannot recurse.
        running = Promise.reject(thrown)
      }
      await running
    } catch (thrown) {
      failed = true
      error = thrown
    }
    if (run.isSettled) return
    run.isSettled = true
    this.#deadlines.cancel(run)
    this.#settle(record, handler, error, failed)
  }

  /** Aborts an attempt that ran past its timeout and settles it as failed (it may be retried). */
  #timeOut(run: RunningAttempt): void {
    const { record, handler, context } = run
    const error = new JobTimeoutError(`Job "${record.name}" (${record.id}) attempt ${context.attempt} ran longer than its ${handler.timeoutMs} ms timeout and was aborted. Make it finish sooner, honour context.signal, or raise \`timeoutMs\`.`)
    try {
      JobAttempt.abort(context, error)
    } catch (abortError) {
      safeLog(this.#logger, 'error', 'An abort listener of a timed-out job threw', { jobId: record.id, error: String(abortError) })
    }
    if (run.isSettled) return
    run.isSettled = true
    this.#settle(record, handler, error, true)
  }

  #settle(record: JobRecord, handler: JobHandler, error: unknown, failed: boolean): void {
    record.written().attempt = undefined
    this.#active--
    if (failed) this.#fail(record, error, handler)
    else this.#complete(record)
    if (this.#active === 0) this.#drained?.()
    this.#startReady()
  }

  #complete(record: JobRecord): void {
    record.finishedAt = this.#clock.now()
    record.lastError = undefined
    if (this.#isDebug) safeLog(this.#logger, 'debug', `Job ${record.name} completed`, { jobId: record.id, attempt: record.attempts })
    this.#finish(record, 'completed')
  }

  /** Records a failed attempt; retries it when `handler` (undefined: not retryable) allows another. */
  #fail(record: JobRecord, error: unknown, handler: JobHandler | undefined): void {
    record.lastError = toErrorInfo(error)
    const meta = { jobName: record.name, jobId: record.id, attempt: record.attempts, maxAttempts: record.maxAttempts, error: record.lastError.message }
    if (handler !== undefined && record.attempts < record.maxAttempts) {
      const delay = backoffDelay(handler.retry, record.attempts)
      const runAt = this.#clock.now() + delay
      this.#store.transition(record, 'pending')
      safeLog(this.#logger, 'error', `Job ${record.name} (${record.id}) attempt ${record.attempts}/${record.maxAttempts} failed: ${record.lastError.message}; retrying in ${delay} ms`, meta)
      if (delay > 0) {
        this.#wheel.schedule(record, runAt)
      } else {
        record.dueTick = this.#wheel.tickOf(runAt)
        this.#makeReady(record)
      }
      this.#events.emit('retrying', () => record.toInfo())
      if (this.#stopPromise !== undefined) this.#rejectStrandedWaiters()
      return
    }
    record.finishedAt = this.#clock.now()
    safeLog(this.#logger, 'error', `Job ${record.name} (${record.id}) attempt ${record.attempts}/${record.maxAttempts} failed for good: ${record.lastError.message}`, meta)
    this.#finish(record, 'failed')
  }

  /** Moves a job to its final state, tells listeners and waiters, and checks for idleness. */
  #finish(record: JobRecord, state: 'completed' | 'failed' | 'cancelled'): void {
    this.#store.transition(record, state)
    if (this.#events.has(state)) this.#events.emit(state, () => record.toInfo())
    const waiters = this.#settledWaiters.size > 0 ? this.#settledWaiters.get(record) : undefined
    if (waiters !== undefined) {
      this.#settledWaiters.delete(record)
      const info = record.toInfo()
      for (const waiter of waiters) waiter.resolve(info)
    }
    if (this.#idleWaiters.length > 0 && this.#isIdle()) {
      const waiting = this.#idleWaiters
      this.#idleWaiters = []
      for (const waiter of waiting) waiter.resolve()
    }
  }

  #armSchedule(schedule: ScheduleRecord): void {
    const next = schedule.cron.nextRun(new Date(this.#clock.now()))
    schedule.nextRunAt = next?.getTime()
    if (schedule.nextRunAt !== undefined) this.#wheel.schedule(schedule, schedule.nextRunAt)
  }

  #fireSchedule(schedule: ScheduleRecord): void {
    if (this.#schedules.get(schedule.definition.id) !== schedule) return
    const { id, name, args } = schedule.definition
    try {
      const now = this.#clock.now()
      const record = this.#add({ name, args: structuredClone(args), runAt: now, enqueuedAt: now, scheduleId: id })
      schedule.lastEnqueuedAt = this.#wheel.timeOf(record.createdTick)
      schedule.lastJobId = record.id
    } catch (error) {
      // No job was created, so none is lost; the occurrence is skipped and said so.
      safeLog(this.#logger, 'error', `Schedule "${id}" could not enqueue job "${name}": ${error instanceof Error ? error.message : String(error)}`, { scheduleId: id })
    }
    this.#armSchedule(schedule)
  }

  /** After stop, pending jobs never run: whoever waits for them is told so instead of waiting forever. */
  #rejectStrandedWaiters(): void {
    for (const [record, waiters] of this.#settledWaiters) {
      if (record.state !== 'pending') continue
      this.#settledWaiters.delete(record)
      for (const waiter of waiters) waiter.reject(this.#leftPending())
    }
    if (this.#active === 0 && this.#idleWaiters.length > 0) {
      const waiting = this.#idleWaiters
      this.#idleWaiters = []
      for (const waiter of waiting) waiter.reject(this.#leftPending())
    }
  }

  #leftPending(): ManagerStoppedError {
    return new ManagerStoppedError('The background-job manager was stopped while this job was pending; it will not run in this process.')
  }

  /**
   * Whether a debug entry would be written. Winston (and pino) answer `isLevelEnabled`; winston
   * formats every entry before its transports drop it by level, which cost more than running a
   * no-op job. A logger without the method gets every entry, as before.
   */
  #isDebugLogged(): boolean {
    const logger = this.#logger as { isLevelEnabled?: (level: string) => unknown }
    try {
      return typeof logger.isLevelEnabled !== 'function' || logger.isLevelEnabled('debug') !== false
    } catch {
      return true
    }
  }

  #isIdle(): boolean {
    return this.#store.count('pending') === 0 && this.#store.count('running') === 0
  }

  #isSettled(record: JobRecord): boolean {
    return record.state === 'completed' || record.state === 'failed' || record.state === 'cancelled'
  }

  #require(id: string): JobRecord {
    const record = this.#store.get(id)
    if (record === undefined) throw this.#notFound(id)
    return record
  }

  #notFound(id: string): JobNotFoundError {
    return new JobNotFoundError(`No job has id ${JSON.stringify(id)}. It never existed, or it finished and was dropped from the bounded history (keepCompleted/keepFailed/keepCancelled).`)
  }

  #assertRunning(): void {
    if (this.#stopPromise !== undefined) {
      throw new ManagerStoppedError('The background-job manager has been stopped and accepts no new work. Create a new container to start again.')
    }
  }
}
