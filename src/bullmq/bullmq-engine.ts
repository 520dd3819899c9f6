import type { Queue, Worker } from 'bullmq'
import type { BackgroundJobEngine, EngineContext, NewJob, NewSchedule } from '../background-job-engine'
import { JobNotFoundError, ManagerStoppedError } from '../errors'
import { JobEventHub, type JobEventListener } from '../job-events'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown } from '../policy/error-info'
import type {
  JobCounts,
  JobEventName,
  JobInfo,
  JobPage,
  ListJobsQuery,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from '../types'
import { AttemptRunner } from './attempt-runner'
import type { ResolvedBullmqEngineOptions } from './bullmq-options'
import { PENDING_TYPES, kitState, toJobInfo, type BullmqJob } from './job-mapping'
import type { BullmqModules } from './peer-dependencies'
import { RedisConnections } from './redis-connections'

/** The BullMQ backoff type of every job: the kit's policy, through the worker's `backoffStrategy`. */
export const KIT_BACKOFF = 'express-background-jobs'

/** The most attempts a job enqueued by a process that does not know its class may make. */
const ATTEMPTS_CEILING = 1001

/** How often waiters poll Redis when no event woke them, in ms. */
const POLL_MS = 100

/**
 * The BullMQ engine: one BullMQ `Queue` for enqueuing, inspection and control, one `Worker`
 * (unless `worker: false`) that runs attempts through the job registry. Jobs live in Redis.
 */
export class BullmqJobEngine implements BackgroundJobEngine {
  readonly #context: EngineContext
  readonly #options: ResolvedBullmqEngineOptions
  readonly #logger: JobLogger
  readonly #events: JobEventHub
  readonly #connections: RedisConnections
  readonly #queue: Queue<unknown, unknown, string>
  readonly #worker: Worker<unknown, unknown, string> | undefined
  readonly #runner: AttemptRunner
  #stopPromise: Promise<StopResult> | undefined

  constructor(context: EngineContext, options: ResolvedBullmqEngineOptions, modules: BullmqModules) {
    this.#context = context
    this.#options = options
    this.#logger = context.logger
    this.#events = new JobEventHub(context.logger)
    this.#connections = new RedisConnections(modules, options.connection)
    const { Queue, Worker } = modules.bullmq
    this.#queue = new Queue<unknown, unknown, string>(options.queueName, {
      connection: this.#connections.producer,
      prefix: options.prefix,
    })
    this.#queue.on('error', (error: unknown) => this.#reportConnectionError('queue', error))
    this.#runner = new AttemptRunner({
      handlers: context.handlers,
      logger: context.logger,
      WaitingError: modules.bullmq.WaitingError,
    })
    if (options.worker) {
      const worker = new Worker<unknown, unknown, string>(
        options.queueName,
        (job, token, signal) => this.#runner.run(job, token, signal),
        {
          connection: this.#connections.blockingOptions,
          prefix: options.prefix,
          concurrency: options.concurrency,
          lockDuration: options.lockDurationMs,
          stalledInterval: options.stalledIntervalMs,
          maxStalledCount: options.maxStalledCount,
          settings: {
            backoffStrategy: (attemptsMade, _type, error, job) => this.#runner.backoff(attemptsMade, error, job),
          },
        },
      )
      worker.on('error', (error: unknown) => this.#reportConnectionError('worker', error))
      worker.on('active', (job: BullmqJob) => this.#emitLocal('started', job, 'running'))
      worker.on('completed', (job: BullmqJob) => this.#emitLocal('completed', job, 'completed'))
      worker.on('failed', (job: BullmqJob | undefined) => {
        if (job === undefined) return
        if (job.finishedOn !== undefined && job.finishedOn > 0) this.#emitLocal('failed', job, 'failed')
        else this.#emitRetrying(job)
      })
      this.#worker = worker
    }
  }

  get isStopped(): boolean {
    return this.#stopPromise !== undefined
  }

  async enqueue(job: NewJob): Promise<string> {
    this.#assertRunning()
    const handler = this.#context.handlers.handler(job.name)
    const added = await this.#connections.run(`enqueue job "${job.name}"`, () =>
      this.#queue.add(job.name, job.args, {
        timestamp: job.enqueuedAt,
        delay: Math.max(0, job.runAt - job.enqueuedAt),
        attempts: handler?.maxAttempts ?? ATTEMPTS_CEILING,
        backoff: { type: KIT_BACKOFF },
        removeOnComplete: { count: this.#options.keepCompleted },
        removeOnFail: { count: this.#options.keepFailed },
      }),
    )
    const id = added.id ?? ''
    if (this.#events.has('enqueued')) this.#events.emit('enqueued', () => toJobInfo(added, 'pending'))
    return id
  }

  async getJob(id: string): Promise<JobInfo | undefined> {
    return this.#connections.run('read a job', async () => {
      const job = await this.#queue.getJob(id)
      if (job === undefined) return undefined
      const state = kitState(await job.getState())
      return state === undefined ? undefined : toJobInfo(job, state)
    })
  }

  async listJobs(query: Required<ListJobsQuery>): Promise<JobPage> {
    return this.#connections.run('list jobs', async () => {
      const { state, offset, limit } = query
      const end = offset + limit - 1
      let jobs: BullmqJob[] = []
      let total = 0
      if (state === 'running') {
        total = (await this.#queue.getJobCounts('active')).active ?? 0
        jobs = await this.#queue.getJobs(['active'], offset, end, true)
      } else if (state === 'completed' || state === 'failed') {
        total = (await this.#queue.getJobCounts(state))[state] ?? 0
        jobs = await this.#queue.getJobs([state], offset, end, false)
      } else if (state === 'pending') {
        const counts = await this.#queue.getJobCounts(...PENDING_TYPES)
        let skip = offset
        let left = limit
        for (const type of PENDING_TYPES) {
          const count = counts[type] ?? 0
          total += count
          if (left === 0 || skip >= count) {
            skip = Math.max(0, skip - count)
            continue
          }
          const page = (await this.#queue.getJobs([type], skip, skip + left - 1, true)) as BullmqJob[]
          jobs.push(...page)
          left -= page.length
          skip = 0
        }
      }
      return { items: jobs.map((job) => toJobInfo(job, state)), total, offset, limit }
    })
  }

  async counts(): Promise<JobCounts> {
    return this.#connections.run('count jobs', async () => {
      const counts = await this.#queue.getJobCounts('active', 'completed', 'failed', ...PENDING_TYPES)
      const pending = PENDING_TYPES.reduce((sum, type) => sum + (counts[type] ?? 0), 0)
      return {
        pending,
        running: counts.active ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        cancelled: 0,
      }
    })
  }

  async cancel(id: string): Promise<void> {
    throw new JobNotFoundError(id)
  }

  async retry(id: string): Promise<JobInfo> {
    throw new JobNotFoundError(id)
  }

  async deleteJob(id: string): Promise<void> {
    throw new JobNotFoundError(id)
  }

  async upsertSchedule(definition: NewSchedule): Promise<ScheduleInfo> {
    this.#assertRunning()
    return { id: definition.id, cron: definition.cron.expression, jobName: definition.name, args: definition.args }
  }

  async removeSchedule(_id: string): Promise<boolean> {
    return false
  }

  async listSchedules(): Promise<ScheduleInfo[]> {
    return []
  }

  on<E extends JobEventName>(event: E, listener: JobEventListener<E>): () => void {
    return this.#events.on(event, listener)
  }

  off<E extends JobEventName>(event: E, listener: JobEventListener<E>): void {
    this.#events.off(event, listener)
  }

  async onIdle(): Promise<void> {
    for (;;) {
      if (this.#stopPromise !== undefined) throw new ManagerStoppedError('left-pending')
      const counts = await this.counts()
      if (counts.pending === 0 && counts.running === 0) return
      await sleep(POLL_MS)
    }
  }

  async onSettled(id: string): Promise<JobInfo> {
    for (;;) {
      const job = await this.getJob(id)
      if (job === undefined) throw new JobNotFoundError(id)
      if (job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled') return job
      if (this.#stopPromise !== undefined) throw new ManagerStoppedError('left-pending')
      await sleep(POLL_MS)
    }
  }

  stop(options: StopOptions = {}): Promise<StopResult> {
    this.#stopPromise ??= this.#stop(options)
    return this.#stopPromise
  }

  async #stop({ drain = true, timeoutMs = 30_000 }: StopOptions): Promise<StopResult> {
    const worker = this.#worker
    if (worker !== undefined) {
      const closing = worker.close()
      if (drain) await Promise.race([closing, sleep(timeoutMs)])
      this.#runner.abortAll(() => new ManagerStoppedError('interrupted'))
      await Promise.race([closing, sleep(100)])
      if (this.#runner.active > 0) await worker.close(true)
    }
    let pending = 0
    try {
      pending = (await this.counts()).pending
    } catch (error) {
      safeLog(this.#logger, 'warn', 'Could not count the jobs left pending at stop', { error: describeThrown(error) })
    }
    const running = this.#runner.active
    try {
      await this.#queue.close()
    } catch (error) {
      safeLog(this.#logger, 'error', 'Closing the BullMQ queue failed', { error: describeThrown(error) })
    }
    await this.#connections.close()
    return { pending, running, interrupted: this.#runner.interrupted }
  }

  #emitLocal(
    event: 'started' | 'completed' | 'failed',
    job: BullmqJob,
    state: 'running' | 'completed' | 'failed',
  ): void {
    if (this.#events.has(event)) this.#events.emit(event, () => toJobInfo(job, state))
  }

  #emitRetrying(job: BullmqJob): void {
    if (!this.#events.has('retrying')) return
    const dueAt = Date.now() + (job.delay ?? 0)
    this.#events.emit('retrying', () => toJobInfo(job, 'pending', dueAt))
  }

  #reportConnectionError(part: string, error: unknown): void {
    safeLog(this.#logger, 'warn', `BullMQ ${part}: ${describeThrown(error)}`, { error: describeThrown(error) })
  }

  #assertRunning(): void {
    if (this.#stopPromise !== undefined) throw new ManagerStoppedError()
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
