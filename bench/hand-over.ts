/**
 * Issue 15's producer shape, shared by W1h and W3: jobs handed over one by one in one synchronous
 * loop that yields to the event loop with `setImmediate` after every {@link HAND_OVER_BATCH}; the
 * promises the hand-over returns are kept and awaited in batches of {@link HAND_OVER_BATCH} after
 * the loop, not inside it.
 */

/** Jobs handed over between two yields, and promises awaited together after the loop. */
export const HAND_OVER_BATCH = 1000

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Calls `handOver(i)` for each `i` below `count` (whose hand-over is synchronous: a timer, a
 * microtask), yielding after every {@link HAND_OVER_BATCH}; the values in call order.
 */
export async function handOver<T>(count: number, call: (i: number) => T): Promise<T[]> {
  const values = new Array<T>(count)
  for (let i = 0; i < count; i++) {
    values[i] = call(i)
    if ((i + 1) % HAND_OVER_BATCH === 0 && i + 1 < count) await yieldToEventLoop()
  }
  return values
}

/**
 * Calls `handOver(i)` for each `i` below `count` in the same yielding loop, keeping each promise;
 * once the loop is done, awaits them in batches of {@link HAND_OVER_BATCH}. The values in call order.
 */
export async function handOverAsync<T>(count: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const promises = await handOver(count, call)
  const values = new Array<T>(count)
  for (let start = 0; start < count; start += HAND_OVER_BATCH) {
    const end = Math.min(count, start + HAND_OVER_BATCH)
    const batch = await Promise.all(promises.slice(start, end))
    for (let i = 0; i < batch.length; i++) values[start + i] = batch[i]!
  }
  return values
}

/**
 * The same loop for a bulk API: `call(start, end)` hands over jobs `start` … `end - 1` at once, one
 * call (and one promise) per {@link HAND_OVER_BATCH} jobs, with a yield after each; the promises
 * are awaited after the loop. The values of the calls, concatenated in order.
 */
export async function handOverBatches<T>(
  count: number,
  call: (start: number, end: number) => Promise<readonly T[]>,
): Promise<T[]> {
  const promises: Promise<readonly T[]>[] = []
  for (let start = 0; start < count; start += HAND_OVER_BATCH) {
    promises.push(call(start, Math.min(count, start + HAND_OVER_BATCH)))
    if (start + HAND_OVER_BATCH < count) await yieldToEventLoop()
  }
  const values: T[] = []
  for (const promise of promises) values.push(...(await promise))
  return values
}

/**
 * Start times of one round of `count` jobs: the job body calls {@link StartLog.record} with its
 * index first thing; the round's clock stops at the last first start.
 */
export class StartLog {
  readonly #starts: Float64Array
  #started = 0
  #duplicates = 0
  #lastStart = NaN
  #onAll: (() => void) | undefined

  constructor(count: number) {
    this.#starts = new Float64Array(count)
  }

  /** Notes that job `i` started now. */
  record(i: number): void {
    if (this.#starts[i] !== 0) {
      this.#duplicates++
      return
    }
    const now = performance.now()
    this.#starts[i] = now
    if (++this.#started === this.#starts.length) {
      this.#lastStart = now
      this.#onAll?.()
    }
  }

  /** Resolves once every job started, or after `timeoutMs` (the rest then count as misses). */
  allStarted(timeoutMs: number): Promise<void> {
    if (this.#started === this.#starts.length) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.#onAll = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** When the last job first started (`performance.now()`), NaN while some have not. */
  get lastStart(): number {
    return this.#lastStart
  }

  /** Jobs that started more than once, counted once per extra start. */
  get duplicates(): number {
    return this.#duplicates
  }

  /** Jobs that never started. */
  get misses(): number {
    return this.#starts.length - this.#started
  }
}
