import { BackgroundJobBase } from '../src/background-job-base'
import { createKit, inYieldingBatches, mulberry32, quantile, type BenchArgs } from './support'

/** W2 parameters. */
export interface DelayedParams {
  readonly jobs: number
  readonly maxDelayMs: number
  readonly seed: number
}

/**
 * Start times (`Date.now()`, whole ms) recorded by job `i`: the first in `firstStart`, any later
 * one counted in `extraStarts` (a duplicate run).
 */
export class StartLog {
  readonly firstStart: Float64Array
  readonly due: Float64Array
  extraStarts = 0
  started = 0
  #onAll: (() => void) | undefined

  constructor(jobs: number) {
    this.firstStart = new Float64Array(jobs).fill(NaN)
    this.due = new Float64Array(jobs)
  }

  record(i: number): void {
    const now = Date.now()
    if (!Number.isNaN(this.firstStart[i]!)) {
      this.extraStarts++
      return
    }
    this.firstStart[i] = now
    if (++this.started === this.firstStart.length) this.#onAll?.()
  }

  /** Resolves once every job started, or at `deadline` (ms since the epoch), whichever is first. */
  allStarted(deadline: number): Promise<void> {
    if (this.started === this.firstStart.length) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
      this.#onAll = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** Lateness p50/p99/max over the jobs that started, and the counts of misses, early starts, duplicates. */
  figures(): Record<string, number> {
    const lateness: number[] = []
    let misses = 0
    let early = 0
    for (let i = 0; i < this.due.length; i++) {
      const start = this.firstStart[i]!
      if (Number.isNaN(start)) {
        misses++
        continue
      }
      if (start < this.due[i]!) early++
      lateness.push(start - this.due[i]!)
    }
    const sorted = Float64Array.from(lateness).sort()
    return {
      latenessP50Ms: quantile(sorted, 0.5),
      latenessP99Ms: quantile(sorted, 0.99),
      latenessMaxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
      duplicates: this.extraStarts,
      misses,
      early,
    }
  }
}

/** How long after the last due time a job that has not started counts as missed. */
const GRACE_MS = 3000

/** Jobs scheduled between two yields to the event loop, in both variants. */
const BATCH_SIZE = 1000

/**
 * The producer both variants share: `schedule(i, delay)` for each job, delays from the seeded
 * PRNG, in yielding batches of {@link BATCH_SIZE}, each due time (`Date.now() + delay`, taken just
 * before scheduling) noted in `log`. Resolves once every job started, or a grace period after the
 * last due time.
 */
export async function produce(
  log: StartLog,
  { jobs, maxDelayMs, seed }: DelayedParams,
  schedule: (i: number, delay: number) => void | Promise<unknown>,
): Promise<void> {
  const random = mulberry32(seed)
  let lastDue = 0
  await inYieldingBatches(jobs, BATCH_SIZE, (i) => {
    const delay = Math.floor(random() * (maxDelayMs + 1))
    const due = Date.now() + delay
    log.due[i] = due
    lastDue = Math.max(lastDue, due)
    return schedule(i, delay)
  })
  await log.allStarted(lastDue + GRACE_MS)
}

/**
 * W2 baseline: one `setTimeout(run, delay, { i })` per job, in batches of {@link BATCH_SIZE} with a
 * yield to the event loop between batches (the same producer as the kit's).
 */
export async function delayedSetTimeout({ jobs, maxDelayMs, seed }: DelayedParams): Promise<Record<string, number>> {
  const log = new StartLog(jobs)
  const run = (args: BenchArgs): void => log.record(args.i)
  await produce(log, { jobs, maxDelayMs, seed }, (i, delay) => void setTimeout(run, delay, { i }))
  return log.figures()
}

/**
 * W2 on the kit: `enqueue(Job, { i }, { delay })`, in batches of {@link BATCH_SIZE} awaited together
 * with a yield to the event loop between batches; the job records `Date.now()` first thing.
 */
export async function delayedKit({ jobs, maxDelayMs, seed }: DelayedParams): Promise<Record<string, number>> {
  const log = new StartLog(jobs)
  class StampJob extends BackgroundJobBase<BenchArgs> {
    protected override async executing(args: BenchArgs): Promise<void> {
      log.record(args.i)
    }
  }
  const { container, manager } = createKit([StampJob], { maxPendingJobs: jobs * 2 })
  await produce(log, { jobs, maxDelayMs, seed }, (i, delay) => manager.enqueue(StampJob, { i }, { delay }))
  const figures = log.figures()
  await container.dispose()
  return figures
}
