import {
  NoopJob,
  armedTimers,
  collectGarbage,
  createKit,
  heldBytes,
  inBatches,
  noopJob,
  type BenchArgs,
} from './support'

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
  promiseFloorUs: number
}

const settled: Promise<void> = Promise.resolve()

/**
 * Measures one W3 run the same way for both variants: held bytes before, `schedule` (timed), held
 * bytes with everything pending, `cancel` (timed), `release` (drop the caller's handles), held
 * bytes after. Whatever `schedule` allocates, the handle array included, counts as pending.
 */
async function measurePending(
  jobs: number,
  schedule: () => unknown,
  cancel: () => unknown,
  release: () => void,
): Promise<PendingFigures> {
  await collectGarbage()
  const before = heldBytes()
  const scheduleStart = performance.now()
  await schedule()
  const scheduleMs = performance.now() - scheduleStart
  await collectGarbage()
  const pending = heldBytes()
  const cancelStart = performance.now()
  await cancel()
  const cancelMs = performance.now() - cancelStart
  release()
  await collectGarbage()
  // What any promise-returning call costs when awaited in the same batches, doing no work: the
  // floor under the kit's schedule and cancel figures.
  const floorStart = performance.now()
  await inBatches(jobs, 1000, () => settled)
  const promiseFloorUs = ((performance.now() - floorStart) * 1000) / jobs
  await collectGarbage()
  return {
    promiseFloorUs,
    scheduleUs: (scheduleMs * 1000) / jobs,
    bytesPerPending: (pending - before) / jobs,
    cancelUs: (cancelMs * 1000) / jobs,
    retainedBytesPerJob: Math.max(0, heldBytes() - before) / jobs,
    timersArmed: armedTimers(),
  }
}

/**
 * W3 baseline: `setTimeout(run, 1 h, { i })` per job, the handles kept in an array (what a caller
 * must keep to cancel them), then `clearTimeout` of each.
 */
export function pendingSetTimeout({ jobs }: PendingParams): Promise<PendingFigures> {
  const run = (args: BenchArgs): void => void noopJob(args)
  let handles: NodeJS.Timeout[] = []
  return measurePending(
    jobs,
    () => {
      handles = new Array<NodeJS.Timeout>(jobs)
      for (let i = 0; i < jobs; i++) handles[i] = setTimeout(run, HOUR_MS, { i })
    },
    () => {
      for (let i = 0; i < jobs; i++) clearTimeout(handles[i])
    },
    () => (handles = []),
  )
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
  let ids: string[] = []
  const figures = await measurePending(
    jobs,
    async () => {
      ids = new Array<string>(jobs)
      await inBatches(jobs, 1000, (i) => manager.enqueue(NoopJob, { i }, { delay: HOUR_MS }), ids)
    },
    () => inBatches(jobs, 1000, (i) => manager.cancel(ids[i]!)),
    () => (ids = []),
  )
  return { ...figures, stillPending: (await manager.counts()).pending }
}
