import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { Queue } from 'bullmq'
import { createBullmqKit } from './bullmq-kit'
import { BENCH_QUEUE, benchConnection, benchPrefix, benchRedis, deleteKeys, rawAdd, until } from './bullmq-support'
import { ENQUEUE_BATCH } from './bullmq-throughput'
import type { CoordinatorMessage, WorkerProcessMessage } from './bullmq-worker-process'
import { NoopJob, inBatches, type BenchArgs } from './support'

/** B4 parameters: one round per entry of `processes`, in that order, in the same run. */
export interface ProcessesParams {
  readonly processes: readonly number[]
  readonly jobs: number
  readonly concurrency: number
  /** Warm-up jobs per worker process of a round, run to their end before its clock starts. */
  readonly warmupJobsPerProcess: number
}

/** The compiled worker process, next to this compiled file. */
const WORKER_PROCESS = path.join(__dirname, `bullmq-worker-process${path.extname(__filename)}`)

/** How long one B4 round may take before it counts as failed. */
const RUN_TIMEOUT_MS = 180_000

/** One spawned worker process and what it reported in the current round. */
interface WorkerHandle {
  readonly child: ChildProcess
  completed: number
  starts?: { readonly pid: number; readonly ids: string[]; readonly completed: number }
  /** Resolves at the process's next message of `type` (or rejects if it exits first). */
  next(type: WorkerProcessMessage['type']): Promise<void>
  send(message: CoordinatorMessage): void
  readonly exited: Promise<void>
}

function spawnWorker(variant: 'raw' | 'kit'): WorkerHandle {
  const child = fork(WORKER_PROCESS, [variant], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiting = new Map<string, { resolve(): void; reject(error: Error): void }>()
  let exitCode: number | null | undefined
  const handle: WorkerHandle = {
    child,
    completed: 0,
    next: (type) =>
      new Promise<void>((resolve, reject) => {
        if (exitCode !== undefined) reject(new Error(`A B4 worker process exited (${exitCode}) before "${type}".`))
        else waiting.set(type, { resolve, reject })
      }),
    send: (message) => child.send(message),
    exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
  }
  child.once('exit', (code) => {
    exitCode = code
    for (const [type, waiter] of waiting)
      waiter.reject(new Error(`A B4 worker process exited (${code}) before "${type}".`))
    waiting.clear()
  })
  child.on('message', (message: WorkerProcessMessage) => {
    if (message.type === 'progress') handle.completed = message.completed
    else if (message.type === 'starts')
      handle.starts = { pid: message.pid, ids: message.ids, completed: message.completed }
    const waiter = waiting.get(message.type)
    waiting.delete(message.type)
    waiter?.resolve()
  })
  return handle
}

/**
 * B4, one run: as many fresh worker processes as the largest round needs (raw BullMQ `Worker`s
 * or the kit's engine), spawned together; then one round per entry of `processes`, each on a
 * queue (key prefix) of its own: the round's first `n` processes open a worker at `concurrency`
 * and, once all listen, this process (raw: a plain `Queue`, kit: a `worker: false` engine,
 * {@link ENQUEUE_BATCH} enqueues in flight, one call per job in both) runs
 * `warmupJobsPerProcess` warm-up jobs per process to their end, then enqueues `jobs` no-op jobs;
 * the clock runs from that first enqueue until the workers' completion counts add up. Then each
 * of them closes its worker and sends the ids it started (warm-up jobs not among them): starts,
 * unique ids and duplicates are counted across processes. Figures are suffixed `@<n>`.
 */
export async function processesRun(
  variant: 'raw' | 'kit',
  { processes, jobs, concurrency, warmupJobsPerProcess }: ProcessesParams,
): Promise<Record<string, number>> {
  const redis = benchRedis()
  const workers: WorkerHandle[] = []
  const figures: Record<string, number> = {}
  try {
    for (let n = 0; n < Math.max(...processes); n++) workers.push(spawnWorker(variant))
    await Promise.all(workers.map((worker) => worker.next('ready')))
    for (const count of processes) {
      const round = workers.slice(0, count)
      const prefix = benchPrefix()
      try {
        Object.assign(
          figures,
          await processesRound(variant, round, prefix, { jobs, concurrency, warmupJobsPerProcess }),
        )
      } finally {
        await deleteKeys(redis, prefix)
      }
    }
    for (const worker of workers) worker.send({ type: 'finish' })
    await Promise.all(workers.map((worker) => worker.exited))
    return figures
  } finally {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
    redis.disconnect()
  }
}

async function processesRound(
  variant: 'raw' | 'kit',
  workers: readonly WorkerHandle[],
  prefix: string,
  { jobs, concurrency, warmupJobsPerProcess }: Omit<ProcessesParams, 'processes'>,
): Promise<Record<string, number>> {
  const n = workers.length
  const warmup = warmupJobsPerProcess * n
  for (const worker of workers) {
    worker.completed = 0
    worker.starts = undefined
    worker.send({ type: 'open', prefix, concurrency })
  }
  await Promise.all(workers.map((worker) => worker.next('opened')))
  const completed = (): number => workers.reduce((sum, worker) => sum + worker.completed, 0)
  let seconds = NaN
  const producer = await openProducer(variant, prefix)
  try {
    // Warm-up jobs (i below 0, not noted as starts) first, so every worker is connected and warm.
    await inBatches(warmup, ENQUEUE_BATCH, (i) => producer.add(-1 - i))
    await until(() => completed() >= warmup, RUN_TIMEOUT_MS, `${warmup} warm-up completions`, 1)
    const started = performance.now()
    await inBatches(jobs, ENQUEUE_BATCH, (i) => producer.add(i))
    await until(() => completed() >= warmup + jobs, RUN_TIMEOUT_MS, `${jobs} completions across ${n} processes`, 1)
    seconds = (performance.now() - started) / 1000
  } finally {
    await producer.close()
  }
  const closed = workers.map((worker) => worker.next('starts'))
  for (const worker of workers) worker.send({ type: 'close' })
  await Promise.all(closed)
  const ids = workers.flatMap((worker) => worker.starts?.ids ?? [])
  const unique = new Set(ids).size
  const shares = workers.map((worker) => (worker.starts?.ids.length ?? 0) / jobs)
  const figures: Record<string, number> = {
    jobsPerSecond: jobs / seconds,
    starts: ids.length,
    unique,
    duplicates: ids.length - unique,
    completions: workers.reduce((sum, worker) => sum + (worker.starts?.completed ?? 0), 0) - warmup,
    missing: jobs - unique,
    smallestShare: Math.min(...shares),
    reportedProcesses: workers.filter((worker) => worker.starts !== undefined).length,
  }
  return Object.fromEntries(Object.entries(figures).map(([key, value]) => [`${key}@${n}`, value]))
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
