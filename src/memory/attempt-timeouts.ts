import type { BegunAttempt, JobHandler } from '../background-job-engine'
import { monotonicView, type Clock, type ClockTimer } from '../clock'
import { InvalidOptionError } from '../errors'
import { MAX_TIME_MS, MAX_TIMER_MS } from '../limits'
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
  /** The queue it waits in to time out (see {@link TimeoutQueue}), while it does. */
  timeoutQueue: TimeoutQueue | undefined = undefined
  /** Its place in {@link RunningAttempt.timeoutQueue}. */
  timeoutSlot = 0
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
 * every running attempt at once. One Node timer per timeout duration while attempts run (see
 * {@link TimeoutQueue}); once none runs it lapses, holding no process open. Bodies that outlived
 * their timeout wait in a wheel for the end of their grace.
 */
export class AttemptTimeouts {
  readonly #clock: Clock
  readonly #unref: boolean
  readonly #onError: (error: unknown) => void
  readonly #wheel: TimerWheel
  readonly #queues = new Map<number, TimeoutQueue>()
  /** The queue {@link AttemptTimeouts.start} used last (attempts come in runs of one job). */
  #lastQueue: TimeoutQueue | undefined = undefined
  #isClosed = false

  constructor(clock: Clock, unref: boolean, logger: JobLogger) {
    this.#clock = clock
    this.#unref = unref
    this.#onError = (error) =>
      safeLog(logger, 'error', 'Timing out an attempt failed', { error: describeThrown(error) })
    this.#wheel = new TimerWheel({
      clock: monotonicView(clock),
      unref,
      // Capped sleeps guard the job wheel against wall-clock jumps; monotonic time has none.
      maxSleepMs: MAX_TIMER_MS,
      onError: this.#onError,
    })
  }

  /** Files `run` to time out `run.handler.timeoutMs` from now (never, for 0). May throw for a broken clock. */
  start(run: RunningAttempt): void {
    const timeoutMs = run.handler.timeoutMs
    if (timeoutMs === 0 || this.#isClosed) return
    let queue = this.#lastQueue
    if (queue === undefined || queue.timeoutMs !== timeoutMs) {
      queue = this.#queues.get(timeoutMs)
      if (queue === undefined) {
        queue = new TimeoutQueue(timeoutMs, this.#clock, this.#unref, this.#onError)
        this.#queues.set(timeoutMs, queue)
      }
      this.#lastQueue = queue
    }
    queue.add(run)
  }

  /** Files `run` to expire `ms` from now (its grace after a timeout). */
  startIn(run: RunningAttempt, ms: number): void {
    this.#wheel.schedule(run, this.#clock.monotonicNow() + ms)
  }

  /** `run` settled before its timeout (or its body ended within its grace). */
  cancel(run: RunningAttempt): void {
    const queue = run.timeoutQueue
    if (queue !== undefined) queue.remove(run)
    if (run.wheelNext !== null) this.#wheel.cancel(run)
  }

  /** Times nothing out from now on and leaves no timer armed. */
  close(): void {
    this.#isClosed = true
    for (const queue of this.#queues.values()) queue.close()
    this.#wheel.close()
  }
}

/**
 * Speed trick (workloads W1h and W1): the running attempts of one timeout duration, in the order
 * they started, which is the order they time out in, as monotonic time never goes back. Filing
 * an attempt appends it, settling one clears its entry, and one clock timer is armed for the
 * oldest entry still filed. In a timer wheel, filing and unfiling cost two thirds of what the
 * attempt timeout cost a quick job, the clock reading being the rest. Cleared entries are passed
 * over when they reach the front, dropped all at once when no entry is left, and squeezed out
 * when they outnumber the live ones, so the queue holds at most about twice as many entries as
 * attempts run. An attempt never times out early: it expires only once the clock has reached
 * its due time. The obvious version files every attempt in a {@link TimerWheel}.
 *
 * ```
 *   0            #head                                   #runs.length
 *   | cleared     | oldest live, then live or cleared ones  |
 *   a filed attempt's run.timeoutSlot is its index in #runs and #dueAt
 * ```
 */
export class TimeoutQueue {
  readonly timeoutMs: number
  readonly #clock: Clock
  readonly #unref: boolean
  readonly #onError: (error: unknown) => void
  #runs: (RunningAttempt | undefined)[] = []
  #dueAt: number[] = []
  /** No live entry is before this one. */
  #head = 0
  /** Entries not cleared. */
  #live = 0
  #timer: ClockTimer | undefined = undefined
  /** The timer was left to lapse, unref'd, when the last entry was cleared. */
  #isIdle = false
  #isClosed = false
  readonly #fire = (): void => {
    this.#timer = undefined
    this.#isIdle = false
    this.#expire()
  }

  constructor(timeoutMs: number, clock: Clock, unref: boolean, onError: (error: unknown) => void) {
    this.timeoutMs = timeoutMs
    this.#clock = clock
    this.#unref = unref
    this.#onError = onError
  }

  /** Attempts filed and not yet cleared or expired (for tests). */
  get size(): number {
    return this.#live
  }

  /** Entries held, cleared ones included (for tests). */
  get held(): number {
    return this.#runs.length - this.#head
  }

  /** Files `run` to time out {@link TimeoutQueue.timeoutMs} from now. @throws InvalidOptionError for a broken clock */
  add(run: RunningAttempt): void {
    const dueAt = this.#clock.monotonicNow() + this.timeoutMs
    if (!Number.isFinite(dueAt) || Math.abs(dueAt) > MAX_TIME_MS) {
      throw new InvalidOptionError({
        option: 'dueAt',
        value: dueAt,
        expected: 'a time in ms within the range of a Date',
      })
    }
    run.timeoutQueue = this
    run.timeoutSlot = this.#runs.length
    this.#runs.push(run)
    this.#dueAt.push(dueAt)
    this.#live++
    if (this.#timer === undefined) this.#arm(dueAt)
    else if (this.#isIdle) this.#wake()
  }

  /** Clears `run`'s entry: it settled before its timeout. */
  remove(run: RunningAttempt): void {
    run.timeoutQueue = undefined
    const runs = this.#runs
    runs[run.timeoutSlot] = undefined
    if (--this.#live === 0) {
      this.#runs = []
      this.#dueAt = []
      this.#head = 0
      this.#idle()
    } else if (runs.length - this.#live > COMPACT_AFTER && runs.length - this.#live > this.#live) {
      this.#compact()
    }
  }

  /** Arms nothing from now on (stop). */
  close(): void {
    this.#isClosed = true
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timer = undefined
  }

  /** Keeps only the live entries, in order, renumbering their slots. */
  #compact(): void {
    const runs: RunningAttempt[] = []
    const dueAt: number[] = []
    const oldRuns = this.#runs
    const oldDueAt = this.#dueAt
    for (let i = this.#head; i < oldRuns.length; i++) {
      const run = oldRuns[i]
      if (run === undefined) continue
      run.timeoutSlot = runs.length
      runs.push(run)
      dueAt.push(oldDueAt[i]!)
    }
    this.#runs = runs
    this.#dueAt = dueAt
    this.#head = 0
  }

  /** The timer fired: expires the attempts due by now, then arms for the next one. */
  #expire(): void {
    if (this.#isClosed) return
    const now = this.#clock.monotonicNow()
    while (this.#live > 0) {
      const runs = this.#runs
      let head = this.#head
      while (runs[head] === undefined) head++
      this.#head = head
      const dueAt = this.#dueAt[head]!
      if (dueAt > now) {
        this.#arm(dueAt)
        return
      }
      const run = runs[head]!
      this.remove(run)
      try {
        run.expire()
      } catch (error) {
        try {
          this.#onError(error)
        } catch {
          // The error reporter itself failed; the remaining attempts must still expire.
        }
      }
    }
  }

  /** Arms the timer for `dueAt` (instead of any armed before: an expiry may have filed attempts). */
  #arm(dueAt: number): void {
    if (this.#isClosed) return
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    const ms = Math.min(Math.max(0, Math.ceil(dueAt - this.#clock.monotonicNow())), MAX_TIMER_MS)
    this.#isIdle = false
    this.#timer = this.#clock.setTimer(this.#fire, ms)
    if (this.#unref) this.#timer.unref?.()
  }

  /**
   * No entry is left: the timer is left to lapse, unref'd, as the timer wheel's is (see its
   * `#idle`), so a steady stream of attempts does not clear and set a Node timer between each.
   */
  #idle(): void {
    const timer = this.#timer
    if (timer === undefined) return
    if (typeof timer.ref !== 'function' || typeof timer.unref !== 'function') {
      this.#clock.clearTimer(timer)
      this.#timer = undefined
      return
    }
    this.#isIdle = true
    if (!this.#unref) timer.unref()
  }

  /** An attempt was filed while the timer lapses: it holds the process open again. */
  #wake(): void {
    this.#isIdle = false
    if (!this.#unref) this.#timer?.ref?.()
  }
}

/** Front slots below this many are left in place: copying a small array often costs more than it frees. */
const COMPACT_AFTER = 1024
