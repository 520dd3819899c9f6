import assert from 'node:assert/strict'
import type { AwilixContainer } from 'awilix'
import express, { type Application, type NextFunction, type Request, type Response } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { BackgroundJobBase } from '../src/background-job-base'
import { BackgroundJobs } from '../src/background-jobs'
import { InvalidOptionError, JobNotFoundError } from '../src/errors'
import { backgroundJobsErrorHandler } from '../src/express/error-handler'
import { mapServices } from '../src/express/map-services'
import { backgroundJobsMiddleware } from '../src/express/middleware'
import { ServiceBase } from '../src/express/service-base'
import { createApp as createControllerApp } from '../examples/express-controller/app'
import { createApp as createMinimalApiApp } from '../examples/minimal-api/app'
import type { ExampleOptions } from '../examples/shared/register-user'
import { CapturingLogger, createHarness, type Harness } from './support/harness'

class MailJob extends BackgroundJobBase<{ to: string; extra?: unknown }> {
  protected async executing(): Promise<void> {}
}

class MailService extends ServiceBase {
  async postSendAsync(body: { to: string; withFunction?: boolean }): Promise<{ jobId: string }> {
    const args = body.withFunction === true ? { to: body.to, extra: () => {} } : { to: body.to }
    return { jobId: await MailService.backgroundJobManager.enqueue(MailJob, args, { delay: 60_000 }) }
  }

  async getJobAsync(id: string): Promise<unknown> {
    const job = await MailService.backgroundJobManager.getJob(id)
    if (job === undefined) throw new JobNotFoundError(id)
    return job
  }

  async postCancelAsync(body: { id: string }): Promise<void> {
    await MailService.backgroundJobManager.cancel(body.id)
  }

  getSecret(): never {
    throw new Error('connect ECONNREFUSED postgres://admin:hunter2@db.internal:5432 at /srv/app/db.js:12')
  }
}

interface ErrorBody {
  error: { name: string; message: string; stack?: unknown }
}

function assertJson(res: request.Response, status: number, name: string): ErrorBody['error'] {
  assert.equal(res.status, status, res.text)
  assert.match(String(res.headers['content-type']), /^application\/json/)
  const body = res.body as ErrorBody
  assert.deepEqual(Object.keys(body), ['error'])
  assert.deepEqual(Object.keys(body.error), ['name', 'message'])
  assert.equal(body.error.name, name)
  assert.ok(!res.text.includes('/srv/app') && !res.text.includes(__dirname), 'no file paths')
  return body.error
}

