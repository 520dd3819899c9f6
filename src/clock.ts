/** A handle returned by {@link Clock.setTimer}. */
export interface ClockTimer {
  /** Lets the process exit while this timer is the only thing left (Node's `unref`). */
  unref?(): void
  /** Makes the timer hold the process open again after {@link ClockTimer.unref} (Node's `ref`). */
  ref?(): void
}

/**
 * The time source and timer the engine uses. The default is the system clock; tests inject
 * {@link ManualClock} to drive time without sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (wall-clock time, like `Date.now()`). */
  now(): number
  /**
   * Milliseconds on a monotonic clock (like `performance.now()`, any origin): it moves only
   * forward, at the pace of real time, whatever is done to the wall clock. Durations such as
   * attempt timeouts are measured with it.
   */
  monotonicNow(): number
  /** Calls `callback` once after `ms` milliseconds. */
  setTimer(callback: () => void, ms: number): ClockTimer
  /** Cancels a timer from {@link Clock.setTimer}; a no-op for one that already fired. */
  clearTimer(timer: ClockTimer): void
}

/**
 * `performance`, read once: the global is a getter Node runs at each read, which cost as much as
 * the `now()` call itself when attempt timeouts read it per attempt (workload W1).
 */
const perf = performance

/** The system clock: `Date.now()`, `performance.now()` and Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicNow: () => perf.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
}

interface ManualTimer extends ClockTimer {
  dueAt: number
  readonly callback: () => void
}

/**
 * A clock that moves only when told to, for tests. `advance(ms)` lets `ms` pass: time moves forward
 * and the timers that fall due on the way fire, in due order. `set(time)` changes the wall-clock
 * time only, forward or back, as an administrator or NTP would: like Node's timers, pending timers
 * keep their remaining durations, so the change is noticed when one of them next fires, and
 * {@link ManualClock.monotonicNow} (the time that has passed) does not move.
 */
export class ManualClock implements Clock {
  #now: number
  #elapsed = 0
  #timers = new Set<ManualTimer>()

  /** @param start the initial time in ms since the epoch. */
  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  /** The ms that {@link ManualClock.advance} has let pass since the clock was made. */
  monotonicNow(): number {
    return this.#elapsed
  }

  setTimer(callback: () => void, ms: number): ClockTimer {
    const timer: ManualTimer = { dueAt: this.#now + Math.max(1, ms), callback, unref() {}, ref() {} }
    this.#timers.add(timer)
    return timer
  }

  clearTimer(timer: ClockTimer): void {
    this.#timers.delete(timer as ManualTimer)
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size
  }

  /** Lets `ms` milliseconds pass, firing due timers in order (each sees `now()` at its due time). */
  advance(ms: number): void {
    const target = this.#now + ms
    for (;;) {
      let next: ManualTimer | undefined
      for (const t of this.#timers) if (t.dueAt <= target && (next === undefined || t.dueAt < next.dueAt)) next = t
      if (next === undefined) break
      this.#timers.delete(next)
      this.#pass(next.dueAt - this.#now)
      next.callback()
    }
    this.#pass(target - this.#now)
  }

  #pass(ms: number): void {
    if (ms <= 0) return
    this.#now += ms
    this.#elapsed += ms
  }

  /** Sets the wall-clock time to `time` (earlier or later) without letting any time pass. */
  set(time: number): void {
    const shift = time - this.#now
    for (const t of this.#timers) t.dueAt += shift
    this.#now = time
  }
}

/**
 * `clock` seen through its monotonic time: `now()` is `clock.monotonicNow()`. A timer wheel given
 * this files durations, which no change of the wall clock may shorten.
 */
export function monotonicView(clock: Clock): Clock {
  return {
    now: () => clock.monotonicNow(),
    monotonicNow: () => clock.monotonicNow(),
    setTimer: (callback, ms) => clock.setTimer(callback, ms),
    clearTimer: (timer) => clock.clearTimer(timer),
  }
}

/**
 * Calls `callback` once `ms` milliseconds have passed on `clock`'s monotonic time, never before,
 * and returns a function that cancels the call. A Node timer may fire up to a millisecond early
 * (it counts the event loop's whole milliseconds); when one does, this waits out the rest.
 */
export function afterAtLeast(clock: Clock, ms: number, callback: () => void): () => void {
  const deadline = clock.monotonicNow() + ms
  let timer: ClockTimer
  const check = (): void => {
    const left = deadline - clock.monotonicNow()
    if (left > 0) timer = clock.setTimer(check, Math.ceil(left))
    else callback()
  }
  timer = clock.setTimer(check, ms)
  return () => clock.clearTimer(timer)
}
