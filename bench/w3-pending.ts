import { handOver, handOverAsync, handOverBatches } from './hand-over'
import { SimpleIntervalJob, Task, ToadScheduler, loadPQueue } from './peers'
import type { BulkJob } from '../src/index'
import {
  BENCH_CONCURRENCY,
  NoopJob,
  armedTimers,
  collectGarbage,
  createKit,
  heldBytes,
  noopJob,
  type BenchArgs,
} from './support'

/** W3 parameters. */
export interface PendingParams {
  readonly jobs: number
}

const HOUR_MS = 3_600_000

/** The figures of one W3 run; every variant measures them the same way. */
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
 * Measures one W3 run the same way for every variant: held bytes before, `schedule` (timed), held
 * bytes with everything pending, `cancel` (timed), `release` (drop the caller's handles), held
 * bytes after. Whatever `schedule` allocates, the handle array included, counts as pending. Both
 * `schedule` and `cancel` are issue 15's hand-over loop (hand-over.ts).
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
  // What any promise-returning call costs when handed over and awaited the same way, doing no
  // work: the floor under a promise-returning schedule or cancel.
  const floorStart = performance.now()
  await handOverAsync(jobs, () => settled)
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

const run = (args: BenchArgs): void => void noopJob(args)

/**
 * W3 baseline: `setTimeout(run, 1 h, { i })` per job, the handles kept in an array (what a caller
 * must keep to cancel them), then `clearTimeout` of each.
 */
export function pendingSetTimeout({ jobs }: PendingParams): Promise<PendingFigures> {
  let handles: NodeJS.Timeout[] = []
  return measurePending(
    jobs,
    async () => (handles = await handOver(jobs, (i) => setTimeout(run, HOUR_MS, { i }))),
    () => handOver(jobs, (i) => clearTimeout(handles[i])),
    () => (handles = []),
  )
}

/**
 * W3 on p-queue, which has no delayed jobs: what its users write instead, a `setTimeout` of 1 h
 * that then calls `queue.add`, cancelled with `clearTimeout`.
 */
export async function pendingPQueue({ jobs }: PendingParams): Promise<PendingFigures> {
  const PQueue = await loadPQueue()
  const queue = new PQueue({ concurrency: BENCH_CONCURRENCY })
  const addLater = (args: BenchArgs): void => void queue.add(() => run(args))
  let handles: NodeJS.Timeout[] = []
  return measurePending(
    jobs,
    async () => (handles = await handOver(jobs, (i) => setTimeout(addLater, HOUR_MS, { i }))),
    () => handOver(jobs, (i) => clearTimeout(handles[i])),
    () => (handles = []),
  )
}

/**
 * W3 on toad-scheduler, which has no one-shot jobs: a `SimpleIntervalJob` every hour whose task
 * stops its job before running, so it runs once, the jobs kept in an array and cancelled with
 * `job.stop()`. (Jobs given ids and cancelled with `removeById(id)` cost about twice as much to
 * schedule and four times as much to cancel: its registry is a plain object keyed by id.)
 */
export async function pendingToad({ jobs }: PendingParams): Promise<PendingFigures> {
  const scheduler = new ToadScheduler()
  const add = (args: BenchArgs): SimpleIntervalJob => {
    const task = new Task('bench', () => {
      job.stop()
      run(args)
    })
    const job = new SimpleIntervalJob({ milliseconds: HOUR_MS }, task)
    scheduler.addSimpleIntervalJob(job)
    return job
  }
  // The engine is created with the first job; it is the scheduler's, not a pending job's.
  add({ i: -1 }).stop()
  let handles: SimpleIntervalJob[] = []
  const figures = await measurePending(
    jobs,
    async () => (handles = await handOver(jobs, (i) => add({ i }))),
    () => handOver(jobs, (i) => handles[i]!.stop()),
    () => (handles = []),
  )
  scheduler.stop()
  return figures
}

/**
 * W3 on the kit: `enqueue(Job, { i }, { delay: 1 h })` per job, the ids kept in an array, then
 * `cancel(id)` of each. The store is created with `unref: false`, so its timer would keep the
 * process alive if it were left armed.
 */
export async function pendingKit({ jobs }: PendingParams): Promise<PendingFigures> {
  const { manager } = createKit([NoopJob], { maxPendingJobs: jobs * 2, unref: false })
  // Warm the container and the code paths once, so the figures hold per-job costs only.
  await manager.cancel(await manager.enqueue(NoopJob, { i: -1 }, { delay: HOUR_MS }))
  let ids: string[] = []
  const figures = await measurePending(
    jobs,
    async () => (ids = await handOverAsync(jobs, (i) => manager.enqueue(NoopJob, { i }, { delay: HOUR_MS }))),
    () => handOverAsync(jobs, (i) => manager.cancel(ids[i]!)),
    () => (ids = []),
  )
  return { ...figures, stillPending: (await manager.counts()).pending }
}

/**
 * W3 on the kit's bulk API: `enqueueMany(Job, [{ args: { i }, delay: 1 h }, …])` of 1000 jobs per
 * call, one promise per call, in the same yielding loop, the ids kept in an array; then
 * `cancelMany(ids)` of 1000 ids per call. The jobs left pending (none) and the ids cancelMany
 * skipped (none) are reported.
 */
export async function pendingKitBulk({ jobs }: PendingParams): Promise<PendingFigures> {
  const { manager } = createKit([NoopJob], { maxPendingJobs: jobs * 2, unref: false })
  // Warm the container and the code paths once, so the figures hold per-job costs only.
  await manager.cancelMany(await manager.enqueueMany(NoopJob, [{ args: { i: -1 }, delay: HOUR_MS }]))
  let ids: string[] = []
  let skipped = 0
  const figures = await measurePending(
    jobs,
    async () =>
      (ids = await handOverBatches(jobs, (start, end) => {
        const batch = new Array<BulkJob<BenchArgs>>(end - start)
        for (let i = start; i < end; i++) batch[i - start] = { args: { i }, delay: HOUR_MS }
        return manager.enqueueMany(NoopJob, batch)
      })),
    async () => {
      const results = await handOverBatches(jobs, async (start, end) => [
        await manager.cancelMany(ids.slice(start, end)),
      ])
      for (const result of results) skipped += result.skipped.length
    },
    () => (ids = []),
  )
  return { ...figures, stillPending: (await manager.counts()).pending, skipped }
}
