import type { BegunAttempt, JobHandler } from '../background-job-engine'
import { monotonicView, type Clock } from '../clock'
import { MAX_TIMER_MS } from '../limits'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown } from '../policy/error-info'
import type { JobAttempt } from './job-attempt'
import type { JobRecord } from './job-record'
import { TimerNode, TimerWheel } from './timer-wheel'

/**
 * An attempt that is running, filed in {@link AttemptTimeouts} while it can still time out. It is
 * the engine's side of the attempt; the job sees only its {@link JobAttempt}. The processor takes
 * one from a {@link RunningAttemptPool} per attempt and gives it back once the attempt's body has
 * ended and its scope is released, so its fields name the attempt it serves at the time.
 */
export class RunningAttempt extends TimerNode {
  record: JobRecord
  handler: JobHandler
  context: JobAttempt
  isSettled = false
  /** Timed out while its body still runs. */
  isOverrun = false
  /** The attempt as its handler's `begin` returned it, when the handler has `begin`. */
  begun: BegunAttempt | undefined = undefined
  /** The body's promise fulfilled. */
  readonly fulfilled = (): void => this.hooks.ended(this, false, undefined)
  /** The body's promise rejected (or the body threw) with `error`. */
  readonly rejected = (error: unknown): void => this.hooks.ended(this, true, error)

  constructor(
    record: JobRecord,
    handler: JobHandler,
    context: JobAttempt,
    readonly hooks: AttemptHooks,
  ) {
    super()
    this.record = record
    this.handler = handler
    this.context = context
  }

  override expire(): void {
    this.hooks.timedOut(this)
  }
}

/**
 * Speed trick (workload W1): running attempts are reused. Each one holds the two callbacks its
 * body's promise settles through, and with them their shared closure context: four objects, a
 * tenth of the bytes a quick job allocates. At most `concurrency` attempts run at once (a few
 * more while timed-out bodies still run), so that many objects serve every attempt. One is given
 * back only once nothing can call it for the attempt it served any more: its body's promise has
 * settled (its one callback has run), what the attempt held is released, and it is out of the
 * timeout wheel. The obvious version makes a {@link RunningAttempt} per attempt.
 */
export class RunningAttemptPool {
  readonly #free: RunningAttempt[] = []
  readonly #hooks: AttemptHooks
  readonly #capacity: number

  /** @param capacity the most idle attempts kept for reuse (the processor's concurrency) */
  constructor(hooks: AttemptHooks, capacity: number) {
    this.#hooks = hooks
    this.#capacity = capacity
  }

  /** Idle attempts kept for reuse (for tests). */
  get idle(): number {
    return this.#free.length
  }

  /** A running attempt for `context` of `record`: an idle one reused, or a new one. */
  take(record: JobRecord, handler: JobHandler, context: JobAttempt): RunningAttempt {
    const run = this.#free.pop()
    if (run === undefined) return new RunningAttempt(record, handler, context, this.#hooks)
    run.record = record
    run.handler = handler
    run.context = context
    run.isSettled = false
    run.isOverrun = false
    return run
  }

  /**
   * `run`'s attempt is over: its body's promise settled, what it held is released, and it is out
   * of the timeout wheel. It keeps its last record and context until it is taken again.
   */
  give(run: RunningAttempt): void {
    run.begun = undefined
    if (this.#free.length < this.#capacity) this.#free.push(run)
  }
}

/** What the processor does when a running attempt times out or its body ends. */
export interface AttemptHooks {
  timedOut(run: RunningAttempt): void
  ended(run: RunningAttempt, failed: boolean, error: unknown): void
}

/**
 * Running attempts by the time they time out, on the clock's monotonic time: a timeout is a
 * duration, and the job wheel follows the wall clock, so setting the clock forward would abort
 * every running attempt at once. One wheel instead of a Node timer per attempt: its one timer is
 * armed while attempts run; once none runs it lapses, holding no process open.
 */
export class AttemptTimeouts {
  readonly #clock: Clock
  readonly #wheel: TimerWheel

  constructor(clock: Clock, unref: boolean, logger: JobLogger) {
    this.#clock = clock
    this.#wheel = new TimerWheel({
      clock: monotonicView(clock),
      unref,
      // Capped sleeps guard the job wheel against wall-clock jumps; monotonic time has none.
      maxSleepMs: MAX_TIMER_MS,
      onError: (error) => safeLog(logger, 'error', 'Timing out an attempt failed', { error: describeThrown(error) }),
    })
  }

  /** Files `run` to time out `run.handler.timeoutMs` from now (never, for 0). May throw for a broken clock. */
  start(run: RunningAttempt): void {
    if (run.handler.timeoutMs > 0) this.#wheel.schedule(run, this.#clock.monotonicNow() + run.handler.timeoutMs)
  }

  /** Files `run` to expire `ms` from now (its grace after a timeout). */
  startIn(run: RunningAttempt, ms: number): void {
    this.#wheel.schedule(run, this.#clock.monotonicNow() + ms)
  }

  /** `run` settled before its timeout. */
  cancel(run: RunningAttempt): void {
    this.#wheel.cancel(run)
  }

  /** Times nothing out from now on and leaves no timer armed. */
  close(): void {
    this.#wheel.close()
  }
}
