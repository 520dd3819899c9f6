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
