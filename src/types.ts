/**
 * The states a job moves through.
 * - `pending`: waiting for its `runAt` (delayed, due, or waiting for a retry);
 * - `running`: an attempt is executing;
 * - `completed`: an attempt succeeded (kept in a bounded recent list);
 * - `failed`: retries are exhausted or the job cannot run (kept, bounded, for inspection and retry);
 * - `cancelled`: cancelled while pending (kept in a bounded recent list).
 */
export type JobState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'

/** The job states as a const object, for code that prefers names to string literals. */
export const JobStates = {
  Pending: 'pending',
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const satisfies Record<string, JobState>

/** All job states, in lifecycle order. */
export const JOB_STATES: readonly JobState[] = Object.values(JobStates)

/** The error of a failed attempt, as stored with the job. */
export interface JobErrorInfo {
  /** The error's `name` (`'Error'` for thrown non-Error values). */
  readonly name: string
  /** The error's message, or the thrown value converted to a string. */
  readonly message: string
  /** The stack, when the thrown value had one. */
  readonly stack?: string
}

/**
 * What a job reports as its progress with `ctx.updateProgress`: a percentage from 0 to 100, or a
 * small JSON object (at most 1024 characters of JSON) such as `{ done: 40, of: 120 }`.
 */
export type JobProgress = number | { readonly [key: string]: unknown }

/** One line a job logged with `ctx.log`. */
export interface JobLogLine {
  readonly at: Date
  readonly message: string
}

/** How one attempt ended (`running` while it runs). */
export type JobAttemptOutcome = 'running' | 'completed' | 'failed'

/** One attempt of a job, in {@link JobInfo.history}. */
export interface JobAttemptInfo {
  /** Its number, from 1; a retry by hand (a fresh budget) numbers its attempts from 1 again. */
  readonly attempt: number
  readonly startedAt: Date
  /** When it ended; absent while it runs. */
  readonly finishedAt?: Date
  readonly outcome: JobAttemptOutcome
  /** The error it failed with. */
  readonly error?: JobErrorInfo
}

/** A read-only snapshot of one job, as returned by the manager and the admin API. */
export interface JobInfo<TArgs = unknown> {
  /**
   * The job's id: an opaque string, unique in its store, that the engine makes. The memory engine
   * numbers jobs from "1" in each process; BullMQ numbers them from a counter in Redis shared by
   * every process (not restarting with the process), and a schedule's run there is
   * `repeat:<schedule id>:<time>`. Compare ids as strings; do not parse them.
   */
  readonly id: string
  /** The job's name: the class's static `jobName`, or the class name. */
  readonly name: string
  /** A copy of the arguments given at enqueue time. */
  readonly args: TArgs
  readonly state: JobState
  /** How many attempts have started (0 while the first is pending). */
  readonly attempts: number
  /** The most attempts this job may make (1 + its retries). */
  readonly maxAttempts: number
  readonly createdAt: Date
  /** When the job is (or was last) due to run. */
  readonly runAt: Date
  /** When the last attempt started. */
  readonly lastRunAt?: Date
  /** When the job reached `completed`, `failed` or `cancelled`. */
  readonly finishedAt?: Date
  /** The error of the last failed attempt. */
  readonly lastError?: JobErrorInfo
  /** The recurring schedule that created this job, if any. */
  readonly scheduleId?: string
  /** The last progress the job reported with `ctx.updateProgress`; absent when it reported none. */
  readonly progress?: JobProgress
  /** The last lines (at most 100) the job logged with `ctx.log`, oldest first; empty when none. */
  readonly logs: readonly JobLogLine[]
  /** One entry per attempt started, oldest first; empty before the first attempt. */
  readonly history: readonly JobAttemptInfo[]
}

/** Options for one enqueue. Give at most one of `delay` and `runAt`. */
export interface EnqueueOptions {
  /**
   * Milliseconds from now until the job may run; a finite number >= 0.
   * @default 0
   */
  readonly delay?: number
  /** The earliest time the job may run. A time in the past means "now". */
  readonly runAt?: Date
}

/**
 * One job of a batch given to `enqueueMany`: its arguments and, as for one enqueue, at most one of
 * `delay` and `runAt`.
 */
export type BulkJob<A> = { readonly args: A } & EnqueueOptions

/** What `cancelMany` did. */
export interface CancelManyResult {
  /** How many of the ids were pending and are now cancelled. */
  readonly cancelled: number
  /**
   * The ids it left as they were, in the order given: no job has them, or their job was not
   * pending (running, finished, already cancelled, or named twice in the batch), or, on BullMQ,
   * it is a schedule's next run, which only removing the schedule ends.
   */
  readonly skipped: readonly string[]
}

/** A page of jobs from {@link BackgroundJobEngine.listJobs}. */
export interface JobPage {
  readonly items: readonly JobInfo[]
  /** Jobs in the requested state, in all pages. */
  readonly total: number
  readonly offset: number
  readonly limit: number
}

/** Which jobs to list. */
export interface ListJobsQuery {
  readonly state: JobState
  /** @default 0 */
  readonly offset?: number
  /** @default 50 */
  readonly limit?: number
}

/** Number of jobs held in each state. */
export type JobCounts = Readonly<Record<JobState, number>>

/** What a job's `executing` method receives beside its arguments. */
export interface JobContext {
  readonly jobId: string
  readonly jobName: string
  /**
   * 1 for the first attempt, 2 for the first retry, and so on: failed attempts so far + 1. On a
   * durable engine delivery is at-least-once: a job whose worker died or lost its lock runs again
   * with the same number, so jobs must be idempotent.
   */
  readonly attempt: number
  readonly maxAttempts: number
  /** Aborted when the attempt times out or the manager stops without draining. */
  readonly signal: AbortSignal
  /**
   * Stores the job's progress (a number from 0 to 100, or a small JSON object), shown in
   * `JobInfo.progress` and on the admin page; the last call wins, across attempts. On a durable
   * engine (BullMQ) the write is sent at once and is stored before the attempt ends.
   * @throws InvalidArgumentError for another value
   */
  readonly updateProgress: (value: JobProgress) => void
  /**
   * Adds a line to the job's log (`JobInfo.logs`, the last 100 lines kept, across attempts; a line
   * longer than 2000 characters is cut). On a durable engine it is stored before the attempt ends.
   * @throws InvalidArgumentError when `message` is not a string
   */
  readonly log: (message: string) => void
}

/** Retry policy: how often and how long to wait before retrying a failed attempt. */
export interface RetryOptions {
  /**
   * Retries after the first failed attempt (0 disables retrying).
   * @default 10
   */
  readonly maxRetries?: number
  /**
   * Wait before the first retry, in ms.
   * @default 60000
   */
  readonly initialDelayMs?: number
  /**
   * Each further wait is the previous one times this factor (from 1 to 1000).
   * @default 2
   */
  readonly factor?: number
  /**
   * No wait is longer than this, in ms.
   * @default 86400000 (one day)
   */
  readonly maxDelayMs?: number
}

/** A recurring schedule: a job enqueued at every occurrence of a cron expression. */
export interface ScheduleInfo {
  readonly id: string
  readonly cron: string
  readonly jobName: string
  readonly args: unknown
  /** IANA time zone the expression is evaluated in; the process's zone when absent. */
  readonly timezone?: string
  /** The next occurrence, or undefined when the expression has none left. */
  readonly nextRunAt?: Date
  /** When this schedule last enqueued a job. */
  readonly lastEnqueuedAt?: Date
  /** The id of the job last enqueued by this schedule. */
  readonly lastJobId?: string
}

/** What {@link BackgroundJobEngine.stop} leaves behind. */
export interface StopResult {
  /**
   * Jobs left pending in the store (never started, waiting for a retry, or interrupted). On a
   * durable engine (`capabilities.durable`: BullMQ) they stay in it, for this process's next
   * start or another process to run; on the memory engine they are lost when the process exits.
   * On a shared store the count is every process's.
   */
  readonly pending: number
  /**
   * This process's attempts still running after their signals were aborted (they ignore it). On
   * the memory engine they go on running in this process; on a durable one their jobs stay
   * running in the store until their lock expires, then a worker runs them again.
   */
  readonly running: number
  /**
   * Attempts that stop aborted and that then ended without completing: not job failures, their
   * jobs are back to `pending` (and counted there) with the attempt not counted.
   */
  readonly interrupted: number
}

/** Options for stopping the manager. */
export interface StopOptions {
  /**
   * Wait for running attempts to finish (no new ones start either way).
   * @default true
   */
  readonly drain?: boolean
  /**
   * The longest wait for running attempts when draining, in ms; then their signals are aborted.
   * A second `stop({ drain: false })` during the wait ends it at once (a second Ctrl-C).
   * @default 30000
   */
  readonly timeoutMs?: number
}

/** Events emitted by the manager, with the job snapshot they carry. */
export interface JobEvents {
  enqueued: JobInfo
  started: JobInfo
  completed: JobInfo
  /** A job failed for good: retries exhausted, unknown job, or not retryable. */
  failed: JobInfo
  /** An attempt failed and a retry is pending; `runAt` is the retry's time. */
  retrying: JobInfo
  cancelled: JobInfo
  /** Stop aborted a running attempt, which ended without completing: the job is pending again. */
  interrupted: JobInfo
}

/** The name of a job event. */
export type JobEventName = keyof JobEvents

/** Every job event, in the order a job may emit them. */
export const JOB_EVENT_NAMES: readonly JobEventName[] = [
  'enqueued',
  'started',
  'retrying',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
]

/**
 * Where the events a listener hears come from:
 * - `local` (the default): this process's transitions, each with the job's snapshot as it was;
 * - `queue`: every process's on a shared store (BullMQ), best-effort: the snapshot is read when
 *   the event arrives (so it may be later than the event, and a job already gone is not told),
 *   and events are missed while the event reader connects or when the store trims its stream. On
 *   an engine of one process (memory) the two are the same.
 */
export type JobEventScope = 'local' | 'queue'

/** Options of `on(event, listener, options)`. */
export interface JobEventOptions {
  /** @default 'local' */
  readonly scope?: JobEventScope
}

/** The event scopes, for validation. */
export const JOB_EVENT_SCOPES: readonly JobEventScope[] = ['local', 'queue']
