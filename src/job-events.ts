import { MAX_LISTENERS_PER_EVENT } from './limits'
import { safeLog, type JobLogger } from './logger'
import { describeThrown } from './policy/error-info'
import type { JobEventName, JobEvents, JobInfo } from './types'

/** A listener of one job event. */
export type JobEventListener<E extends JobEventName> = (payload: JobEvents[E]) => void

/** The events that end a job, whose listeners may ask for the light {@link JobEndedListener} form. */
export type JobEndedEventName = 'completed' | 'failed' | 'cancelled'

/**
 * @internal A listener of an ending event that reads only the job's name and when it ended, in
 * ms since the epoch (undefined when the snapshot it was taken from has no `finishedAt`).
 */
export type JobEndedListener = (name: string, finishedAt: number | undefined) => void

/** The light listener behind each listener made by {@link jobEndedListener}. */
const endedListeners = new WeakMap<object, JobEndedListener>()

/**
 * @internal An event listener for an ending event that needs only the job's name and end time,
 * such as a counter; it must be quick (see {@link JobEventHub.hasSnapshotListeners}). It works on any hub and engine, taking both from the snapshot; an engine
 * that emits with {@link JobEventHub.emitEnded} calls `listener` with the two values instead and
 * builds no snapshot for it (workload W1: a snapshot per job cost a metrics counter most of its
 * throughput).
 */
export function jobEndedListener<E extends JobEndedEventName>(listener: JobEndedListener): JobEventListener<E> {
  const full: JobEventListener<E> = (job) => listener(job.name, job.finishedAt?.getTime())
  endedListeners.set(full, listener)
  return full
}

/**
 * A typed event hub whose listeners cannot hurt the engine: each one is called in its own
 * try/catch, a throw is logged and the remaining listeners still run.
 */
export class JobEventHub {
  readonly #listeners = new Map<JobEventName, Set<(payload: never) => void>>()
  readonly #logger: JobLogger
  /** Events already warned about for their listener count. */
  readonly #warned = new Set<JobEventName>()

  constructor(logger: JobLogger) {
    this.#logger = logger
  }

  /**
   * Adds a listener; returns a function that removes it. Past {@link MAX_LISTENERS_PER_EVENT}
   * listeners of one event, warns once for that event.
   */
  on<E extends JobEventName>(event: E, listener: JobEventListener<E>): () => void {
    let set = this.#listeners.get(event)
    if (set === undefined) this.#listeners.set(event, (set = new Set()))
    set.add(listener)
    if (set.size > MAX_LISTENERS_PER_EVENT && !this.#warned.has(event)) {
      this.#warned.add(event)
      safeLog(
        this.#logger,
        'warn',
        `More than ${MAX_LISTENERS_PER_EVENT} "${event}" listeners on the background-job manager: each runs for every job, so one added per request or per job is a leak. Remove listeners with off(event, listener) or the function on() returns.`,
        { event, listeners: set.size },
      )
    }
    return () => {
      set.delete(listener)
    }
  }

  /** Removes a listener added with {@link JobEventHub.on}; false when it was not listening. */
  off<E extends JobEventName>(event: E, listener: JobEventListener<E>): boolean {
    return this.#listeners.get(event)?.delete(listener) ?? false
  }

  /** How many listeners `event` has. */
  listenerCount(event: JobEventName): number {
    return this.#listeners.get(event)?.size ?? 0
  }

  /** Whether `event` has listeners (so payloads are built only when someone listens). */
  has(event: JobEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0
  }

  /**
   * @internal Whether `event` has listeners other than those made by {@link jobEndedListener},
   * which are counters, quick enough that the engine may treat their time as its own.
   */
  hasSnapshotListeners(event: JobEndedEventName): boolean {
    const set = this.#listeners.get(event)
    if (set === undefined) return false
    for (const listener of set) if (!endedListeners.has(listener)) return true
    return false
  }

  /**
   * @internal What {@link JobEventHub.emit} does for an event that ends a job, except that the
   * listeners made by {@link jobEndedListener} are called with `name` and `finishedAt`, and
   * `make()` runs only when another listener needs the snapshot.
   */
  emitEnded(event: JobEndedEventName, make: () => JobInfo, name: string, finishedAt: number): void {
    const set = this.#listeners.get(event)
    if (set === undefined || set.size === 0) return
    let payload: JobInfo | undefined
    for (const listener of [...set] as JobEventListener<JobEndedEventName>[]) {
      try {
        const ended = endedListeners.get(listener)
        if (ended !== undefined) ended(name, finishedAt)
        else listener((payload ??= make()))
      } catch (error) {
        this.#logThrown(event, error)
      }
    }
  }

  /** Calls each listener of `event` with the payload `make()` builds once. */
  emit<E extends JobEventName>(event: E, make: () => JobEvents[E]): void {
    const set = this.#listeners.get(event)
    if (set === undefined || set.size === 0) return
    const payload = make()
    for (const listener of [...set] as JobEventListener<E>[]) {
      try {
        listener(payload)
      } catch (error) {
        this.#logThrown(event, error)
      }
    }
  }

  #logThrown(event: JobEventName, error: unknown): void {
    safeLog(this.#logger, 'error', `A "${event}" event listener threw; the engine carries on`, {
      error: describeThrown(error),
    })
  }
}
