import { createContainer, type AwilixContainer } from 'awilix'
import { bullmqEngine, type BullmqEngineOptions } from '../src/bullmq'
// The index's modules, not the index, which loads express too (see support.ts).
import { BackgroundJobBase, type JobClass } from '../src/background-job-base'
import type { BackgroundJobManager } from '../src/background-job-manager'
import { addBackgroundJobs } from '../src/register'
import type { JobContext } from '../src/types'
import { BENCH_QUEUE, REDIS_URL } from './bullmq-support'
import type { BenchWorker, WorkerProcessParams } from './bullmq-worker-process'
import type { BenchArgs } from './support'

/** The kit on its BullMQ engine, as a user would configure it for a workload. */
export interface BullmqKit {
  readonly container: AwilixContainer
  readonly manager: BackgroundJobManager
  /** Stops the manager (closing its Redis connections) and disposes the container. */
  dispose(): Promise<void>
}

/**
 * The kit's container and manager on `bullmqEngine` with the bench's Redis and queue, the default
 * logger, and `options` (at least the run's `prefix`) on top.
 */
export function createBullmqKit(
  jobs: JobClass[],
  options: BullmqEngineOptions & { readonly prefix: string },
): BullmqKit {
  const container = createContainer()
  addBackgroundJobs(container, (o) =>
    o.useEngine(bullmqEngine({ connection: REDIS_URL, queueName: BENCH_QUEUE, ...options })).addJob(...jobs),
  )
  const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
  return {
    container,
    manager,
    async dispose() {
      await manager.stop({ drain: false })
      await container.dispose()
    },
  }
}

/**
 * A worker of B4 on the kit: the no-op job notes its id (but a warm-up job's, whose `i` is below
 * 0); completions counted from local events.
 */
export async function startKitWorker({ prefix, concurrency }: WorkerProcessParams): Promise<BenchWorker> {
  const started: string[] = []
  let completed = 0
  class NoopJob extends BackgroundJobBase<BenchArgs> {
    protected override async executing(args: BenchArgs, context: JobContext): Promise<void> {
      if (args.i >= 0) started.push(context.jobId)
    }
  }
  const kit = createBullmqKit([NoopJob], { prefix, concurrency })
  kit.manager.on('completed', () => void completed++)
  await kit.manager.counts() // the engine is connected once it answers
  return { started, completed: () => completed, close: () => kit.dispose() }
}
