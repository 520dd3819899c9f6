/**
 * One worker process of B4, spawned by the B4 coordinator with an IPC channel:
 * `node bench/.build/bench/bullmq-worker-process.js <raw|kit> '<params JSON>'`. It works the
 * coordinator's queue with no-op jobs, noting the id of every job it starts (but warm-up jobs,
 * whose `i` is below 0); it sends `ready` once
 * its worker listens, its completion count every {@link PROGRESS_EVERY_MS}, and on `finish` stops
 * its worker, sends the ids it started and lets the process end.
 */
import { Worker } from 'bullmq'
import { BENCH_QUEUE, benchConnection } from './bullmq-support'
import { startKitWorker } from './bullmq-kit'
import { noopJob, type BenchArgs } from './support'

/** What the coordinator tells a worker process. */
export interface WorkerProcessParams {
  readonly prefix: string
  readonly concurrency: number
}

/** A message from a worker process to its coordinator. */
export type WorkerProcessMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly completed: number }
  | { readonly type: 'starts'; readonly pid: number; readonly ids: string[]; readonly completed: number }

/** How often a worker process reports its completion count. */
const PROGRESS_EVERY_MS = 5

/** A running worker: what it started and finished, and how to stop it. */
export interface BenchWorker {
  readonly started: string[]
  completed(): number
  close(): Promise<void>
}

/** A plain BullMQ `Worker` on the coordinator's queue. */
async function startRawWorker({ prefix, concurrency }: WorkerProcessParams): Promise<BenchWorker> {
  const started: string[] = []
  let completed = 0
  const worker = new Worker<BenchArgs>(
    BENCH_QUEUE,
    async (job) => {
      if (job.data.i >= 0) started.push(job.id ?? '(no id)')
      await noopJob(job.data)
    },
    { connection: benchConnection(), prefix, concurrency },
  )
  worker.on('completed', () => void completed++)
  await worker.waitUntilReady()
  return { started, completed: () => completed, close: () => worker.close() }
}

function send(message: WorkerProcessMessage): void {
  process.send?.(message)
}

async function main(): Promise<void> {
  const [variant = '', params = '{}'] = process.argv.slice(2)
  const parsed = JSON.parse(params) as WorkerProcessParams
  if (variant !== 'raw' && variant !== 'kit') throw new Error(`Unknown B4 worker variant ${JSON.stringify(variant)}.`)
  const worker = variant === 'raw' ? await startRawWorker(parsed) : await startKitWorker(parsed)
  let reported = -1
  const progress = setInterval(() => {
    const completed = worker.completed()
    if (completed !== reported) send({ type: 'progress', completed: (reported = completed) })
  }, PROGRESS_EVERY_MS)
  process.once('message', (message: unknown) => {
    if (message !== 'finish') return
    clearInterval(progress)
    worker
      .close()
      .then(() => {
        send({ type: 'starts', pid: process.pid, ids: worker.started, completed: worker.completed() })
        process.disconnect()
      })
      .catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
        process.exit(1)
      })
  })
  send({ type: 'ready' })
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
