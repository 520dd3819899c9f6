import type { Worker } from 'bullmq'
import type { AttemptRunner } from './attempt-runner'
import type { ResolvedBullmqEngineOptions } from './bullmq-options'
import type { BullmqJob } from './job-mapping'
import type { BullmqModules } from './peer-dependencies'
import type { RedisConnections } from './redis-connections'
import { kitRepeatStrategy } from './schedules'

/** The engine's worker. */
export type KitWorker = Worker<unknown, unknown, string>

/** What the worker tells the engine. */
export interface WorkerListeners {
  /** A connection error of the worker. */
  error(error: unknown): void
  /** The worker is connected (again). */
  ready(): void
  /** `job` ran to its end in this worker. */
  settled(job: BullmqJob, state: 'completed' | 'failed'): void
  /** An attempt of `job` failed and its retry waits until `dueAt`. */
  retrying(job: BullmqJob, dueAt: number): void
}

/** What the worker is built with. */
export interface WorkerParts {
  readonly modules: BullmqModules
  readonly options: ResolvedBullmqEngineOptions
  readonly connections: RedisConnections
  readonly runner: AttemptRunner
  readonly listeners: WorkerListeners
}

/**
 * Starts the BullMQ worker of the engine: its processor is the runner, its backoff the kit's
 * policy (through the runner), its repeat strategy the kit's cron, and its events go to `listeners`
 * (the runner tells when an attempt starts: after reading what a retry's earlier attempts stored).
 */
export function startWorker({ modules, options, connections, runner, listeners }: WorkerParts): KitWorker {
  const worker = new modules.bullmq.Worker<unknown, unknown, string>(
    options.queueName,
    // Two parameters: BullMQ makes an AbortController per job for a processor declaring three
    // (it reads `processor.length`), and aborts it only on `worker.cancelJob`/`cancelAllJobs`,
    // which the kit never calls (a lost lock or a stalled job aborts nothing). Stop aborts the
    // running attempts itself (`AttemptRunner.abortAll`).
    (job, token) => runner.run(job, token),
    {
      connection: connections.blockingOptions,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      maxStalledCount: options.maxStalledCount,
      settings: {
        backoffStrategy: (attemptsMade, _type, error, job) =>
          runner.backoff(attemptsMade, error, job as BullmqJob | undefined),
        repeatStrategy: kitRepeatStrategy,
      },
    },
  )
  worker.on('error', (error: unknown) => listeners.error(error))
  worker.on('ready', () => listeners.ready())
  worker.on('completed', (job: BullmqJob) => listeners.settled(job, 'completed'))
  worker.on('failed', (job: BullmqJob | undefined) => {
    if (job === undefined) return
    if (job.finishedOn !== undefined && job.finishedOn > 0) {
      listeners.settled(job, 'failed')
      return
    }
    listeners.retrying(job, runner.takeRetryAt(job.id ?? '') ?? Date.now() + job.delay)
  })
  return worker
}
