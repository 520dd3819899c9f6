import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { asClass } from 'awilix'
import type { Request } from 'express'
import request from 'supertest'
import { BackgroundJobsNotBuiltError, InvalidArgumentError } from '../src/errors'
import { backgroundJobsMiddleware, stopWithServer } from '../src/express/middleware'
import { createContainer } from 'awilix'
import { describeEachExpress } from './support/express-versions'
import { createHarness, type Harness } from './support/harness'

describeEachExpress('backgroundJobsMiddleware', ({ express }) => {
  let h: Harness

  beforeEach(() => {
    h = createHarness()
  })

  afterEach(async () => {
    await h.container.dispose()
  })

  it('attaches the singleton manager and a request scope holding req and res', async () => {
    const app = express()
    app.use(backgroundJobsMiddleware(h.container))
    app.get('/', (req, res) => {
      res.json({
        sameManager: req.backgroundJobs === h.manager,
        scoped: req.container !== h.container,
        hasReq: req.container.resolve('req') === req,
      })
    })
    const res = await request(app).get('/').expect(200)
    assert.deepEqual(res.body, { sameManager: true, scoped: true, hasReq: true })
  })

  it('disposes the request scope once the response has finished', async () => {
    const disposed: string[] = []
    class RequestThing {
      constructor(readonly deps: { req: Request }) {}
    }
    h.container.register(
      'requestThing',
      asClass(RequestThing)
        .scoped()
        .disposer((thing) => void disposed.push(thing.deps.req.path)),
    )
    const app = express()
    app.use(backgroundJobsMiddleware(h.container))
    app.get('/a', (req, res) => {
      req.container.resolve('requestThing')
      assert.deepEqual(disposed, [])
      res.send('ok')
    })
    await request(app).get('/a').expect(200)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(disposed, ['/a'])
  })

  it('makes no request scope for a request that never reads req.container, and one for a request that does', async () => {
    let scopesMade = 0
    const createScope = h.container.createScope.bind(h.container)
    h.container.createScope = () => {
      scopesMade++
      return createScope()
    }
    const app = express()
    app.use(backgroundJobsMiddleware(h.container))
    app.get('/plain', (req, res) => {
      res.json({ sameManager: req.backgroundJobs === h.manager })
    })
    app.get('/scoped', (req, res) => {
      res.json({ hasReq: req.container.resolve('req') === req, same: req.container === req.container })
    })
    await request(app).get('/plain').expect(200, { sameManager: true })
    await request(app).get('/plain').expect(200)
    assert.equal(scopesMade, 0)
    const res = await request(app).get('/scoped').expect(200)
    assert.deepEqual(res.body, { hasReq: true, same: true })
    assert.equal(scopesMade, 1)
  })

  it('lets an app put a container of its own in req.container', async () => {
    const own = createContainer()
    const app = express()
    app.use(backgroundJobsMiddleware(h.container))
    app.use((req, _res, next) => {
      req.container = own
      next()
    })
    app.get('/', (req, res) => {
      res.json({ isOwn: req.container === own, enumerable: Object.keys(req).includes('container') })
    })
    const res = await request(app).get('/').expect(200)
    assert.deepEqual(res.body, { isOwn: true, enumerable: true })
  })

  it('disposes the scopes of two containers whose middleware both ran on one request', async () => {
    const other = createHarness()
    try {
      const disposed: string[] = []
      for (const [harness, name] of [
        [h, 'first'],
        [other, 'second'],
      ] as const) {
        harness.container.register(
          'thing',
          asClass(class Thing {})
            .scoped()
            .disposer(() => void disposed.push(name)),
        )
      }
      const app = express()
      app.use(backgroundJobsMiddleware(h.container))
      app.use((req, _res, next) => {
        req.container.resolve('thing')
        next()
      })
      app.use(backgroundJobsMiddleware(other.container))
      app.get('/', (req, res) => {
        req.container.resolve('thing')
        res.json({ isSecond: req.backgroundJobs === other.manager })
      })
      const res = await request(app).get('/').expect(200)
      assert.deepEqual(res.body, { isSecond: true })
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(disposed.sort(), ['first', 'second'])
    } finally {
      await other.container.dispose()
    }
  })

  it('keeps the manager running when a server that served requests closes (test tools open one per request)', async () => {
    const app = express()
    app.use(backgroundJobsMiddleware(h.container))
    app.get('/', (_req, res) => {
      res.send('ok')
    })
    await request(app).get('/').expect(200)
    await request(app).get('/').expect(200)
    assert.equal(h.manager.isStopped, false)
  })

  it('stopWithServer stops the manager when the HTTP server closes', async () => {
    const app = express()
    app.use(backgroundJobsMiddleware(h.container))
    app.get('/', (_req, res) => {
      res.set('Connection', 'close').send('ok')
    })
    const server = stopWithServer(app.listen(0, '127.0.0.1'), h.container)
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/`)
    assert.equal(await res.text(), 'ok')
    server.close()
    await once(server, 'close')
    assert.equal(h.manager.isStopped, true)
  })

  it('rejects a missing container or one without the background-job service', () => {
    assert.throws(() => backgroundJobsMiddleware(undefined as never), InvalidArgumentError)
    assert.throws(() => backgroundJobsMiddleware(createContainer()), BackgroundJobsNotBuiltError)
    assert.throws(
      () => stopWithServer({} as never, h.container),
      /Expected the server given to stopWithServer to be an HTTP server/,
    )
  })
})
