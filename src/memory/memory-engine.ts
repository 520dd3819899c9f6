import { asValue } from 'awilix'
import {
  MEMORY_CAPABILITIES,
  type BackgroundJobEngine,
  type EngineContext,
  type EngineFactory,
  type NewJob,
  type NewJobBatch,
  type NewSchedule,
} from '../background-job-engine'
import { JobNotFoundError, JobStateError, ManagerStoppedError, PendingJobsLimitError } from '../errors'
import { JobEventHub, type JobEventListener } from '../job-events'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown } from '../policy/error-info'
import { REGISTRATIONS } from '../registrations'
import type {
  CancelManyResult,
  JobCounts,
  JobEventName,
  JobInfo,
  JobPage,
  JobState,
  ListJobsQuery,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from '../types'
import type { JobRecord } from './job-record'
import { JobStore } from './job-store'
import { resolveMemoryStoreOptions, type MemoryStoreOptions, type ResolvedMemoryStoreOptions } from './memory-options'
import { JobProcessor, leftPending } from './processor'
import { MemorySchedules } from './schedules'
import { TimerWheel } from './timer-wheel'
import { TurnClock } from './turn-clock'
import { JobWaiters } from './waiters'

/** Shared by every call that resolves with nothing: a settled promise cannot be changed. */
const RESOLVED: Promise<void> = Promise.resolve()

const FINISHED: readonly JobState[] = ['completed', 'failed', 'cancelled']
// Made once: an array literal in the call would be made on every cancel (workload W3).
const PENDING: readonly JobState[] = ['pending']
const FAILED: readonly JobState[] = ['failed']

/**
 * Engines not yet stopped, for the one warning at exit about the jobs a process loses with them
 * (with `unref`, or on `process.exit()`): one `exit` listener for all, not one per engine.
 */
const liveEngines = new Set<MemoryJobEngine>()
let isExitHooked = false

function warnAtExit(): void {
  for (const engine of liveEngines) engine.warnIfLosingJobs()
}

/** What the memory engine is built from. */
export interface MemoryEngineParts {
  readonly store: JobStore
  readonly wheel: TimerWheel
  readonly context: EngineContext
  readonly options: ResolvedMemoryStoreOptions
}

/**
 * The in-memory engine: jobs in a {@link JobStore}, delayed ones in a {@link TimerWheel}, due ones
 * run by a {@link JobProcessor} at most `concurrency` at a time, recurring ones in
 * {@link MemorySchedules}. Nothing is dropped: a job ends completed, failed (kept), cancelled, or
 * stays pending. This class is the facade: it checks what each call may do and hands it on.
 */
export class MemoryJobEngine implements BackgroundJobEngine {
  readonly #store: JobStore
  readonly #wheel: TimerWheel
  readonly #logger: JobLogger
  readonly #events: JobEventHub
  readonly #waiters = new JobWaiters()
  readonly #processor: JobProcessor
  readonly #schedules: MemorySchedules
  readonly #maxPendingJobs: number
  /** When cancels happen: one reading per run of code (see {@link TurnClock}). */
  readonly #cancelClock: TurnClock
  #stopPromise: Promise<StopResult> | undefined

  constructor(parts: MemoryEngineParts) {
    const { store, wheel, context, options } = parts
    this.#store = store
    this.#wheel = wheel
    this.#logger = context.logger
    this.#maxPendingJobs = options.maxPendingJobs
    this.#cancelClock = new TurnClock(options.clock)
    this.#events = new JobEventHub(context.logger)
    this.#processor = new JobProcessor({
      store,
      wheel,
      handlers: context.handlers,
      options,
      logger: context.logger,
      events: this.#events,
      waiters: this.#waiters,
    })
    liveEngines.add(this)
    if (!isExitHooked) {
      isExitHooked = true
      process.once('exit', warnAtExit)
    }
    this.#schedules = new MemorySchedules({
      wheel,
      clock: options.clock,
      logger: context.logger,
      add: (job) => this.#add(job),
    })
  }

  /** @internal At process exit: says how many jobs die with the process, if any. */
  warnIfLosingJobs(): void {
    if (this.#stopPromise !== undefined) return
    const pending = this.#store.count('pending')
    const running = this.#store.count('running')
    if (pending === 0 && running === 0) return
    safeLog(
      this.#logger,
      'warn',
      `The process is exiting with ${pending} pending and ${running} running background jobs, which are lost: the memory store keeps jobs in this process only. Await manager.onIdle() or stop() before exiting.`,
      { pending, running },
    )
  }

  /** One process, jobs in its memory: lost when it exits. */
  readonly capabilities = MEMORY_CAPABILITIES

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

  enqueueMany(batch: NewJobBatch): Promise<string[]> {
    try {
      this.#assertRunning()
      const count = batch.args.length
      if (count === 0) return Promise.resolve([])
      // The whole batch or nothing: checked once here, so the adds below cannot hit the bound.
      const pending = this.#store.count('pending')
      if (pending + count > this.#maxPendingJobs)
        throw new PendingJobsLimitError(batch.name, this.#maxPendingJobs, { pending, batch: count })
      return Promise.resolve(this.#processor.addBatch(batch))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  cancelMany(ids: readonly string[]): Promise<CancelManyResult> {
    const count = ids.length
    const store = this.#store
    // Workload W3 (bulk cancel): of a batch larger than `keepCancelled`, the first ones would be
    // the oldest cancelled jobs, forgotten as soon as the last ones are kept. When nobody can see
    // them (no `cancelled` listener, no waiter) and nothing else holds them (never started, so no
    // history; delayed, so in the wheel and not the ready queue), they are dropped from the wheel
    // and the store at once, without the history, index slot and eviction each would cost. A
    // dropped job's id finds nothing afterwards, as an evicted one's does.
    // Speed trick (workload W3, bulk cancel): when nobody can see the jobs end, checked once for
    // the batch (no code but the engine's runs during it), each job only moves to `cancelled`;
    // the obvious version asks for listeners and waiters per job, as a single cancel does.
    const isUnseen = !this.#events.has('cancelled') && !this.#waiters.hasSettledWaiters
    let dropping = 0
    if (count > store.limit('cancelled') && isUnseen) {
      dropping = distinctPending(store, ids) - store.limit('cancelled')
    }
    let cancelled = 0
    const skipped: string[] = []
    // The batch is cancelled at one moment, one clock reading for all its jobs (see TurnClock).
    const cancelledAt = this.#cancelClock.now()
    for (let i = 0; i < count; i++) {
      const record = store.get(ids[i]!)
      if (record === undefined || (!record.isScheduled && record.state !== 'pending')) {
        skipped.push(ids[i]!)
      } else {
        // One of the oldest of the batch: dropped if nothing else holds it, else cancelled as
        // usual and evicted from the kept ones by the newer ones that follow.
        const isDropped = dropping > 0 && !record.hasHistory && this.#wheel.cancel(record)
        if (isDropped) store.drop(record)
        else this.#processor.cancel(record, cancelledAt, isUnseen)
        dropping--
        cancelled++
      }
    }
    this.#processor.resolveIdleWaiters()
    return Promise.resolve({ cancelled, skipped })
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

  /**
   * Cancels a pending job, at the clock's first reading in the code running now (see
   * {@link TurnClock}): jobs cancelled one after another with no await between share that time.
   */
  cancel(id: string): Promise<void> {
    try {
      // What #require does, with the one state written out (workload W3, cancel); a job in the
      // wheel is pending, which saves reading its state (in the args-or-history object).
      const record = this.#store.get(id)
      if (record === undefined || (!record.isScheduled && record.state !== 'pending'))
        throw refusal(id, record, 'cancel', PENDING)
      // Speed trick (workload W3, cancel): when nobody can see the job end (no `cancelled`
      // listener, no settled waiter), it only moves to `cancelled` through the store's move for a
      // pending job, and idle waiters are checked here, as cancelMany does for a batch. The obvious
      // version lets the processor finish it as any job (#finish: store.transition, waiters, events).
      const isUnseen = !this.#events.has('cancelled') && !this.#waiters.hasSettledWaiters
      this.#processor.cancel(record, this.#cancelClock.now(), isUnseen)
      if (isUnseen) this.#processor.resolveIdleWaiters()
      return RESOLVED
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async retry(id: string): Promise<JobInfo> {
    const record = this.#require(id, 'retry', FAILED)
    this.#assertRunning()
    this.#processor.retry(record)
    return record.toInfo()
  }

  async deleteJob(id: string): Promise<void> {
    this.#store.delete(this.#require(id, 'delete', FINISHED))
  }

  async upsertSchedule(definition: NewSchedule): Promise<ScheduleInfo> {
    this.#assertRunning()
    return this.#schedules.upsert(definition)
  }

  async removeSchedule(id: string): Promise<boolean> {
    return this.#schedules.remove(id)
  }

  async listSchedules(): Promise<ScheduleInfo[]> {
    return this.#schedules.list()
  }

  on<E extends JobEventName>(event: E, listener: JobEventListener<E>): () => void {
    return this.#events.on(event, listener)
  }

  off<E extends JobEventName>(event: E, listener: JobEventListener<E>): void {
    this.#events.off(event, listener)
  }

  onIdle(): Promise<void> {
    if (this.#processor.isIdle) return Promise.resolve()
    if (this.#stopPromise !== undefined && this.#processor.active === 0) return Promise.reject(leftPending())
    return this.#waiters.idle()
  }

  onSettled(id: string): Promise<JobInfo> {
    const record = this.#store.get(id)
    if (record === undefined) return Promise.reject(new JobNotFoundError(id))
    if (FINISHED.includes(record.state)) return Promise.resolve(record.toInfo())
    if (this.#stopPromise !== undefined && record.state === 'pending') return Promise.reject(leftPending())
    return this.#waiters.settled(record)
  }

  stop(options: StopOptions = {}): Promise<StopResult> {
    // A second stop({ drain: false }) while the first drains is a second Ctrl-C: abort now.
    if (this.#stopPromise !== undefined && options.drain === false) this.#processor.endDrain()
    this.#stopPromise ??= this.#stop(options)
    return this.#stopPromise
  }

  async #stop({ drain = true, timeoutMs = 30_000 }: StopOptions): Promise<StopResult> {
    liveEngines.delete(this)
    this.#processor.halt()
    // Each step in its own try: a failure in one must not leave the others undone.
    try {
      this.#wheel.close()
    } catch (error) {
      safeLog(this.#logger, 'error', 'Closing the timer wheel failed', { error: describeThrown(error) })
    }
    if (drain) await this.#processor.whenDrained(timeoutMs)
    this.#processor.abortRunning(() => new ManagerStoppedError('interrupted'))
    // One turn for the attempts that honour their signal to end, so they count as interrupted.
    if (this.#processor.active > 0) await new Promise((resolve) => setImmediate(resolve))
    const running = this.#processor.active
    const interrupted = this.#processor.interrupted
    const pending = this.#store.count('pending')
    this.#waiters.rejectStranded(leftPending, this.#processor.active === 0)
    if (pending > 0 || running > 0) {
      safeLog(
        this.#logger,
        'warn',
        `Background jobs stopped with ${pending} pending (${interrupted} of them interrupted) and ${running} still running; in-memory jobs are lost when the process exits`,
        { pending, running, interrupted },
      )
    }
    return { pending, running, interrupted }
  }

  #add(job: NewJob): JobRecord {
    this.#assertRunning()
    return this.#processor.add(job)
  }

  /** The record of `id`, when it is in one of the states `action` applies to. */
  #require(id: string, action: 'cancel' | 'retry' | 'delete', expected: readonly JobState[]): JobRecord {
    const record = this.#store.get(id)
    if (record === undefined || !expected.includes(record.state)) throw refusal(id, record, action, expected)
    return record
  }

  #assertRunning(): void {
    if (this.#stopPromise !== undefined) throw new ManagerStoppedError()
  }
}

/** Why `action` may not apply to `id`: no job has it, or its job (`record`) is in none of the `expected` states. */
function refusal(
  id: string,
  record: JobRecord | undefined,
  action: 'cancel' | 'retry' | 'delete',
  expected: readonly JobState[],
): JobNotFoundError | JobStateError {
  return record === undefined
    ? new JobNotFoundError(id)
    : new JobStateError({ jobId: id, state: record.state, expected, action })
}

/** How many distinct pending jobs `ids` name: one pass, and a second only when an id may repeat. */
function distinctPending(store: JobStore, ids: readonly string[]): number {
  let pending = 0
  let lastSeq = 0
  let isIncreasing = true
  for (const id of ids) {
    const record = store.get(id)
    if (record === undefined || record.state !== 'pending') continue
    pending++
    // Ids in the order the jobs were made (what enqueueMany returns) cannot repeat.
    if (record.seq <= lastSeq) isIncreasing = false
    lastSeq = record.seq
  }
  if (isIncreasing) return pending
  const seen = new Set<JobRecord>()
  for (const id of ids) {
    const record = store.get(id)
    if (record !== undefined && record.state === 'pending') seen.add(record)
  }
  return seen.size
}

/**
 * The in-memory engine's factory, for `o.useEngine(memoryEngine(options))`, which is what
 * `o.useInMemoryStore(options)` does (MASA's `UseInMemoryDatabase`). Its job store and timer
 * wheel are registered in the container, as singletons beside the engine.
 *
 * @throws InvalidOptionError for an unknown option or an invalid value
 */
export function memoryEngine(options?: MemoryStoreOptions): EngineFactory {
  const { engine: resolved, policy } = resolveMemoryStoreOptions(options)
  return {
    policy,
    clock: resolved.clock,
    create(context) {
      const store = new JobStore(resolved)
      const wheel = new TimerWheel({
        clock: resolved.clock,
        unref: resolved.unref,
        onError: (error) =>
          safeLog(context.logger, 'error', 'A timer callback threw', { error: describeThrown(error) }),
      })
      context.container.register({
        [REGISTRATIONS.memoryStore]: asValue(store),
        [REGISTRATIONS.memoryTimerWheel]: asValue(wheel),
      })
      return new MemoryJobEngine({ store, wheel, context, options: resolved })
    },
  }
}
