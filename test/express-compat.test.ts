import assert from 'node:assert/strict'
import type { NextFunction, Request, Response } from 'express'
import request from 'supertest'
import { forwardRejections, getExpressMajor } from '../src/express/express-compat'
import { describeEachExpress } from './support/express-versions'

describeEachExpress('Express compatibility', ({ major, express }) => {
  it('tells the major of an app and of a router', () => {
    assert.equal(getExpressMajor(express()), major)
    assert.equal(getExpressMajor(express.Router()), major)
  })

  it('forwards a rejected handler, middleware or error handler to the next error handler', async () => {
    const router = forwardRejections(express.Router())
    router.use(async function guard(req: Request, _res: Response, next: NextFunction): Promise<void> {
      await Promise.resolve()
      if (req.path === '/guarded') throw new Error('guard said no')
      next()
    })
    router.get('/fails', async function fails(): Promise<void> {
      await Promise.resolve()
      throw new TypeError('handler failed')
    })
    router.get(['/undefined', '/also-undefined'], async function rejectsWithNothing(): Promise<void> {
      await Promise.resolve()
      throw undefined
    })
    router.get('/recovers', async function fails(): Promise<void> {
      await Promise.resolve()
      throw new Error('first')
    })
    router.use(async function rethrows(error: Error, req: Request, _res: Response, next: NextFunction): Promise<void> {
      await Promise.resolve()
      if (req.path === '/recovers') throw new Error(`wrapped: ${error.message}`)
      next(error)
    })
    const inner = express.Router()
    inner.get('/ok', (_req: Request, res: Response) => {
      res.json({ ok: true })
    })
    router.use('/inner', inner)
    const app = express()
    app.use(router)
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ name: error.name, message: error.message })
    })
    await request(app).get('/guarded').expect(500, { name: 'Error', message: 'guard said no' })
    await request(app).get('/fails').expect(500, { name: 'TypeError', message: 'handler failed' })
    await request(app).get('/also-undefined').expect(500, { name: 'Error', message: 'Rejected promise' })
    await request(app).get('/recovers').expect(500, { name: 'Error', message: 'wrapped: first' })
    await request(app).get('/inner/ok').expect(200, { ok: true })
  })
})
