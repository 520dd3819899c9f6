/**
 * One application process of the multi-process tests: `node --import tsx job-process-main.ts
 * '<JobProcessConfig JSON>'`, spawned with an IPC channel by `startJobProcess`. It builds a
 * container on `bullmqEngine` with two jobs, reports each start and settlement of a job in this
 * process to the parent, and obeys the parent's commands (enqueue, release a held job, stop).
 * After `stop` it disposes its container and disconnects, and must then exit by itself.
 */
import { createContainer } from 'awilix'
import { bullmqEngine, type BullmqEngineOptions } from '../../src/bullmq'
import { BackgroundJobBase, addBackgroundJobs, type BackgroundJobManager, type JobContext } from '../../src/index'
import type { JobProcessCommand, JobProcessConfig, JobProcessMessage } from './job-process'

const config = JSON.parse(process.argv[2] ?? '{}') as JobProcessConfig

function send(message: JobProcessMessage): void {
  process.send?.(message)
}

/** Holds of `HoldJob` runs, by `key`: released by the parent's `release` command. */
const holds = new Map<string, () => void>()
const released = new Set<string>()

/** Records its start and ends at once. */
class RecordJob extends BackgroundJobBase<{ readonly n: number }> {
  protected override async executing(args: { readonly n: number }, context: JobContext): Promise<void> {
    send({ type: 'started', jobId: context.jobId, jobName: 'RecordJob', key: String(args.n), attempt: context.attempt })
  }
}

/** Records its start, then runs until the parent releases its `key` (or the attempt is aborted). */
class HoldJob extends BackgroundJobBase<{ readonly key: string }> {
  protected override async executing(args: { readonly key: string }, context: JobContext): Promise<void> {
    send({ type: 'started', jobId: context.jobId, jobName: 'HoldJob', key: args.key, attempt: context.attempt })
    if (released.has(args.key)) return
    await new Promise<void>((resolve, reject) => {
      holds.set(args.key, resolve)
      context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true })
    })
  }
}

const container = createContainer()
const options: BullmqEngineOptions = { connection: config.redisUrl, prefix: config.prefix, ...config.engine }
addBackgroundJobs(container, (o) => o.useEngine(bullmqEngine(options)).addJob(RecordJob, HoldJob))
const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
manager.on('completed', (job) => send({ type: 'settled', jobId: job.id, state: 'completed' }))
manager.on('failed', (job) => send({ type: 'settled', jobId: job.id, state: 'failed' }))

async function obey(command: JobProcessCommand): Promise<void> {
  switch (command.type) {
    case 'enqueue': {
      const jobIds: string[] = []
      for (let n = command.from; n < command.from + command.count; n++) {
        jobIds.push(
          command.jobName === 'HoldJob'
            ? await manager.enqueue(HoldJob, { key: String(n) }, { delay: command.delayMs ?? 0 })
            : await manager.enqueue(RecordJob, { n }, { delay: command.delayMs ?? 0 }),
        )
      }
      send({ type: 'enqueued', request: command.request, jobIds })
      return
    }
    case 'release': {
      released.add(command.key)
      holds.get(command.key)?.()
      holds.delete(command.key)
      return
    }
    case 'stop': {
      const result = await manager.stop({ drain: command.drain, timeoutMs: command.timeoutMs })
      await container.dispose()
      send({ type: 'stopped', result: { pending: result.pending, running: result.running } })
      process.disconnect()
      return
    }
  }
}

process.on('message', (command: JobProcessCommand) => {
  obey(command).catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : 'a non-error' })
  })
})

manager
  .counts()
  .then(() => send({ type: 'ready', pid: process.pid }))
  .catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : 'a non-error' })
  })
