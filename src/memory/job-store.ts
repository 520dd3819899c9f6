import type { JobState } from '../types'
import { JobRecord, parseJobId, type JobKind } from './job-record'
import { JobTable } from './job-table'

/**
 * The records of one state in the order they entered it. A record knows its slot (`indexed`), so
 * removing it leaves a hole in O(1); holes are compacted away once they are four times the records,
 * so every operation is O(1) amortized. (A `Set` is O(1) too, but finding its oldest entry walks
 * over the entries deleted before it, which for a bounded finished list is most of them.)
 */
class StateIndex {
  #slots: (JobRecord | undefined)[] = []
  /** Every slot before it is a hole. */
  #head = 0
  #size = 0

  get size(): number {
    return this.#size
  }

  add(record: JobRecord): void {
    record.indexed = this.#slots.push(record)
    this.#size++
  }

  remove(record: JobRecord): void {
    this.#slots[record.indexed - 1] = undefined
    record.indexed = 0
    this.#size--
    const holes = this.#slots.length - this.#size
    if (this.#size === 0) {
      this.#slots = []
      this.#head = 0
    } else if (holes > 1024 && holes > 4 * this.#size) {
      // Compacting renumbers every record left, so a full bounded list (each add evicts its
      // oldest) waits for four holes per record: a quarter of a renumbering per removal, not one
      // (workload W1, where every job ends in the completed list).
      this.#compact()
    }
  }

  /** The record that entered first. */
  oldest(): JobRecord | undefined {
    const slots = this.#slots
    while (this.#head < slots.length && slots[this.#head] === undefined) this.#head++
    return slots[this.#head]
  }

  /** A page of the records, oldest first or newest first. */
  page(newestFirst: boolean, offset: number, limit: number): JobRecord[] {
    const page: JobRecord[] = []
    const slots = this.#slots
    let skip = offset
    const step = newestFirst ? -1 : 1
    for (
      let i = newestFirst ? slots.length - 1 : this.#head;
      i >= this.#head && i < slots.length && page.length < limit;
      i += step
    ) {
      const record = slots[i]
      if (record === undefined) continue
      if (skip > 0) skip--
      else page.push(record)
    }
    return page
  }

  #compact(): void {
    const live: JobRecord[] = []
    for (let i = this.#head; i < this.#slots.length; i++) {
      const record = this.#slots[i]
      if (record !== undefined) record.indexed = live.push(record)
    }
    this.#slots = live
    this.#head = 0
  }
}

/** How many finished jobs of each kind the store keeps. */
export interface JobStoreLimits {
  readonly keepCompleted: number
  readonly keepFailed: number
  readonly keepCancelled: number
}

/**
 * The in-memory job store: every job by sequence number (in a {@link JobTable}, so the record
 * needs no id string of its own), a count per state, and an insertion-ordered index per state
 * except `pending` (which may hold millions and is listed by scanning instead). Finished jobs are
 * kept up to a bound each; past it the oldest is forgotten.
 */
export class JobStore {
  readonly #jobs = new JobTable<JobRecord>()
  #lastSeq = 0
  readonly #pending = new StateEntry(undefined, Infinity)
  readonly #running = new StateEntry(new StateIndex(), Infinity)
  readonly #completed: StateEntry
  readonly #failed: StateEntry
  readonly #cancelled: StateEntry

  constructor(limits: JobStoreLimits) {
    this.#completed = new StateEntry(new StateIndex(), limits.keepCompleted)
    this.#failed = new StateEntry(new StateIndex(), limits.keepFailed)
    this.#cancelled = new StateEntry(new StateIndex(), limits.keepCancelled)
  }

  /**
   * The count, index and bound of `state`. A switch rather than `record[state]`: a lookup by five
   * different keys at one site is V8's slow (megamorphic) kind, and a transition made four of
   * them (workload W1).
   */
  #entry(state: JobState): StateEntry {
    switch (state) {
      case 'pending':
        return this.#pending
      case 'running':
        return this.#running
      case 'completed':
        return this.#completed
      case 'failed':
        return this.#failed
      case 'cancelled':
        return this.#cancelled
    }
  }

  /** Creates and adds a pending job, numbered after the last one. */
  create(kind: JobKind, args: unknown, createdTick: number): JobRecord {
    const record = new JobRecord(++this.#lastSeq, kind, args, createdTick)
    this.#jobs.add(record)
    this.#pending.count++
    return record
  }

  /** The job with id `id`, if the store holds it. */
  get(id: string): JobRecord | undefined {
    const seq = parseJobId(id)
    return seq === 0 ? undefined : this.#jobs.get(seq)
  }

  /** Jobs held in `state`. */
  count(state: JobState): number {
    return this.#entry(state).count
  }

  /** A copy of the per-state counts. */
  counts(): Record<JobState, number> {
    return {
      pending: this.#pending.count,
      running: this.#running.count,
      completed: this.#completed.count,
      failed: this.#failed.count,
      cancelled: this.#cancelled.count,
    }
  }

  /** Moves `record` to `state`, keeping counts and indexes right and the finished lists bounded. */
  transition(record: JobRecord, state: JobState): void {
    const from = this.#entry(record.state)
    if (record.indexed !== 0) from.index?.remove(record)
    from.count--
    record.state = state
    const to = this.#entry(state)
    to.count++
    const index = to.index
    if (index === undefined) return
    index.add(record)
    if (index.size > to.limit) {
      const oldest = index.oldest()
      if (oldest !== undefined) this.delete(oldest)
    }
  }

  /** The number of finished jobs of `state` kept at most. */
  limit(state: 'completed' | 'failed' | 'cancelled'): number {
    return this.#entry(state).limit
  }

  /**
   * Forgets a pending `record` as though it had moved to a finished state and at once been the
   * oldest past that state's bound: the counts end the same, without indexing it first.
   */
  drop(record: JobRecord): void {
    if (record.state === 'pending' && this.#jobs.delete(record)) this.#pending.count--
  }

  /** Forgets `record`. */
  delete(record: JobRecord): void {
    if (!this.#jobs.delete(record)) return
    const entry = this.#entry(record.state)
    if (record.indexed !== 0) entry.index?.remove(record)
    entry.count--
  }

  /**
   * One page of the jobs in `state`: pending and running oldest first (the order they run in),
   * finished newest first (the ones an operator looks for).
   */
  list(state: JobState, offset: number, limit: number): JobRecord[] {
    const page: JobRecord[] = []
    if (state === 'pending') {
      let skip = offset
      for (const record of this.#jobs.values()) {
        if (record.state !== 'pending') continue
        if (skip > 0) skip--
        else if (page.push(record) >= limit) break
      }
      return page
    }
    return this.#entry(state).index?.page(state !== 'running', offset, limit) ?? []
  }
}

/** What the store keeps for one state: how many jobs are in it, their index (none for pending), its bound. */
class StateEntry {
  count = 0
  constructor(
    readonly index: StateIndex | undefined,
    readonly limit: number,
  ) {}
}
