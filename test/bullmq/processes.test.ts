import assert from 'node:assert/strict'
import { asValue, createContainer, type AwilixContainer } from 'awilix'
import express, { type Application } from 'express'
import request from 'supertest'
import { bullmqEngine, type BullmqEngineOptions } from '../../src/bullmq'
import {
  BackgroundJobBase,
  addBackgroundJobs,
  backgroundJobsAdminRouter,
  type BackgroundJobManager,
  type JobInfo,
} from '../../src/index'
import { CapturingLogger } from '../support/harness'
import { REDIS_URL, deleteKeys, redisUnavailable, uniquePrefix } from '../support/redis'
import { requireService } from '../support/services'
import { JobProcesses, type JobProcess, type JobProcessConfig } from './job-process'

/** Never runs in the test process (its engine has `worker: false`); the job processes run theirs. */
class RecordJob extends BackgroundJobBase<{ readonly n: number }> {
  protected override async executing(): Promise<void> {
    throw new Error('RecordJob ran in the test process, which has worker: false')
  }
}

/** As {@link RecordJob}: the job processes hold it until released. */
class HoldJob extends BackgroundJobBase<{ readonly key: string }> {
  protected override async executing(): Promise<void> {
    throw new Error('HoldJob ran in the test process, which has worker: false')
  }
}

/** Process A: the test process, enqueue-only, with the admin router mounted on an app. */
interface Producer {
  readonly container: AwilixContainer
  readonly manager: BackgroundJobManager
  readonly app: Application
}

function createProducer(prefix: string, engine: Omit<BullmqEngineOptions, 'connection' | 'prefix'> = {}): Producer {
  const container = createContainer()
  container.register('logger', asValue(new CapturingLogger()))
  addBackgroundJobs(container, (o) =>
    o.useEngine(bullmqEngine({ connection: REDIS_URL, prefix, worker: false, ...engine })).addJob(RecordJob, HoldJob),
  )
  const app = express()
  app.use('/admin/jobs', backgroundJobsAdminRouter(container))
  return { container, manager: container.resolve<BackgroundJobManager>('backgroundJobManager'), app }
}

async function adminJob(app: Application, id: string): Promise<JobInfo> {
  const res = await request(app)
    .get(`/admin/jobs/api/jobs/${encodeURIComponent(id)}`)
    .expect(200)
  return res.body as JobInfo
}

/** Every start of every process, as (jobId, pid). */
function startsByPid(...processes: JobProcess[]): { jobId: string; pid: number }[] {
  return processes.flatMap((job) => job.starts.map((start) => ({ jobId: start.jobId, pid: job.pid })))
}

