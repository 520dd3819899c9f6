import type { AwilixContainer } from 'awilix'
import type { Clock } from './clock'
import type { JobEventListener } from './job-events'
import type { JobLogger } from './logger'
import type { CronSchedule } from './policy/cron-schedule'
import type { JobPolicy, JobPolicyOptions } from './policy/job-policy'
import type { ResolvedRetryOptions } from './policy/retry-policy'
import type {
  CancelManyResult,
  JobContext,
  JobCounts,
  JobEventName,
  JobEventOptions,
  JobInfo,
  JobPage,
  ListJobsQuery,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from './types'

/** How the engine runs one job name: its policy and the function that runs one attempt. */
export interface JobHandler {
  /** 1 + the retries allowed. */
  readonly maxAttempts: number
  /** The longest an attempt may run, in ms (0: no limit). */
  readonly timeoutMs: number
  readonly retry: ResolvedRetryOptions
  /** Runs one attempt; resolves on success, rejects (or throws) on failure. */
  run(args: unknown, context: JobContext): Promise<void>
  /**
   * Optional: what `run` does, in two steps, so that an engine can settle the attempt from the
   * body's own promise instead of one chained after it (workload W1): begins the attempt and
   * returns it; the engine calls its `end()` once its `body` settled. Throws as `run` may.
   */
  begin?(args: unknown, context: JobContext): BegunAttempt
}

/** One attempt begun by {@link JobHandler.begin}. */
export interface BegunAttempt {
  /** Fulfils when the job's body succeeded; rejects with what it threw or rejected with. */
  readonly body: Promise<unknown>
  /**
   * Releases what the attempt holds (its awilix scope, when it made one); called once, after
   * `body` settled. Returns a promise when that is still under way, which never rejects.
   */
  end(): Promise<void> | undefined
}

/** Looks up job handlers by job name; the job registry implements it. */
export interface JobHandlerSource {
  /** The handler of `name`, or undefined when no job by that name is registered. */
  handler(name: string): JobHandler | undefined
}

/** A job to store, with validated and copied arguments. */
export interface NewJob {
  readonly name: string
  readonly args: unknown
  /** When the job may run, in ms since the epoch. */
  readonly runAt: number
  /**
   * When it was enqueued, in ms since the epoch, read from the clock `runAt` was computed with:
   * the job's creation time.
   */
  readonly enqueuedAt: number
  readonly scheduleId?: string
}

/**
 * A batch of new jobs of one name, as columns: each job's args and due time side by side, the
 * name and the creation time once, so the manager makes no object per job (workload W3, bulk
 * enqueue). What {@link BackgroundJobEngine.enqueueMany} stores.
 */
export interface NewJobBatch {
  readonly name: string
  /** When the batch was enqueued, in ms since the epoch: every job's creation time. */
  readonly enqueuedAt: number
  /** Each job's validated and copied arguments. */
  readonly args: readonly unknown[]
  /** When each job may run, in ms since the epoch, at the index of its args. */
  readonly runAt: readonly number[]
}

/** A recurring schedule to add or replace, its expression already parsed and validated. */
export interface NewSchedule {
  readonly id: string
  /** The expression and time zone, parsed once by the manager. */
  readonly cron: CronSchedule
  /** The job name to enqueue at each occurrence. */
  readonly name: string
  /** Validated and copied arguments of each job it enqueues. */
  readonly args: unknown
}

/**
 * What the manager and the admin router need from a store and its scheduler. The in-memory engine
 * implements it today; a distributed engine (BullMQ on Redis) implements the same interface, so
 * jobs, the manager API and the admin router stay as they are when an application moves to it.
 * Every method is asynchronous for that reason, even where the memory engine could answer at once.
 */
export interface BackgroundJobEngine {
  /** Stores a job and schedules it; resolves with its id. */
  enqueue(job: NewJob): Promise<string>
  /**
   * Stores a batch of jobs (of one name, validated and copied by the manager) and schedules them;
   * resolves with their ids in the order of `batch.args`. An engine that can refuse the batch before storing
   * any (a bound on pending jobs, a stopped engine) refuses it whole. One that stores it in
   * several writes (BullMQ: one per chunk) and fails part-way rejects with an error that carries
   * the ids already stored, so that none is lost without a word.
   */
  enqueueMany(batch: NewJobBatch): Promise<string[]>
  getJob(id: string): Promise<JobInfo | undefined>
  listJobs(query: Required<ListJobsQuery>): Promise<JobPage>
  counts(): Promise<JobCounts>
  /** Cancels a pending job. */
  cancel(id: string): Promise<void>
  /**
   * Cancels every pending job of `ids` as {@link BackgroundJobEngine.cancel} would (same end
   * state, same events); an id whose job is missing or not pending is listed in `skipped`, not
   * refused. The ids are already checked to be job-id strings.
   */
  cancelMany(ids: readonly string[]): Promise<CancelManyResult>
  /** Moves a failed job back to pending, due now, with a fresh retry budget. */
  retry(id: string): Promise<JobInfo>
  /** Forgets a completed, failed or cancelled job. */
  deleteJob(id: string): Promise<void>
  upsertSchedule(schedule: NewSchedule): Promise<ScheduleInfo>
  /** Removes a schedule; resolves false when there was none. Jobs it enqueued stay. */
  removeSchedule(id: string): Promise<boolean>
  listSchedules(): Promise<ScheduleInfo[]>
  /** Listens to `event` in `options.scope` (this process's transitions by default). */
  on<E extends JobEventName>(event: E, listener: JobEventListener<E>, options?: JobEventOptions): () => void
  /** Removes a listener added with `on` (with the same scope); a listener that was not added is ignored. */
  off<E extends JobEventName>(event: E, listener: JobEventListener<E>, options?: JobEventOptions): void
  /**
   * Resolves when no job is pending or running in the store: on a shared store, in every
   * process; a schedule's next run, not yet due, does not count.
   */
  onIdle(): Promise<void>
  /**
   * Resolves with the job once it is completed, failed for good, or cancelled, in whichever
   * process it ran.
   */
  onSettled(id: string): Promise<JobInfo>
  /** Stops for good: memoised, so every call returns the same promise. */
  stop(options?: StopOptions): Promise<StopResult>
  readonly isStopped: boolean
  /** What the engine can promise; absent means the memory engine's ({@link MEMORY_CAPABILITIES}). */
  readonly capabilities?: EngineCapabilities
}

/** What an engine promises, for applications, the admin and the contract suite's skips. */
export interface EngineCapabilities {
  /** Jobs outlive the process: they are kept in a store of their own (Redis), not in memory. */
  readonly durable: boolean
  /** Several processes share the jobs: any of them may run a job another enqueued. */
  readonly sharedAcrossProcesses: boolean
  /**
   * `maxPendingJobs` is a hard bound. A shared store could only check it with a count before
   * each enqueue, which races between producers, so the BullMQ engine does not offer it.
   */
  readonly boundsPendingJobs: boolean
}

/** The memory engine's capabilities: one process, jobs in its memory. */
export const MEMORY_CAPABILITIES: EngineCapabilities = {
  durable: false,
  sharedAcrossProcesses: false,
  boundsPendingJobs: true,
}

/** What an engine is built with: {@link EngineFactory.create} receives it from `addBackgroundJobs`. */
export interface EngineContext {
  /** The registered jobs, looked up by name when a job runs. */
  readonly handlers: JobHandlerSource
  /** The container's logger. */
  readonly logger: JobLogger
  /** The clock the manager computes `runAt` with ({@link EngineFactory.clock}). */
  readonly clock: Clock
  /** The resolved policy defaults ({@link EngineFactory.policy}); handlers already apply them. */
  readonly policy: JobPolicy
  /** The root container, where an engine may register its parts for inspection. */
  readonly container: AwilixContainer
}

/**
 * How `o.useEngine(factory)` builds an engine. The in-memory engine's factory is
 * `memoryEngine(options)` (what `o.useInMemoryStore(options)` uses); another engine ships its own.
 *
 * @example
 * addBackgroundJobs(container, (o) => o.useEngine({ create: (context) => new MyEngine(context) }).addJob(MyJob))
 */
export interface EngineFactory {
  /**
   * The policy defaults of jobs on this engine; fields left out get the kit's (5 min timeout,
   * MASA's retry policy, 1 MiB args). Validated by `addBackgroundJobs`.
   */
  readonly policy?: JobPolicyOptions
  /**
   * The clock the manager and the engine share.
   * @default systemClock
   */
  readonly clock?: Clock
  /** Builds the engine, once, when the manager is first resolved. */
  create(context: EngineContext): BackgroundJobEngine
}
