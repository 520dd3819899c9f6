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
