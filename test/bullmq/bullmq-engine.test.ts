import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { asValue, createContainer } from 'awilix'
import { Queue } from 'bullmq'
import express from 'express'
import request from 'supertest'
import {
  ADMIN_CSRF_HEADER,
  BackendUnavailableError,
  BackgroundJobBase,
  InvalidOptionError,
  JobStateError,
  addBackgroundJobs,
  backgroundJobsAdminRouter,
  type BackgroundJobManager,
  type JobContext,
  type JobInfo,
} from 'express-background-jobs'
import { bullmqEngine, type BullmqEngineOptions } from 'express-background-jobs/bullmq'
import { CronSchedule } from '../../src/policy/cron-schedule'
import { kitRepeatStrategy } from '../../src/bullmq/schedules'
import { CapturingLogger, createHarness } from '../support/harness'
import { bullmqManagers } from '../support/bullmq-managers'
import { REDIS_URL, redisUnavailable, testClient } from '../support/redis'
import { requireService } from '../support/services'

/** The header the admin's own page sends with every mutation (CSRF proof). */
const CSRF = { [ADMIN_CSRF_HEADER]: '1' }

const run = promisify(execFile)

class GreetJob extends BackgroundJobBase<{ name: string }> {
  static readonly greeted: { name: string; pid: number }[] = []
  protected override async executing(args: { name: string }): Promise<void> {
    GreetJob.greeted.push({ name: args.name, pid: process.pid })
  }
}

/** Runs `body` while BullMQ's `Queue.remove` rejects with the error it is given, then restores it. */
async function whileRemovalFails(body: (failure: Error) => Promise<void>): Promise<void> {
  const remove = Object.getOwnPropertyDescriptor(Queue.prototype, 'remove')
  assert.ok(remove !== undefined)
  const failure = new Error('the removal failed')
  Queue.prototype.remove = () => Promise.reject(failure)
  try {
    await body(failure)
  } finally {
    Object.defineProperty(Queue.prototype, 'remove', remove)
  }
}

describe('bullmqEngine options', () => {
  it('refuses unknown options, naming the known ones', () => {
    assert.throws(
      () => bullmqEngine({ queue: 'x' } as BullmqEngineOptions),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        /Unknown option `queue`/.test(error.message) &&
        /queueName/.test(error.message),
    )
  })

  it('refuses a bad connection, queue name, prefix or lock setting, saying what is expected', () => {
    const bad: [BullmqEngineOptions, RegExp][] = [
      [{ connection: 'http://127.0.0.1:6379' }, /redis:\/\/ or rediss:\/\/ URL/],
      [{ connection: { keyPrefix: 'app:' } }, /keyPrefix[\s\S]*`prefix`/],
      [{ queueName: 'a:b' }, /`queueName`[\s\S]*without `:`/],
      [{ prefix: '' }, /`prefix`/],
      [{ worker: 'yes' as unknown as boolean }, /`worker`[\s\S]*a boolean/],
      [{ concurrency: 0 }, /`concurrency`/],
      [{ lockDurationMs: 10 }, /`lockDurationMs`/],
      [{ retry: { maxRetries: -1 } }, /retry\.maxRetries/],
    ]
    for (const [options, message] of bad) {
      assert.throws(
        () => addBackgroundJobs(createContainer(), (o) => o.useEngine(bullmqEngine(options))),
        (error: unknown) => error instanceof InvalidOptionError && message.test(error.message),
        JSON.stringify(options),
      )
    }
  })

  it('never shows the password of a connection URL it refuses', () => {
    assert.throws(
      () => bullmqEngine({ connection: 'redis//:s3cret@host' }),
      (error: unknown) => error instanceof InvalidOptionError && !error.message.includes('s3cret'),
    )
  })

  it('computes the next run of a schedule as the kit’s cron dialect does, for every expression', () => {
    const from = Date.UTC(2026, 0, 31, 23, 59, 58, 500)
    const table: [string, string | undefined][] = [
      ['* * * * * *', undefined],
      ['*/5 * * * * *', 'UTC'],
      ['0 */15 * * * *', 'Europe/Paris'],
      ['0 9 * * 1-5', 'America/New_York'],
      ['0 0 L * *', 'UTC'],
      ['@daily', 'Asia/Tokyo'],
      ['30 2 * * 0', 'Europe/London'],
    ]
    for (const [cron, tz] of table) {
      const expected = new CronSchedule('s', cron, tz).nextAfter(from)
      assert.equal(kitRepeatStrategy(from, { pattern: cron, ...(tz !== undefined && { tz }) }), expected, cron)
    }
  })
})

