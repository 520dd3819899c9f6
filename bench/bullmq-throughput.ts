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

/** B1 parameters. */
export interface ThroughputParams {
  readonly jobs: number
  readonly concurrency: number
}

/** Enqueues in flight at once (awaited together), in both variants. */
export const ENQUEUE_BATCH = 1000

/**
 * Jobs run through the whole path (enqueue, worker, completion) before the clock starts, in both
 * variants: every connection is up, BullMQ's scripts are loaded on each, and the hot functions
 * are compiled, so the timed part compares steady states rather than start-ups.
 */
export const WARMUP_JOBS = 1000

/** How long one B1 run may take before it counts as failed. */
const RUN_TIMEOUT_MS = 180_000

/** What both variants of B1 time: `add(i)` for each job, and a count of the jobs that ended. */
interface ThroughputSide {
  add(i: number): Promise<unknown>
  ended(): number
}

/**
 * The shape both variants share: {@link WARMUP_JOBS} jobs enqueued and run to their end first;
 * then the clock runs from the first timed enqueue ({@link ENQUEUE_BATCH} in flight, awaited
 * together, as a bulk producer does) until every job ended. CPU time is this process's over the
 * timed part (producer and worker both run here), per job: less noisy than jobs/s on a shared
 * machine.
 */
async function timeThroughput(
  { jobs, concurrency }: ThroughputParams,
  side: ThroughputSide,
): Promise<Record<string, number>> {
  await inBatches(WARMUP_JOBS, ENQUEUE_BATCH, (i) => side.add(-1 - i))
  await until(() => side.ended() >= WARMUP_JOBS, RUN_TIMEOUT_MS, `${WARMUP_JOBS} warm-up completions`, 1)
  const before = side.ended()
  const cpu = process.cpuUsage()
  const started = performance.now()
  await inBatches(jobs, ENQUEUE_BATCH, (i) => side.add(i))
  await until(() => side.ended() - before >= jobs, RUN_TIMEOUT_MS, `${jobs} completions`, 1)
  const seconds = (performance.now() - started) / 1000
  return { jobsPerSecond: jobs / seconds, cpuUsPerJob: cpuSince(cpu) / jobs, concurrency }
}

/**
 * B1 baseline: a plain BullMQ `Worker` at `concurrency` calling the no-op, and
 * `queue.add('NoopJob', { i })` per job, timed by {@link timeThroughput}; a job ends at the
 * worker's `completed` or `failed` event.
 */
export async function throughputRaw(params: ThroughputParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const connection = benchConnection()
  const queue = new Queue<BenchArgs>(BENCH_QUEUE, { connection, prefix })
  let completed = 0
  let failed = 0
  const worker = new Worker<BenchArgs>(BENCH_QUEUE, async (job) => noopJob(job.data), {
    connection,
    prefix,
    concurrency: params.concurrency,
  })
  worker.on('completed', () => void completed++)
  worker.on('failed', () => void failed++)
  const redis = benchRedis()
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()])
    const figures = await timeThroughput(params, { add: (i) => rawAdd(queue, i), ended: () => completed + failed })
    return { ...figures, failed }
  } finally {
    await worker.close()
    await queue.close()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}

/**
 * B1 on the kit: `bullmqEngine` at `concurrency` in this process and `manager.enqueue(NoopJob,
 * { i })` per job, timed by {@link timeThroughput}; a job ends at the manager's local
 * `completed` or `failed` event.
 */
export async function throughputKit(params: ThroughputParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const kit = createBullmqKit([NoopJob], { prefix, concurrency: params.concurrency })
  let completed = 0
  let failed = 0
  kit.manager.on('completed', () => void completed++)
  kit.manager.on('failed', () => void failed++)
  const redis = benchRedis()
  try {
    await kit.manager.counts()
    const figures = await timeThroughput(params, {
      add: (i) => kit.manager.enqueue(NoopJob, { i }),
      ended: () => completed + failed,
    })
    return { ...figures, failed }
  } finally {
    await kit.dispose()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}
