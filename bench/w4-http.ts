import type { AddressInfo } from 'node:net'
import express from 'express'
import { backgroundJobsMiddleware } from '../src/index'
import { NoopJob, createKit } from './support'

/** The routes the W4 server serves: the same handler with and without the enqueue. */
export const W4_ROUTES = { plain: '/plain', enqueue: '/enqueue' } as const

/** The prefix of the line the W4 server prints once it listens. */
export const READY_PREFIX = 'BENCH_READY '

/**
 * The W4 server (run in its own child process): Express with `backgroundJobsMiddleware`, one
 * route that enqueues one no-op job per request via `req.backgroundJobs` and one that does not.
 * It listens on 127.0.0.1 only and prints its port.
 */
export async function serveHttp(): Promise<void> {
  const { container } = createKit([NoopJob], {})
  const app = express()
  app.use(backgroundJobsMiddleware(container))
  let i = 0
  app.get(W4_ROUTES.plain, async (_req, res) => {
    res.json({ ok: true })
  })
  app.get(W4_ROUTES.enqueue, async (req, res) => {
    await req.backgroundJobs.enqueue(NoopJob, { i: i++ })
    res.json({ ok: true })
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const { port } = server.address() as AddressInfo
  process.stdout.write(`${READY_PREFIX}${port}\n`)
  process.once('SIGTERM', () => {
    server.close()
    server.closeAllConnections()
    container.dispose().catch(() => {})
  })
}

/** The part of autocannon's result the benchmark reads. */
interface AutocannonResult {
  readonly requests: { readonly average: number }
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}

type Autocannon = (options: {
  url: string
  connections: number
  duration: number
  pipelining: number
}) => Promise<AutocannonResult>

/** Loads `url` for `seconds` with autocannon (in the calling process); requests/s and failures. */
export async function loadUrl(url: string, seconds: number): Promise<{ requestsPerSecond: number; failures: number }> {
  // autocannon ships no type declarations; this is the one call the benchmark makes.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS module, typed by the cast
  const autocannon = require('autocannon') as Autocannon
  const result = await autocannon({ url, connections: 10, duration: seconds, pipelining: 1 })
  return { requestsPerSecond: result.requests.average, failures: result.non2xx + result.errors + result.timeouts }
}
