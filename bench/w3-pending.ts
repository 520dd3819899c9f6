import { NoopJob, armedTimers, collectGarbage, createKit, heldBytes, inBatches, noopJob, type BenchArgs } from './support'

/** W3 parameters. */
export interface PendingParams {
  readonly jobs: number
}

const HOUR_MS = 3_600_000

/** The figures of one W3 run; both variants measure them the same way. */
interface PendingFigures extends Record<string, number> {
  scheduleUs: number
  bytesPerPending: number
  cancelUs: number
  retainedBytesPerJob: number
  timersArmed: number
}

/**
 * W3 baseline: `setTimeout(run, 1 h, { i })` per job, the handles kept in an array (what a caller
 * must keep to cancel them), then `clearTimeout` of each.
 */
export async function pendingSetTimeout({ jobs }: PendingParams): Promise<PendingFigures> {
  const run = (args: BenchArgs): void => void noopJob(args)
  await collectGarbage()
  const before = heldBytes()
  let handles = new Array<NodeJS.Timeout>(jobs)
  const scheduleStart = performance.now()
  for (let i = 0; i < jobs; i++) handles[i] = setTimeout(run, HOUR_MS, { i })
  const scheduleMs = performance.now() - scheduleStart
  await collectGarbage()
  const pending = heldBytes()
  const cancelStart = performance.now()
  for (let i = 0; i < jobs; i++) clearTimeout(handles[i])
  const cancelMs = performance.now() - cancelStart
  handles = []
  await collectGarbage()
  return {
    scheduleUs: (scheduleMs * 1000) / jobs,
    bytesPerPending: (pending - before) / jobs,
    cancelUs: (cancelMs * 1000) / jobs,
    retainedBytesPerJob: Math.max(0, heldBytes() - before) / jobs,
    timersArmed: armedTimers(),
  }
}

/**
 * W3 on the kit: `enqueue(Job, { i }, { delay: 1 h })` per job, the ids kept in an array, then
 * `cancel(id)` of each, calls issued in batches of 1000 awaited together. The store is created
 * with `unref: false`, so its timer would keep the process alive if it were left armed.
 */
export async function pendingKit({ jobs }: PendingParams): Promise<PendingFigures> {
  const { manager } = createKit([NoopJob], { maxPendingJobs: jobs * 2, unref: false })
  // Warm the container and the code paths once, so the figures hold per-job costs only.
  await manager.cancel(await manager.enqueue(NoopJob, { i: -1 }, { delay: HOUR_MS }))
  await collectGarbage()
  const before = heldBytes()
  let ids = new Array<string>(jobs)
  const scheduleStart = performance.now()
  await inBatches(jobs, 1000, (i) => manager.enqueue(NoopJob, { i }, { delay: HOUR_MS }), ids)
  const scheduleMs = performance.now() - scheduleStart
  await collectGarbage()
  const pending = heldBytes()
  const cancelStart = performance.now()
  await inBatches(jobs, 1000, (i) => manager.cancel(ids[i]!))
  const cancelMs = performance.now() - cancelStart
  ids = []
  await collectGarbage()
  const counts = await manager.counts()
  return {
    scheduleUs: (scheduleMs * 1000) / jobs,
    bytesPerPending: (pending - before) / jobs,
    cancelUs: (cancelMs * 1000) / jobs,
    retainedBytesPerJob: Math.max(0, heldBytes() - before) / jobs,
    timersArmed: armedTimers(),
    stillPending: counts.pending,
  }
}
