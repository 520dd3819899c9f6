import { loadPQueue } from './peers'
import { BENCH_CONCURRENCY, NoopJob, createKit, inBatches, noopJob, peakRssMb, type BenchArgs } from './support'

/** W1 parameters. */
export interface ImmediateParams {
  readonly jobs: number
}

/**
 * W1 baseline: one `queueMicrotask` per job that calls the async no-op with `{ i }` and counts its
 * promise settling: the most jobs a second Node can dispatch.
 */
export async function immediateMicrotask({ jobs }: ImmediateParams): Promise<Record<string, number>> {
  const started = performance.now()
  await new Promise<void>((resolve) => {
    let done = 0
    const settled = (): void => {
      if (++done === jobs) resolve()
    }
    for (let i = 0; i < jobs; i++) {
      const args: BenchArgs = { i }
      queueMicrotask(() => {
        noopJob(args).then(settled, settled)
      })
    }
  })
  const seconds = (performance.now() - started) / 1000
  return { jobsPerSecond: jobs / seconds, peakRssMb: peakRssMb() }
}

/** W1 on the kit: enqueue `{ i }` no-op jobs through the manager, then await `onIdle()`. */
export async function immediateKit({ jobs }: ImmediateParams): Promise<Record<string, number>> {
  const { container, manager } = createKit([NoopJob], { maxPendingJobs: jobs * 2 })
  const started = performance.now()
  await inBatches(jobs, 1000, (i) => manager.enqueue(NoopJob, { i }))
  await manager.onIdle()
  const seconds = (performance.now() - started) / 1000
  const counts = await manager.counts()
  await container.dispose()
  return {
    jobsPerSecond: jobs / seconds,
    peakRssMb: peakRssMb(),
    concurrency: BENCH_CONCURRENCY,
    failed: counts.failed,
  }
}

/**
 * W1 on p-queue at the kit's concurrency: `queue.add(() => noop({ i }))`, the add promises awaited
 * in batches of 1000 as the kit's enqueues are, then `onIdle()`.
 */
export async function immediatePQueue({ jobs }: ImmediateParams): Promise<Record<string, number>> {
  const PQueue = await loadPQueue()
  const queue = new PQueue({ concurrency: BENCH_CONCURRENCY })
  const started = performance.now()
  await inBatches(jobs, 1000, (i) => {
    const args: BenchArgs = { i }
    return queue.add(() => noopJob(args))
  })
  await queue.onIdle()
  const seconds = (performance.now() - started) / 1000
  return { jobsPerSecond: jobs / seconds, peakRssMb: peakRssMb(), concurrency: BENCH_CONCURRENCY }
}