describe('BackgroundJobManager.on scopes', () => {
  it('hears a job in the queue scope on the memory engine as in the local one (one process), and refuses an unknown scope', async () => {
    const h = createHarness((o) => o.addJob(GreetJob))
    const heard: string[] = []
    h.manager.on('completed', (job) => heard.push(`queue ${job.id}`), { scope: 'queue' })
    h.manager.on('completed', (job) => heard.push(`local ${job.id}`), { scope: 'local' })
    assert.throws(
      () => h.manager.on('completed', () => {}, { scope: 'cluster' as 'queue' }),
      (error: unknown) => error instanceof InvalidOptionError && /`scope`[\s\S]*local, queue/.test(error.message),
    )
    assert.throws(() => h.manager.on('completed', () => {}, { scpoe: 'queue' } as never), /Unknown option `scpoe`/)
    const id = await h.manager.enqueue(GreetJob, { name: 'x' })
    await h.tick(0)
    await h.tick(0)
    assert.deepEqual(heard, [`queue ${id}`, `local ${id}`])
    assert.deepEqual(h.manager.capabilities, { durable: false, sharedAcrossProcesses: false, boundsPendingJobs: true })
    await h.manager.stop()
  })
})

describe('bullmqEngine without Redis', () => {
  it('rejects enqueue and reads within a second with BackendUnavailableError (503, Retry-After) when Redis cannot be reached', async () => {
    const container = createContainer()
    container.register('logger', asValue(new CapturingLogger()))
    // Port 1 on loopback: nothing listens there.
    addBackgroundJobs(container, (o) =>
      o
        .useEngine(bullmqEngine({ connection: { host: '127.0.0.1', port: 1 }, prefix: 'ebj-test-none' }))
        .addJob(GreetJob),
    )
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    try {
      const startedAt = Date.now()
      await assert.rejects(manager.enqueue(GreetJob, { name: 'x' }), (error: unknown) => {
        assert.ok(error instanceof BackendUnavailableError, String(error))
        assert.equal(error.status, 503)
        assert.ok(error.retryAfterSeconds > 0)
        assert.match(error.message, /enqueue job "GreetJob".*Redis at 127\.0\.0\.1:1/)
        return true
      })
      assert.ok(Date.now() - startedAt < 1500, `took ${Date.now() - startedAt} ms`)
      await assert.rejects(manager.counts(), BackendUnavailableError)
      const again = Date.now()
      await assert.rejects(manager.getJob('1'), BackendUnavailableError)
      assert.ok(Date.now() - again < 1500)
    } finally {
      await manager.stop({ drain: false })
      await container.dispose()
    }
  })
})

