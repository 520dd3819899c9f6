import type { JobErrorInfo, JobInfo, JobState } from '../types'
import type { JobAttempt } from './job-attempt'
import { cloneJobArgs } from './job-args'
import { JobTable } from './job-table'
import { TimerNode } from './timer-wheel'

/**
 * What every job of one name in one engine shares: the name, the time its records' ticks count
 * from, and what the engine does when one falls due. A record points at its kind instead of
 * holding each of these, which keeps a pending record small.
 */
export interface JobKind {
  readonly name: string
  /** The time (ms since the epoch) that tick 0 stands for: the engine's timer-wheel origin. */
  readonly origin: number
  /** The attempts a job of this kind may make, for jobs that have not started yet. */
  readonly maxAttempts: number
  /** Called when a record of this kind falls due in the timer wheel. */
  due(record: JobRecord): void
}

/**
 * What a record holds only once it has started, finished or came from a schedule. Pending jobs
 * (possibly millions) never need it, so it lives apart and is made on first write.
 */
export class JobHistory {
  attempts = 0
  maxAttempts = 0
  // Times in ticks of the kind's origin (null: never), small integers V8 stores in place: an
  // absolute time in ms would be a double, boxed in a heap number made with every history.
  lastRunTick: number | null = null
  finishedTick: number | null = null
  lastError: JobErrorInfo | undefined = undefined
  attempt: JobAttempt | undefined = undefined
  /** 1 + the record's slot in the store's index of its state (running and finished), 0 when in none. */
  indexed = 0
  scheduleId: string | undefined = undefined
}

/**
 * One job as the memory engine holds it. It is its own timer-wheel node, so a pending job costs
 * one object of nine fields (and its args): its sequence number (the id), its kind, its args, its
 * creation and due ticks (small integers, see {@link TimerNode.dueTick}), its state, two wheel
 * links, and its history once it has one.
 */
export class JobRecord extends TimerNode {
  state: JobState = 'pending'
  #history: JobHistory | undefined = undefined

  /**
   * @param seq the job's number, unique in its store; its id is this number in decimal
   * @param createdTick when it was created, in ticks of `kind.origin`
   */
  constructor(
    readonly seq: number,
    readonly kind: JobKind,
    readonly args: unknown,
    readonly createdTick: number,
  ) {
    super()
  }

  /** The job's id: its sequence number in decimal, as BullMQ and Hangfire number their jobs. */
  get id(): string {
    return String(this.seq)
  }

  get name(): string {
    return this.kind.name
  }

  /** Attempts started (0 while the first is pending). */
  get attempts(): number {
    return this.#history?.attempts ?? 0
  }

  /** The most attempts the job may make: its handler's, taken when an attempt starts. */
  get maxAttempts(): number {
    const taken = this.#history?.maxAttempts ?? 0
    return taken > 0 ? taken : this.kind.maxAttempts
  }

  /** When the job is (or was last) due, in ms since the epoch. */
  get runAt(): number {
    return this.kind.origin + this.dueTick
  }

  /** When the last attempt started, in ms since the epoch (0: never). */
  get lastRunAt(): number {
    const tick = this.#history?.lastRunTick ?? null
    return tick === null ? 0 : this.kind.origin + tick
  }
  set lastRunAt(value: number) {
    this.written().lastRunTick = value === 0 ? null : value - this.kind.origin
  }

  /** When the job reached a final state, in ms since the epoch (0: it has not). */
  get finishedAt(): number {
    const tick = this.#history?.finishedTick ?? null
    return tick === null ? 0 : this.kind.origin + tick
  }
  set finishedAt(value: number) {
    this.written().finishedTick = value === 0 ? null : value - this.kind.origin
  }

