import assert from 'node:assert/strict'
import { asValue, createContainer, type AwilixContainer } from 'awilix'
import express from 'express'
import request from 'supertest'
import {
  BackgroundJobBase,
  BackgroundJobs,
  InvalidArgumentError,
  ManualClock,
  ServiceBase,
  addBackgroundJobs,
  backgroundJobsAdminRouter,
  backgroundJobsMiddleware,
  mapServices,
  memoryEngine,
  type BackgroundJobManager,
} from '../src/index'
import type { BackgroundJobEngine, EngineContext, EngineFactory, JobInfo, NewJob, NewJobBatch } from '../src/engine'
import { CapturingLogger, flush } from './support/harness'

class GreetDto {
  constructor(readonly name: string) {}
}

const greeted: string[] = []

class GreetJob extends BackgroundJobBase<GreetDto> {
  static override argsType = GreetDto
  static override timeoutMs = 1234
  protected override async executing(args: GreetDto): Promise<void> {
    greeted.push(args.name)
  }
}

/**
 * A small engine of an application's own: it delegates to the memory engine and records every
 * enqueue, as an engine that adds auditing (or a test double) would.
 */
class AuditingEngine implements BackgroundJobEngine {
  readonly enqueued: NewJob[] = []
  readonly #inner: BackgroundJobEngine

  constructor(inner: BackgroundJobEngine) {
    this.#inner = inner
  }

  get isStopped(): boolean {
    return this.#inner.isStopped
  }

  enqueue(job: NewJob): Promise<string> {
    this.enqueued.push(job)
    return this.#inner.enqueue(job)
  }

  readonly batches: NewJobBatch[] = []

  enqueueMany(batch: NewJobBatch): Promise<string[]> {
    this.batches.push(batch)
    return this.#inner.enqueueMany(batch)
  }

  cancelMany: BackgroundJobEngine['cancelMany'] = (ids) => this.#inner.cancelMany(ids)
  getJob: BackgroundJobEngine['getJob'] = (id) => this.#inner.getJob(id)
  listJobs: BackgroundJobEngine['listJobs'] = (query) => this.#inner.listJobs(query)
  counts: BackgroundJobEngine['counts'] = () => this.#inner.counts()
  cancel: BackgroundJobEngine['cancel'] = (id) => this.#inner.cancel(id)
  retry: BackgroundJobEngine['retry'] = (id) => this.#inner.retry(id)
  deleteJob: BackgroundJobEngine['deleteJob'] = (id) => this.#inner.deleteJob(id)
  upsertSchedule: BackgroundJobEngine['upsertSchedule'] = (schedule) => this.#inner.upsertSchedule(schedule)
  removeSchedule: BackgroundJobEngine['removeSchedule'] = (id) => this.#inner.removeSchedule(id)
  listSchedules: BackgroundJobEngine['listSchedules'] = () => this.#inner.listSchedules()
  on: BackgroundJobEngine['on'] = (event, listener) => this.#inner.on(event, listener)
  off: BackgroundJobEngine['off'] = (event, listener) => this.#inner.off(event, listener)
  onIdle: BackgroundJobEngine['onIdle'] = () => this.#inner.onIdle()
  onSettled: BackgroundJobEngine['onSettled'] = (id) => this.#inner.onSettled(id)
  stop: BackgroundJobEngine['stop'] = (options) => this.#inner.stop(options)
}

