import { Queue, Worker } from 'bullmq'
import {
  BENCH_QUEUE,
  RAW_KEEP_COMPLETED,
  benchConnection,
  benchPrefix,
  benchRedis,
  deleteKeys,
  redisFacts,
} from './bullmq-support'
import { BackgroundJobBase } from '../src/index'
import { createBullmqKit } from './bullmq-kit'
import type { BenchArgs } from './support'
import { StartLog, produce, type DelayedParams } from './w2-delayed'

/** The worker concurrency of B3, both variants: enough slots that lateness measures timing, not a queue. */
export const DELAYED_CONCURRENCY = 50

/**
 * B3 baseline: a plain BullMQ `Worker` (concurrency {@link DELAYED_CONCURRENCY}) whose processor
 * records `Date.now()` first thing, started and ready first; then `queue.add(name, { i }, { delay })`
 * by W2's producer (seeded delays, batches of 1000 awaited together, a yield between batches).
 * Figures as W2's, plus Redis's `hz` during the run.
 */
export async function delayedRaw(params: DelayedParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const connection = benchConnection()
  const log = new StartLog(params.jobs)
  const queue = new Queue<BenchArgs>(BENCH_QUEUE, { connection, prefix })
  const worker = new Worker<BenchArgs>(BENCH_QUEUE, async (job) => log.record(job.data.i), {
    connection,
    prefix,
    concurrency: DELAYED_CONCURRENCY,
  })
  const redis = benchRedis()
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()])
    await produce(log, params, (i, delay) =>
      queue.add('StampJob', { i }, { delay, removeOnComplete: { count: RAW_KEEP_COMPLETED } }),
    )
    return { ...log.figures(), redisHz: (await redisFacts(redis)).hz }
  } finally {
    await worker.close()
    await queue.close()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}

/**
 * B3 on the kit: `bullmqEngine` at concurrency {@link DELAYED_CONCURRENCY} in this process, a job
 * recording `Date.now()` first thing, `manager.enqueue(StampJob, { i }, { delay })` by W2's producer.
 */
export async function delayedBullmqKit(params: DelayedParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const log = new StartLog(params.jobs)
  class StampJob extends BackgroundJobBase<BenchArgs> {
    protected override async executing(args: BenchArgs): Promise<void> {
      log.record(args.i)
    }
  }
  const kit = createBullmqKit([StampJob], { prefix, concurrency: DELAYED_CONCURRENCY })
  const redis = benchRedis()
  try {
    await kit.manager.counts()
    await produce(log, params, (i, delay) => kit.manager.enqueue(StampJob, { i }, { delay }))
    return { ...log.figures(), redisHz: (await redisFacts(redis)).hz }
  } finally {
    await kit.dispose()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}