describe('backgroundJobsErrorHandler', () => {
  let h: Harness
  let savedNodeEnv: string | undefined

  beforeEach(() => {
    savedNodeEnv = process.env.NODE_ENV
    delete process.env.NODE_ENV
    h = createHarness((o) => o.addJob(MailJob), { maxPendingJobs: 1 })
  })

  afterEach(async () => {
    if (savedNodeEnv !== undefined) process.env.NODE_ENV = savedNodeEnv
    BackgroundJobs.reset()
    await h.container.dispose()
  })

  function createApp(): Application {
    const app = express()
    app.use(express.json())
    app.use(backgroundJobsMiddleware(h.container))
    mapServices(app, [MailService], { container: h.container })
    app.use(backgroundJobsErrorHandler())
    return app
  }

  it('answers InvalidJobArgsError thrown by a service method as 400 JSON', async () => {
    const res = await request(createApp()).post('/api/v1/mail/Send').send({ to: 'a@example.com', withFunction: true })
    assert.match(assertJson(res, 400, 'InvalidJobArgsError').message, /args\.extra/)
  })

  it('answers PendingJobsLimitError as 503 JSON with Retry-After', async () => {
    const app = createApp()
    await request(app).post('/api/v1/mail/Send').send({ to: 'a@example.com' }).expect(200)
    const res = await request(app).post('/api/v1/mail/Send').send({ to: 'b@example.com' })
    assertJson(res, 503, 'PendingJobsLimitError')
    assert.equal(res.headers['retry-after'], '1')
  })

  it('answers JobNotFoundError 404, JobStateError 409 and ManagerStoppedError 503 with Retry-After', async () => {
    const app = createApp()
    assertJson(await request(app).get('/api/v1/mail/Job/nope'), 404, 'JobNotFoundError')
    const created = await request(app).post('/api/v1/mail/Send').send({ to: 'a@example.com' }).expect(200)
    const { jobId } = created.body as { jobId: string }
    await request(app).post('/api/v1/mail/Cancel').send({ id: jobId }).expect(204)
    assertJson(await request(app).post('/api/v1/mail/Cancel').send({ id: jobId }), 409, 'JobStateError')
    await h.manager.stop()
    const stopped = await request(app).post('/api/v1/mail/Send').send({ to: 'c@example.com' })
    assertJson(stopped, 503, 'ManagerStoppedError')
    assert.equal(stopped.headers['retry-after'], '5')
  })

  it('answers any other error as 500 with a generic message and no stack, and logs the real one with its stack', async () => {
    const res = await request(createApp()).get('/api/v1/mail/Secret')
    const error = assertJson(res, 500, 'InternalServerError')
    assert.ok(!res.text.includes('hunter2'))
    assert.doesNotMatch(error.message, /ECONNREFUSED/)
    const logged = h.logger.entries.filter((entry) => entry.level === 'error' && entry.message === 'A request failed')
    assert.equal(logged.length, 1)
    assert.match(String(logged[0]?.meta?.['error']), /hunter2[\s\S]*at /)
  })

  it('answers a body the JSON parser refuses as 400, as Express’s http-errors say', async () => {
    const res = await request(createApp())
      .post('/api/v1/mail/Send')
      .set('Content-Type', 'application/json')
      .send('{"to":')
    assertJson(res, 400, 'SyntaxError')
  })

  it('treats non-Error throws and hostile errors as unknown 500s, and passes on once headers are sent', async () => {
    const logger = new CapturingLogger()
    const app = express()
    const revoked = Proxy.revocable({}, {})
    revoked.revoke()
    // (Express reads a thrown null or undefined as no error at all.)
    const values: unknown[] = [
      'a string',
      42,
      Object.create(null),
      revoked.proxy,
      Object.assign(new Error('x'), { status: 'bad' }),
      Object.assign(new Error('exposed 500'), { status: 500, expose: true }),
    ]
    app.get('/throw/:n', (req: Request) => {
      throw values[Number(req.params['n'])]
    })
    app.get('/late', (_req: Request, res: Response, next: NextFunction) => {
      res.write('partial')
      next(new Error('after headers'))
    })
    app.use(backgroundJobsErrorHandler({ logger }))
    for (let n = 0; n < values.length; n++)
      assertJson(await request(app).get(`/throw/${n}`), 500, 'InternalServerError')
    const late = await request(app)
      .get('/late')
      .catch((error: unknown) => error)
    assert.ok(!(late instanceof Error) || /socket hang up|aborted|ECONNRESET/.test(late.message))
    assert.equal(logger.messages('error').length, values.length + 1)
  })

  it('works on Express 4 as well', async () => {
    const app = express4()
    app.get('/missing', () => {
      throw new JobNotFoundError('7')
    })
    // The kit's declarations use Express 5's types; the Express 4 ones differ only in generics.
    app.use(backgroundJobsErrorHandler() as unknown as express4.ErrorRequestHandler)
    assertJson(await request(app).get('/missing'), 404, 'JobNotFoundError')
  })

  it('refuses unknown options and a logger without the four methods', () => {
    assert.throws(() => backgroundJobsErrorHandler({ log: console } as never), InvalidOptionError)
    assert.throws(() => backgroundJobsErrorHandler({ logger: { error() {} } } as never), /`logger`/)
  })
})

describe('the examples mount the error handler', () => {
  let container: AwilixContainer | undefined

  afterEach(async () => {
    await container?.dispose()
    BackgroundJobs.reset()
  })

  const examples: Array<
    [string, (options: ExampleOptions) => { app: Application; container: AwilixContainer }, string]
  > = [
    ['express-controller', createControllerApp, '/user/add'],
    ['minimal-api', createMinimalApiApp, '/api/v1/users'],
  ]
  for (const [name, createExample, route] of examples) {
    it(`${name}: past maxPendingJobs a POST answers 503 JSON with Retry-After, not an HTML page`, async () => {
      const built = createExample({ logger: new CapturingLogger(), store: { maxPendingJobs: 1 } })
      container = built.container
      await request(built.app)
        .post(route)
        .send({})
        .expect((res) => assert.ok(res.status < 300, res.text))
      const res = await request(built.app).post(route).send({})
      assertJson(res, 503, 'PendingJobsLimitError')
      assert.equal(res.headers['retry-after'], '1')
    })
  }
})
