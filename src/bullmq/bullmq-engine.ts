import type {
  BackgroundJobEngine,
  EngineCapabilities,
  EngineContext,
  NewJob,
  NewJobBatch,
  NewSchedule,
} from '../background-job-engine'
import { JobNotFoundError, ManagerStoppedError } from '../errors'
import { JobEventHub, type JobEventListener } from '../job-events'
import { describeThrown } from '../policy/error-info'
import type {
  CancelManyResult,
  JobCounts,
  JobEventName,
  JobEventOptions,
  JobInfo,
  JobPage,
  ListJobsQuery,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from '../types'
import { createAttemptHooks } from './attempt-hooks'
import { AttemptRunner } from './attempt-runner'
import { addJobsInChunks, cancelJobs } from './bulk-jobs'
import type { ResolvedBullmqEngineOptions } from './bullmq-options'
import { CancelledStore } from './cancelled-store'
import { ConnectionErrorReporter } from './connection-errors'
import { EngineAccess } from './engine-access'
import { EngineStop, leftPending } from './engine-stop'
import { FINISHED, cancelJob, deleteJob, retryJob } from './job-control'
import { JobControlQueue } from './job-control-queue'
import { toJobInfo, type BullmqJob } from './job-mapping'
import { JobOptionsCache } from './job-options'
import type { JobReader, QueueAccess } from './job-reader'
import type { BullmqModules } from './peer-dependencies'
import { QueueScopeEvents } from './queue-events'
import { BullmqSchedules } from './schedules'
import { pollSettled } from './settled-poll'
import { EngineWaiters, isIdle } from './waiters'
import { startWorker, type KitWorker } from './worker-wiring'

/** How often waiters poll Redis when no event of this process woke them, in ms. */
const POLL_MS = 100

/**
 * The BullMQ engine: one BullMQ `Queue` for enqueuing, inspection and control, and one `Worker`
 * (unless `worker: false`) that runs attempts through the job registry. Jobs live in Redis and
 * outlive the process; every process on the same queue shares them. This class is the facade: it
 * checks what each call may do and hands it on to the reader, the job control, the runner, the
 * schedules, the waiters and the stop.
 */
export class BullmqJobEngine implements BackgroundJobEngine {
  readonly #events: JobEventHub
  readonly #queueEvents: QueueScopeEvents
  readonly #redis: EngineAccess
  readonly #access: QueueAccess
  readonly #reader: JobReader
  readonly #schedules: BullmqSchedules
  readonly #waiters: EngineWaiters
  readonly #runner: AttemptRunner
  readonly #worker: KitWorker | undefined
  readonly #controls = new JobControlQueue()
  readonly #jobOptions: JobOptionsCache
  readonly #reporter: ConnectionErrorReporter
  readonly #stop: EngineStop
  #stopPromise: Promise<StopResult> | undefined
  /** Whether stop has closed the engine's connections. */
  #isStopDone = false

  constructor(context: EngineContext, options: ResolvedBullmqEngineOptions, modules: BullmqModules) {
    this.#events = new JobEventHub(context.logger)
    this.#jobOptions = new JobOptionsCache(context.handlers, options)
    this.#reporter = new ConnectionErrorReporter(context.logger)
    const keyBase = `${options.prefix}:${options.queueName}`
    const cancelled = new CancelledStore(keyBase, options.keepCancelled)
    this.#schedules = new BullmqSchedules(keyBase)
    this.#redis = new EngineAccess({
      modules,
      options,
      cancelled,
      isStopped: () => this.#stopPromise !== undefined,
      onQueueError: (error) => this.#reporter.report('queue', error),
    })
    const connections = this.#redis.connections
    this.#access = this.#redis.access
    this.#reader = this.#redis.reader
    this.#queueEvents = new QueueScopeEvents({
      logger: context.logger,
      open: () =>
        new modules.bullmq.QueueEvents(options.queueName, {
          connection: connections.blockingOptions,
          prefix: options.prefix,
        }),
      snapshot: (id) => this.getJob(id),
      isCancelled: async (id) => (await cancelled.which(this.#access.client, [id])).has(id),
    })
    connections.producer.on('ready', () => this.#reporter.recovered('queue'))
    this.#waiters = new EngineWaiters(
      {
        settled: (ids) => pollSettled(this.#access, this.#reader, ids),
        isIdle: async () => isIdle(await this.#reader.counts()),
        onError: (error) => this.#reporter.report('waiters', error),
      },
      POLL_MS,
    )
    this.#runner = new AttemptRunner({
      handlers: context.handlers,
      logger: context.logger,
      WaitingError: modules.bullmq.WaitingError,
      hooks: createAttemptHooks({
        access: this.#access,
        schedules: this.#schedules,
        events: this.#events,
        started: (job) => {
          if (this.#stopPromise === undefined && this.#events.has('started'))
            this.#events.emit('started', () => toJobInfo(job, 'running', undefined, this.#runner.reportsOf(job)))
        },
        reportsOf: (job) => this.#runner.reportsOf(job),
      }),
    })
    this.#worker = options.worker
      ? startWorker({
          modules,
          options,
          connections,
          runner: this.#runner,
          listeners: {
            error: (error) => this.#reporter.report('worker', error),
            ready: () => this.#reporter.recovered('worker'),
            settled: (job, state) => this.#settled(job, state),
            retrying: (job, dueAt) => {
              if (this.#events.has('retrying'))
                this.#events.emit('retrying', () => toJobInfo(job, 'pending', dueAt, this.#runner.reportsOf(job)))
            },
          },
        })
      : undefined
    this.#stop = new EngineStop({
      logger: context.logger,
      runner: this.#runner,
      worker: this.#worker,
      connections,
      reader: this.#reader,
      queue: this.#access.queue,
      waiters: this.#waiters,
      queueEvents: this.#queueEvents,
      done: () => {
        this.#isStopDone = true
      },
    })
  }

  /** Jobs live in Redis, shared by every process on the queue; no hard pending-jobs bound. */
  readonly capabilities: EngineCapabilities = { durable: true, sharedAcrossProcesses: true, boundsPendingJobs: false }

  get isStopped(): boolean {
    return this.#stopPromise !== undefined
  }

  async enqueue(job: NewJob): Promise<string> {
    this.#assertRunning()
    // No `delay` when there is none: BullMQ stores each job's options as given, and reads 0 for a missing one.
    const delay = job.runAt - job.enqueuedAt
    const opts = { ...this.#jobOptions.of(job.name), timestamp: job.enqueuedAt }
    const added: BullmqJob = await this.#redis.connections.run(`enqueue job "${job.name}"`, () =>
      this.#access.queue.add(job.name, job.args, delay > 0 ? { ...opts, delay } : opts),
    )
    if (this.#events.has('enqueued')) this.#events.emit('enqueued', () => toJobInfo(added, 'pending'))
    return added.id ?? ''
  }

  /** In chunks of `addBulk` (see {@link addJobsInChunks}). */
  async enqueueMany(batch: NewJobBatch): Promise<string[]> {
    this.#assertRunning()
    const parts = { connections: this.#redis.connections, access: this.#access, events: this.#events }
    return addJobsInChunks({ ...parts, jobOptions: (name) => this.#jobOptions.of(name) }, batch)
  }

  /** Pipelined, in chunks (see {@link cancelJobs}). */
  cancelMany(ids: readonly string[]): Promise<CancelManyResult> {
    return this.#redis.run('cancel jobs', (reader, access) =>
      cancelJobs({ reader, access, events: this.#events, waiters: this.#waiters }, ids),
    )
  }

  async getJob(id: string): Promise<JobInfo | undefined> {
    await this.#controls.settled(id)
    return this.#redis.run('read a job', (reader) => reader.get(id))
  }

  listJobs(query: Required<ListJobsQuery>): Promise<JobPage> {
    return this.#redis.run('list jobs', (reader) => reader.list(query))
  }

  counts(): Promise<JobCounts> {
    return this.#redis.run('count jobs', (reader) => reader.counts())
  }

  cancel(id: string): Promise<void> {
    return this.#control(id, 'cancel a job', async (reader, access) => {
      const info = await cancelJob(reader, access, id)
      this.#waiters.resolveSettled(info)
      if (this.#events.has('cancelled')) this.#events.emit('cancelled', () => info)
    })
  }

  async retry(id: string): Promise<JobInfo> {
    this.#assertRunning()
    return this.#control(id, 'retry a job', async (reader, access) => {
      const info = await retryJob(reader, access, id)
      this.#waiters.poke()
      return info
    })
  }

  deleteJob(id: string): Promise<void> {
    return this.#control(id, 'delete a job', (reader, access) => deleteJob(reader, access, id))
  }

  async upsertSchedule(definition: NewSchedule): Promise<ScheduleInfo> {
    this.#assertRunning()
    return this.#redis.run('add a schedule', (_reader, access) =>
      this.#schedules.upsert(access, definition, { ...this.#jobOptions.of(definition.name) }),
    )
  }

  removeSchedule(id: string): Promise<boolean> {
    return this.#redis.run('remove a schedule', (_reader, access) => this.#schedules.remove(access, id))
  }

  listSchedules(): Promise<ScheduleInfo[]> {
    return this.#redis.run('list schedules', (_reader, access) => this.#schedules.list(access))
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
    if (this.#stopPromise !== undefined && options.drain === false) this.#stop.endDrain()
    this.#stopPromise ??= this.#stop.run(options)
    return this.#stopPromise
  }

  /** A job ran to its end in this process's worker: its waiters first, then its listeners. */
  #settled(job: BullmqJob, state: 'completed' | 'failed'): void {
    // The snapshot is made only for someone who takes it: most jobs settle with neither.
    const id = job.id ?? ''
    const hasListeners = this.#events.has(state)
    if (!hasListeners && !this.#waiters.isWaitedFor(id)) {
      this.#waiters.settledUnwaited()
      return
    }
    const info = toJobInfo(job, state, undefined, this.#runner.reportsOf(job))
    this.#waiters.resolveSettled(info)
    if (hasListeners) this.#events.emit(state, () => info)
  }

  /** Runs a control operation on job `id` through the control queue (see {@link JobControlQueue}). */
  #control<T>(id: string, operation: string, call: (reader: JobReader, access: QueueAccess) => Promise<T>): Promise<T> {
    return this.#controls.run(id, () => this.#redis.run(operation, call))
  }

  #assertRunning(): void {
    if (this.#stopPromise !== undefined) throw new ManagerStoppedError()
  }
}
