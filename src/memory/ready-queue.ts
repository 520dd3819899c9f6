/**
 * The due jobs of the memory engine, in start order (FIFO). An array read from a moving head
 * instead of `shift()`, which moves every element on each call: the head advances, a read slot is
 * cleared so its record can be collected, and the array is cut once the read part is over half of
 * it (and over {@link COMPACT_AFTER} slots), so every operation is O(1) amortized.
 */
export class ReadyQueue<T> {
  #items: (T | undefined)[] = []
  #head = 0

  /** Whether nothing is queued. */
  get isEmpty(): boolean {
    return this.#head === this.#items.length
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

  /** Drops the read part when it is large enough to be worth copying the rest. */
  compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }
}

/** Read slots below this many are left in place: copying a small array often costs more than it frees. */
const COMPACT_AFTER = 1024
