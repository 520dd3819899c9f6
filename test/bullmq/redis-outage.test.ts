import assert from 'node:assert/strict'
import { asValue, createContainer, type AwilixContainer } from 'awilix'
import express, { type Application } from 'express'
import request from 'supertest'
import { BackendUnavailableError, bullmqEngine } from '../../src/bullmq'
import {
  BackgroundJobBase,
  addBackgroundJobs,
  backgroundJobsAdminRouter,
  type BackgroundJobManager,
} from '../../src/index'
import { CapturingLogger } from '../support/harness'
import { redisUnavailable, uniquePrefix } from '../support/redis'
import { requireService } from '../support/services'
import { JobProcesses } from './job-process'
import { PrivateRedis, redisServerMissing } from './private-redis'

/** Never runs here (`worker: false`); the worker process runs its own RecordJob. */
class RecordJob extends BackgroundJobBase<{ readonly n: number }> {
  protected override async executing(): Promise<void> {
    throw new Error('RecordJob ran in the test process, which has worker: false')
  }
}

describe('the BullMQ engine while its Redis goes away and comes back', function () {
  this.timeout(30_000)
  const processes = new JobProcesses()
  // Its own redis-server, so stopping it touches nobody else's Redis; killed in `after` whatever happens.
  let redis: PrivateRedis | undefined
  let container: AwilixContainer | undefined

  before(async function () {
    // The shared Redis tells whether this machine is meant to run the BullMQ tests at all.
    requireService(this, 'REDIS', (await redisUnavailable()) ?? redisServerMissing())
    redis = await PrivateRedis.start()
  })

  after(async () => {
    await processes.killAll()
    if (container !== undefined) {
      await container.resolve<BackgroundJobManager>('backgroundJobManager').stop({ drain: false })
      await container.dispose()
    }
    await redis?.kill()
  })

  it('rejects enqueue and counts with BackendUnavailableError within a second, then recovers and runs jobs once Redis is back', async () => {
    const server = redis!
    const prefix = uniquePrefix()
    const worker = await processes.start('W', { redisUrl: server.url, prefix })
    container = createContainer()
    container.register('logger', asValue(new CapturingLogger()))
    addBackgroundJobs(container, (o) =>
      o.useEngine(bullmqEngine({ connection: server.url, prefix, worker: false })).addJob(RecordJob),
    )
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const app: Application = express()
    app.use('/admin/jobs', backgroundJobsAdminRouter(container))

    const before = await manager.enqueue(RecordJob, { n: 1 })
    assert.equal((await manager.onSettled(before)).state, 'completed')
    await request(app).get('/admin/jobs/api/counts').expect(200)

    await server.kill()
    const started = performance.now()
    await assert.rejects(manager.enqueue(RecordJob, { n: 2 }), BackendUnavailableError)
    const rejectedAfterMs = performance.now() - started
    assert.ok(rejectedAfterMs < 1000, `enqueue rejected after ${rejectedAfterMs.toFixed(0)} ms`)
    await assert.rejects(manager.counts(), BackendUnavailableError)
    const unavailable = await request(app).get('/admin/jobs/api/counts').expect(503)
    assert.equal((unavailable.body as { error: { name: string } }).error.name, 'BackendUnavailableError')
    assert.ok(unavailable.headers['retry-after'], 'a 503 says when to come back')

    await server.restart()
    // The producer reconnects by itself; until it has, enqueue keeps failing fast with the same error.
    let after: string | undefined
    const deadline = performance.now() + 15_000
    while (after === undefined) {
      try {
        after = await manager.enqueue(RecordJob, { n: 3 })
      } catch (error) {
        assert.ok(error instanceof BackendUnavailableError, `while reconnecting: ${String(error)}`)
        assert.ok(performance.now() < deadline, 'the producer did not reconnect within 15 s')
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    // The worker process reconnected too (its blocking connection waits and retries) and runs it.
    const id = after
    await worker.waitFor(() => worker.settled.get(id) === 'completed', `W completing ${id} after the restart`)
    assert.equal((await manager.onSettled(id)).state, 'completed')
    await request(app).get('/admin/jobs/api/counts').expect(200)
  })
})
