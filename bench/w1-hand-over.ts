/**
 * W1h, W1 in issue 15's shape: immediate jobs handed over one by one in a yielding loop (see
 * hand-over.ts), the job body a synchronous function noting its start, the clock running from the
 * first hand-over to the last job's start. Each child measures a one-shot round in a fresh process
 * and, after `warmupJobs` more in the same process (the one-shot round counts towards them), a
 * steady-state round, as a server that has been running a while sees it.
 */
import { BackgroundJobBase } from '../src/background-job-base'
import { StartLog, handOver, handOverAsync } from './hand-over'
import { loadPQueue } from './peers'
import { collectGarbage, createKit, peakRssMb, type BenchArgs } from './support'

/** W1h parameters. */
export interface HandOverParams {
  /** Jobs per round. */
  readonly jobs: number
  /** Jobs run before the steady-state round, the one-shot round included. */
  readonly warmupJobs: number
}

/** The concurrency issue 15 gives the kit and p-queue on W1h. */
export const HAND_OVER_CONCURRENCY = 50

/** A round whose jobs have not all started by then counts the rest as missed. */
const ROUND_TIMEOUT_MS = 60_000

/** The body every variant runs: note that job `args.i` of the current round started. */
let current = new StartLog(0)
const body = (args: BenchArgs): void => current.record(args.i)

/** How a variant hands job `i` over: synchronously, or through a promise awaited after the loop. */
type Run = { readonly sync: (i: number) => void } | { readonly async: (i: number) => Promise<unknown> }

/**
 * One round: a fresh start log, each job handed over in the yielding loop, the clock from the
 * first hand-over to the last start, then `settle()` (the variant's wait for its jobs to finish).
 */
async function round(
  jobs: number,
  run: Run,
  settle: () => Promise<unknown>,
): Promise<{ jobsPerSecond: number; duplicates: number; misses: number }> {
  current = new StartLog(jobs)
  const log = current
  await collectGarbage()
  const started = performance.now()
  if ('sync' in run) await handOver(jobs, run.sync)
  else await handOverAsync(jobs, run.async)
  await log.allStarted(ROUND_TIMEOUT_MS)
  await settle()
  return { jobsPerSecond: jobs / ((log.lastStart - started) / 1000), duplicates: log.duplicates, misses: log.misses }
}

/** Runs the one-shot round, the warm-up rounds and the steady round; the figures of both measured rounds. */
async function rounds(
  { jobs, warmupJobs }: HandOverParams,
  run: Run,
  settle: () => Promise<unknown> = () => Promise.resolve(),
): Promise<Record<string, number>> {
  const oneShot = await round(jobs, run, settle)
  let duplicates = oneShot.duplicates
  let misses = oneShot.misses
  for (let done = jobs; done < warmupJobs; done += jobs) {
    const warm = await round(jobs, run, settle)
    duplicates += warm.duplicates
    misses += warm.misses
  }
  const steady = await round(jobs, run, settle)
  return {
    oneShotJobsPerSecond: oneShot.jobsPerSecond,
    steadyJobsPerSecond: steady.jobsPerSecond,
    duplicates: duplicates + steady.duplicates,
    misses: misses + steady.misses,
    peakRssMb: peakRssMb(),
  }
}

/** W1h baseline: `setTimeout(body, 0, { i })` per job. */
export function handOverSetTimeout(params: HandOverParams): Promise<Record<string, number>> {
  return rounds(params, { sync: (i) => void setTimeout(body, 0, { i }) })
}

/** W1h baseline: `queueMicrotask` per job, calling the body directly. */
export function handOverMicrotask(params: HandOverParams): Promise<Record<string, number>> {
  return rounds(params, {
    sync: (i) => {
      const args: BenchArgs = { i }
      queueMicrotask(() => body(args))
    },
  })
}

/** W1h on p-queue: `queue.add(() => body({ i }))` at concurrency {@link HAND_OVER_CONCURRENCY}. */
export async function handOverPQueue(params: HandOverParams): Promise<Record<string, number>> {
  const PQueue = await loadPQueue()
  const queue = new PQueue({ concurrency: HAND_OVER_CONCURRENCY })
  return rounds(
    params,
    {
      async: (i) => {
        const args: BenchArgs = { i }
        return queue.add(() => body(args))
      },
    },
    () => queue.onIdle(),
  )
}

/** A job whose body is the synchronous {@link body} (the kit's `executing` returns a promise). */
class StartJob extends BackgroundJobBase<BenchArgs> {
  protected override async executing(args: BenchArgs): Promise<void> {
    body(args)
  }
}

/** W1h on the kit: `enqueue(StartJob, { i })` at concurrency {@link HAND_OVER_CONCURRENCY}. */
export async function handOverKit(params: HandOverParams): Promise<Record<string, number>> {
  const { container, manager } = createKit([StartJob], { concurrency: HAND_OVER_CONCURRENCY })
  const figures = await rounds(params, { async: (i) => manager.enqueue(StartJob, { i }) }, () => manager.onIdle())
  const counts = await manager.counts()
  await container.dispose()
  return { ...figures, failed: counts.failed, concurrency: HAND_OVER_CONCURRENCY }
}
