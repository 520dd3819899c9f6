/** What a {@link JobTable} holds: anything numbered. */
export interface Numbered {
  readonly seq: number
}

const PAGE_BITS = 6
const PAGE_SIZE = 1 << PAGE_BITS
/** A page that is no longer being filled and holds this few entries or fewer is dissolved. */
const SPARSE = PAGE_SIZE / 8

/**
 * The number of the page holding entry `seq`. Speed trick (workload W3 cancel): a shift while
 * `seq` fits in 31 bits (two billion jobs), which V8 does in an integer register; the obvious
 * `Math.floor(seq / PAGE_SIZE)`, which larger numbers still take, is a floating-point division.
 */
function pageOf(seq: number): number {
  return seq <= 0x7fffffff ? seq >> PAGE_BITS : Math.floor(seq / PAGE_SIZE)
}

/** Up to {@link PAGE_SIZE} consecutive numbers' entries; holes where entries were removed. */
class Page<T> {
  readonly slots: (T | undefined)[] = new Array<T | undefined>(PAGE_SIZE)
  live = 0
}

/**
 * Entries by sequence number, for numbers handed out in increasing order (job ids). Consecutive
 * numbers share a page of 64 slots, so finding one is two lookups in small structures, and a
 * dense table costs about 9 bytes per entry, against about 29 for a `Map` entry; the pages sit
 * in a `Map` by page number. An emptied page is dropped. So that a few long-lived entries (a job
 * delayed for a day among thousands that ran at once) cannot each keep a whole page alive, a page
 * left with at most 8 entries, once it is no longer being filled, is dissolved: its entries move
 * to a plain `Map`. Every operation is O(1) (dissolving moves at most 8 entries).
 *
 * Speed trick (workloads W1 and W3 cancel): a page that thins out is dissolved only when a second
 * one does (or, for the page being filled, when the next one starts), so at most one sparse page
 * waits. Entries mostly go in the order they came (the oldest finished jobs evicted), so by then
 * the first page has almost always emptied and gone: its last 8 entries are not moved to the map
 * only to be deleted from it. The obvious version dissolves a page as soon as it thins out.
 */
export class JobTable<T extends Numbered> {
  readonly #pages = new Map<number, Page<T>>()
  /** Entries of dissolved pages. */
  readonly #loose = new Map<number, T>()
  /** The number of the page being filled: the one holding the highest number added so far. */
  #newest = -1
  /** The page numbered {@link JobTable.#newest}, which is never dropped while it is the newest. */
  #newestPage: Page<T> | undefined = undefined
  #size = 0
  /** The number of the page that thinned out and waits to be dissolved (-1: none). */
  #sparse = -1
  /**
   * Speed trick (workloads W1 and W3 cancel): the page last found by `get`, and the page last
   * found by `delete`, with their numbers (-1: none). Jobs are mostly found, and forgotten, in the
   * order they were made, so one lookup in the map serves the next 63 of each; one cache for both
   * would be lost at every call while a cancel finds one job and evicts another 1000 older. The
   * obvious version asks the map every time. Cleared when their page goes.
   */
  #getNumber = -1
  #getPage: Page<T> | undefined = undefined
  #deleteNumber = -1
  #deletePage: Page<T> | undefined = undefined

  get size(): number {
    return this.#size
  }

  /** Pages held (the rest of the entries are loose), for tests and diagnostics. */
  get pageCount(): number {
    return this.#pages.size
  }

  /** Entries held outside pages, for tests and diagnostics. */
  get looseCount(): number {
    return this.#loose.size
  }

  /** Adds `entry`; its number must be higher than every number added before. */
  add(entry: T): void {
    const number = pageOf(entry.seq)
    // Speed trick (workload W3, enqueue): numbers only grow, so an entry goes to the page being
    // filled, held here, or starts the next one; the obvious version asks the map for the page.
    let page = number === this.#newest ? this.#newestPage : undefined
    if (page === undefined) {
      const previousNumber = this.#newest
      const previous = this.#pages.get(previousNumber)
      this.#newest = number
      // The previous page is filled now; it may have been thinned out while it was the newest.
      if (previous !== undefined && previous.live === 0) this.#drop(previousNumber)
      else if (previous !== undefined && previous.live <= SPARSE) this.#thinned(previousNumber)
      page = new Page<T>()
      this.#pages.set(number, page)
      this.#newestPage = page
    }
    page.slots[entry.seq - number * PAGE_SIZE] = entry
    page.live++
    this.#size++
  }

  /** The entry numbered `seq`, if held. */
  get(seq: number): T | undefined {
    const number = pageOf(seq)
    let page = this.#getPage
    if (number !== this.#getNumber) {
      page = this.#pages.get(number)
      if (page !== undefined) {
        this.#getNumber = number
        this.#getPage = page
      }
    }
    if (page !== undefined) return page.slots[seq - number * PAGE_SIZE]
    return this.#loose.size > 0 ? this.#loose.get(seq) : undefined
  }

  /** Removes `entry`; false when it was not held. */
  delete(entry: T): boolean {
    const seq = entry.seq
    const number = pageOf(seq)
    let page = this.#deletePage
    if (number !== this.#deleteNumber) {
      page = this.#pages.get(number)
      if (page !== undefined) {
        this.#deleteNumber = number
        this.#deletePage = page
      }
    }
    if (page === undefined) {
      if (this.#loose.get(seq) !== entry) return false
      this.#loose.delete(seq)
      this.#size--
      return true
    }
    const slot = seq - number * PAGE_SIZE
    if (page.slots[slot] !== entry) return false
    page.slots[slot] = undefined
    this.#size--
    const live = --page.live
    if (live === 0 && number !== this.#newest) this.#drop(number)
    else if (live === SPARSE && number !== this.#newest) this.#thinned(number)
    return true
  }

  /** Every entry, in number order. */
  *values(): IterableIterator<T> {
    // Loose entries came from pages that were dissolved, so they interleave with the pages' entries.
    const loose = [...this.#loose.values()].sort((a, b) => a.seq - b.seq)
    let next = 0
    for (const page of this.#pages.values()) {
      for (const entry of page.slots) {
        if (entry === undefined) continue
        while (next < loose.length && loose[next]!.seq < entry.seq) yield loose[next++]!
        yield entry
      }
    }
    while (next < loose.length) yield loose[next++]!
  }

  /** Page `number` (no longer being filled) has thinned out: the page that waited before it is dissolved. */
  #thinned(number: number): void {
    const waiting = this.#sparse
    this.#sparse = number
    if (waiting === -1 || waiting === number) return
    const page = this.#pages.get(waiting)
    if (page === undefined) return
    for (const entry of page.slots) if (entry !== undefined) this.#loose.set(entry.seq, entry)
    this.#drop(waiting)
  }

  /** Forgets page `number` (emptied, or its entries moved to the loose map). */
  #drop(number: number): void {
    this.#pages.delete(number)
    if (number === this.#sparse) this.#sparse = -1
    if (number === this.#getNumber) {
      this.#getNumber = -1
      this.#getPage = undefined
    }
    if (number === this.#deleteNumber) {
      this.#deleteNumber = -1
      this.#deletePage = undefined
    }
  }
}
