import type { Clock } from '../clock'
import { atNextCheckpoint } from '../next-checkpoint'

/**
 * Speed trick (workload W3, cancel): one reading of a {@link Clock} shared by every call of
 * {@link TurnClock.now} until the code running now gives way, at the next microtask checkpoint. A
 * loop of `cancel(id)` calls between two yields to the event loop then reads the clock once, not
 * once per job (a reading cost about a sixth of a cancel); a caller that awaits each call reads it
 * each time. The reading is early by at most the time the code that shares it runs without giving
 * way, as a `cancelMany` batch has one moment for all its jobs, and as Node's own timers start
 * from the event loop's cached time. The obvious version calls `clock.now()` every time.
 */
export class TurnClock {
  readonly #clock: Clock
  #reading = 0
  #isRead = false
  readonly #expire = (): void => {
    this.#isRead = false
  }

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** The clock's time (ms since the epoch) when it was first read since the last microtask checkpoint. */
  now(): number {
    if (!this.#isRead) {
      this.#reading = this.#clock.now()
      this.#isRead = true
      atNextCheckpoint(this.#expire)
    }
    return this.#reading
  }
}