  /** The error of the last failed attempt. */
  get lastError(): JobErrorInfo | undefined {
    return this.#history?.lastError
  }
  set lastError(value: JobErrorInfo | undefined) {
    if (value !== undefined || this.#history !== undefined) this.written().lastError = value
  }

  /** The running attempt; set only while running. */
  get attempt(): JobAttempt | undefined {
    return this.#history?.attempt
  }

  /** The recurring schedule that created this job, if any. */
  get scheduleId(): string | undefined {
    return this.#history?.scheduleId
  }

  /** The store's index slot (see {@link JobHistory.indexed}). */
  get indexed(): number {
    return this.#history?.indexed ?? 0
  }
  set indexed(value: number) {
    if (value !== 0 || this.#history !== undefined) this.written().indexed = value
  }

  /** The history, made on first call. */
  written(): JobHistory {
    return (this.#history ??= new JobHistory())
  }

  /** The wheel calls this when `runAt` has come. */
  override expire(): void {
    this.kind.due(this)
  }

  /** A snapshot for callers; they cannot change the record through it. */
  toInfo(): JobInfo {
    // Plain assignments in the documented field order: the conditional spreads this replaces cost
    // more than the rest of the snapshot.
    const origin = this.kind.origin
    const info: { -readonly [K in keyof JobInfo]: JobInfo[K] } = {
      id: this.id,
      name: this.kind.name,
      args: cloneJobArgs(this.args),
      state: this.state,
      attempts: this.attempts,
      maxAttempts: this.maxAttempts,
      createdAt: new Date(origin + this.createdTick),
      runAt: new Date(origin + this.dueTick),
    }
    const history = this.#history
    if (history !== undefined) {
      if (history.lastRunTick !== null) info.lastRunAt = new Date(origin + history.lastRunTick)
      if (history.finishedTick !== null) info.finishedAt = new Date(origin + history.finishedTick)
      if (history.lastError !== undefined) info.lastError = history.lastError
      if (history.scheduleId !== undefined) info.scheduleId = history.scheduleId
    }
    return info
  }
}

/**
 * The sequence number an id names, or 0 when `id` is not one this store could have issued (ids
 * are decimal numbers from 1, without leading zeros or signs).
 */
export function parseJobId(id: string): number {
  const length = id.length
  if (length === 0 || length > 15 || id.charCodeAt(0) === 48) return 0
  let seq = 0
  for (let i = 0; i < length; i++) {
    const digit = id.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return 0
    seq = seq * 10 + digit
  }
  return seq
}

type IndexedState = Exclude<JobState, 'pending'>

/**
 * The records of one state in the order they entered it. A record knows its slot (`indexed`), so
 * removing it leaves a hole in O(1); holes are compacted away once they outnumber the records,
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
    } else if (holes > 1024 && holes > this.#size) {
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
    for (let i = newestFirst ? slots.length - 1 : this.#head; i >= this.#head && i < slots.length && page.length < limit; i += step) {
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
  readonly #counts: Record<JobState, number> = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }
  readonly #index: Record<IndexedState, StateIndex> = {
    running: new StateIndex(),
    completed: new StateIndex(),
    failed: new StateIndex(),
    cancelled: new StateIndex(),
  }
  readonly #limits: Record<IndexedState, number>

  constructor(limits: JobStoreLimits) {
    this.#limits = {
      running: Infinity,
      completed: limits.keepCompleted,
      failed: limits.keepFailed,
      cancelled: limits.keepCancelled,
    }
  }

  /** Creates and adds a pending job, numbered after the last one. */
  create(kind: JobKind, args: unknown, createdTick: number): JobRecord {
    const record = new JobRecord(++this.#lastSeq, kind, args, createdTick)
    this.#jobs.add(record)
    this.#counts.pending++
    return record
  }

  /** The job with id `id`, if the store holds it. */
  get(id: string): JobRecord | undefined {
    const seq = parseJobId(id)
    return seq === 0 ? undefined : this.#jobs.get(seq)
  }

  /** Jobs held in `state`. */
  count(state: JobState): number {
    return this.#counts[state]
  }

  /** A copy of the per-state counts. */
  counts(): Record<JobState, number> {
    return { ...this.#counts }
  }

  /** Moves `record` to `state`, keeping counts and indexes right and the finished lists bounded. */
  transition(record: JobRecord, state: JobState): void {
    this.#unindex(record)
    this.#counts[record.state]--
    record.state = state
    this.#counts[state]++
    if (state === 'pending') return
    const index = this.#index[state]
    index.add(record)
    if (index.size > this.#limits[state]) {
      const oldest = index.oldest()
      if (oldest !== undefined) this.delete(oldest)
    }
  }

  /** Forgets `record`. */
  delete(record: JobRecord): void {
    if (!this.#jobs.delete(record)) return
    this.#unindex(record)
    this.#counts[record.state]--
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
    return this.#index[state].page(state !== 'running', offset, limit)
  }

  #unindex(record: JobRecord): void {
    if (record.indexed === 0) return
    this.#index[record.state as IndexedState].remove(record)
  }
}
