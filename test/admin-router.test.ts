import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { asValue, createContainer, type AwilixContainer } from 'awilix'
import express, { type Application, type NextFunction, type Request, type Response } from 'express'
import request from 'supertest'
import { BackgroundJobBase } from '../src/background-job-base'
import { BackgroundJobsNotBuiltError, InvalidArgumentError, InvalidOptionError } from '../src/errors'
import { isLoopbackAddress } from '../src/express/admin-access'
import { getExpressMajor } from '../src/express/express-compat'
import { backgroundJobsAdminRouter, type AdminRouterOptions } from '../src/express/admin-router'
import type { JobInfo } from '../src/types'
import { describeEachExpress } from './support/express-versions'
import { CapturingLogger, createHarness, type Harness } from './support/harness'

const XSS = '<script>alert(1)</script>'
/** The header the admin page's script sends with every request; mutations need it. */
const CSRF = { 'X-Background-Jobs-Csrf': '1' }

class EchoJob extends BackgroundJobBase<{ text: string }> {
  static readonly ran: string[] = []
  protected async executing(args: { text: string }): Promise<void> {
    EchoJob.ran.push(args.text)
  }
}

class FailJob extends BackgroundJobBase<{ text: string }> {
  protected async executing(args: { text: string }): Promise<void> {
    throw new Error(`failed on ${args.text}`)
  }
}

class HostileNameJob extends BackgroundJobBase<{ text: string }> {
  static override jobName = XSS
  protected async executing(): Promise<void> {}
}

interface ErrorBody {
  error: { name: string; message: string }
}

interface PageBody {
  items: JobInfo[]
  total: number
  offset: number
  limit: number
}

let containers: AwilixContainer[] = []
/** The Express module the current suite runs on (each suite below runs once per major). */
const defaultExpress = express
let expressUnderTest = defaultExpress

/** A harness (manual clock, capturing logger, no retries) and an app with the admin mounted at /admin/jobs. */
function setup(options?: AdminRouterOptions, before?: (app: Application) => void): { h: Harness; app: Application } {
  const h = createHarness((o) => o.addJob(EchoJob, FailJob, HostileNameJob), { retry: { maxRetries: 0 } })
  containers.push(h.container)
  const app = expressUnderTest()
  before?.(app)
  app.use('/admin/jobs', backgroundJobsAdminRouter(h.container, options))
  return { h, app }
}

/** Pretends the TCP peer is `address`, as a request from another machine would be. */
function peerAddress(address: string) {
  return function fakePeer(req: Request, _res: Response, next: NextFunction): void {
    Object.defineProperty(req.socket, 'remoteAddress', { value: address, configurable: true })
    next()
  }
}

function assertJsonError(res: request.Response, status: number, name: string): ErrorBody['error'] {
  assert.equal(res.status, status, `${res.status} ${res.text}`)
  assert.match(String(res.headers['content-type']), /^application\/json/)
  const body = res.body as ErrorBody
  assert.equal(body.error.name, name)
  assert.equal(typeof body.error.message, 'string')
  assert.ok(body.error.message.length > 0)
  return body.error
}

afterEach(async () => {
  delete (Object.prototype as Record<string, unknown>)['polluted']
  for (const container of containers) await container.dispose()
  containers = []
  EchoJob.ran.length = 0
})

