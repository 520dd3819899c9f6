import { createContainer, type AwilixContainer } from 'awilix'
// The modules the package's index re-exports, not the index: that also loads the HTTP edge and
// express, which no workload child but W4's server uses, and loading them is a quarter second per child.
import { BackgroundJobBase, type JobClass } from '../src/background-job-base'
import type { BackgroundJobManager } from '../src/background-job-manager'
import type { MemoryStoreOptions } from '../src/memory/memory-options'
import { addBackgroundJobs } from '../src/register'

/** The prefix of the one stdout line a workload child reports its figures on. */
export const RESULT_PREFIX = 'BENCH_RESULT '

/** Arguments of every benchmark job. */
export interface BenchArgs {
  readonly i: number
}

/** The no-op job of W1, W3 and W4. */
export class NoopJob extends BackgroundJobBase<BenchArgs> {
  protected override async executing(): Promise<void> {}
}

/** The same no-op work the baselines dispatch once per job. */
export async function noopJob(args: BenchArgs): Promise<void> {
  void args
}

/**
 * The concurrency the benchmarks give the kit. No-op jobs never wait on I/O, so more slots add
 * nothing but bookkeeping; a user would keep a modest pool.
 */
export const BENCH_CONCURRENCY = 100

/**
 * The kit's container and manager with the in-memory store as a user would configure it for the
 * workload: the default logger (winston at `info`), `concurrency` {@link BENCH_CONCURRENCY}.
 */
export function createKit(
  jobs: JobClass[],
  options: MemoryStoreOptions,
): { container: AwilixContainer; manager: BackgroundJobManager } {
  const container = createContainer()
  addBackgroundJobs(container, (o) =>
    o.useInMemoryStore({ concurrency: BENCH_CONCURRENCY, ...options }).addJob(...jobs),
  )
  return { container, manager: container.resolve<BackgroundJobManager>('backgroundJobManager') }
}

/** Awaits `count` calls of `call(i)` in batches of `size` promises (what a bulk producer does). */
export async function inBatches<T>(
  count: number,
  size: number,
  call: (i: number) => Promise<T>,
  into?: T[],
): Promise<void> {
  for (let start = 0; start < count; start += size) {
    const end = Math.min(count, start + size)
    const batch = new Array<Promise<T>>(end - start)
    for (let i = start; i < end; i++) batch[i - start] = call(i)
    const values = await Promise.all(batch)
    if (into !== undefined) for (let i = 0; i < values.length; i++) into[start + i] = values[i]!
  }
}

/**
 * Calls `schedule(i)` for each `i` below `count` in batches of `size`, awaits each batch's results
 * together (the promises of an async `schedule`; nothing to wait for otherwise) and then yields to
 * the event loop with `setImmediate` before the next batch, as a producer serving requests does.
 * Timers that come due meanwhile can fire between batches instead of only after the last one.
 */
export async function inYieldingBatches(
  count: number,
  size: number,
  schedule: (i: number) => void | Promise<unknown>,
): Promise<void> {
  for (let start = 0; start < count; start += size) {
    const end = Math.min(count, start + size)
    const batch: Promise<unknown>[] = []
    for (let i = start; i < end; i++) {
      const scheduled = schedule(i)
      if (scheduled !== undefined) batch.push(scheduled)
    }
    await Promise.all(batch)
    if (end < count) await new Promise((resolve) => setImmediate(resolve))
  }
}

/** A seeded PRNG (mulberry32): the same delays in every run and for every variant. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The value at quantile `q` (0..1) of sorted `values`, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const gc = (globalThis as { gc?: () => void }).gc

/**
 * Runs two full garbage collections (the child runs with --expose-gc) with event-loop turns
 * between. Two give the same W3 bytes as four did (to 0.1%), and with a million pending jobs each
 * pass costs up to half a second.
 */
export async function collectGarbage(): Promise<void> {
  if (gc === undefined) throw new Error('Run the workload with node --expose-gc.')
  for (let i = 0; i < 2; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Heap used plus external memory (the bytes a workload holds), in bytes. */
export function heldBytes(): number {
  const { heapUsed, external } = process.memoryUsage()
  return heapUsed + external
}

/** Node timers armed and keeping the event loop alive. */
export function armedTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length
}

/** The peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024
}

/** Reports the child's figures to the parent on one stdout line. */
export function report(figures: Record<string, number | boolean | string>): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(figures)}\n`)
}
