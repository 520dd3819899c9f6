import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { asValue, createContainer } from 'awilix'
import {
  BackgroundJobBase,
  addBackgroundJobs,
  type BackgroundJobManager,
  type JobContext,
} from 'express-background-jobs'
import { bullmqEngine, type BullmqEngineOptions } from 'express-background-jobs/bullmq'
import { decodeLogLine, encodeLogLine } from '../../src/bullmq/job-reports'
import { CapturingLogger } from '../support/harness'
import { bullmqManagers } from '../support/bullmq-managers'
import { REDIS_URL, redisUnavailable, testClient } from '../support/redis'
import { requireService } from '../support/services'

const run = promisify(execFile)

/** Logs, reports progress, fails its first attempt and (unless `fails`) succeeds its second. */
class ReportingJob extends BackgroundJobBase<{ fails: boolean }> {
  static override retry = { maxRetries: 1, initialDelayMs: 0 }
  protected override async executing(args: { fails: boolean }, ctx: JobContext): Promise<void> {
    ctx.log(`attempt ${ctx.attempt}`)
    ctx.updateProgress(ctx.attempt * 40)
    if (args.fails || ctx.attempt === 1) throw new Error(`attempt ${ctx.attempt} failed`)
  }
}

/**
 * Every key under `prefix`, as `redis-cli --scan --pattern '<prefix>*'` lists them (the same SCAN
 * through ioredis where no redis-cli is installed).
 */
async function keysUnder(prefix: string): Promise<string[]> {
  try {
    const { stdout } = await run('redis-cli', ['-u', REDIS_URL, '--scan', '--pattern', `${prefix}*`])
    return stdout.split('\n').filter((key) => key !== '')
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error
  }
  const client = testClient()
  try {
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      keys.push(...found)
    } while (cursor !== '0')
    return keys
  } finally {
    client.disconnect()
  }
}

describe('the BullMQ engine’s progress, log lines and attempt history', () => {
  before(async function () {
    requireService(this, 'REDIS', await redisUnavailable())
  })

  const managers = bullmqManagers([ReportingJob])
  const start = (options?: BullmqEngineOptions): BackgroundJobManager => managers.start(options)

  /** The keys of job `id`: its hash and anything named after it (its log list). */
  function keysOf(keys: readonly string[], id: string): string[] {
    const key = `${managers.prefix}:background-jobs:${id}`
    return keys.filter((k) => k === key || k.startsWith(`${key}:`))
  }

  it('leaves no key of a job that keepCompleted, keepFailed or deleteJob removed', async () => {
    const manager = start({ keepCompleted: 1, keepFailed: 1 })
    const completed: string[] = []
    const failed: string[] = []
    for (let i = 0; i < 3; i++) {
      completed.push(await manager.enqueue(ReportingJob, { fails: false }))
      failed.push(await manager.enqueue(ReportingJob, { fails: true }))
    }
    await manager.onIdle()
    const kept = [completed.at(-1)!, failed.at(-1)!]
    for (const id of kept) {
      const job = await manager.getJob(id)
      assert.equal(job?.history.length, 2, `job ${id} has its two attempts`)
      assert.equal(job?.logs.length, 2)
    }
    const before = await keysUnder(managers.prefix)
    for (const id of kept) {
      assert.deepEqual(keysOf(before, id).sort(), [
        `${managers.prefix}:background-jobs:${id}`,
        `${managers.prefix}:background-jobs:${id}:logs`,
      ])
    }
    for (const id of [...completed, ...failed].filter((id) => !kept.includes(id))) {
      assert.deepEqual(keysOf(before, id), [], `the keys of job ${id}, dropped by the keep bound`)
    }
    for (const id of kept) await manager.deleteJob(id)
    const after = await keysUnder(managers.prefix)
    for (const id of [...completed, ...failed]) assert.deepEqual(keysOf(after, id), [], `the keys of job ${id}`)
  })

  it('stores nothing, and reads nothing back, for a job that reports nothing and runs once', async () => {
    class QuietJob extends BackgroundJobBase<null> {
      protected override async executing(): Promise<void> {}
    }
    const container = createContainer()
    container.register('logger', asValue(new CapturingLogger()))
    addBackgroundJobs(container, (o) =>
      o.useEngine(bullmqEngine({ connection: REDIS_URL, prefix: managers.prefix })).addJob(QuietJob),
    )
    managers.track(container)
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const id = await manager.enqueue(QuietJob, null)
    await manager.onSettled(id)
    const client = testClient()
    try {
      const key = `${managers.prefix}:background-jobs:${id}`
      assert.deepEqual(await client.hmget(key, 'progress', 'ebjHistory'), [null, null])
      assert.equal(await client.exists(`${key}:logs`), 0)
    } finally {
      client.disconnect()
    }
  })

  it('stores each line as `<ISO time> <message>` and reads back a line another tool logged whole', () => {
    const at = Date.UTC(2026, 11, 1, 12, 0, 0, 5)
    const stored = encodeLogLine(at, 'imported 40 rows')
    assert.equal(stored, '2026-12-01T12:00:00.005Z imported 40 rows')
    assert.deepEqual(decodeLogLine(stored, 0), { at: new Date(at), message: 'imported 40 rows' })
    assert.deepEqual(decodeLogLine('a line of bull-board', at), { at: new Date(at), message: 'a line of bull-board' })
    assert.deepEqual(decodeLogLine(encodeLogLine(at, ''), 0), { at: new Date(at), message: '' })
  })
})
