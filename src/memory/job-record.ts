import type { JobHandlerSource } from '../background-job-engine'
import type { JobAttemptInfo, JobErrorInfo, JobInfo, JobLogLine, JobProgress, JobState } from '../types'
import { cloneJobArgs } from '../policy/job-args'
import type { JobAttempt } from './job-attempt'
import { TimerNode, asSmallInteger } from './timer-wheel'

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
 * Speed trick (workload W3, cancel): what a job that ends without ever starting (a cancelled one)
 * keeps: its args, state, end time and index slot, four fields where a full {@link JobHistory}
 * has ten. Cancelling a million pending jobs made a million histories, most of them forgotten a
 * keepCancelled later, and their allocation was much of the cancel's garbage collection. A record
 * whose ending is written anything else gets a full history in its place (`JobRecord.written`).
 * The obvious version makes a {@link JobHistory} for every cancelled job.
 */
export class JobEnding {
  state: JobState = 'pending'
  // Times in ticks of the kind's origin (null: never), small integers V8 stores in place: an
  // absolute time in ms would be a double, boxed in a heap number made with every history.
  finishedTick: number | null = null
  /** 1 + the record's slot in the store's index of its state (running and finished), 0 when in none. */
  indexed = 0

  /**
   * @param args the record's args, which move here when the ending is made (written again only
   * when a spare ending is reused, see {@link JobRecord.forget})
   */
  constructor(public args: unknown) {}
}

/**
 * What a record the store has forgotten holds once its {@link JobEnding} went to the spare (see
 * {@link JobRecord.forget}): a final state, so whatever still holds the record (a ready queue
 * skipping stale entries) never takes it for pending. Nothing writes to a forgotten record.
 */
const FORGOTTEN = new JobEnding(undefined)
FORGOTTEN.state = 'cancelled'

/**
 * Speed trick (workload W3, cancel): the endings of forgotten records that never started, given
 * to the next records that end without starting. A steady stream of cancels, each evicting the
 * oldest of the kept cancelled jobs, then makes no ending at all. A new ending was young and
 * pointed to from an old record (the pending job, made long before), so every scavenge kept every
 * ending made since the last one alive, through records already forgotten, and promoted them: a
 * quarter of the cancel's time went to garbage collection.
 *
 * The spares are made ahead, when a store is made ({@link reserveEndings}), enough to end every
 * job its cancelled list keeps and one more: made before the jobs they will end, they are old by
 * the time those are cancelled, as the records are, so writing one into a record (and back here)
 * stores an old object in an old one, which V8's write barrier lets through on its fast path. An
 * ending made during the cancels stays young while old records point at it, and each of those
 * writes takes the barrier's slow path (remembering the slot for the next scavenge).
 *
 * The obvious version makes a new {@link JobEnding} for every cancelled job. At most
 * {@link MAX_SPARE_ENDINGS} for the process: holding more would only keep memory the next cancels
 * may never need.
 */
const spareEndings: JobEnding[] = []
/** How many spare endings the stores made so far asked for (see {@link reserveEndings}); at least one. */
let reservedEndings = 1
/** The most spare endings kept, whatever the stores ask for. */
const MAX_SPARE_ENDINGS = 1024

/**
 * Makes spare endings ahead for a store that keeps up to `count` jobs ended without starting
 * (its `keepCancelled` and one more, the job that evicts the oldest), up to
 * {@link MAX_SPARE_ENDINGS} in all (see {@link spareEndings}).
 */
export function reserveEndings(count: number): void {
  reservedEndings = Math.min(MAX_SPARE_ENDINGS, reservedEndings + count)
  while (spareEndings.length < reservedEndings) spareEndings.push(new JobEnding(undefined))
}

/**
 * What a record holds only once it has started, finished or came from a schedule. Pending jobs
 * (possibly millions) never need it, so it lives apart and is made on first write; from then on
 * it also holds the record's args and state (see {@link JobRecord}).
 */
export class JobHistory extends JobEnding {
  attempts = 0
  maxAttempts = 0
  lastRunTick: number | null = null
  lastError: JobErrorInfo | undefined = undefined
  attempt: JobAttempt | undefined = undefined
  /**
   * Workload W3 (cancel) and W1: what few jobs ever have (a schedule id, progress, logs, past
   * attempts, a timed-out body still running) lives in a second object made on its first write,
   * so each history, made for every job that runs or is cancelled, is 32 bytes smaller.
   */
  #extras: JobHistoryExtras | undefined = undefined

  /** The history of a record that had only `ending`, which it takes over. */
  static of(ending: JobEnding): JobHistory {
    const history = new JobHistory(ending.args)
    history.state = ending.state
    history.finishedTick = ending.finishedTick
    history.indexed = ending.indexed
    return history
  }

