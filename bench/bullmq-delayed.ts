import { Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import {
  BENCH_QUEUE,
  benchConnection,
  benchPrefix,
  benchRedis,
  deleteKeys,
  rawJobOptions,
  redisFacts,
} from './bullmq-support'
import { BackgroundJobBase } from '../src/background-job-base'
import { createBullmqKit } from './bullmq-kit'
import { mulberry32, type BenchArgs } from './support'
import { StartLog, type DelayedParams } from './w2-delayed'

/** The worker concurrency of B3, both variants: enough slots that lateness measures timing, not a queue. */
export const DELAYED_CONCURRENCY = 50

/** B3 parameters: W2's, and the lead and warm-up. */
export interface BullmqDelayedParams extends DelayedParams {
  /**
   * How long after the producer starts the earliest job is due: room for every enqueue to reach
   * Redis first, so lateness measures the engine's timing of delayed jobs, not how long the
   * producer took to hand over jobs that were due already.
   */
  readonly leadMs: number
  /** Jobs run through the whole path before the timed ones, so connections and scripts are warm. */
  readonly warmupJobs: number
}

/** How long after the last due time a job that has not started counts as missed. */
const GRACE_MS = 3000

/**
 * The producer both variants share. Each job's intended run time is fixed first: the producer's
 * start plus `leadMs` plus a seeded delay of 0 to `maxDelayMs` (noted in `log`);
 * then every job is enqueued at once, all in flight, with `schedule(i, delay)` where `delay` is
 * what is left until its intended time at that call, and the producer awaits them all. Lateness
 * is counted from the intended time. Resolves, once every job started or a grace period after the
 * last due time passed, with the production's figures: how long the enqueues took and how many
 * jobs were due before all enqueues were answered (0 unless the lead was too short).
 */
export async function produceDelayed(
  log: StartLog,
  { jobs, maxDelayMs, seed, leadMs }: BullmqDelayedParams,
  schedule: (i: number, delay: number) => Promise<unknown>,
): Promise<Record<string, number>> {
  const random = mulberry32(seed)
  const first = Date.now() + leadMs
  let lastDue = 0
  for (let i = 0; i < jobs; i++) {
    log.due[i] = first + Math.floor(random() * (maxDelayMs + 1))
    lastDue = Math.max(lastDue, log.due[i]!)
  }
  const started = performance.now()
  const enqueued = new Array<Promise<unknown>>(jobs)
  for (let i = 0; i < jobs; i++) enqueued[i] = schedule(i, Math.max(0, log.due[i]! - Date.now()))
  await Promise.all(enqueued)
  const productionMs = performance.now() - started
  const answeredAt = Date.now()
  let dueBeforeEnqueued = 0
  for (let i = 0; i < jobs; i++) if (log.due[i]! < answeredAt) dueBeforeEnqueued++
  await log.allStarted(lastDue + GRACE_MS)
  return { productionMs, dueBeforeEnqueued }
}

/** Runs `count` jobs (`i` below 0, not logged) through `schedule` and waits for them. */
async function warmUp(count: number, schedule: (i: number) => Promise<unknown>, warmed: () => number): Promise<void> {
  const added: Promise<unknown>[] = []
  for (let i = 0; i < count; i++) added.push(schedule(-1 - i))
  await Promise.all(added)
  const deadline = Date.now() + 30_000
  while (warmed() < count) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${count} B3 warm-up jobs.`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * What both variants measure once ready: {@link warmUp} through `add` with no delay, then
 * {@link produceDelayed}; W2's figures, the production's, and Redis's `hz` during the run.
 */
async function warmThenProduce(
  log: StartLog,
  params: BullmqDelayedParams,
  add: (i: number, delay: number) => Promise<unknown>,
  warmed: () => number,
  redis: Redis,
): Promise<Record<string, number>> {
  await warmUp(params.warmupJobs, (i) => add(i, 0), warmed)
  const production = await produceDelayed(log, params, add)
  return { ...log.figures(), ...production, redisHz: (await redisFacts(redis)).hz }
}

/**
 * B3 baseline: a plain BullMQ `Worker` (concurrency {@link DELAYED_CONCURRENCY}) whose processor
 * records `Date.now()` first thing, started, ready and warmed up first; then
 * `queue.add(name, { i }, { delay })` by {@link produceDelayed}. Figures as W2's, the
 * production's, plus Redis's `hz` during the run.
 */
export async function delayedRaw(params: BullmqDelayedParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const connection = benchConnection()
  const log = new StartLog(params.jobs)
  let warmed = 0
  const queue = new Queue<BenchArgs>(BENCH_QUEUE, { connection, prefix })
  const worker = new Worker<BenchArgs>(
    BENCH_QUEUE,
    async (job) => {
      if (job.data.i < 0) warmed++
      else log.record(job.data.i)
    },
    { connection, prefix, concurrency: DELAYED_CONCURRENCY },
  )
  const redis = benchRedis()
  const add = (i: number, delay: number): Promise<unknown> =>
    queue.add('StampJob', { i }, { ...rawJobOptions(), delay })
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()])
    return await warmThenProduce(log, params, add, () => warmed, redis)
  } finally {
    await worker.close()
    await queue.close()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}

/**
 * B3 on the kit: `bullmqEngine` at concurrency {@link DELAYED_CONCURRENCY} in this process, a job
 * recording `Date.now()` first thing, warmed up first; then `manager.enqueue(StampJob, { i },
 * { delay })` by {@link produceDelayed}.
 */
export async function delayedBullmqKit(params: BullmqDelayedParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const log = new StartLog(params.jobs)
  let warmed = 0
  class StampJob extends BackgroundJobBase<BenchArgs> {
    protected override async executing(args: BenchArgs): Promise<void> {
      if (args.i < 0) warmed++
      else log.record(args.i)
    }
  }
  const kit = createBullmqKit([StampJob], { prefix, concurrency: DELAYED_CONCURRENCY })
  const redis = benchRedis()
  const add = (i: number, delay: number): Promise<unknown> => kit.manager.enqueue(StampJob, { i }, { delay })
  try {
    await kit.manager.counts()
    return await warmThenProduce(log, params, add, () => warmed, redis)
  } finally {
    await kit.dispose()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}