describe('bullmqEngine on Redis', () => {
  before(async function () {
    requireService(this, 'REDIS', await redisUnavailable())
  })

  const managers = bullmqManagers([GreetJob])
  const start = (options?: BullmqEngineOptions): BackgroundJobManager => managers.start(options)
  beforeEach(() => {
    GreetJob.greeted.length = 0
  })

  it('says what it can promise: durable, shared across processes, no hard pending bound', () => {
    assert.deepEqual(start({ worker: false }).capabilities, {
      durable: true,
      sharedAcrossProcesses: true,
      boundsPendingJobs: false,
    })
  })

  it('runs in a worker what an enqueue-only engine enqueued; that one’s onSettled and queue-scope events see it', async () => {
    const producer = start({ worker: false })
    const heard: [string, string][] = []
    producer.on('completed', (job) => heard.push(['local', job.id]))
    let fromQueueResolve: (job: JobInfo) => void = () => {}
    const fromQueuePromise = new Promise<JobInfo>((resolve) => (fromQueueResolve = resolve))
    producer.on('completed', (job) => fromQueueResolve(job), { scope: 'queue' })
    // Let the event reader connect before the job runs: the stream is blind while it connects.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const id = await producer.enqueue(GreetJob, { name: 'masa' })
    const worker = start()
    const settled = await producer.onSettled(id)
    assert.deepEqual([settled.state, settled.attempts], ['completed', 1])
    const fromQueue = await fromQueuePromise
    assert.deepEqual([fromQueue.id, fromQueue.state], [id, 'completed'])
    assert.deepEqual(heard, [], 'the producer ran nothing, so it heard no local event')
    assert.equal((await worker.getJob(id))?.state, 'completed')
  })

  it('takes 1,000 enqueues sent before its connection is ready without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => {
      warnings.push(warning)
    }
    process.on('warning', onWarning)
    try {
      const manager = start({ worker: false })
      const ids = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => manager.enqueue(GreetJob, { name: `n${i}` })),
      )
      assert.equal(new Set(ids).size, 1000)
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    assert.deepEqual(
      warnings.map((warning) => `${warning.name}: ${warning.message}`),
      [],
    )
  })

  it('stores each job with its class’s attempts, and a `delay` only when the job is delayed', async () => {
    const manager = start({ worker: false })
    const now = await manager.enqueue(GreetJob, { name: 'now' })
    const later = await manager.enqueue(GreetJob, { name: 'later' }, { delay: 60_000 })
    const again = await manager.enqueue(GreetJob, { name: 'again' })
    const redis = testClient()
    try {
      const stored = async (id: string): Promise<Record<string, unknown>> =>
        JSON.parse((await redis.hget(`${managers.prefix}:background-jobs:${id}`, 'opts')) ?? 'null') as Record<
          string,
          unknown
        >
      const [first, delayed, third] = [await stored(now), await stored(later), await stored(again)]
      assert.equal('delay' in first, false, JSON.stringify(first))
      assert.equal(delayed.delay, 60_000)
      const { timestamp: _first, ...firstRest } = first
      const { timestamp: _third, ...thirdRest } = third
      assert.deepEqual(thirdRest, firstRest, 'every undelayed job of a class is stored with the same options')
      assert.equal(first.attempts, (await manager.getJob(now))?.maxAttempts)
      assert.equal((await manager.getJob(later))?.state, 'pending')
      assert.equal((await manager.getJob(now))?.runAt.getTime(), (await manager.getJob(now))?.createdAt.getTime())
    } finally {
      redis.disconnect()
    }
  })

  it('gives a listener of this process the full snapshot of a job that settled here, with no onSettled waiting', async () => {
    class ReportingJob extends BackgroundJobBase<{ n: number }> {
      protected override async executing(args: { n: number }, context: JobContext): Promise<void> {
        context.updateProgress(50)
        context.log(`n is ${args.n}`)
      }
    }
    const container = createContainer()
    container.register('logger', asValue(new CapturingLogger()))
    addBackgroundJobs(container, (o) =>
      o.useEngine(bullmqEngine({ connection: REDIS_URL, prefix: managers.prefix })).addJob(ReportingJob),
    )
    managers.track(container)
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const heard = new Promise<JobInfo>((resolve) => manager.on('completed', resolve))
    const id = await manager.enqueue(ReportingJob, { n: 3 })
    const info = await heard
    assert.deepEqual(
      [info.id, info.state, info.attempts, info.args, info.progress, info.logs.map((line) => line.message)],
      [id, 'completed', 1, { n: 3 }, 50, ['n is 3']],
    )
    assert.ok(info.finishedAt instanceof Date && info.lastRunAt instanceof Date, JSON.stringify(info))
    const settled = await manager.onSettled(id)
    assert.deepEqual(
      [settled.state, settled.progress, settled.logs.map((line) => line.message)],
      ['completed', 50, ['n is 3']],
    )
  })

  it('gives ids that go on from the queue’s counter in a new process instead of restarting at 1', async () => {
    const first = start({ worker: false })
    const ids = [await first.enqueue(GreetJob, { name: 'a' }), await first.enqueue(GreetJob, { name: 'b' })]
    await first.stop()
    const second = start({ worker: false })
    const next = await second.enqueue(GreetJob, { name: 'c' })
    assert.ok(!ids.includes(next), `id ${next} was given before`)
    assert.deepEqual((await second.getJob(ids[0]!))?.args, { name: 'a' }, 'the first process’s jobs are still there')
  })

  it('keeps jobs pending in Redis through a stop, for the next process to run', async () => {
    const first = start({ worker: false })
    const id = await first.enqueue(GreetJob, { name: 'kept' })
    assert.deepEqual(await first.stop(), { pending: 1, running: 0, interrupted: 0 })
    const next = start()
    assert.equal((await next.onSettled(id)).state, 'completed')
    assert.deepEqual(
      GreetJob.greeted.map((g) => g.name),
      ['kept'],
    )
  })

  it('upserts one schedule, not two, when several processes add it at once', async () => {
    const several = [start({ worker: false }), start({ worker: false }), start({ worker: false })]
    await Promise.all(
      several.map((manager) =>
        manager.addOrUpdateSchedule({ id: 'nightly', cron: '0 3 * * *', job: GreetJob, args: { name: 'n' } }),
      ),
    )
    const schedules = await several[0]!.listSchedules()
    assert.deepEqual(
      schedules.map((s) => s.id),
      ['nightly'],
    )
    const client = testClient()
    try {
      const delayed = await client.zrange(`${managers.prefix}:background-jobs:delayed`, 0, -1)
      assert.equal(delayed.length, 1, `one next run, got ${delayed.join(', ')}`)
    } finally {
      client.disconnect()
    }
    assert.equal((await several[0]!.counts()).pending, 0, 'a run not yet due is not pending')
  })

  it('refuses to cancel a schedule’s next run on its own with a JobStateError that says to remove the schedule', async () => {
    const manager = start({ worker: false })
    await manager.addOrUpdateSchedule({ id: 'hourly', cron: '0 * * * *', job: GreetJob, args: { name: 'h' } })
    const client = testClient()
    let runId: string | undefined
    try {
      ;[runId] = await client.zrange(`${managers.prefix}:background-jobs:delayed`, 0, 0)
    } finally {
      client.disconnect()
    }
    assert.ok(runId !== undefined && runId.startsWith('repeat:hourly:'))
    await assert.rejects(manager.cancel(runId), (error: unknown) => {
      assert.ok(error instanceof JobStateError)
      assert.match(error.message, /removeSchedule/)
      return true
    })
    assert.equal((await manager.getJob(runId))?.scheduleId, 'hourly')
  })

  /** Asserts that each job of `ids` is cancelled and out of the delayed set it waited in. */
  async function assertCancelledAndTakenOut(manager: BackgroundJobManager, ids: readonly string[]): Promise<void> {
    const client = testClient()
    try {
      for (const id of ids) {
        assert.equal((await manager.getJob(id))?.state, 'cancelled', `job ${id}`)
        assert.equal(
          await client.zscore(`${managers.prefix}:background-jobs:delayed`, id),
          null,
          'out of the delayed set',
        )
      }
    } finally {
      client.disconnect()
    }
  }

  it('keeps a job cancelled, not lost, when BullMQ’s removal fails after the cancel took it out of its list', async () => {
    const manager = start({ worker: false })
    const id = await manager.enqueue(GreetJob, { name: 'late' }, { delay: 60_000 })
    await whileRemovalFails((failure) => assert.rejects(manager.cancel(id), (error: unknown) => error === failure))
    await assertCancelledAndTakenOut(manager, [id])
  })

  it('keeps the jobs of a cancelMany cancelled, not lost, when BullMQ’s removal fails after they left their list', async () => {
    const manager = start({ worker: false })
    const ids = await manager.enqueueMany(GreetJob, [
      { args: { name: 'a' }, delay: 60_000 },
      { args: { name: 'b' }, delay: 60_000 },
    ])
    await whileRemovalFails((failure) => assert.rejects(manager.cancelMany(ids), (error: unknown) => error === failure))
    await assertCancelledAndTakenOut(manager, ids)
  })

  it('serves the admin router unchanged from the BullMQ engine', async () => {
    const manager = start()
    const container = managers.live.at(-1)!
    const app = express().use('/admin/jobs', backgroundJobsAdminRouter(container, { allowMutations: true }))
    const id = await manager.enqueue(GreetJob, { name: 'admin' }, { delay: 60_000 })
    const counts = await request(app).get('/admin/jobs/api/counts')
    assert.equal(counts.status, 200)
    assert.equal((counts.body as { pending: number }).pending, 1)
    const job = await request(app).get(`/admin/jobs/api/jobs/${id}`)
    assert.deepEqual([job.status, (job.body as JobInfo).state], [200, 'pending'])
    assert.equal((await request(app).post(`/admin/jobs/api/jobs/${id}/cancel`).set(CSRF)).status, 200)
    assert.equal((await manager.getJob(id))?.state, 'cancelled')
    assert.equal((await request(app).get('/admin/jobs/api/jobs/999999')).status, 404)
    assert.equal((await request(app).post(`/admin/jobs/api/jobs/${id}/cancel`).set(CSRF)).status, 409)
  })
})

