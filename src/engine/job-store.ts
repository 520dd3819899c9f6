import { randomFillSync } from 'node:crypto'
import type { JobErrorInfo, JobInfo, JobState } from '../types'
import { cloneJobArgs } from './job-args'
import { TimerNode } from './timer-wheel'

/** Something that aborts a running attempt, such as an `AbortController`. */
export interface AttemptAborter {
  abort(reason?: unknown): void
}

/**
 * An attempt's abort controller whose `AbortController` is made on first read of `signal`: most
 * jobs never read `context.signal`, and making one costs more than running a no-op job. Aborting
 * before that read keeps the reason; the signal, once read, is already aborted with it.
 */
export class LazyAbortController implements AttemptAborter {
  #controller: AbortController | undefined = undefined
  #isAborted = false
  #reason: unknown = undefined

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#isAborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort(reason?: unknown): void {
    if (this.#controller !== undefined) {
      this.#controller.abort(reason)
    } else if (!this.#isAborted) {
      this.#isAborted = true
      this.#reason = reason
    }
  }
}

/**
 * What a record holds only once it has started or finished. Pending jobs (possibly millions)
 * never need it, so it lives apart and is made on first write. Its time fields hold doubles,
 * which V8 boxes per object: keeping them here keeps those boxes off pending records too.
 */
class JobHistory {
  lastRunAt = 0
  finishedAt = 0
  lastError: JobErrorInfo | undefined = undefined
  controller: AttemptAborter | undefined = undefined
}

/**
 * One job as the memory engine holds it. It is its own timer-wheel node, so a pending job costs
 * one object (and its id and args). Times are ms since the epoch.
 */
export class JobRecord extends TimerNode {
  state: JobState = 'pending'
  attempts = 0
  maxAttempts = 1
  /** 1 + this record's slot in the store's index of its state (running and finished), 0 when in none. */
  indexed = 0
  #history: JobHistory | undefined = undefined

  constructor(
    readonly id: string,
    readonly name: string,
    readonly args: unknown,
    readonly createdAt: number,
    public runAt: number,
    readonly scheduleId: string | undefined,
    readonly onDue: (record: JobRecord) => void,
  ) {
    super()
  }

  /** When the last attempt started (0: never). */
  get lastRunAt(): number {
    return this.#history?.lastRunAt ?? 0
  }
  set lastRunAt(value: number) {
    this.#written().lastRunAt = value
  }

  /** When the job reached a final state (0: it has not). */
  get finishedAt(): number {
    return this.#history?.finishedAt ?? 0
  }
  set finishedAt(value: number) {
    this.#written().finishedAt = value
  }

  /** The error of the last failed attempt. */
  get lastError(): JobErrorInfo | undefined {
    return this.#history?.lastError
  }
  set lastError(value: JobErrorInfo | undefined) {
    this.#written().lastError = value
  }

  /** Aborts the running attempt; set only while running. */
  get controller(): AttemptAborter | undefined {
    return this.#history?.controller
  }
  set controller(value: AttemptAborter | undefined) {
    this.#written().controller = value
  }

  /** The wheel calls this when `runAt` has come. */
  override expire(): void {
    this.onDue(this)
  }

  /** A snapshot for callers; they cannot change the record through it. */
  toInfo(): JobInfo {
    // Plain assignments in the documented field order: the conditional spreads this replaces cost
    // more than the rest of the snapshot.
    const info: { -readonly [K in keyof JobInfo]: JobInfo[K] } = {
      id: this.id,
      name: this.name,
      args: cloneJobArgs(this.args),
      state: this.state,
      attempts: this.attempts,
      maxAttempts: this.maxAttempts,
      createdAt: new Date(this.createdAt),
      runAt: new Date(this.runAt),
    }
    const history = this.#history
    if (history !== undefined) {
      if (history.lastRunAt > 0) info.lastRunAt = new Date(history.lastRunAt)
      if (history.finishedAt > 0) info.finishedAt = new Date(history.finishedAt)
      if (history.lastError !== undefined) info.lastError = history.lastError
    }
    if (this.scheduleId !== undefined) info.scheduleId = this.scheduleId
    return info
  }

  #written(): JobHistory {
    return (this.#history ??= new JobHistory())
  }
}

const ID_BATCH = 256
const HEX = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0))
const idRandom = Buffer.alloc(16 * ID_BATCH)
let idRandomUsed = ID_BATCH
const idText = new Array<number>(36).fill(0)

/**
 * A new job id: a random (version 4) UUID, like `crypto.randomUUID()`, from the same CSPRNG
 * drawn in batches. It is made as one flat string: `randomUUID()` builds its result by
 * concatenation, a rope of about 480 bytes per id that a Map key keeps alive, against 56 here.
 */
export function createJobId(): string {
  if (idRandomUsed === ID_BATCH) {
    randomFillSync(idRandom)
    idRandomUsed = 0
  }
  const offset = 16 * idRandomUsed++
  let at = 0
  for (let i = 0; i < 16; i++) {
    let byte = idRandom[offset + i]!
    if (i === 6) byte = (byte & 0x0f) | 0x40 // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80 // RFC 4122 variant
    idText[at++] = HEX[byte >> 4]!
    idText[at++] = HEX[byte & 15]!
    if (i === 3 || i === 5 || i === 7 || i === 9) idText[at++] = 0x2d // '-'
  }
  return String.fromCharCode.apply(null, idText)
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
 * The in-memory job store: every job by id, a count per state, and an insertion-ordered index per
 * state except `pending` (which may hold millions and is listed by scanning instead). Finished
 * jobs are kept up to a bound each; past it the oldest is forgotten.
 */
export class JobStore {
  readonly #jobs = new Map<string, JobRecord>()
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

  /** Adds a new pending job. */
  add(record: JobRecord): void {
    this.#jobs.set(record.id, record)
    this.#counts.pending++
  }

  get(id: string): JobRecord | undefined {
    return this.#jobs.get(id)
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
    if (this.#jobs.get(record.id) !== record) return
    this.#unindex(record)
    this.#counts[record.state]--
    this.#jobs.delete(record.id)
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