describe('o.useEngine(factory)', () => {
  let container: AwilixContainer
  let engine: AuditingEngine | undefined
  let context: EngineContext | undefined
  const clock = new ManualClock()

  beforeEach(() => {
    greeted.length = 0
    engine = undefined
    context = undefined
    container = createContainer()
    container.register('logger', asValue(new CapturingLogger()))
    const memory = memoryEngine({ clock, retry: { maxRetries: 2, initialDelayMs: 10 } })
    const factory: EngineFactory = {
      policy: { ...memory.policy, timeoutMs: 5000 },
      clock,
      create(given) {
        context = given
        engine = new AuditingEngine(memory.create(given))
        return engine
      },
    }
    addBackgroundJobs(container, (o) => o.useEngine(factory).addJob(GreetJob))
  })

  afterEach(async () => {
    await container.dispose()
    BackgroundJobs.reset()
  })

  it('builds the engine once, with the handlers, logger, clock, resolved policy and container', () => {
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    assert.ok(engine instanceof AuditingEngine)
    assert.equal(context?.clock, clock)
    assert.equal(context?.container, container)
    assert.equal(context?.logger, container.resolve('logger'))
    assert.deepEqual(context?.policy, {
      timeoutMs: 5000,
      retry: { maxRetries: 2, initialDelayMs: 10, factor: 2, maxDelayMs: 86_400_000 },
      maxArgsBytes: 1_048_576,
    })
    const handler = context?.handlers.handler('GreetJob')
    assert.equal(handler?.timeoutMs, 1234, 'the class policy wins over the engine default')
    assert.equal(handler?.maxAttempts, 3)
    assert.equal(container.resolve<BackgroundJobManager>('backgroundJobManager'), manager)
  })

  it('runs jobs enqueued through the manager, the middleware and ServiceBase on the custom engine', async () => {
    class GreetingService extends ServiceBase {
      async addAsync(): Promise<{ jobId: string }> {
        return { jobId: await GreetingService.backgroundJobManager.enqueue(new GreetDto('from-service')) }
      }
    }
    const app = express()
    app.use(backgroundJobsMiddleware(container))
    app.post('/greet', async (req, res) => {
      res.status(202).json({ jobId: await req.backgroundJobs.enqueue(new GreetDto('from-middleware')) })
    })
    mapServices(app, [GreetingService], { container })
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')

    const direct = await manager.enqueue(GreetJob, new GreetDto('direct'))
    const viaMiddleware = (await request(app).post('/greet').expect(202)).body as { jobId: string }
    const viaService = (await request(app).post('/api/v1/greetings').expect(200)).body as { jobId: string }
    for (const id of [direct, viaMiddleware.jobId, viaService.jobId]) {
      assert.equal((await manager.onSettled(id)).state, 'completed')
    }
    assert.deepEqual(greeted.sort(), ['direct', 'from-middleware', 'from-service'])
    assert.deepEqual(
      engine?.enqueued.map((job) => [job.name, job.args]),
      [
        ['GreetJob', { name: 'direct' }],
        ['GreetJob', { name: 'from-middleware' }],
        ['GreetJob', { name: 'from-service' }],
      ],
    )
  })

  it('gives a batch to the engine as columns: the name and creation time once, each job’s copied args and due time', async () => {
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const at = clock.now()
    const ids = await manager.enqueueMany(GreetJob, [
      { args: new GreetDto('first'), delay: 1000 },
      { args: new GreetDto('second') },
    ])
    assert.deepEqual(engine?.batches, [
      { name: 'GreetJob', enqueuedAt: at, args: [{ name: 'first' }, { name: 'second' }], runAt: [at + 1000, at] },
    ])
    clock.advance(1000)
    for (const id of ids) assert.equal((await manager.onSettled(id)).state, 'completed')
    assert.deepEqual(greeted, ['second', 'first'])
  })

  it('serves the admin router from the custom engine', async () => {
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const id = await manager.enqueue(GreetJob, new GreetDto('later'), { delay: 60_000 })
    const app = express()
    app.use('/admin/jobs', backgroundJobsAdminRouter(container))
    const page = await request(app).get('/admin/jobs/api/jobs?state=pending').expect(200)
    const items = (page.body as { items: JobInfo[] }).items
    assert.deepEqual(
      items.map((job) => [job.id, job.name, job.args]),
      [[id, 'GreetJob', { name: 'later' }]],
    )
    assert.equal(engine?.enqueued.length, 1)
    clock.advance(60_000)
    await flush()
    assert.equal((await manager.onSettled(id)).state, 'completed')
  })

  it('refuses a factory without create, and a create that returns no engine, naming what is missing', () => {
    const other = createContainer()
    assert.throws(() => addBackgroundJobs(other, (o) => o.useEngine({} as never)), InvalidArgumentError)
    const half = { create: () => ({ enqueue: () => Promise.resolve('1') }) as unknown as BackgroundJobEngine }
    addBackgroundJobs(other, (o) => o.useEngine(half))
    assert.throws(
      () => other.resolve('backgroundJobManager'),
      (error: unknown) => error instanceof Error && /lacks getJob, listJobs, counts, cancel/.test(error.message),
    )
  })
})
