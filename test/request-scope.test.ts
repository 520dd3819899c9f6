import assert from 'node:assert/strict'
import { once } from 'node:events'
import http, { type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { asClass, asFunction } from 'awilix'
import express, { type Request, type Response } from 'express'
import { BackgroundJobs } from '../src/background-jobs'
import { RequestScopeDisposedError } from '../src/errors'
import { mapServices } from '../src/express/map-services'
import { backgroundJobsMiddleware, holdRequestScope } from '../src/express/middleware'
import { ServiceBase } from '../src/express/service-base'
import { createHarness, flush, type Harness } from './support/harness'
import { closeServer, send } from './support/proxy'

/** A pooled connection stand-in: it must not be used once disposed. */
class Connection {
  static made = 0
  static disposed = 0
  isDisposed = false
  constructor() {
    Connection.made++
  }
  query(): string {
    if (this.isDisposed) throw new Error('connection used after it went back to the pool')
    return 'row'
  }
  dispose(): void {
    this.isDisposed = true
    Connection.disposed++
  }
}

/** Lets the response's close and the scope's disposal (promise callbacks) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await flush()
}

/** Starts a request and destroys it once `started` says the handler is running. */
function abortedRequest(port: number, path: string, started: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const outgoing = http.request({ host: '127.0.0.1', port, path, method: 'GET' })
    outgoing.on('error', () => resolve())
    outgoing.on('close', () => resolve())
    outgoing.end()
    void started.then(() => outgoing.destroy())
  })
}