describe('the BullMQ engine across real processes', function () {
  this.timeout(30_000)
  const processes = new JobProcesses()
  let prefix = ''
  let producer: Producer | undefined

  before(async function () {
    requireService(this, 'REDIS', await redisUnavailable())
  })

  beforeEach(() => {
    prefix = uniquePrefix()
  })

  afterEach(async () => {
    await processes.killAll()
    if (producer !== undefined) {
      await producer.manager.stop({ drain: false })
      await producer.container.dispose()
      producer = undefined
    }
    await deleteKeys(prefix)
  })

  const config = (engine: JobProcessConfig['engine'] = {}): JobProcessConfig => ({
    redisUrl: REDIS_URL,
    prefix,
    engine,
  })

  it("runs in process B a job enqueued in process A, and A's admin router shows it running there, then A's onSettled resolves", async () => {
    const b = await processes.start('B', config())
    producer = createProducer(prefix)
    const id = await producer.manager.enqueue(HoldJob, { key: 'a-to-b' })

    await b.waitFor(() => b.starts.some((start) => start.jobId === id), `the start of ${id}`)
    const running = await adminJob(producer.app, id)
    assert.equal(running.state, 'running')
    assert.equal(running.name, 'HoldJob')
    assert.deepEqual(running.args, { key: 'a-to-b' })

    const settled = producer.manager.onSettled(id)
    b.release('a-to-b')
    assert.equal((await settled).state, 'completed')
    assert.equal((await adminJob(producer.app, id)).state, 'completed')
    assert.deepEqual(
      b.starts.map((start) => start.jobId),
      [id],
    )
  })

  it('runs 2,000 jobs across 2 worker processes, each exactly once, both processes taking a share', async () => {
    const [b, c] = await Promise.all([processes.start('B', config()), processes.start('C', config())])
    producer = createProducer(prefix)
    const ids = await Promise.all(Array.from({ length: 2000 }, (_, n) => producer!.manager.enqueue(RecordJob, { n })))
    assert.equal(new Set(ids).size, 2000, 'distinct ids')

    const settled = (): number => b.settled.size + c.settled.size
    await Promise.all([
      b.waitFor(() => settled() >= 2000, 'settlement of 2,000 jobs across B and C'),
      c.waitFor(() => settled() >= 2000, 'settlement of 2,000 jobs across B and C'),
    ])
    const starts = startsByPid(b, c)
    const startCounts = new Map<string, number>()
    for (const { jobId } of starts) startCounts.set(jobId, (startCounts.get(jobId) ?? 0) + 1)
    assert.deepEqual(
      [...startCounts].filter(([, count]) => count !== 1),
      [],
      'no job started twice',
    )
    assert.deepEqual([...startCounts.keys()].sort(), [...ids].sort(), 'every enqueued job started')
    assert.equal(starts.length, 2000)
    assert.ok(b.starts.length > 0 && c.starts.length > 0, `B ran ${b.starts.length}, C ran ${c.starts.length}`)
    assert.deepEqual(
      [...b.settled.values(), ...c.settled.values()].filter((state) => state !== 'completed'),
      [],
    )
    assert.deepEqual((await producer.manager.counts()).pending, 0)
  })

  it('re-runs on the other worker, and completes, a job whose worker was SIGKILLed mid-job (short lock)', async () => {
    const engine = { lockDurationMs: 1000, stalledIntervalMs: 500, maxStalledCount: 1 }
    const [b, c] = await Promise.all([processes.start('B', config(engine)), processes.start('C', config(engine))])
    producer = createProducer(prefix)
    const id = await producer.manager.enqueue(HoldJob, { key: 'crash' })
    const startedIn = (): JobProcess | undefined => [b, c].find((job) => job.starts.some((start) => start.jobId === id))
    await Promise.all([b, c].map((job) => job.waitFor(() => startedIn() !== undefined, `the first start of ${id}`)))
    const first = startedIn()!
    const other = first === b ? c : b
    other.release('crash')

    const killedAt = performance.now()
    await first.kill()
    await other.waitFor(() => other.starts.some((start) => start.jobId === id), `the re-run of ${id} after the kill`)
    const rerunAfterMs = performance.now() - killedAt
    const job = await producer.manager.onSettled(id)

    assert.equal(job.state, 'completed')
    await other.waitFor(() => other.settled.get(id) === 'completed', `${id} completing in the other worker`)
    assert.deepEqual(
      [...first.starts, ...other.starts].filter((start) => start.jobId === id).map((start) => start.attempt),
      [1, 1],
      'a re-run after a crash keeps its attempt number (at-least-once delivery, not a retry)',
    )
    // Not before the lock of the killed worker expired: the other worker took it over, it did not steal it.
    assert.ok(rerunAfterMs >= 500, `re-run ${rerunAfterMs.toFixed(0)} ms after the kill`)
  })

  it('runs, in the next process, jobs that a stopped process left pending', async () => {
    const b = await processes.start('B', config())
    const ids = await b.enqueue('RecordJob', 0, 5, 400)
    const result = await b.stop(false)
    assert.equal(result.pending, 5, 'stop() reports the 5 delayed jobs as left pending in Redis')
    assert.deepEqual(await b.exited, { code: 0, signal: null }, 'B exits by itself after stop() and dispose()')
    assert.deepEqual(b.starts, [])

    const c = await processes.start('C', config())
    await c.waitFor(() => ids.every((id) => c.settled.get(id) === 'completed'), 'C completing the jobs B left')
    assert.deepEqual(c.starts.map((start) => start.jobId).sort(), [...ids].sort())
  })

  it('never runs a job in a worker: false process, while a worker process runs them all', async () => {
    const p = await processes.start('P (worker: false)', config({ worker: false }))
    producer = createProducer(prefix)
    const ids = await p.enqueue('RecordJob', 0, 20)
    // A worker would have taken them within milliseconds; P has had this long and must not have.
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(p.starts, [])
    assert.equal((await producer.manager.counts()).pending, 20)

    const w = await processes.start('W', config())
    await w.waitFor(() => ids.every((id) => w.settled.get(id) === 'completed'), 'W completing the 20 jobs')
    assert.deepEqual(p.starts, [], 'P started none of them')
    assert.deepEqual(w.starts.map((start) => start.jobId).sort(), [...ids].sort())
  })
})
