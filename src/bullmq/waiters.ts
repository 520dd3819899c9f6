import { JobNotFoundError } from '../errors'
import type { JobCounts, JobInfo } from '../types'

interface Waiter<T> {
  resolve(value: T): void
  reject(error: Error): void
}

/** What a poll finds of one waited job: its settled snapshot, `missing`, or undefined (not settled yet). */
export type PollResult = JobInfo | 'missing' | undefined

/** What the waiters read Redis with. */
export interface WaiterChecks {
  /** What each of `ids` is now; one round trip or a few for all of them. */
  settled(ids: readonly string[]): Promise<Map<string, PollResult>>
  /** Whether no job is pending or running, in every process. */
  isIdle(): Promise<boolean>
  /** A check failed (Redis unreachable): the waiters keep waiting and poll again. */
  onError(error: unknown): void
}

/**
 * The BullMQ engine's waiters: `onSettled(id)` and `onIdle()` across processes. A job may settle
 * in any worker process, and BullMQ's event stream is best-effort (trimmed, and blind while it
 * connects), so the waiters poll Redis every `pollMs` while any wait, one batch for all of them;
 * this process's own transitions wake them at once ({@link EngineWaiters.resolveSettled},
 * {@link EngineWaiters.poke}).
 */
export class EngineWaiters {
  readonly #checks: WaiterChecks
  readonly #pollMs: number
  readonly #settled = new Map<string, Waiter<JobInfo>[]>()
  #idle: Waiter<void>[] = []
  #timer: NodeJS.Timeout | undefined
  #isPolling = false
  #isPokedWhilePolling = false

  constructor(checks: WaiterChecks, pollMs: number) {
    this.#checks = checks
    this.#pollMs = pollMs
  }

  /** A promise of job `id`'s snapshot once it settles. */
  settled(id: string): Promise<JobInfo> {
    return new Promise((resolve, reject) => {
      const waiters = this.#settled.get(id)
      if (waiters === undefined) this.#settled.set(id, [{ resolve, reject }])
      else waiters.push({ resolve, reject })
      this.#schedule(this.#pollMs)
    })
  }

  /** A promise that resolves once no job is pending or running. */
  idle(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#idle.push({ resolve, reject })
      this.#schedule(this.#pollMs)
    })
  }

  /** Job `info.id` settled in this process: its waiters resolve with `info`, now. */
  resolveSettled(info: JobInfo): void {
    const waiters = this.#settled.get(info.id)
    if (waiters !== undefined) {
      this.#settled.delete(info.id)
      for (const waiter of waiters) waiter.resolve(info)
    }
    if (this.#idle.length > 0) this.poke()
  }

  /** Whether an `onSettled` of job `id` waits here. */
  isWaitedFor(id: string): boolean {
    return this.#settled.has(id)
  }

  /**
   * A job nobody here waits for ({@link isWaitedFor}) settled in this process: `onIdle` waiters
   * check again at once, as {@link resolveSettled} has them do, without the job's snapshot.
   */
  settledUnwaited(): void {
    if (this.#idle.length > 0) this.poke()
  }

  /** Rejects the waiters of job `id` with `error`. */
  reject(id: string, error: Error): void {
    const waiters = this.#settled.get(id)
    if (waiters === undefined) return
    this.#settled.delete(id)
    for (const waiter of waiters) waiter.reject(error)
  }

  /** Something changed: checks again at once instead of at the next poll. */
  poke(): void {
    if (this.#isPolling) this.#isPokedWhilePolling = true
    else this.#schedule(0)
  }

  /** Rejects every waiter with `error()` and stops polling (stop). */
  rejectAll(error: () => Error): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const settled = [...this.#settled.values()].flat()
    const idle = this.#idle
    this.#settled.clear()
    this.#idle = []
    for (const waiter of [...settled, ...idle]) waiter.reject(error())
  }

  get #hasWaiters(): boolean {
    return this.#settled.size > 0 || this.#idle.length > 0
  }

  #schedule(ms: number): void {
    if (this.#isPolling) return
    if (this.#timer !== undefined) {
      if (ms > 0) return
      clearTimeout(this.#timer)
    }
    this.#timer = setTimeout(() => void this.#poll(), ms)
  }

  async #poll(): Promise<void> {
    this.#timer = undefined
    if (!this.#hasWaiters) return
    this.#isPolling = true
    this.#isPokedWhilePolling = false
    try {
      const ids = [...this.#settled.keys()]
      if (ids.length > 0) {
        const found = await this.#checks.settled(ids)
        for (const [id, result] of found) {
          if (result === undefined) continue
          const waiters = this.#settled.get(id)
          if (waiters === undefined) continue
          this.#settled.delete(id)
          for (const waiter of waiters) {
            if (result === 'missing') waiter.reject(new JobNotFoundError(id))
            else waiter.resolve(result)
          }
        }
      }
      if (this.#idle.length > 0 && (await this.#checks.isIdle())) {
        const idle = this.#idle
        this.#idle = []
        for (const waiter of idle) waiter.resolve()
      }
    } catch (error) {
      this.#checks.onError(error)
    } finally {
      this.#isPolling = false
    }
    if (this.#hasWaiters) this.#schedule(this.#isPokedWhilePolling ? 0 : this.#pollMs)
  }
}

/** Whether `counts` has no job pending or running. */
export function isIdle(counts: JobCounts): boolean {
  return counts.pending === 0 && counts.running === 0
}
