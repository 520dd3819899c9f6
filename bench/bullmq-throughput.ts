import { Queue, Worker } from 'bullmq'
import {
  BENCH_QUEUE,
  benchConnection,
  benchPrefix,
  benchRedis,
  cpuSince,
  deleteKeys,
  rawAdd,
  until,
} from './bullmq-support'
import { createBullmqKit } from './bullmq-kit'
import { NoopJob, inBatches, noopJob, type BenchArgs } from './support'

/** B1 parameters: every concurrency is timed in turn in the same process, a fresh worker for each. */
export interface ThroughputParams {
  readonly jobs: number
  readonly concurrencies: readonly number[]
  /** Warm-up jobs before the first concurrency's clock; each later one gets a fifth of them. */
  readonly warmupJobs: number
}

/** Enqueues in flight at once (awaited together), in both variants. */
export const ENQUEUE_BATCH = 1000

/** How long one B1 concurrency may take before it counts as failed. */
const RUN_TIMEOUT_MS = 180_000

/** What both variants of B1 time: `add(i)` for each job, and a count of the jobs that ended. */
interface ThroughputSide {
  add(i: number): Promise<unknown>
  ended(): number
  /** How many of them failed. */
  failed(): number
  close(): Promise<void>
}

/**
 * The shape both variants share, per concurrency (its figures suffixed `@<concurrency>`): a fresh
 * side opened at that concurrency, warm-up jobs enqueued and run to their end first (every
 * connection up, BullMQ's scripts loaded, the hot functions compiled: the first concurrency gets
 * `warmupJobs`, a later one, in a process warm already, a fifth); then the clock runs from the
 * first timed enqueue ({@link ENQUEUE_BATCH} in flight, awaited together, as a bulk producer
 * does) until every job ended. CPU time is this process's over the timed part (producer and
 * worker both run here), per job: less noisy than jobs/s on a shared machine.
 */
async function timeThroughput(
  { jobs, concurrencies, warmupJobs }: ThroughputParams,
  open: (concurrency: number) => Promise<ThroughputSide>,
): Promise<Record<string, number>> {
  const figures: Record<string, number> = {}
  for (const [index, concurrency] of concurrencies.entries()) {
    const warmup = index === 0 ? warmupJobs : Math.ceil(warmupJobs / 5)
    const side = await open(concurrency)
    try {
      await inBatches(warmup, ENQUEUE_BATCH, (i) => side.add(-1 - i))
      await until(() => side.ended() >= warmup, RUN_TIMEOUT_MS, `${warmup} warm-up completions`, 1)
      const before = side.ended()
      const cpu = process.cpuUsage()
      const started = performance.now()
      await inBatches(jobs, ENQUEUE_BATCH, (i) => side.add(i))
      await until(() => side.ended() - before >= jobs, RUN_TIMEOUT_MS, `${jobs} completions`, 1)
      const seconds = (performance.now() - started) / 1000
      figures[`jobsPerSecond@${concurrency}`] = jobs / seconds
      figures[`cpuUsPerJob@${concurrency}`] = cpuSince(cpu) / jobs
      figures[`failed@${concurrency}`] = side.failed()
    } finally {
      await side.close()
    }
  }
  return figures
}

/**
 * B1 baseline: for each concurrency, a plain BullMQ `Worker` at it calling the no-op, and
 * `queue.add('NoopJob', { i })` per job, timed by {@link timeThroughput}; a job ends at the
 * worker's `completed` or `failed` event. Each concurrency works a queue of its own prefix.
 */
export function throughputRaw(params: ThroughputParams): Promise<Record<string, number>> {
  return timeThroughput(params, async (concurrency) => {
    const prefix = benchPrefix()
    const connection = benchConnection()
    const queue = new Queue<BenchArgs>(BENCH_QUEUE, { connection, prefix })
    let completed = 0
    let failed = 0
    const worker = new Worker<BenchArgs>(BENCH_QUEUE, async (job) => noopJob(job.data), {
      connection,
      prefix,
      concurrency,
    })
    worker.on('completed', () => void completed++)
    worker.on('failed', () => void failed++)
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()])
    return {
      add: (i) => rawAdd(queue, i),
      ended: () => completed + failed,
      failed: () => failed,
      close: async () => {
        await worker.close()
        await queue.close()
        await removePrefix(prefix)
      },
    }
  })
}

/**
 * B1 on the kit: for each concurrency, `bullmqEngine` at it in this process and
 * `manager.enqueue(NoopJob, { i })` per job, timed by {@link timeThroughput}; a job ends at the
 * manager's local `completed` or `failed` event.
 */
export function throughputKit(params: ThroughputParams): Promise<Record<string, number>> {
  return timeThroughput(params, async (concurrency) => {
    const prefix = benchPrefix()
    const kit = createBullmqKit([NoopJob], { prefix, concurrency })
    let completed = 0
    let failed = 0
    kit.manager.on('completed', () => void completed++)
    kit.manager.on('failed', () => void failed++)
    await kit.manager.counts()
    return {
      add: (i) => kit.manager.enqueue(NoopJob, { i }),
      ended: () => completed + failed,
      failed: () => failed,
      close: async () => {
        await kit.dispose()
        await removePrefix(prefix)
      },
    }
  })
}

async function removePrefix(prefix: string): Promise<void> {
  const redis = benchRedis()
  try {
    await deleteKeys(redis, prefix)
  } finally {
    redis.disconnect()
  }
}
