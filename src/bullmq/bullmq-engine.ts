import type { JobsOptions, Worker } from 'bullmq'
import type {
  BackgroundJobEngine,
  EngineCapabilities,
  EngineContext,
  NewJob,
  NewSchedule,
} from '../background-job-engine'
import { JobNotFoundError, JobStateError, ManagerStoppedError } from '../errors'
import { JobEventHub, type JobEventListener } from '../job-events'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown, toErrorInfo } from '../policy/error-info'
import type {
  CancelManyResult,
  JobCounts,
  JobEventName,
  JobEventOptions,
  JobInfo,
  JobPage,
  JobState,
  ListJobsQuery,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from '../types'
import { AttemptRunner } from './attempt-runner'
import { addJobsInChunks, cancelJobs } from './bulk-jobs'
import type { ResolvedBullmqEngineOptions } from './bullmq-options'
import { CancelledStore } from './cancelled-store'
import { toJobInfo, type BullmqJob } from './job-mapping'
import { DUE_AT_FIELD, JobReader, type KitQueue, type QueueAccess } from './job-reader'
import type { BullmqModules } from './peer-dependencies'
import { QueueScopeEvents } from './queue-events'
import { RedisConnections } from './redis-connections'
import { BullmqSchedules, kitRepeatStrategy, nextRunOf } from './schedules'
import { EngineWaiters, type PollResult } from './waiters'

/** The BullMQ backoff type of every job: the kit's policy, through the worker's `backoffStrategy`. */
export const KIT_BACKOFF = 'express-background-jobs'

/**
 * The most attempts of a job enqueued by a process that does not know its class (by name): the
 * worker's backoff strategy stops it at its class's real limit.
 */
const ATTEMPTS_CEILING = 1001

/** How often waiters poll Redis when no event of this process woke them, in ms. */
const POLL_MS = 100

/** How long stop waits, after aborting, for the attempts that honour their signal to end, in ms. */
const ABORT_GRACE_MS = 200

/** The longest stop waits for one closing step (a connection that never came up may never close). */
const STEP_TIMEOUT_MS = 5000

const FINISHED: readonly JobState[] = ['completed', 'failed', 'cancelled']

/**
 * The BullMQ engine: one BullMQ `Queue` for enqueuing, inspection and control, and one `Worker`
 * (unless `worker: false`) that runs attempts through the job registry. Jobs live in Redis and
 * outlive the process; every process on the same queue shares them. This class is the facade: it
 * checks what each call may do and hands it on to the reader, the runner, the schedules, the
 * cancelled store and the waiters.
 */
export class BullmqJobEngine implements BackgroundJobEngine {
  readonly #context: EngineContext
  readonly #options: ResolvedBullmqEngineOptions
  readonly #modules: BullmqModules
  readonly #logger: JobLogger
  readonly #events: JobEventHub
  readonly #queueEvents: QueueScopeEvents
  readonly #connections: RedisConnections
  readonly #access: QueueAccess
  readonly #reader: JobReader
  readonly #schedules: BullmqSchedules
  readonly #cancelled: CancelledStore
  readonly #waiters: EngineWaiters
  readonly #runner: AttemptRunner
  readonly #worker: Worker<unknown, unknown, string> | undefined
  /** The last connection error reported per part, so an outage is logged once, not per retry. */
  readonly #reported = new Map<string, string>()
  #stopPromise: Promise<StopResult> | undefined
  /** Whether stop has closed the engine's connections. */
  #isStopDone = false
  /** This process's control operations still in flight, by job id: reads of that job wait for them. */
  readonly #inFlight = new Map<string, Promise<unknown>>()
  #endDrain: (() => void) | undefined

  constructor(context: EngineContext, options: ResolvedBullmqEngineOptions, modules: BullmqModules) {
    this.#context = context
    this.#options = options
    this.#modules = modules
    this.#logger = context.logger
    this.#events = new JobEventHub(context.logger)
    const keyBase = `${options.prefix}:${options.queueName}`
    this.#cancelled = new CancelledStore(keyBase, options.keepCancelled)
    this.#schedules = new BullmqSchedules(keyBase)
    this.#connections = new RedisConnections(modules, options.connection)
    this.#access = this.#openAccess(this.#connections)
    this.#reader = new JobReader(this.#access)
    this.#queueEvents = new QueueScopeEvents({
      logger: context.logger,
      open: () =>
        new modules.bullmq.QueueEvents(options.queueName, {
          connection: this.#connections.blockingOptions,
          prefix: options.prefix,
        }),
      snapshot: (id) => this.getJob(id),
      isCancelled: async (id) => (await this.#cancelled.which(this.#access.client, [id])).has(id),
    })
    this.#connections.producer.on('ready', () => this.#reported.delete('queue'))
    this.#waiters = new EngineWaiters(
      {
        settled: (ids) => this.#pollSettled(ids),
        isIdle: async () => isIdle(await this.#reader.counts()),
        onError: (error) => this.#reportConnectionError('waiters', error),
      },
      POLL_MS,
    )
    this.#runner = new AttemptRunner({
      handlers: context.handlers,
      logger: context.logger,
      WaitingError: modules.bullmq.WaitingError,
      hooks: {
        recordError: (job, error) => this.#recordError(job, error),
        recordDue: async (jobId, at) => {
          await this.#access.client.hset(this.#access.queue.toKey(jobId), DUE_AT_FIELD, String(at))
        },
        recordScheduleRun: (job) => {
          const at = nextRunOf(job.id, job.opts.prevMillis) ?? job.timestamp
          return this.#schedules.recordRun(this.#access, job.repeatJobKey ?? '', job.id ?? '', at)
        },
        interrupted: (job, at) => {
          if (this.#events.has('interrupted')) this.#events.emit('interrupted', () => toJobInfo(job, 'pending', at))
        },
      },
    })
    this.#worker = options.worker ? this.#startWorker() : undefined
  }

  /** Jobs live in Redis, shared by every process on the queue; no hard pending-jobs bound. */
  readonly capabilities: EngineCapabilities = { durable: true, sharedAcrossProcesses: true, boundsPendingJobs: false }

  get isStopped(): boolean {
    return this.#stopPromise !== undefined
  }

  async enqueue(job: NewJob): Promise<string> {
    this.#assertRunning()
    const added: BullmqJob = await this.#connections.run(`enqueue job "${job.name}"`, () =>
      this.#access.queue.add(job.name, job.args, {
        ...this.#jobOptions(job.name),
        timestamp: job.enqueuedAt,
        delay: Math.max(0, job.runAt - job.enqueuedAt),
      }),
    )
    if (this.#events.has('enqueued')) this.#events.emit('enqueued', () => toJobInfo(added, 'pending'))
    return added.id ?? ''
  }

  /** In chunks of `addBulk` (see {@link addJobsInChunks}). */
  async enqueueMany(jobs: readonly NewJob[]): Promise<string[]> {
    this.#assertRunning()
    const parts = { connections: this.#connections, access: this.#access, events: this.#events }
    return addJobsInChunks({ ...parts, jobOptions: (name) => this.#jobOptions(name) }, jobs)
  }

  /** Pipelined, in chunks (see {@link cancelJobs}). */
  cancelMany(ids: readonly string[]): Promise<CancelManyResult> {
    return this.#withAccess('cancel jobs', (reader, access) =>
      cancelJobs({ reader, access, events: this.#events, waiters: this.#waiters }, ids),
    )
  }

  async getJob(id: string): Promise<JobInfo | undefined> {
    await this.#inFlight.get(id)
    return this.#withAccess('read a job', (reader) => reader.get(id))
  }

  listJobs(query: Required<ListJobsQuery>): Promise<JobPage> {
    return this.#withAccess('list jobs', (reader) => reader.list(query))
  }

  counts(): Promise<JobCounts> {
    return this.#withAccess('count jobs', (reader) => reader.counts())
  }

  cancel(id: string): Promise<void> {
    return this.#control(id, 'cancel a job', async (reader, access) => {
      const found = await this.#require(reader, access, id, 'cancel', ['pending'])
      const [snapshot] = await reader.snapshots([found.job], 'pending')
      const info: JobInfo = {
        ...(snapshot ?? toJobInfo(found.job, 'pending')),
        state: 'cancelled',
        finishedAt: new Date(),
      }
      // Kept first, so that whoever hears BullMQ's `removed` finds it cancelled.
      await access.cancelled.add(access.client, info)
      const removed = await access.queue.remove(id).catch(async (error: unknown) => {
        await access.cancelled.delete(access.client, id)
        if (/job scheduler/.test(toErrorInfo(error).message)) throw new ScheduleRunCancelError(id)
        throw error
      })
      // 0: the job left its set between the check and the removal (a worker started it).
      if (removed !== 1) {
        await access.cancelled.delete(access.client, id)
        const state = (await reader.raw(id))?.state ?? 'running'
        throw new JobStateError({ jobId: id, state, expected: ['pending'], action: 'cancel' })
      }
      this.#waiters.resolveSettled(info)
      if (this.#events.has('cancelled')) this.#events.emit('cancelled', () => info)
    })
  }

  async retry(id: string): Promise<JobInfo> {
    this.#assertRunning()
    return this.#control(id, 'retry a job', async (reader, access) => {
      const { job } = await this.#require(reader, access, id, 'retry', ['failed'])
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
      } catch (error) {
        // Another process retried or deleted it first.
        const state = (await reader.raw(id))?.state
        if (state === undefined) throw new JobNotFoundError(id)
        if (state !== 'failed') throw new JobStateError({ jobId: id, state, expected: ['failed'], action: 'retry' })
        throw error
      }
      const now = Date.now()
      await access.client.hset(access.queue.toKey(id), DUE_AT_FIELD, String(now))
      this.#waiters.poke()
      return toJobInfo(job, 'pending', now)
    })
  }

  deleteJob(id: string): Promise<void> {
    return this.#control(id, 'delete a job', async (reader, access) => {
      const found = await reader.raw(id)
      if (found === undefined) {
        if (!(await access.cancelled.delete(access.client, id))) throw new JobNotFoundError(id)
        return
      }
      if (found.state !== 'completed' && found.state !== 'failed') {
        throw new JobStateError({ jobId: id, state: found.state, expected: FINISHED, action: 'delete' })
      }
      await found.job.remove()
    })
  }

  async upsertSchedule(definition: NewSchedule): Promise<ScheduleInfo> {
    this.#assertRunning()
    return this.#withAccess('add a schedule', (_reader, access) =>
      this.#schedules.upsert(access, definition, this.#jobOptions(definition.name)),
    )
  }

  removeSchedule(id: string): Promise<boolean> {
    return this.#withAccess('remove a schedule', (_reader, access) => this.#schedules.remove(access, id))
  }

  listSchedules(): Promise<ScheduleInfo[]> {
    return this.#withAccess('list schedules', (_reader, access) => this.#schedules.list(access))
  }

  on<E extends JobEventName>(event: E, listener: JobEventListener<E>, options?: JobEventOptions): () => void {
    return options?.scope === 'queue' ? this.#queueEvents.on(event, listener) : this.#events.on(event, listener)
  }

  off<E extends JobEventName>(event: E, listener: JobEventListener<E>, options?: JobEventOptions): void {
    if (options?.scope === 'queue') this.#queueEvents.off(event, listener)
    else this.#events.off(event, listener)
  }

  async onIdle(): Promise<void> {
    const idle = isIdle(await this.counts())
    if (idle) return
    if (this.#isStopDone) throw leftPending()
    return this.#waiters.idle()
  }

  onSettled(id: string): Promise<JobInfo> {
    if (this.#isStopDone) {
      return this.getJob(id).then((job) => {
        if (job === undefined) throw new JobNotFoundError(id)
        if (FINISHED.includes(job.state)) return job
        throw leftPending()
      })
    }
    // The waiter is in place before anything is read, as on the memory engine: a job that
    // settles (and is retried by a listener) while the read is on its way is not missed.
    const settled = this.#waiters.settled(id)
    void this.getJob(id).then(
      (job) => {
        if (job === undefined) this.#waiters.reject(id, new JobNotFoundError(id))
        else if (FINISHED.includes(job.state)) this.#waiters.resolveSettled(job)
        // After stop this process waits no more: a pending job will not run here (it may
        // elsewhere). A running one may still end while stop drains; stop rejects what is left.
        else if (this.#stopPromise !== undefined && job.state === 'pending') this.#waiters.reject(id, leftPending())
      },
      (error: unknown) => this.#waiters.reject(id, error instanceof Error ? error : new Error(describeThrown(error))),
    )
    return settled
  }

  stop(options: StopOptions = {}): Promise<StopResult> {
    // A second stop({ drain: false }) while the first drains is a second Ctrl-C: abort now.
    if (this.#stopPromise !== undefined && options.drain === false) this.#endDrain?.()
    this.#stopPromise ??= this.#stop(options)
    return this.#stopPromise
  }

  async #stop({ drain = true, timeoutMs = 30_000 }: StopOptions): Promise<StopResult> {
    this.#runner.halt()
    this.#connections.closing()
    let running = 0
    const worker = this.#worker
    // Each step in its own try: a failure in one must not leave the others undone.
    if (worker !== undefined) {
      await this.#step('pausing the worker', () => worker.pause(true))
      if (drain && this.#runner.active > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs)
          this.#endDrain = () => {
            clearTimeout(timer)
            resolve()
          }
          void this.#runner.whenIdle().then(this.#endDrain)
        })
        this.#endDrain = undefined
      }
      if (this.#runner.active > 0) {
        this.#runner.abortAll(() => new ManagerStoppedError('interrupted'))
        await Promise.race([this.#runner.whenIdle(), sleep(ABORT_GRACE_MS)])
      }
      running = this.#runner.active
      // Forced when attempts ignore their signal: their jobs stay active in Redis until their lock
      // expires, then another worker runs them again (at-least-once).
      await this.#step('closing the worker', () => worker.close(running > 0))
    }
    let pending = 0
    await this.#step('counting the jobs left pending', async () => {
      pending = (await this.#reader.counts()).pending
    })
    this.#waiters.rejectAll(leftPending)
    this.#isStopDone = true
    await this.#step('closing the queue events', () => this.#queueEvents.close())
    await this.#step('closing the queue', () => this.#access.queue.close())
    await this.#step('closing the connection', () => this.#connections.close())
    const interrupted = this.#runner.interrupted
    if (running > 0) {
      safeLog(
        this.#logger,
        'warn',
        `Background jobs stopped with ${running} attempts still running (they ignored their signal); their jobs stay running in Redis until their lock expires, then a worker runs them again`,
        { pending, running, interrupted },
      )
    }
    return { pending, running, interrupted }
  }

  #startWorker(): Worker<unknown, unknown, string> {
    const options = this.#options
    const worker = new this.#modules.bullmq.Worker<unknown, unknown, string>(
      options.queueName,
      // Three parameters: BullMQ passes its signal only to a processor that declares them.
      (job, token, signal) => this.#runner.run(job, token, signal),
      {
        connection: this.#connections.blockingOptions,
        prefix: options.prefix,
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        maxStalledCount: options.maxStalledCount,
        settings: {
          backoffStrategy: (attemptsMade, _type, error, job) =>
            this.#runner.backoff(attemptsMade, error, job as BullmqJob | undefined),
          repeatStrategy: kitRepeatStrategy,
        },
      },
    )
    worker.on('error', (error: unknown) => this.#reportConnectionError('worker', error))
    worker.on('ready', () => this.#reported.delete('worker'))
    worker.on('active', (job: BullmqJob) => {
      if (this.#stopPromise === undefined && this.#events.has('started'))
        this.#events.emit('started', () => toJobInfo(job, 'running'))
    })
    worker.on('completed', (job: BullmqJob) => this.#settled(job, 'completed'))
    worker.on('failed', (job: BullmqJob | undefined) => {
      if (job === undefined) return
      if (job.finishedOn !== undefined && job.finishedOn > 0) {
        this.#settled(job, 'failed')
        return
      }
      const dueAt = this.#runner.takeRetryAt(job.id ?? '') ?? Date.now() + job.delay
      if (this.#events.has('retrying')) this.#events.emit('retrying', () => toJobInfo(job, 'pending', dueAt))
    })
    return worker
  }

  /** A job ran to its end in this process's worker: its waiters first, then its listeners. */
  #settled(job: BullmqJob, state: 'completed' | 'failed'): void {
    const info = toJobInfo(job, state)
    this.#waiters.resolveSettled(info)
    if (this.#events.has(state)) this.#events.emit(state, () => info)
  }

  /** The queue and stores over `connections`. */
  #openAccess(connections: RedisConnections): QueueAccess {
    const queue: KitQueue = new this.#modules.bullmq.Queue<unknown, unknown, string>(this.#options.queueName, {
      connection: connections.producer,
      prefix: this.#options.prefix,
      settings: { repeatStrategy: kitRepeatStrategy },
    })
    queue.on('error', (error: unknown) => this.#reportConnectionError('queue', error))
    return { queue, client: connections.producer, cancelled: this.#cancelled }
  }

  /**
   * Runs `call` on Redis. Before stop, on the engine's connection; after stop (which closed it),
   * on a connection opened for this call and closed after it, so that a stopped engine can still
   * be inspected and controlled, and leaves nothing open that would keep the process alive.
   * @throws BackendUnavailableError when Redis cannot be reached
   */
  async #withAccess<T>(operation: string, call: (reader: JobReader, access: QueueAccess) => Promise<T>): Promise<T> {
    if (this.#stopPromise === undefined) return this.#connections.run(operation, () => call(this.#reader, this.#access))
    const connections = new RedisConnections(this.#modules, this.#options.connection)
    const access = this.#openAccess(connections)
    try {
      return await connections.run(operation, () => call(new JobReader(access), access))
    } finally {
      await access.queue.close().catch(() => {})
      await connections.close()
    }
  }

  /**
   * Runs a control operation on job `id`, and has reads of that job wait for it: once `retry(id)`
   * (or cancel, delete) is called, this process's `getJob(id)` and `onSettled(id)` see its effect,
   * as they would on the memory engine, where it takes effect at once.
   */
  #control<T>(id: string, operation: string, call: (reader: JobReader, access: QueueAccess) => Promise<T>): Promise<T> {
    const previous = this.#inFlight.get(id)
    const running = (async () => {
      await previous
      return this.#withAccess(operation, call)
    })()
    const settled = running.then(
      () => undefined,
      () => undefined,
    )
    this.#inFlight.set(id, settled)
    void settled.then(() => {
      if (this.#inFlight.get(id) === settled) this.#inFlight.delete(id)
    })
    return running
  }

  /** The BullMQ job `id` when it is in one of the states `action` applies to. */
  async #require(
    reader: JobReader,
    access: QueueAccess,
    id: string,
    action: 'cancel' | 'retry',
    expected: readonly JobState[],
  ): Promise<{ job: BullmqJob; state: JobState }> {
    const found = await reader.raw(id)
    if (found === undefined) {
      if ((await access.cancelled.get(access.client, id)) === undefined) throw new JobNotFoundError(id)
      throw new JobStateError({ jobId: id, state: 'cancelled', expected, action })
    }
    if (!expected.includes(found.state)) throw new JobStateError({ jobId: id, state: found.state, expected, action })
    return found
  }

  /** What the waiters find of `ids`: one state read per job, then snapshots of those settled. */
  async #pollSettled(ids: readonly string[]): Promise<Map<string, PollResult>> {
    const { queue, client } = this.#access
    const states = await Promise.all(ids.map((id) => queue.getJobState(id)))
    const unknown = ids.filter((_id, i) => states[i] === 'unknown')
    const cancelled = await this.#cancelled.which(client, unknown)
    const found = new Map<string, PollResult>()
    await Promise.all(
      ids.map(async (id, i) => {
        const state = states[i]
        if (state === 'completed' || state === 'failed' || cancelled.has(id)) {
          found.set(id, (await this.#reader.get(id)) ?? 'missing')
        } else if (state === 'unknown') {
          found.set(id, 'missing')
        }
      }),
    )
    return found
  }

  /** Writes a timed-out attempt's error on its job, which stays active while its body ends. */
  async #recordError(job: BullmqJob, error: Error): Promise<void> {
    const info = toErrorInfo(error)
    const stacktrace = [...(job.stacktrace ?? []), info.stack ?? `${info.name}: ${info.message}`]
    await this.#access.client.hset(this.#access.queue.toKey(job.id ?? ''), {
      failedReason: info.message,
      stacktrace: JSON.stringify(stacktrace),
    })
  }

  /** The BullMQ options of every job named `name`: attempts, the kit's backoff, the keep bounds. */
  #jobOptions(name: string): JobsOptions {
    const { keepCompleted, keepFailed } = this.#options
    return {
      attempts: this.#context.handlers.handler(name)?.maxAttempts ?? ATTEMPTS_CEILING,
      backoff: { type: KIT_BACKOFF },
      removeOnComplete: keepCompleted === 0 ? true : { count: keepCompleted },
      removeOnFail: keepFailed === 0 ? true : { count: keepFailed },
    }
  }

  async #step(what: string, step: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STEP_TIMEOUT_MS)
    })
    try {
      const result = await Promise.race([step().then(() => 'done' as const), late])
      if (result === 'late') {
        safeLog(this.#logger, 'warn', `Stopping the BullMQ engine: ${what} took over ${STEP_TIMEOUT_MS} ms; going on`)
      }
    } catch (error) {
      safeLog(this.#logger, 'error', `Stopping the BullMQ engine: ${what} failed`, { error: describeThrown(error) })
    } finally {
      clearTimeout(timer)
    }
  }

  #reportConnectionError(part: string, error: unknown): void {
    const message = describeThrown(error)
    if (this.#reported.get(part) === message) return
    this.#reported.set(part, message)
    safeLog(this.#logger, 'warn', `BullMQ ${part}: ${message} (the engine reconnects by itself)`, {
      error: message,
    })
  }

  #assertRunning(): void {
    if (this.#stopPromise !== undefined) throw new ManagerStoppedError()
  }
}

/**
 * A schedule's next run, which BullMQ keeps ahead of its time, cannot be cancelled on its own: a
 * {@link JobStateError} whose message says to remove (or replace) the schedule instead.
 */
export class ScheduleRunCancelError extends JobStateError {
  constructor(jobId: string) {
    super({ jobId, state: 'pending', expected: ['pending'], action: 'cancel' })
    this.message = `Job ${jobId} is the next run of a recurring schedule, which BullMQ keeps until it is due; it cannot be cancelled on its own. Remove the schedule (removeSchedule) or replace it (addOrUpdateSchedule) instead.`
  }
}

function isIdle(counts: JobCounts): boolean {
  return counts.pending === 0 && counts.running === 0
}

function leftPending(): ManagerStoppedError {
  return new ManagerStoppedError('left-pending')
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