describe('request scopes', () => {
  let h: Harness
  let server: Server | undefined

  beforeEach(() => {
    Connection.made = 0
    Connection.disposed = 0
    h = createHarness()
    h.container.register(
      'connection',
      asClass(Connection)
        .scoped()
        .disposer((connection) => connection.dispose()),
    )
  })

  afterEach(async () => {
    if (server !== undefined) await closeServer(server)
    server = undefined
    BackgroundJobs.reset()
    await h.container.dispose()
  })

  async function listen(app: express.Express): Promise<number> {
    server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return (server.address() as AddressInfo).port
  }

  describe('for mapServices routes', () => {
    it('keeps the scope open while a slow method runs after its client aborted (200 requests), then disposes each', async function () {
      this.timeout(60_000)
      const usedAfterAbort: boolean[] = []
      const starts = new Map<string, () => void>()
      class SlowService extends ServiceBase {
        async getSlowAsync(req: Request, n: string): Promise<string> {
          const connection = req.container.resolve<Connection>('connection')
          const closed = once(req.res!, 'close')
          starts.get(n)?.()
          await closed
          await settle()
          usedAfterAbort.push(!connection.isDisposed && connection.query() === 'row')
          return 'done'
        }
      }
      const app = express()
      app.use(backgroundJobsMiddleware(h.container))
      mapServices(app, [SlowService], { container: h.container })
      const port = await listen(app)

      await Promise.all(
        Array.from({ length: 200 }, (_, n) => {
          const started = new Promise<void>((resolve) => starts.set(String(n), resolve))
          return abortedRequest(port, `/api/v1/slows/Slow?n=${n}`, started)
        }),
      )
      while (usedAfterAbort.length < 200) await flush()
      await settle()
      assert.equal(usedAfterAbort.filter(Boolean).length, 200, 'no scope was disposed under a running method')
      assert.deepEqual([Connection.made, Connection.disposed], [200, 200])
    })

    it('keeps the scope open for a method that answers through res and works on, and disposes what it resolved later too', async () => {
      const seen: Array<{ early: boolean; late: boolean }> = []
      let done!: () => void
      const finished = new Promise<void>((resolve) => (done = resolve))
      class WorkService extends ServiceBase {
        async postWorkAsync(req: Request, res: Response): Promise<void> {
          const early = req.container.resolve<Connection>('connection')
          res.status(202).json({ accepted: true })
          await once(res, 'finish')
          await settle()
          const late = (req.container.cradle as Record<string, unknown>)['connection'] as Connection
          seen.push({ early: early.isDisposed, late: late.isDisposed })
          done()
        }
      }
      const app = express()
      app.use(backgroundJobsMiddleware(h.container))
      mapServices(app, [WorkService], { container: h.container })
      const port = await listen(app)

      const answer = await send(port, { method: 'POST', path: '/api/v1/works/Work' })
      assert.equal(answer.status, 202)
      await finished
      await settle()
      assert.deepEqual(seen, [{ early: false, late: false }], 'nothing was disposed while the method ran')
      assert.deepEqual([Connection.made, Connection.disposed], [1, 1], 'the scoped instance was disposed afterwards')
    })
  })

  describe('for plain handlers', () => {
    it('refuses to resolve from a disposed scope, through resolve and through the cradle, with RequestScopeDisposedError', async () => {
      const errors: unknown[] = []
      let done!: () => void
      const finished = new Promise<void>((resolve) => (done = resolve))
      const app = express()
      app.use(backgroundJobsMiddleware(h.container))
      app.get('/late', (req, res) => {
        res.send('ok')
        void (async () => {
          await once(res, 'finish')
          await settle()
          for (const resolveLate of [
            () => req.container.resolve('connection'),
            () => (req.container.cradle as Record<string, unknown>)['connection'],
            () => req.container.resolve('backgroundJobManager'),
          ]) {
            try {
              resolveLate()
              errors.push('resolved')
            } catch (error) {
              errors.push(error)
            }
          }
          done()
        })()
      })
      const port = await listen(app)
      assert.equal((await send(port, { path: '/late' })).status, 200)
      await finished
      assert.equal(errors.length, 3)
      for (const error of errors) {
        assert.ok(error instanceof RequestScopeDisposedError, String(error))
        assert.match(error.message, /holdRequestScope\(req\)/)
      }
      assert.equal(Connection.made, 0, 'no instance was made after disposal')
    })

    it('keeps the scope open until holdRequestScope is released, after the response ended', async () => {
      let release!: () => void
      let connection: Connection | undefined
      const app = express()
      app.use(backgroundJobsMiddleware(h.container))
      app.post('/import', (req, res) => {
        release = holdRequestScope(req)
        connection = req.container.resolve<Connection>('connection')
        res.status(202).end()
      })
      const port = await listen(app)
      assert.equal((await send(port, { method: 'POST', path: '/import' })).status, 202)
      await settle()
      assert.equal(connection?.isDisposed, false)
      release()
      release()
      await settle()
      assert.equal(connection?.isDisposed, true)
      assert.equal(Connection.disposed, 1)
    })

    it('gives a handler that holds the scope, and first reads req.container after answering, a working scope, disposed on release', async () => {
      let release!: () => void
      let connection: Connection | undefined
      let done!: () => void
      const finished = new Promise<void>((resolve) => (done = resolve))
      const app = express()
      app.use(backgroundJobsMiddleware(h.container))
      app.post('/import', (req, res) => {
        release = holdRequestScope(req)
        res.status(202).end()
        void (async () => {
          await once(res, 'finish')
          await settle()
          connection = req.container.resolve<Connection>('connection')
          done()
        })()
      })
      const port = await listen(app)
      assert.equal((await send(port, { method: 'POST', path: '/import' })).status, 202)
      await finished
      assert.equal(connection?.query(), 'row')
      release()
      await settle()
      assert.equal(connection?.isDisposed, true)
    })

    it('logs a disposer that fails instead of dropping the failure', async () => {
      h.container.register(
        'fragile',
        asFunction(() => ({}))
          .scoped()
          .disposer(() => {
            throw new Error('pool is gone')
          }),
      )
      const app = express()
      app.use(backgroundJobsMiddleware(h.container))
      app.get('/', (req, res) => {
        req.container.resolve('fragile')
        res.send('ok')
      })
      const port = await listen(app)
      await send(port, { path: '/' })
      await settle()
      const logged = h.logger.entries.filter((entry) => entry.message === 'Disposing a request scope failed')
      assert.equal(logged.length, 1)
      assert.match(String(logged[0]?.meta?.['error']), /pool is gone/)
    })
  })
})
