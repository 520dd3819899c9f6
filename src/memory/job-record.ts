import type { JobHandlerSource } from '../background-job-engine'
import type { JobAttemptInfo, JobErrorInfo, JobInfo, JobLogLine, JobProgress, JobState } from '../types'
import { cloneJobArgs } from '../policy/job-args'
import type { JobAttempt } from './job-attempt'
import { TimerNode } from './timer-wheel'

/** The `logs` of a snapshot of a job that logged nothing: one shared, frozen empty list. */
const NO_LOGS: readonly JobLogLine[] = Object.freeze([])

/** The `history` of a snapshot of a job that has not started: one shared, frozen empty list. */
const NO_ATTEMPTS: readonly JobAttemptInfo[] = Object.freeze([])

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
  /** The body of an attempt that timed out is still running (the next attempt waits for it). */
  isBodyRunning = false
  /** 1 + the record's slot in the store's index of its state (running and finished), 0 when in none. */
  indexed = 0
  scheduleId: string | undefined = undefined
  /** What the job last passed to `ctx.updateProgress`. */
  progress: JobProgress | undefined = undefined
  /** Its log lines, `at` in ms since the epoch; made on the first `ctx.log`. */
  logs: Array<{ at: number; message: string }> | undefined = undefined
  /**
   * The attempts before the last one, made when one fails and the job goes back to pending (a
   * retry): the last attempt is read from the fields above, so a job that runs once stores none.
   */
  pastAttempts: JobAttemptInfo[] | undefined = undefined
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

  /** Whether the body of a timed-out attempt is still running. */
  get isBodyRunning(): boolean {
    return this.#history?.isBodyRunning ?? false
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
    // Plain assignments in the documented field order (`logs` and `history`, last in it, at the
    // end): the conditional spreads this replaces cost more than the rest of the snapshot.
    const origin = this.kind.origin
    const info = {
      id: this.id,
      name: this.kind.name,
      args: cloneJobArgs(this.args),
      state: this.state,
      attempts: this.attempts,
      maxAttempts: this.maxAttempts,
      createdAt: new Date(origin + this.createdTick),
      runAt: new Date(origin + this.dueTick),
    } as { -readonly [K in keyof JobInfo]: JobInfo[K] }
    const history = this.#history
    if (history === undefined) {
      info.logs = NO_LOGS
      info.history = NO_ATTEMPTS
      return info
    }
    if (history.lastRunTick !== null) info.lastRunAt = new Date(origin + history.lastRunTick)
    if (history.finishedTick !== null) info.finishedAt = new Date(origin + history.finishedTick)
    if (history.lastError !== undefined) info.lastError = history.lastError
    if (history.scheduleId !== undefined) info.scheduleId = history.scheduleId
    if (history.progress !== undefined) info.progress = structuredClone(history.progress)
    info.logs =
      history.logs === undefined
        ? NO_LOGS
        : history.logs.map((line) => ({ at: new Date(line.at), message: line.message }))
    info.history = history.lastRunTick === null ? NO_ATTEMPTS : this.#attemptHistory(history, origin)
    return info
  }

  /** The past attempts and, when it is running or ended the job, the last one. */
  #attemptHistory(history: JobHistory, origin: number): JobAttemptInfo[] {
    const entries = history.pastAttempts === undefined ? [] : [...history.pastAttempts]
    const state = this.state
    if (history.lastRunTick !== null && (state === 'running' || state === 'completed' || state === 'failed')) {
      entries.push({
        attempt: history.attempts,
        startedAt: new Date(origin + history.lastRunTick),
        ...(state !== 'running' &&
          history.finishedTick !== null && { finishedAt: new Date(origin + history.finishedTick) }),
        outcome: state,
        ...(state === 'failed' && history.lastError !== undefined && { error: history.lastError }),
      })
    }
    return entries
  }

  /** Keeps the attempt that just failed in the history, before the job goes back to pending. */
  keepFailedAttempt(finishedAt: number): void {
    const history = this.written()
    if (history.lastRunTick === null) return
    const entry: JobAttemptInfo = {
      attempt: history.attempts,
      startedAt: new Date(this.kind.origin + history.lastRunTick),
      finishedAt: new Date(finishedAt),
      outcome: 'failed',
      ...(history.lastError !== undefined && { error: history.lastError }),
    }
    ;(history.pastAttempts ??= []).push(entry)
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

/** The memory engine's {@link JobKind}: one per job name. */
export class EngineJobKind implements JobKind {
  constructor(
    readonly name: string,
    readonly origin: number,
    readonly due: (record: JobRecord) => void,
    readonly handlers: JobHandlerSource,
  ) {}

  get maxAttempts(): number {
    return this.handlers.handler(this.name)?.maxAttempts ?? 1
  }
}
