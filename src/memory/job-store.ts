import type { JobState } from '../types'
import { JobRecord, parseJobId, reserveEndings, type JobKind } from './job-record'
import { JobTable } from './job-table'
import { StateIndex } from './state-index'

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
  readonly #running = new StateEntry(new StateIndex<JobRecord>(), Infinity)
  readonly #completed: StateEntry
  readonly #failed: StateEntry
  readonly #cancelled: StateEntry

  constructor(limits: JobStoreLimits) {
    this.#completed = new StateEntry(new StateIndex<JobRecord>(), limits.keepCompleted)
    this.#failed = new StateEntry(new StateIndex<JobRecord>(), limits.keepFailed)
    this.#cancelled = new StateEntry(new StateIndex<JobRecord>(), limits.keepCancelled)
    reserveEndings(limits.keepCancelled + 1)
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
    const seq = id.length <= MAX_SHORT_ID_LENGTH ? shortIdSeq(id) : parseJobId(id)
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
    const fromIndex = from.index
    // Pending (most transitions) has no index: its records are not asked for their slot.
    if (fromIndex !== undefined && record.indexed !== 0) fromIndex.remove(record)
    from.count--
    record.state = state
    this.#enter(this.#entry(state), record)
  }

  /**
   * Moves a pending `record` to `cancelled`: what `transition(record, 'cancelled')` does.
   *
   * Speed trick (workload W3, cancel): both states are known here, so neither entry is found
   * through the record's state and a switch. The obvious version is that `transition`.
   */
  cancelPending(record: JobRecord): void {
    this.#pending.count--
    record.state = 'cancelled'
    this.#enter(this.#cancelled, record)
  }

  /** Counts and indexes `record`, which has just moved to the state of `to`, keeping that state bounded. */
  #enter(to: StateEntry, record: JobRecord): void {
    to.count++
    const index = to.index
    if (index === undefined) return
    index.add(record)
    if (index.size > to.limit) {
      // The oldest past the bound is forgotten (what `delete` does, knowing where it is).
      const oldest = index.shift()!
      this.#jobs.delete(oldest)
      to.count--
      oldest.forget()
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
    record.forget()
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

/** The longest id {@link shortIdSeq} reads: V8 keeps the value of decimal strings up to this long. */
const MAX_SHORT_ID_LENGTH = 7
const POWERS_OF_TEN: readonly number[] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]

/**
 * What {@link parseJobId} answers for an id of at most {@link MAX_SHORT_ID_LENGTH} characters.
 *
 * Speed trick (workload W3, cancel): V8 keeps the value of a decimal string of at most seven
 * digits made from a number (as ids are, `String(seq)`) in the string itself, and
 * `parseInt(id, 10)` reads it from there, where parseJobId reads every character (most of a
 * lookup by id). Exact for any string: `parseInt` reads the digits the string starts with (no
 * sign or space, as it starts with 1-9), so its value has as many digits as the string has
 * characters only when the string is all digits. The obvious version is parseJobId(id).
 */
export function shortIdSeq(id: string): number {
  const first = id.charCodeAt(0)
  if (!(first >= 49 && first <= 57)) return 0
  const seq = parseInt(id, 10)
  return seq >= POWERS_OF_TEN[id.length - 1]! && seq < POWERS_OF_TEN[id.length]! ? seq : 0
}

/** What the store keeps for one state: how many jobs are in it, their index (none for pending), its bound. */
class StateEntry {
  count = 0
  constructor(
    readonly index: StateIndex<JobRecord> | undefined,
    readonly limit: number,
  ) {}
}
