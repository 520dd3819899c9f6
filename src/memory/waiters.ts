import type { JobInfo } from '../types'
import type { JobRecord } from './job-record'

interface Waiter<T> {
  resolve(value: T): void
  reject(error: Error): void
}

/**
 * The memory engine's waiters: promises from `onSettled(id)` per job record, and from `onIdle()`.
 * The engine tells it when a job settles and when it may be idle; after stop, it rejects the
 * waiters whose jobs will never run, instead of leaving them waiting forever.
 */
export class JobWaiters {
  readonly #settled = new Map<JobRecord, Waiter<JobInfo>[]>()
  /**
   * Speed trick (workload W1h): undefined while nobody waits, so `hasIdleWaiters`, read on every
   * settle, compares a field instead of reading an array's length. A fresh `[]` has the layout of
   * an empty list until its first push; each one made after the waiters were resolved changed the
   * layout under the optimised settle path, which deoptimised it. The obvious version is an array
   * replaced by `[]` when emptied.
   */
  #idle: Waiter<void>[] | undefined = undefined

  /** A promise of `record`'s snapshot once it settles. */
  settled(record: JobRecord): Promise<JobInfo> {
    return new Promise((resolve, reject) => {
      const waiters = this.#settled.get(record)
      if (waiters === undefined) this.#settled.set(record, [{ resolve, reject }])
      else waiters.push({ resolve, reject })
    })
  }

  /** A promise that resolves at the next {@link JobWaiters.resolveIdle}. */
  idle(): Promise<void> {
    return new Promise((resolve, reject) => (this.#idle ??= []).push({ resolve, reject }))
  }

  /** Whether anyone waits for a job to settle (a bulk cancel skips snapshots nobody waits for). */
  get hasSettledWaiters(): boolean {
    return this.#settled.size > 0
  }

  /** Whether anyone waits for idleness (checked before working out whether the engine is idle). */
  get hasIdleWaiters(): boolean {
    return this.#idle !== undefined
  }

  /** `record` has settled: resolves its waiters with one snapshot. */
  resolveSettled(record: JobRecord): void {
    if (this.#settled.size === 0) return
    const waiters = this.#settled.get(record)
    if (waiters === undefined) return
    this.#settled.delete(record)
    const info = record.toInfo()
    for (const waiter of waiters) waiter.resolve(info)
  }

  /** Nothing is pending or running: resolves every idle waiter. */
  resolveIdle(): void {
    const waiting = this.#idle
    this.#idle = undefined
    if (waiting !== undefined) for (const waiter of waiting) waiter.resolve()
  }

  /**
   * After stop: rejects the waiters of jobs left pending (they will never run here) and, when
   * `isIdleNever` (no attempt is left to finish), every idle waiter, each with `error()`.
   */
  rejectStranded(error: () => Error, isIdleNever: boolean): void {
    for (const [record, waiters] of this.#settled) {
      if (record.state !== 'pending') continue
      this.#settled.delete(record)
      for (const waiter of waiters) waiter.reject(error())
    }
    const waiting = this.#idle
    if (isIdleNever && waiting !== undefined) {
      this.#idle = undefined
      for (const waiter of waiting) waiter.reject(error())
    }
  }
}
