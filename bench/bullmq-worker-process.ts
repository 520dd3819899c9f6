/**
 * One worker process of B4, spawned by the B4 coordinator with an IPC channel:
 * `node bench/.build/bench/bullmq-worker-process.js <raw|kit>`. It sends `ready` once loaded;
 * then, for each round, `open` starts a worker on the round's queue (sending `opened` once it
 * listens, then its completion count every {@link PROGRESS_EVERY_MS}), noting the id of every
 * job it starts (but warm-up jobs, whose `i` is below 0), and `close` stops that worker and sends
 * the ids it started. `finish` lets the process end.
 */
import { Worker } from 'bullmq'
import { BENCH_QUEUE, benchConnection } from './bullmq-support'
import { startKitWorker } from './bullmq-kit'
import { noopJob, type BenchArgs } from './support'

/** What a worker of one round works: the round's queue prefix, at `concurrency`. */
export interface WorkerProcessParams {
  readonly prefix: string
  readonly concurrency: number
}

/** A message from the coordinator to a worker process. */
export type CoordinatorMessage =
  ({ readonly type: 'open' } & WorkerProcessParams) | { readonly type: 'close' } | { readonly type: 'finish' }

/** A message from a worker process to its coordinator. */
export type WorkerProcessMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'opened' }
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

function fail(error: unknown): never {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
}

function main(): void {
  const [variant = ''] = process.argv.slice(2)
  if (variant !== 'raw' && variant !== 'kit') throw new Error(`Unknown B4 worker variant ${JSON.stringify(variant)}.`)
  let worker: Promise<BenchWorker> | undefined
  let progress: NodeJS.Timeout | undefined
  process.on('message', (message: CoordinatorMessage) => {
    if (message.type === 'open') {
      const params = { prefix: message.prefix, concurrency: message.concurrency }
      worker = variant === 'raw' ? startRawWorker(params) : startKitWorker(params)
      worker.then((opened) => {
        let reported = -1
        progress = setInterval(() => {
          const completed = opened.completed()
          if (completed !== reported) send({ type: 'progress', completed: (reported = completed) })
        }, PROGRESS_EVERY_MS)
        send({ type: 'opened' })
      }, fail)
    } else if (message.type === 'close') {
      clearInterval(progress)
      const closing = worker
      worker = undefined
      closing
        ?.then(async (opened) => {
          await opened.close()
          send({ type: 'starts', pid: process.pid, ids: opened.started, completed: opened.completed() })
        })
        .catch(fail)
    } else process.disconnect()
  })
  send({ type: 'ready' })
}

try {
  main()
} catch (error) {
  fail(error)
}
