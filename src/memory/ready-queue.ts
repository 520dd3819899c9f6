/**
 * The due jobs of the memory engine, in start order (FIFO). An array read from a moving head
 * instead of `shift()`, which moves every element on each call: the head advances, a read slot is
 * cleared so its record can be collected, and the array is cut once the read part is over half of
 * it (and over {@link COMPACT_AFTER} slots), so every operation is O(1) amortized.
 *
 * Items that stop being wanted while queued (a cancelled job) are not searched for: the caller
 * says one went stale, and once the stale ones are over half of the queue (and over
 * {@link COMPACT_AFTER}) the queue keeps only the items `isLive` accepts. So no more stale items
 * are held than live ones, at O(1) amortized per stale item.
 */
export class ReadyQueue<T> {
  readonly #isLive: (item: T) => boolean
  #items: (T | undefined)[] = []
  #head = 0
  #stale = 0

  constructor(isLive: (item: T) => boolean) {
    this.#isLive = isLive
  }

  /** Whether nothing is queued. */
  get isEmpty(): boolean {
    return this.#head === this.#items.length
  }

  /** Items held, stale ones included (for tests and diagnostics). */
  get size(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    return item
  }

  /** One queued item is no longer live; drops the stale ones once they are most of the queue. */
  markStale(): void {
    this.#stale++
    if (this.#stale > COMPACT_AFTER && this.#stale * 2 > this.size) {
      const live: T[] = []
      for (let i = this.#head; i < this.#items.length; i++) {
        const item = this.#items[i]
        if (item !== undefined && this.#isLive(item)) live.push(item)
      }
      this.#items = live
      this.#head = 0
      this.#stale = 0
    }
  }

  /** Drops the read part when it is large enough to be worth copying the rest. */
  compact(): void {
    if (this.#head === this.#items.length) {
      // An empty queue keeps its empty array: the processor compacts after every start run.
      if (this.#head !== 0) {
        this.#items = []
        this.#head = 0
      }
      this.#stale = 0
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }
}

/** Slots below this many are left in place: copying a small array often costs more than it frees. */
const COMPACT_AFTER = 1024
