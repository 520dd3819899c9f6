import { Queue, Worker } from 'bullmq'
import {
  BENCH_QUEUE,
  RAW_KEEP_COMPLETED,
  benchConnection,
  benchPrefix,
  benchRedis,
  deleteKeys,
  until,
} from './bullmq-support'
import { createBullmqKit } from './bullmq-kit'
import { NoopJob, inBatches, noopJob, type BenchArgs } from './support'

/** B1 parameters. */
export interface ThroughputParams {
  readonly jobs: number
  readonly concurrency: number
}

/** Jobs per `addBulk` call and per batch of enqueues awaited together. */
export const ENQUEUE_BATCH = 1000

/** How long one B1 run may take before it counts as failed. */
const RUN_TIMEOUT_MS = 180_000

/**
 * B1 baseline: a plain BullMQ `Worker` at `concurrency` calling the no-op, started and ready
 * first; then `addBulk` of `{ i }` jobs in chunks of {@link ENQUEUE_BATCH}; the clock runs from
 * the first add until the worker's `completed` event fired for every job.
 */
export async function throughputRaw({ jobs, concurrency }: ThroughputParams): Promise<Record<string, number>> {
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
  const redis = benchRedis()
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()])
    const started = performance.now()
    for (let start = 0; start < jobs; start += ENQUEUE_BATCH) {
      const chunk = []
      for (let i = start; i < Math.min(jobs, start + ENQUEUE_BATCH); i++) {
        chunk.push({ name: 'NoopJob', data: { i }, opts: { removeOnComplete: { count: RAW_KEEP_COMPLETED } } })
      }
      await queue.addBulk(chunk)
    }
    await until(() => completed + failed === jobs, RUN_TIMEOUT_MS, `${jobs} completions`, 1)
    const seconds = (performance.now() - started) / 1000
    return { jobsPerSecond: jobs / seconds, failed, concurrency }
  } finally {
    await worker.close()
    await queue.close()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}

/**
 * B1 on the kit: `bullmqEngine` at `concurrency` in this process; `manager.enqueue(NoopJob, { i })`
 * {@link ENQUEUE_BATCH} at a time awaited together; the clock runs from the first enqueue until
 * the manager's local `completed` (or `failed`) event fired for every job.
 */
export async function throughputKit({ jobs, concurrency }: ThroughputParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const kit = createBullmqKit([NoopJob], { prefix, concurrency })
  let completed = 0
  let failed = 0
  kit.manager.on('completed', () => void completed++)
  kit.manager.on('failed', () => void failed++)
  const redis = benchRedis()
  try {
    await kit.manager.counts()
    const started = performance.now()
    await inBatches(jobs, ENQUEUE_BATCH, (i) => kit.manager.enqueue(NoopJob, { i }))
    await until(() => completed + failed === jobs, RUN_TIMEOUT_MS, `${jobs} completions`, 1)
    const seconds = (performance.now() - started) / 1000
    return { jobsPerSecond: jobs / seconds, failed, concurrency }
  } finally {
    await kit.dispose()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}
