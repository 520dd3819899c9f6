import { Queue } from 'bullmq'
import { BENCH_QUEUE, benchConnection, benchPrefix, benchRedis, cpuSince, deleteKeys, rawAdd } from './bullmq-support'
import { createBullmqKit } from './bullmq-kit'
import { NoopJob, type BenchArgs } from './support'

/** B2 parameters: jobs added one at a time (each awaited) and jobs added 1000 in flight. */
export interface EnqueueParams {
  readonly awaitedJobs: number
  readonly inFlightJobs: number
  /** Jobs added before timing, in each shape (one by one, then in flight). */
  readonly warmupJobs: number
}

/** Adds in flight at once in the second half of B2. */
export const IN_FLIGHT = 1000

/**
 * Times `add(i)` for `awaitedJobs` jobs each awaited before the next, then for `inFlightJobs`
 * jobs {@link IN_FLIGHT} at a time (awaited together); µs per job for each, wall clock and this
 * process's CPU time (less noisy on a shared machine; Redis's own time is not in it).
 */
export async function timeEnqueues(
  { awaitedJobs, inFlightJobs, warmupJobs }: EnqueueParams,
  add: (i: number) => Promise<unknown>,
): Promise<Record<string, number>> {
  const inFlight = async (count: number): Promise<void> => {
    for (let start = 0; start < count; start += IN_FLIGHT) {
      const batch: Promise<unknown>[] = []
      for (let i = start; i < Math.min(count, start + IN_FLIGHT); i++) batch.push(add(i))
      await Promise.all(batch)
    }
  }
  // Warm connections, loaded scripts and compiled code in both variants before any clock starts.
  for (let i = 0; i < warmupJobs; i++) await add(i)
  await inFlight(warmupJobs)
  let cpu = process.cpuUsage()
  let started = performance.now()
  for (let i = 0; i < awaitedJobs; i++) await add(i)
  const awaitedUs = ((performance.now() - started) * 1000) / awaitedJobs
  const awaitedCpuUs = cpuSince(cpu) / awaitedJobs
  cpu = process.cpuUsage()
  started = performance.now()
  await inFlight(inFlightJobs)
  const inFlightUs = ((performance.now() - started) * 1000) / inFlightJobs
  const inFlightCpuUs = cpuSince(cpu) / inFlightJobs
  return { awaitedUs, inFlightUs, awaitedCpuUs, inFlightCpuUs }
}

/** B2 baseline: `queue.add('NoopJob', { i })` on a plain BullMQ `Queue`; no worker runs. */
export async function enqueueRaw(params: EnqueueParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const queue = new Queue<BenchArgs>(BENCH_QUEUE, { connection: benchConnection(), prefix })
  const redis = benchRedis()
  try {
    await queue.waitUntilReady()
    return await timeEnqueues(params, (i) => rawAdd(queue, i))
  } finally {
    await queue.close()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}

/** B2 on the kit: `manager.enqueue(NoopJob, { i })` on an enqueue-only engine (`worker: false`). */
export async function enqueueKit(params: EnqueueParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const kit = createBullmqKit([NoopJob], { prefix, worker: false })
  const redis = benchRedis()
  try {
    await kit.manager.counts()
    return await timeEnqueues(params, (i) => kit.manager.enqueue(NoopJob, { i }))
  } finally {
    await kit.dispose()
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}