describeEachExpress('backgroundJobsAdminRouter', (version) => {
  const { express } = version
  before(() => {
    expressUnderTest = version.express
  })
  after(() => {
    expressUnderTest = defaultExpress
  })

  it(`mounts on an app of Express ${version.major}`, () => {
    assert.equal(getExpressMajor(setup().app), version.major)
  })

  describe('JSON API', () => {
    it('lists a delayed job as pending, then as completed once it has run', async () => {
      const { h, app } = setup()
      const id = await h.manager.enqueue(EchoJob, { text: 'hi' }, { delay: 1000 })

      const pending = await request(app).get('/admin/jobs/api/jobs?state=pending').expect(200)
      const body = pending.body as PageBody
      assert.deepEqual(
        { total: body.total, offset: body.offset, limit: body.limit },
        { total: 1, offset: 0, limit: 50 },
      )
      assert.equal(body.items[0]?.id, id)
      assert.equal(body.items[0]?.state, 'pending')
      assert.deepEqual(body.items[0]?.args, { text: 'hi' })

      await h.tick(1000)
      await h.manager.onSettled(id)
      assert.deepEqual(EchoJob.ran, ['hi'])
      const none = await request(app).get('/admin/jobs/api/jobs?state=pending').expect(200)
      assert.equal((none.body as PageBody).total, 0)
      const completed = await request(app).get('/admin/jobs/api/jobs?state=completed').expect(200)
      assert.equal((completed.body as PageBody).items[0]?.id, id)
      assert.equal((completed.body as PageBody).items[0]?.state, 'completed')
    })

    it('pages through a state with offset and limit and reports the total', async () => {
      const { h, app } = setup()
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push(await h.manager.enqueue(EchoJob, { text: `t${i}` }, { delay: 1000 }))

      const first = (await request(app).get('/admin/jobs/api/jobs?state=pending&offset=0&limit=2').expect(200))
        .body as PageBody
      const second = (await request(app).get('/admin/jobs/api/jobs?state=pending&offset=2&limit=2').expect(200))
        .body as PageBody
      const last = (await request(app).get('/admin/jobs/api/jobs?state=pending&offset=4&limit=2').expect(200))
        .body as PageBody
      const beyond = (await request(app).get('/admin/jobs/api/jobs?state=pending&offset=10&limit=2').expect(200))
        .body as PageBody

      assert.deepEqual(
        [...first.items, ...second.items, ...last.items].map((job) => job.id),
        ids,
      )
      assert.deepEqual([first.total, second.total, last.total, beyond.total], [5, 5, 5, 5])
      assert.deepEqual([first.limit, second.offset, beyond.items.length], [2, 2, 0])
    })

    it('returns one job by id, and a 404 JobNotFoundError for an unknown id', async () => {
      const { h, app } = setup()
      const id = await h.manager.enqueue(EchoJob, { text: 'one' }, { delay: 1000 })

      const res = await request(app).get(`/admin/jobs/api/jobs/${id}`).expect(200)
      assert.equal((res.body as JobInfo).id, id)
      assert.equal((res.body as JobInfo).name, 'EchoJob')
      const missing = await request(app).get('/admin/jobs/api/jobs/no-such-job')
      assert.match(assertJsonError(missing, 404, 'JobNotFoundError').message, /no-such-job/)
    })

    it('returns the number of jobs in each state', async () => {
      const { h, app } = setup()
      await h.manager.enqueue(EchoJob, { text: 'later' }, { delay: 1000 })
      const done = await h.manager.enqueue(EchoJob, { text: 'now' })
      const failed = await h.manager.enqueue(FailJob, { text: 'now' })
      await h.manager.onSettled(done)
      await h.manager.onSettled(failed)

      const res = await request(app).get('/admin/jobs/api/counts').expect(200)
      assert.deepEqual(res.body, { pending: 1, running: 0, completed: 1, failed: 1, cancelled: 0 })
    })

    it('lists recurring schedules', async () => {
      const { h, app } = setup()
      await h.manager.addOrUpdateSchedule({ id: 'hourly', cron: '0 * * * *', job: EchoJob, args: { text: 'cron' } })

      const res = await request(app).get('/admin/jobs/api/schedules').expect(200)
      const items = (res.body as { items: Array<Record<string, unknown>> }).items
      assert.equal(items.length, 1)
      assert.equal(items[0]?.['id'], 'hourly')
      assert.equal(items[0]?.['jobName'], 'EchoJob')
      assert.deepEqual(items[0]?.['args'], { text: 'cron' })
    })

    it('sends no-store and nosniff headers with JSON answers', async () => {
      const { app } = setup()
      const res = await request(app).get('/admin/jobs/api/counts').expect(200)
      assert.equal(res.headers['cache-control'], 'no-store')
      assert.equal(res.headers['x-content-type-options'], 'nosniff')
    })

    it('answers 404 JSON for an unknown API route', async () => {
      const { app } = setup()
      assertJsonError(await request(app).get('/admin/jobs/api/nope'), 404, 'AdminRouteNotFoundError')
    })
  })

  describe('mutations', () => {
    it('answers 403 with how to enable them when allowMutations is off, and changes nothing', async () => {
      const { h, app } = setup()
      const pending = await h.manager.enqueue(EchoJob, { text: 'p' }, { delay: 1000 })
      const failed = await h.manager.enqueue(FailJob, { text: 'f' })
      await h.manager.onSettled(failed)

      for (const res of [
        await request(app).post(`/admin/jobs/api/jobs/${pending}/cancel`).set(CSRF),
        await request(app).post(`/admin/jobs/api/jobs/${failed}/retry`).set(CSRF),
        await request(app).delete(`/admin/jobs/api/jobs/${failed}`).set(CSRF),
      ]) {
        assert.match(assertJsonError(res, 403, 'AdminMutationsDisabledError').message, /allowMutations: true/)
      }
      assert.equal((await h.manager.getJob(pending))?.state, 'pending')
      assert.equal((await h.manager.getJob(failed))?.state, 'failed')
    })

    it('cancels a pending job when allowMutations is on', async () => {
      const { h, app } = setup({ allowMutations: true })
      const id = await h.manager.enqueue(EchoJob, { text: 'p' }, { delay: 1000 })

      const res = await request(app).post(`/admin/jobs/api/jobs/${id}/cancel`).set(CSRF).expect(200)
      assert.equal((res.body as JobInfo).state, 'cancelled')
      assert.equal((await h.manager.getJob(id))?.state, 'cancelled')
      await h.tick(1000)
      assert.deepEqual(EchoJob.ran, [])
    })

    it('retries a failed job when allowMutations is on', async () => {
      const { h, app } = setup({ allowMutations: true })
      const id = await h.manager.enqueue(FailJob, { text: 'f' })
      await h.manager.onSettled(id)

      const res = await request(app).post(`/admin/jobs/api/jobs/${id}/retry`).set(CSRF).expect(200)
      assert.equal((res.body as JobInfo).state, 'pending')
      const settled = await h.manager.onSettled(id)
      assert.equal(settled.state, 'failed')
      assert.equal(settled.attempts, 1)
    })

    it('deletes a finished job with 204, after which it is not found', async () => {
      const { h, app } = setup({ allowMutations: true })
      const id = await h.manager.enqueue(EchoJob, { text: 'done' })
      await h.manager.onSettled(id)

      const res = await request(app).delete(`/admin/jobs/api/jobs/${id}`).set(CSRF).expect(204)
      assert.equal(res.text, '')
      assert.equal(await h.manager.getJob(id), undefined)
      assertJsonError(await request(app).get(`/admin/jobs/api/jobs/${id}`), 404, 'JobNotFoundError')
      assertJsonError(await request(app).delete(`/admin/jobs/api/jobs/${id}`).set(CSRF), 404, 'JobNotFoundError')
    })

    it('answers 409 for a job in the wrong state and 404 for an unknown job', async () => {
      const { h, app } = setup({ allowMutations: true })
      const done = await h.manager.enqueue(EchoJob, { text: 'done' })
      await h.manager.onSettled(done)
      const pending = await h.manager.enqueue(EchoJob, { text: 'p' }, { delay: 1000 })

      assertJsonError(await request(app).post(`/admin/jobs/api/jobs/${done}/cancel`).set(CSRF), 409, 'JobStateError')
      assertJsonError(await request(app).post(`/admin/jobs/api/jobs/${done}/retry`).set(CSRF), 409, 'JobStateError')
      assertJsonError(await request(app).delete(`/admin/jobs/api/jobs/${pending}`).set(CSRF), 409, 'JobStateError')
      assertJsonError(await request(app).post('/admin/jobs/api/jobs/unknown/cancel').set(CSRF), 404, 'JobNotFoundError')
      assert.equal((await h.manager.getJob(pending))?.state, 'pending')
    })

    it('answers 503 when the manager has stopped', async () => {
      const { h, app } = setup({ allowMutations: true })
      const id = await h.manager.enqueue(FailJob, { text: 'f' })
      await h.manager.onSettled(id)
      await h.manager.stop()

      const res = await request(app).post(`/admin/jobs/api/jobs/${id}/retry`).set(CSRF)
      assertJsonError(res, 503, 'ManagerStoppedError')
      assert.equal(res.headers['retry-after'], '5')
    })

    it('never mutates on GET or other wrong methods, answering 405 with Allow', async () => {
      const { h, app } = setup({ allowMutations: true })
      const pending = await h.manager.enqueue(EchoJob, { text: 'p' }, { delay: 1000 })
      const failed = await h.manager.enqueue(FailJob, { text: 'f' })
      await h.manager.onSettled(failed)

      const cancel = await request(app).get(`/admin/jobs/api/jobs/${pending}/cancel`)
      assertJsonError(cancel, 405, 'AdminMethodNotAllowedError')
      assert.equal(cancel.headers['allow'], 'POST')
      assertJsonError(await request(app).get(`/admin/jobs/api/jobs/${failed}/retry`), 405, 'AdminMethodNotAllowedError')
      assertJsonError(
        await request(app).put(`/admin/jobs/api/jobs/${pending}/cancel`),
        405,
        'AdminMethodNotAllowedError',
      )
      const post = await request(app).post(`/admin/jobs/api/jobs/${failed}`).set(CSRF)
      assertJsonError(post, 405, 'AdminMethodNotAllowedError')
      assert.equal(post.headers['allow'], 'GET, HEAD, DELETE')
      assertJsonError(await request(app).post('/admin/jobs/api/counts').set(CSRF), 405, 'AdminMethodNotAllowedError')
      assertJsonError(await request(app).delete('/admin/jobs/').set(CSRF), 405, 'AdminMethodNotAllowedError')

      assert.equal((await h.manager.getJob(pending))?.state, 'pending')
      assert.equal((await h.manager.getJob(failed))?.state, 'failed')
      assert.equal((await h.manager.getJob(failed))?.attempts, 1)
    })

    it('refuses cross-site browser requests', async () => {
      const { h, app } = setup({ allowMutations: true })
      const id = await h.manager.enqueue(EchoJob, { text: 'p' }, { delay: 1000 })

      const res = await request(app)
        .post(`/admin/jobs/api/jobs/${id}/cancel`)
        .set(CSRF)
        .set('Sec-Fetch-Site', 'cross-site')
      assertJsonError(res, 403, 'AdminCrossSiteRequestError')
      assert.equal((await h.manager.getJob(id))?.state, 'pending')
      await request(app)
        .post(`/admin/jobs/api/jobs/${id}/cancel`)
        .set(CSRF)
        .set('Sec-Fetch-Site', 'same-origin')
        .expect(200)
    })

    it('ignores request bodies of any content type, including prototype-polluting JSON', async () => {
      const { h, app } = setup({ allowMutations: true }, (app) => {
        app.use(express.json(), express.urlencoded({ extended: true }), express.text())
      })
      const ids = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => h.manager.enqueue(EchoJob, { text: `p${n}` }, { delay: 1000 })),
      )
      const route = (i: number): string => `/admin/jobs/api/jobs/${ids[i]}/cancel`

      await request(app)
        .post(route(0))
        .set(CSRF)
        .set('Content-Type', 'application/json')
        .send('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}')
        .expect(200)
      await request(app)
        .post(route(1))
        .set(CSRF)
        .type('form')
        .send('__proto__[polluted]=1&constructor[prototype][polluted]=1')
        .expect(200)
      await request(app)
        .post(route(2))
        .set(CSRF)
        .set('Content-Type', 'text/plain')
        .send('<script>alert(1)</script>')
        .expect(200)
      await request(app)
        .post(route(3))
        .set(CSRF)
        .set('Content-Type', 'application/octet-stream')
        .send(Buffer.from([0, 255, 1]))
        .expect(200)
      await request(app)
        .post(route(4))
        .set(CSRF)
        .set('Content-Type', 'multipart/form-data; boundary=x')
        .send('--x--')
        .expect(200)

      assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
      for (const id of ids) assert.equal((await h.manager.getJob(id))?.state, 'cancelled')
    })
  })

  describe('query validation', () => {
    const hostile = [
      'state=unknown',
      'state=PENDING',
      'state=',
      'state=__proto__',
      'state=constructor',
      'state=toString',
      'state=pending&state=failed',
      'state[]=pending',
      'state=pending&offset=-1',
      'state=pending&offset=NaN',
      'state=pending&offset=1e309',
      'state=pending&offset=1e3',
      'state=pending&offset=1.5',
      'state=pending&offset=0x10',
      'state=pending&offset=%201',
      'state=pending&offset=',
      'state=pending&offset=99999999999999999999',
      'state=pending&offset=9007199254740992',
      'state=pending&offset=Infinity',
      'state=pending&limit=0',
      'state=pending&limit=1001',
      'state=pending&limit=-5',
      'state=pending&limit=1&limit=2',
      'state=pending&limit[]=1',
      'state=pending&__proto__[polluted]=1',
      'state=pending&__proto__.polluted=1',
      'state=pending&constructor[prototype][polluted]=1',
      'state=pending&unknown=1',
      '',
    ]

    it('answers 400 JSON for hostile /api/jobs query strings, and nothing is polluted', async () => {
      const { app } = setup()
      for (const query of hostile) {
        const res = await request(app).get(`/admin/jobs/api/jobs?${query}`)
        assert.equal(res.status, 400, `?${query}: ${res.status} ${res.text}`)
        assertJsonError(res, 400, 'InvalidOptionError')
      }
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
    })

    it('answers 400 for the same query strings on the page, whatever query parser the app uses', async () => {
      const { app } = setup(undefined, (app) => app.set('query parser', 'extended'))
      for (const query of hostile.filter((q) => q !== '')) {
        const res = await request(app).get(`/admin/jobs/?${query}`)
        assert.equal(res.status, 400, `?${query}: ${res.status}`)
        assertJsonError(res, 400, 'InvalidOptionError')
      }
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
    })

    it('names the parameter, the value and what is expected', async () => {
      const { app } = setup()
      const state = assertJsonError(
        await request(app).get('/admin/jobs/api/jobs?state=nope'),
        400,
        'InvalidOptionError',
      )
      assert.match(state.message, /`state`.*pending, running, completed, failed, cancelled.*"nope"/)
      const limit = assertJsonError(
        await request(app).get('/admin/jobs/api/jobs?state=failed&limit=5000'),
        400,
        'InvalidOptionError',
      )
      assert.match(limit.message, /`limit`.*from 1 to 1000.*"5000"/)
    })

    it('accepts the extreme valid values', async () => {
      const { app } = setup()
      await request(app).get('/admin/jobs/api/jobs?state=cancelled&offset=10000&limit=1000').expect(200)
      await request(app).get('/admin/jobs/api/jobs?state=running&limit=1').expect(200)
    })

    it('refuses query parameters on routes that take none', async () => {
      const { app } = setup()
      assertJsonError(await request(app).get('/admin/jobs/api/counts?__proto__[polluted]=1'), 400, 'InvalidOptionError')
      assertJsonError(await request(app).get('/admin/jobs/api/schedules?x=1'), 400, 'InvalidOptionError')
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
    })

    it('answers 400 for a job id over 256 characters (a BullMQ schedule run of a 200-character schedule id has 221) or with bad percent-encoding, and 404 at 256', async () => {
      const { app } = setup({ allowMutations: true })
      const long = 'a'.repeat(257)
      assertJsonError(await request(app).get(`/admin/jobs/api/jobs/${long}`), 400, 'InvalidArgumentError')
      assertJsonError(
        await request(app).post(`/admin/jobs/api/jobs/${long}/cancel`).set(CSRF),
        400,
        'InvalidArgumentError',
      )
      assertJsonError(
        await request(app)
          .delete(`/admin/jobs/api/jobs/${'b'.repeat(10_000)}`)
          .set(CSRF),
        400,
        'InvalidArgumentError',
      )
      assertJsonError(await request(app).get(`/admin/jobs/api/jobs/${'a'.repeat(256)}`), 404, 'JobNotFoundError')
      assertJsonError(await request(app).get('/admin/jobs/api/jobs/%E0%A4%A'), 400, 'InvalidOptionError')
      assertJsonError(await request(app).get('/admin/jobs/api/jobs/__proto__'), 404, 'JobNotFoundError')
      assertJsonError(await request(app).get('/admin/jobs/api/jobs/constructor'), 404, 'JobNotFoundError')
    })
  })

  describe('page', () => {
    it('renders counts, state tabs and the jobs of the chosen state', async () => {
      const { h, app } = setup()
      const id = await h.manager.enqueue(EchoJob, { text: 'shown' }, { delay: 1000 })
      await h.manager.enqueue(EchoJob, { text: 'other' }, { delay: 1000 })

      const res = await request(app).get('/admin/jobs/').expect(200)
      assert.match(String(res.headers['content-type']), /^text\/html/)
      for (const state of ['pending', 'running', 'completed', 'failed', 'cancelled'])
        assert.ok(res.text.includes(`data-state="${state}"`), state)
      assert.ok(res.text.includes(`data-id="${id}"`))
      assert.ok(res.text.includes('{&quot;text&quot;:<wbr>&quot;shown&quot;}'))
      assert.match(res.text, /pending <span class="count">2<\/span>/)

      const paged = await request(app).get('/admin/jobs?state=pending&offset=1&limit=1').expect(200)
      assert.match(paged.text, /2\u20132 of 2/)
      const empty = await request(app).get('/admin/jobs?state=failed').expect(200)
      assert.ok(!empty.text.includes(`data-id="${id}"`))
      assert.ok(empty.text.includes('No failed jobs.'))
    })

    it('sends a nonce-based Content-Security-Policy, nosniff and no-store', async () => {
      const { app } = setup()
      const res = await request(app).get('/admin/jobs/').expect(200)
      const csp = String(res.headers['content-security-policy'])
      const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1]
      assert.ok(nonce, csp)
      assert.match(csp, /default-src 'none'/)
      assert.ok(csp.includes(`style-src 'nonce-${nonce}'`))
      assert.ok(!csp.includes('unsafe-inline'))
      assert.ok(res.text.includes(`<script nonce="${nonce}">`))
      assert.ok(res.text.includes(`<style nonce="${nonce}">`))
      assert.equal(res.headers['x-content-type-options'], 'nosniff')
      assert.equal(res.headers['cache-control'], 'no-store')
      const again = await request(app).get('/admin/jobs/').expect(200)
      assert.notEqual(again.headers['content-security-policy'], csp)
    })

    it('escapes job names, ids, args, errors and the title in the markup', async () => {
      const { h, app } = setup({ title: `Jobs ${XSS}` })
      await h.manager.enqueue(HostileNameJob, { text: XSS }, { delay: 1000 })
      const failed = await h.manager.enqueue(FailJob, { text: XSS })
      await h.manager.onSettled(failed)
      await h.manager.addOrUpdateSchedule({
        id: `s${XSS}`,
        cron: '0 * * * *',
        job: HostileNameJob,
        args: { text: XSS },
      })

      const pending = await request(app).get('/admin/jobs/?state=pending').expect(200)
      const failedPage = await request(app).get('/admin/jobs/?state=failed').expect(200)
      for (const html of [pending.text, failedPage.text]) {
        assert.ok(!html.includes(XSS), 'raw markup leaked')
        assert.ok(!html.includes('<script>'))
        assert.equal(html.split('<script').length - 1, 1, 'only the page script')
        assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'))
      }
      assert.ok(failedPage.text.includes('failed on &lt;script&gt;alert(1)&lt;/script&gt;'))
      assert.ok(pending.text.includes(`<title>Jobs &lt;script&gt;`))
    })

    it('shows cancel, retry and delete controls only when mutations are enabled', async () => {
      const readOnly = setup()
      const html = (await request(readOnly.app).get('/admin/jobs/').expect(200)).text
      assert.ok(!html.includes('id="actions"'))
      assert.ok(html.includes('data-mutations="false"'))

      const writable = setup({ allowMutations: true })
      const writableHtml = (await request(writable.app).get('/admin/jobs/').expect(200)).text
      assert.ok(writableHtml.includes('id="actions"'))
      assert.ok(writableHtml.includes('data-mutations="true"'))
    })
  })

  describe('redactArgs', () => {
    it('replaces args with "[redacted]" in the API and the page when true', async () => {
      const { h, app } = setup({ redactArgs: true, allowMutations: true })
      const id = await h.manager.enqueue(EchoJob, { text: 'secret-token' }, { delay: 1000 })
      await h.manager.addOrUpdateSchedule({
        id: 'hourly',
        cron: '0 * * * *',
        job: EchoJob,
        args: { text: 'secret-token' },
      })

      const list = (await request(app).get('/admin/jobs/api/jobs?state=pending').expect(200)).body as PageBody
      assert.equal(list.items[0]?.args, '[redacted]')
      assert.equal(
        ((await request(app).get(`/admin/jobs/api/jobs/${id}`).expect(200)).body as JobInfo).args,
        '[redacted]',
      )
      const schedules = (await request(app).get('/admin/jobs/api/schedules').expect(200)).body as {
        items: Array<{ args: unknown }>
      }
      assert.equal(schedules.items[0]?.args, '[redacted]')
      assert.ok(!(await request(app).get('/admin/jobs/').expect(200)).text.includes('secret-token'))
      const cancelled = (await request(app).post(`/admin/jobs/api/jobs/${id}/cancel`).set(CSRF).expect(200))
        .body as JobInfo
      assert.equal(cancelled.args, '[redacted]')
      assert.deepEqual((await h.manager.getJob(id))?.args, { text: 'secret-token' })
    })

    it('shows what a redactArgs function returns', async () => {
      const { h, app } = setup({ redactArgs: (job) => ({ job: job.name, text: '***' }) })
      const id = await h.manager.enqueue(EchoJob, { text: 'secret-token' }, { delay: 1000 })

      const job = (await request(app).get(`/admin/jobs/api/jobs/${id}`).expect(200)).body as JobInfo
      assert.deepEqual(job.args, { job: 'EchoJob', text: '***' })
      const html = (await request(app).get('/admin/jobs/').expect(200)).text
      assert.ok(!html.includes('secret-token'))
      assert.ok(html.includes('&quot;***&quot;'))
    })

    it('shows "[redacted]" and logs when the function throws or returns non-JSON data', async () => {
      let calls = 0
      const { h, app } = setup({
        redactArgs: () => {
          calls++
          if (calls === 1) throw new Error('redactor broke')
          return 10n
        },
      })
      const id = await h.manager.enqueue(EchoJob, { text: 'secret-token' }, { delay: 1000 })

      for (let i = 0; i < 2; i++) {
        const job = (await request(app).get(`/admin/jobs/api/jobs/${id}`).expect(200)).body as JobInfo
        assert.equal(job.args, '[redacted]')
      }
      assert.equal(h.logger.messages('error').length, 2)
    })
  })

  describe('access', () => {
    it('lets loopback requests in when there is no authorize option', async () => {
      const { app } = setup()
      await request(app).get('/admin/jobs/api/counts').expect(200)
      await request(app).get('/admin/jobs/').set('Host', 'localhost:3000').expect(200)
      await request(app).get('/admin/jobs/').set('Host', '[::1]:3000').expect(200)
    })

    it('denies a non-loopback peer even with a spoofed X-Forwarded-For, whatever trust proxy says', async () => {
      for (const trustProxy of [false, true]) {
        const { app } = setup(undefined, (app) => {
          app.set('trust proxy', trustProxy)
          app.use(peerAddress('10.0.0.5'))
        })
        for (const path of ['/admin/jobs/', '/admin/jobs/api/counts', '/admin/jobs/api/jobs?state=pending']) {
          const res = await request(app).get(path).set('X-Forwarded-For', '127.0.0.1')
          assert.match(assertJsonError(res, 403, 'AdminAccessDeniedError').message, /authorize/)
        }
      }
    })

    it('denies IPv4-mapped non-loopback peers and allows IPv4-mapped loopback ones', async () => {
      const denied = setup(undefined, (app) => app.use(peerAddress('::ffff:10.0.0.5')))
      assertJsonError(await request(denied.app).get('/admin/jobs/api/counts'), 403, 'AdminAccessDeniedError')
      const allowed = setup(undefined, (app) => app.use(peerAddress('::ffff:127.0.0.1')))
      await request(allowed.app).get('/admin/jobs/api/counts').expect(200)
    })

    it('denies a loopback request that came through a proxy', async () => {
      const { app } = setup()
      for (const header of ['X-Forwarded-For', 'Forwarded', 'X-Real-IP', 'X-Forwarded-Host']) {
        const res = await request(app).get('/admin/jobs/api/counts').set(header, '203.0.113.9')
        assert.match(assertJsonError(res, 403, 'AdminAccessDeniedError').message, /proxy/)
      }
    })

    it('denies a loopback request for a non-loopback Host (DNS rebinding)', async () => {
      const { app } = setup()
      const res = await request(app).get('/admin/jobs/api/counts').set('Host', 'evil.example:3000')
      assert.match(assertJsonError(res, 403, 'AdminAccessDeniedError').message, /Host/)
    })

    it('denies a real request from a non-loopback interface', async function () {
      const address = Object.values(networkInterfaces())
        .flat()
        .find((info) => info !== undefined && info.family === 'IPv4' && !info.internal)?.address
      if (address === undefined) this.skip()
      const { app } = setup()
      const server: Server = await new Promise((resolve) => {
        const listening = app.listen(0, address, () => resolve(listening))
      })
      try {
        const { port } = server.address() as AddressInfo
        const res = await request(`http://${address}:${port}`)
          .get('/admin/jobs/api/counts')
          .set('X-Forwarded-For', '127.0.0.1')
        assertJsonError(res, 403, 'AdminAccessDeniedError')
      } finally {
        await new Promise((resolve) => server.close(resolve))
      }
    })

    it('lets authorize alone decide, for any peer', async () => {
      const seen: string[] = []
      const { app } = setup(
        {
          authorize: async (req) => {
            seen.push(req.path)
            return req.get('x-admin-token') === 'ok'
          },
        },
        (app) => app.use(peerAddress('10.0.0.5')),
      )
      await request(app).get('/admin/jobs/api/counts').set('X-Admin-Token', 'ok').expect(200)
      await request(app).get('/admin/jobs/').set('X-Admin-Token', 'ok').set('Host', 'jobs.example').expect(200)
      assertJsonError(await request(app).get('/admin/jobs/api/counts'), 403, 'AdminAccessDeniedError')
      assert.equal(seen.length, 3)
    })

    it('denies with 403 and logs when authorize throws, and denies non-true results', async () => {
      const { h, app } = setup({
        authorize: (req) => {
          if (req.get('x-mode') === 'throw') throw new Error('auth backend down')
          return 'yes' as unknown as boolean
        },
      })
      assertJsonError(
        await request(app).get('/admin/jobs/api/counts').set('X-Mode', 'throw'),
        403,
        'AdminAccessDeniedError',
      )
      assert.equal(h.logger.messages('warn').length, 1)
      assert.match(String(h.logger.entries[0]?.meta?.['error']), /auth backend down/)
      assertJsonError(await request(app).get('/admin/jobs/api/counts'), 403, 'AdminAccessDeniedError')
    })

    it('denies mutations as well as reads', async () => {
      const { h, app } = setup({ allowMutations: true }, (app) => app.use(peerAddress('10.0.0.5')))
      const id = await h.manager.enqueue(EchoJob, { text: 'p' }, { delay: 1000 })
      assertJsonError(
        await request(app).post(`/admin/jobs/api/jobs/${id}/cancel`).set(CSRF),
        403,
        'AdminAccessDeniedError',
      )
      assert.equal((await h.manager.getJob(id))?.state, 'pending')
    })
  })

  describe('unexpected errors', () => {
    it('answers 500 with a generic message and logs the real error', async () => {
      const container = createContainer()
      containers.push(container)
      const logger = new CapturingLogger()
      const manager = {
        async counts(): Promise<never> {
          throw new Error('database password is hunter2')
        },
        on(): () => void {
          return () => {}
        },
      }
      container.register({ logger: asValue(logger), backgroundJobManager: asValue(manager) })
      const app = express()
      app.use('/admin/jobs', backgroundJobsAdminRouter(container))

      const error = assertJsonError(await request(app).get('/admin/jobs/api/counts'), 500, 'InternalServerError')
      assert.ok(!error.message.includes('hunter2'))
      assert.equal(logger.messages('error').length, 1)
      assert.match(String(logger.entries[0]?.meta?.['error']), /hunter2/)
    })
  })

  describe('options', () => {
    it('refuses a container without the background-job service', () => {
      const container = createContainer()
      containers.push(container)
      assert.throws(() => backgroundJobsAdminRouter(container), BackgroundJobsNotBuiltError)
      assert.throws(() => backgroundJobsAdminRouter(null as unknown as AwilixContainer), InvalidArgumentError)
    })

    it('refuses unknown and mistyped options, naming them', () => {
      const { h } = setup()
      const bad: Array<[unknown, RegExp]> = [
        [{ allowMutation: true }, /Unknown option `allowMutation`/],
        [{ allowMutations: 'yes' }, /`allowMutations`.*"yes"/],
        [{ authorize: true }, /`authorize`/],
        [{ redactArgs: 'all' }, /`redactArgs`/],
        [{ title: '' }, /`title`/],
        [{ title: 'x'.repeat(201) }, /`title`/],
        [[], /object/],
      ]
      for (const [options, message] of bad) {
        assert.throws(
          () => backgroundJobsAdminRouter(h.container, options as AdminRouterOptions),
          (error: unknown) => error instanceof InvalidOptionError && message.test(error.message),
        )
      }
      assert.doesNotThrow(() => backgroundJobsAdminRouter(h.container, { allowMutations: undefined, title: 'Ops' }))
    })
  })
})

describe('isLoopbackAddress', () => {
  it('accepts 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackAddress(address), true, address)
    }
  })

  it('rejects every other address, names and non-strings', () => {
    for (const address of [
      '10.0.0.5',
      '128.0.0.1',
      '0.0.0.0',
      '::',
      '::ffff:10.0.0.5',
      'localhost',
      '127.0.0.1.evil',
      '127.0.0.256',
      '',
      undefined,
      null,
      127,
    ]) {
      assert.equal(isLoopbackAddress(address), false, String(address))
    }
  })
})
