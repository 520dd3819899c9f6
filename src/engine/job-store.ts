import type { JobErrorInfo, JobInfo, JobState } from '../types'
import { TimerNode } from './timer-wheel'

/**
 * One job as the memory engine holds it. It is its own timer-wheel node, so a pending job costs
 * one object. Times are ms since the epoch.
 */
export class JobRecord extends TimerNode {
  state: JobState = 'pending'
  attempts = 0
  maxAttempts = 1
  lastRunAt = 0
  finishedAt = 0
  lastError: JobErrorInfo | undefined = undefined
  /** Aborts the running attempt; set only while running. */
  controller: AbortController | undefined = undefined
  /** Where the record sits in the store's per-state index (running and finished states). */
  indexed = false

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

  /** The wheel calls this when `runAt` has come. */
  override expire(): void {
    this.onDue(this)
  }

  /** A snapshot for callers; they cannot change the record through it. */
  toInfo(): JobInfo {
    return {
      id: this.id,
      name: this.name,
      args: structuredClone(this.args),
      state: this.state,
      attempts: this.attempts,
      maxAttempts: this.maxAttempts,
      createdAt: new Date(this.createdAt),
      runAt: new Date(this.runAt),
      ...(this.lastRunAt > 0 && { lastRunAt: new Date(this.lastRunAt) }),
      ...(this.finishedAt > 0 && { finishedAt: new Date(this.finishedAt) }),
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      ...(this.scheduleId !== undefined && { scheduleId: this.scheduleId }),
    }
  }
}

type IndexedState = Exclude<JobState, 'pending'>

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
  readonly #index: Record<IndexedState, Set<JobRecord>> = {
    running: new Set(),
    completed: new Set(),
    failed: new Set(),
    cancelled: new Set(),
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
    const set = this.#index[state]
    set.add(record)
    record.indexed = true
    if (set.size > this.#limits[state]) {
      const oldest = set.values().next().value
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
    const records = [...this.#index[state]]
    if (state !== 'running') records.reverse()
    return records.slice(offset, offset + limit)
  }

  #unindex(record: JobRecord): void {
    if (!record.indexed) return
    this.#index[record.state as IndexedState].delete(record)
    record.indexed = false
  }
}
