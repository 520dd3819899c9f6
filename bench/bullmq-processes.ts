import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { Queue } from 'bullmq'
import { createBullmqKit } from './bullmq-kit'
import { BENCH_QUEUE, benchConnection, benchPrefix, benchRedis, deleteKeys, rawAdd, until } from './bullmq-support'
import { ENQUEUE_BATCH } from './bullmq-throughput'
import type { WorkerProcessMessage, WorkerProcessParams } from './bullmq-worker-process'
import { NoopJob, inBatches, type BenchArgs } from './support'

/** B4 parameters. */
export interface ProcessesParams {
  readonly processes: number
  readonly jobs: number
  readonly concurrency: number
}

/** The compiled worker process, next to this compiled file. */
const WORKER_PROCESS = path.join(__dirname, `bullmq-worker-process${path.extname(__filename)}`)

/** Warm-up jobs per worker process, run to their end before the clock starts. */
const WARMUP_JOBS_PER_PROCESS = 200

/** How long one B4 run may take before it counts as failed. */
const RUN_TIMEOUT_MS = 180_000

/** One spawned worker process and what it reported. */
interface WorkerHandle {
  readonly child: ChildProcess
  completed: number
  starts?: { readonly pid: number; readonly ids: string[]; readonly completed: number }
  readonly ready: Promise<void>
  readonly exited: Promise<void>
}

function spawnWorker(variant: 'raw' | 'kit', params: WorkerProcessParams): WorkerHandle {
  const child = fork(WORKER_PROCESS, [variant, JSON.stringify(params)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let markReady: () => void = () => {}
  const handle: WorkerHandle = {
    child,
    completed: 0,
    ready: new Promise<void>((resolve, reject) => {
      markReady = resolve
      child.once('exit', (code) => reject(new Error(`A B4 worker process exited (${code}) before it was ready.`)))
    }),
    exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
  }
  child.on('message', (message: WorkerProcessMessage) => {
    if (message.type === 'ready') markReady()
    else if (message.type === 'progress') handle.completed = message.completed
    else handle.starts = { pid: message.pid, ids: message.ids, completed: message.completed }
  })
  return handle
}

/**
 * B4, one run: `processes` fresh worker processes (raw BullMQ `Worker`s or the kit's engine, each
 * at `concurrency`) on one queue; once all are ready, this process (raw: a plain `Queue`, kit: a
 * `worker: false` engine, {@link ENQUEUE_BATCH} enqueues in flight, one call per job in both)
 * first runs {@link WARMUP_JOBS_PER_PROCESS} warm-up jobs per process to their end, then enqueues
 * `jobs` no-op jobs, and the clock runs from that first enqueue until the workers' completion
 * counts add up. Then each worker process stops and sends the ids it started (warm-up jobs not
 * among them): starts, unique ids and duplicates are counted across processes.
 */
export async function processesRun(
  variant: 'raw' | 'kit',
  { processes, jobs, concurrency }: ProcessesParams,
): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const redis = benchRedis()
  const workers: WorkerHandle[] = []
  let seconds = NaN
  const warmup = WARMUP_JOBS_PER_PROCESS * processes
  try {
    for (let n = 0; n < processes; n++) workers.push(spawnWorker(variant, { prefix, concurrency }))
    await Promise.all(workers.map((worker) => worker.ready))
    const completed = (): number => workers.reduce((sum, worker) => sum + worker.completed, 0)
    const producer = await openProducer(variant, prefix)
    try {
      // Warm-up jobs (i below 0, not noted as starts) first, so every worker is connected and warm.
      await inBatches(warmup, ENQUEUE_BATCH, (i) => producer.add(-1 - i))
      await until(() => completed() >= warmup, RUN_TIMEOUT_MS, `${warmup} warm-up completions`, 1)
      const started = performance.now()
      await inBatches(jobs, ENQUEUE_BATCH, (i) => producer.add(i))
      await until(
        () => completed() >= warmup + jobs,
        RUN_TIMEOUT_MS,
        `${jobs} completions across ${processes} processes`,
        1,
      )
      seconds = (performance.now() - started) / 1000
    } finally {
      await producer.close()
    }
    for (const worker of workers) worker.child.send('finish')
    await Promise.all(workers.map((worker) => worker.exited))
    const ids = workers.flatMap((worker) => worker.starts?.ids ?? [])
    const unique = new Set(ids).size
    const shares = workers.map((worker) => (worker.starts?.ids.length ?? 0) / jobs)
    return {
      jobsPerSecond: jobs / seconds,
      starts: ids.length,
      unique,
      duplicates: ids.length - unique,
      completions: workers.reduce((sum, worker) => sum + (worker.starts?.completed ?? 0), 0) - warmup,
      missing: jobs - unique,
      smallestShare: Math.min(...shares),
      reportedProcesses: workers.filter((worker) => worker.starts !== undefined).length,
    }
  } finally {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}

/** The coordinator's producer: `add(i)` enqueues no-op job `{ i }` the variant's way. */
interface Producer {
  add(i: number): Promise<unknown>
  close(): Promise<void>
}

/** Raw: a plain `Queue` and `queue.add` per job; kit: a `worker: false` engine and `manager.enqueue`. */
async function openProducer(variant: 'raw' | 'kit', prefix: string): Promise<Producer> {
  if (variant === 'raw') {
    const queue = new Queue<BenchArgs>(BENCH_QUEUE, { connection: benchConnection(), prefix })
    await queue.waitUntilReady()
    return { add: (i) => rawAdd(queue, i), close: () => queue.close() }
  }
  const kit = createBullmqKit([NoopJob], { prefix, worker: false })
  await kit.manager.counts()
  return { add: (i) => kit.manager.enqueue(NoopJob, { i }), close: () => kit.dispose() }
}

/** B4 baseline variant: raw BullMQ workers. */
export function processesRaw(params: ProcessesParams): Promise<Record<string, number>> {
  return processesRun('raw', params)
}

/** B4 on the kit: the kit's BullMQ engine in every worker process and in the producer. */
export function processesKit(params: ProcessesParams): Promise<Record<string, number>> {
  return processesRun('kit', params)
}