describe('express-background-jobs/bullmq without its peer dependencies', () => {
  it('throws MissingPeerDependencyError naming the package and the install command', async () => {
    // A child whose require cannot find ioredis, as in an application that installed only the kit.
    const hide = `const M = require('node:module'); const r = M._resolveFilename; M._resolveFilename = function (id, ...rest) { if (id === 'ioredis') { const e = new Error("Cannot find module 'ioredis'"); e.code = 'MODULE_NOT_FOUND'; throw e } return r.call(this, id, ...rest) }`
    const script = `${hide}; try { require('./src/bullmq.ts').bullmqEngine() } catch (e) { console.log(JSON.stringify({ name: e.name, packageName: e.packageName, message: e.message })) }`
    const root = path.resolve(__dirname, '../..')
    const { stdout } = await run(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: root,
      timeout: 20_000,
    })
    const thrown = JSON.parse(stdout) as { name: string; packageName: string; message: string }
    assert.equal(thrown.name, 'MissingPeerDependencyError')
    assert.equal(thrown.packageName, 'ioredis')
    assert.match(thrown.message, /npm install bullmq@"\^6\.7\.0" ioredis@"\^5\.4\.0"/)
  })

  it('is not loaded by the main entry point', async () => {
    const root = path.resolve(__dirname, '../..')
    const script = `require('./src/index.ts'); console.log(JSON.stringify(Object.keys(require.cache).filter((f) => /node_modules[\\\\/](bullmq|ioredis)[\\\\/]/.test(f)).length))`
    const { stdout } = await run(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: root,
      timeout: 20_000,
    })
    assert.equal(stdout.trim(), '0')
  })
})