  /** The body of an attempt that timed out is still running (the next attempt waits for it). */
  get isBodyRunning(): boolean {
    return this.#extras?.isBodyRunning ?? false
  }
  set isBodyRunning(value: boolean) {
    if (value || this.#extras !== undefined) (this.#extras ??= new JobHistoryExtras()).isBodyRunning = value
  }

  get scheduleId(): string | undefined {
    return this.#extras?.scheduleId
  }
  set scheduleId(value: string | undefined) {
    if (value !== undefined || this.#extras !== undefined) (this.#extras ??= new JobHistoryExtras()).scheduleId = value
  }

  /** What the job last passed to `ctx.updateProgress`. */
  get progress(): JobProgress | undefined {
    return this.#extras?.progress
  }
  set progress(value: JobProgress | undefined) {
    if (value !== undefined || this.#extras !== undefined) (this.#extras ??= new JobHistoryExtras()).progress = value
  }

  /** Its log lines, `at` in ms since the epoch; made on the first `ctx.log`. */
  get logs(): Array<{ at: number; message: string }> | undefined {
    return this.#extras?.logs
  }
  set logs(value: Array<{ at: number; message: string }> | undefined) {
    if (value !== undefined || this.#extras !== undefined) (this.#extras ??= new JobHistoryExtras()).logs = value
  }

  /**
   * The attempts before the last one, made when one fails and the job goes back to pending (a
   * retry): the last attempt is read from the fields above, so a job that runs once stores none.
   */
  get pastAttempts(): JobAttemptInfo[] | undefined {
    return this.#extras?.pastAttempts
  }
  set pastAttempts(value: JobAttemptInfo[] | undefined) {
    if (value !== undefined || this.#extras !== undefined)
      (this.#extras ??= new JobHistoryExtras()).pastAttempts = value
  }
}

/**
 * The rarely written part of a {@link JobHistory}. (Made inline where written: a private method
 * on JobHistory would give each history a hidden brand field.)
 */
class JobHistoryExtras {
  isBodyRunning = false
  scheduleId: string | undefined = undefined
  progress: JobProgress | undefined = undefined
  logs: Array<{ at: number; message: string }> | undefined = undefined
  pastAttempts: JobAttemptInfo[] | undefined = undefined
}

/**
 * One job as the memory engine holds it. It is its own timer-wheel node, so a pending job costs
 * one object of seven fields (and its args): its sequence number (the id), its kind, its creation
 * and due ticks (small integers, see {@link TimerNode.dueTick}), two wheel links, and its args,
 * which give way to its history once it has one.
 *
 * Workload W3 (bytes per pending job): `args`, `state` and the history share one field. A record
 * without a history is pending, since every way out of pending (an attempt starting, a cancel)
 * writes one (a cancel only a {@link JobEnding}, the smaller part of a history), so its state
 * needs no field of its own; once the history or ending is made it holds the args and the state.
 * Args are plain data made by `copyJobArgs`, never a {@link JobEnding}, so the field says which
 * it holds.
 */
export class JobRecord extends TimerNode {
  #argsOrHistory: unknown

  /**
   * @param seq the job's number, unique in its store; its id is this number in decimal
   * @param createdTick when it was created, in ticks of `kind.origin`
   */
  constructor(
    readonly seq: number,
    readonly kind: JobKind,
    args: unknown,
    readonly createdTick: number,
  ) {
    super()
    this.#argsOrHistory = args
  }

  /** The job's args, validated and copied at enqueue. */
  get args(): unknown {
    const data = this.#argsOrHistory
    return data instanceof JobEnding ? data.args : data
  }

  /**
   * Whether the record has a history: it has started (or been cancelled or come from a schedule).
   * One without is known only to the store and the wheel.
   */
  get hasHistory(): boolean {
    return this.#argsOrHistory instanceof JobEnding
  }

  /** The job's state: `pending` until it has a history (or an ending). */
  get state(): JobState {
    const data = this.#argsOrHistory
    return data instanceof JobEnding ? data.state : 'pending'
  }
  set state(value: JobState) {
    const data = this.#argsOrHistory
    // An ending takes a final state in place; a job that runs again needs its full history.
    if (data instanceof JobEnding && (data instanceof JobHistory || isFinal(value))) data.state = value
    else if (value !== 'pending' || data instanceof JobEnding) this.written().state = value
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
    return historyIn(this.#argsOrHistory)?.attempts ?? 0
  }

  /** The most attempts the job may make: its handler's, taken when an attempt starts. */
  get maxAttempts(): number {
    const taken = historyIn(this.#argsOrHistory)?.maxAttempts ?? 0
    return taken > 0 ? taken : this.kind.maxAttempts
  }

  /** When the job is (or was last) due, in ms since the epoch. */
  get runAt(): number {
    return this.kind.origin + this.dueTick
  }

  /** When the last attempt started, in ms since the epoch (0: never). */
  get lastRunAt(): number {
    const tick = historyIn(this.#argsOrHistory)?.lastRunTick ?? null
    return tick === null ? 0 : this.kind.origin + tick
  }
  set lastRunAt(value: number) {
    this.written().lastRunTick = value === 0 ? null : asSmallInteger(value - this.kind.origin)
  }

  /** When the job reached a final state, in ms since the epoch (0: it has not). */
  get finishedAt(): number {
    const tick = endingIn(this.#argsOrHistory)?.finishedTick ?? null
    return tick === null ? 0 : this.kind.origin + tick
  }
  /** A job that never started gets a {@link JobEnding} here, not a full history. */
  set finishedAt(value: number) {
    const data = this.#argsOrHistory
    const tick = value === 0 ? null : asSmallInteger(value - this.kind.origin)
    if (data instanceof JobEnding) {
      data.finishedTick = tick
    } else if (tick !== null) {
      let ending = spareEndings.pop()
      if (ending === undefined) ending = new JobEnding(data)
      else ending.args = data
      ending.finishedTick = tick
      this.#argsOrHistory = ending
    }
  }

  /**
   * The store has forgotten this record (evicted or deleted it): a record that never started gives
   * its {@link JobEnding} to the next one that ends so (see {@link spareEndings}) and keeps a shared
   * final one instead. A record with a full history keeps it: a timed-out body may still write to it.
   */
  forget(): void {
    const data = this.#argsOrHistory
    if (!(data instanceof JobEnding) || data === FORGOTTEN) return
    data.indexed = 0
    if (data instanceof JobHistory) return
    this.#argsOrHistory = FORGOTTEN
    data.args = undefined
    data.state = 'pending'
    data.finishedTick = null
    if (spareEndings.length < reservedEndings) spareEndings.push(data)
  }

  /** The error of the last failed attempt. */
  get lastError(): JobErrorInfo | undefined {
    return historyIn(this.#argsOrHistory)?.lastError
  }
  set lastError(value: JobErrorInfo | undefined) {
    if (value !== undefined || historyIn(this.#argsOrHistory) !== undefined) this.written().lastError = value
  }

  /** Whether the body of a timed-out attempt is still running. */
  get isBodyRunning(): boolean {
    return historyIn(this.#argsOrHistory)?.isBodyRunning ?? false
  }

  /** The running attempt; set only while running. */
  get attempt(): JobAttempt | undefined {
    return historyIn(this.#argsOrHistory)?.attempt
  }

  /** The recurring schedule that created this job, if any. */
  get scheduleId(): string | undefined {
    return historyIn(this.#argsOrHistory)?.scheduleId
  }

  /** The store's index slot (see {@link JobHistory.indexed}). */
  get indexed(): number {
    return endingIn(this.#argsOrHistory)?.indexed ?? 0
  }
  set indexed(value: number) {
    const data = this.#argsOrHistory
    if (data instanceof JobEnding) data.indexed = value
    else if (value !== 0) this.written().indexed = value
  }

  /** The history, made on first call (from the record's {@link JobEnding}, if it has one). */
  written(): JobHistory {
    const data = this.#argsOrHistory
    if (data instanceof JobHistory) return data
    const history = data instanceof JobEnding ? JobHistory.of(data) : new JobHistory(data)
    this.#argsOrHistory = history
    return history
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
    const data = this.#argsOrHistory
    const history = historyIn(data)
    if (history === undefined) {
      if (data instanceof JobEnding && data.finishedTick !== null) {
        info.finishedAt = new Date(origin + data.finishedTick)
      }
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
    info.history = history.lastRunTick === null ? NO_ATTEMPTS : attemptHistoryOf(this, history, origin)
    return info
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
 * The history a record's args-or-history field holds, if it holds one. A function, not a private
 * getter: a private accessor, like a private method, gives every instance a hidden brand field.
 */
function historyIn(argsOrHistory: unknown): JobHistory | undefined {
  return argsOrHistory instanceof JobHistory ? argsOrHistory : undefined
}

/** The ending (or full history, which is one) the field holds, if any; see {@link historyIn}. */
function endingIn(argsOrHistory: unknown): JobEnding | undefined {
  return argsOrHistory instanceof JobEnding ? argsOrHistory : undefined
}

/** Whether `state` is one a job ends in. */
function isFinal(state: JobState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled'
}

/**
 * The past attempts of `record` and, when it is running or ended the job, the last one. A function,
 * not a private method: a class with a private method gives each instance a hidden brand field,
 * 8 bytes on every pending record (workload W3).
 */
function attemptHistoryOf(record: JobRecord, history: JobHistory, origin: number): JobAttemptInfo[] {
  const entries = history.pastAttempts === undefined ? [] : [...history.pastAttempts]
  const state = record.state
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

/**
 * Workload W3 (bytes per pending job): makes V8 keep the records' tick fields `tagged`, which holds
 * a small integer in place and anything else as a pointer, instead of letting them become boxed
 * doubles. Ticks are small integers (see `asSmallInteger`) until a job is due more than 24.8 days
 * after the wheel's origin (or a process has run that long); the first such tick stored in a
 * field that has only ever held small integers would turn that field into a boxed double on every
 * record, 16 bytes more each. A field that has once held a non-number (here `null`, on a record
 * made only for this and dropped) stays tagged: only the records holding such a tick pay for it.
 */
function primeTickFields(): void {
  const kind: JobKind = { name: '', origin: 0, maxAttempts: 1, due: () => {} }
  const primer = new JobRecord(0, kind, null, null as unknown as number)
  primer.dueTick = null as unknown as number
}
primeTickFields()
