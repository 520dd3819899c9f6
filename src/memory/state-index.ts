/** What a {@link StateIndex} holds: anything that keeps the slot the index gives it. */
export interface Indexed {
  /** 1 + the entry's slot in the index holding it, 0 when in none; written by the index only. */
  indexed: number
}

/** The smallest ring an index grows from. */
const MIN_CAPACITY = 16
/** A ring larger than this shrinks once at most an eighth of it holds entries. */
const SHRINK_ABOVE = 1024

/**
 * The entries of one state in the order they entered it (the store's running and finished
 * lists): add the newest, take the oldest, remove any entry by the slot it keeps, page from
 * either end, each O(1) (amortized for growth).
 *
 * Speed trick (workloads W1 and W3 cancel): a ring buffer. Every job of W1 ends in the bounded
 * completed list and every job of W3 in the cancelled one, each add evicting the oldest: the
 * ring takes it from the head and writes the new entry behind the tail, so a full bounded list
 * allocates nothing, moves nothing and renumbers nothing. The obvious version (the previous one)
 * is an array pushed at the end with a moving head, holes left by removals and a compaction that
 * renumbers every entry once the holes are four times the entries.
 *
 * ```text
 *   slots:  [ e5 e6 __ __ e1 e2 __ e4 ]     capacity 8 (a power of two), mask 7
 *                  ^tail     ^head          span 6 (head to tail, holes included), size 5
 * ```
 *
 * Invariants: the entries sit at slots `head`, `head + 1`, … `head + span - 1` (mod capacity) in
 * the order they were added, with holes (`undefined`) where entries were removed from the middle;
 * when `size > 0` the slots at both ends are entries (a removal at an end moves it past the holes
 * beside it, each hole passed once). An entry's `indexed` is its slot + 1. When the span fills the
 * ring, a ring at most half full of entries is compacted in place of growing (after at least
 * capacity / 2 removals); a ring over {@link SHRINK_ABOVE} slots at most an eighth full shrinks
 * to a quarter (after at least capacity / 8 removals since it grew). Each copy is paid for by the
 * removals before it, and a large ring holds at most eight slots per entry.
 */
export class StateIndex<T extends Indexed> {
  #slots: (T | undefined)[] = new Array<T | undefined>(MIN_CAPACITY)
  #mask = MIN_CAPACITY - 1
  /** The slot of the oldest entry. */
  #head = 0
  /** Slots from the head to the tail, holes included. */
  #span = 0
  #size = 0

  /** Entries held. */
  get size(): number {
    return this.#size
  }

  /** Slots the ring has now (for tests and diagnostics). */
  get capacity(): number {
    return this.#slots.length
  }

  /** Adds `entry` as the newest. */
  add(entry: T): void {
    const length = this.#slots.length
    if (this.#span === length) this.#resize(this.#size * 2 <= length ? length : length * 2)
    const slot = (this.#head + this.#span) & this.#mask
    this.#slots[slot] = entry
    entry.indexed = slot + 1
    this.#span++
    this.#size++
  }

  /** Removes `entry`, which this index holds. */
  remove(entry: T): void {
    const slots = this.#slots
    const mask = this.#mask
    const slot = entry.indexed - 1
    slots[slot] = undefined
    entry.indexed = 0
    if (--this.#size === 0) {
      this.#head = 0
      this.#span = 0
    } else if (slot === this.#head) {
      // Past the holes after it: the new head is the oldest entry left.
      let head = slot
      do {
        head = (head + 1) & mask
        this.#span--
      } while (slots[head] === undefined)
      this.#head = head
    } else if (slot === ((this.#head + this.#span - 1) & mask)) {
      let tail = slot
      do {
        tail = (tail - 1) & mask
        this.#span--
      } while (slots[tail] === undefined)
    }
    if (this.#size * 8 <= slots.length && slots.length > SHRINK_ABOVE) this.#resize(slots.length / 4)
  }

  /** The entry that was added first, if any. */
  oldest(): T | undefined {
    return this.#size === 0 ? undefined : this.#slots[this.#head]
  }

  /** Removes the oldest entry and returns it; its `indexed` is left for its owner to clear. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const slots = this.#slots
    const mask = this.#mask
    let head = this.#head
    const entry = slots[head]
    slots[head] = undefined
    if (--this.#size === 0) {
      this.#head = 0
      this.#span = 0
    } else {
      do {
        head = (head + 1) & mask
        this.#span--
      } while (slots[head] === undefined)
      this.#head = head
    }
    if (this.#size * 8 <= slots.length && slots.length > SHRINK_ABOVE) this.#resize(slots.length / 4)
    return entry
  }

  /** A page of the entries, oldest first or newest first, skipping `offset` of them. */
  page(newestFirst: boolean, offset: number, limit: number): T[] {
    const page: T[] = []
    const slots = this.#slots
    const mask = this.#mask
    let skip = offset
    for (let i = 0; i < this.#span && page.length < limit; i++) {
      const entry = slots[(newestFirst ? this.#head + this.#span - 1 - i : this.#head + i) & mask]
      if (entry === undefined) continue
      if (skip > 0) skip--
      else page.push(entry)
    }
    return page
  }

  /** Copies the entries, oldest first and without holes, into a new ring of `capacity` slots. */
  #resize(capacity: number): void {
    const old = this.#slots
    const mask = this.#mask
    const slots = new Array<T | undefined>(capacity)
    let next = 0
    for (let i = 0; i < this.#span; i++) {
      const entry = old[(this.#head + i) & mask]
      if (entry === undefined) continue
      slots[next] = entry
      entry.indexed = ++next
    }
    this.#slots = slots
    this.#mask = capacity - 1
    this.#head = 0
    this.#span = next
  }
}
