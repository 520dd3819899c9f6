import type { AddressInfo } from 'node:net'
import express from 'express'
import { backgroundJobsMiddleware } from '../src/index'
import { loadPQueue } from './peers'
import { BENCH_CONCURRENCY, NoopJob, createKit, noopJob, type BenchArgs } from './support'

/** The routes the W4 server serves: the same handler without a job, with the kit's enqueue, with p-queue's add. */
export const W4_ROUTES = { plain: '/plain', enqueue: '/enqueue', 'p-queue': '/p-queue' } as const

/** One of the W4 routes. */
export type W4Route = keyof typeof W4_ROUTES

/** The prefix of the line the W4 server prints once it listens. */
export const READY_PREFIX = 'BENCH_READY '

/**
 * The W4 server (run in its own child process): Express with `backgroundJobsMiddleware`, one
 * route that enqueues one no-op job per request via `req.backgroundJobs`, one that hands it to a
 * p-queue (not awaited: `add()`'s promise settles when the job has run), and one that does neither.
 * It listens on 127.0.0.1 only and prints its port.
 */
export async function serveHttp(): Promise<void> {
  const { container } = createKit([NoopJob], {})
  const PQueue = await loadPQueue()
  const queue = new PQueue({ concurrency: BENCH_CONCURRENCY })
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
  app.get(W4_ROUTES['p-queue'], async (_req, res) => {
    const args: BenchArgs = { i: i++ }
    void queue.add(() => noopJob(args))
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
  /** Requests per sample tick (`average`), and in all (`total`). */
  readonly requests: { readonly average: number; readonly total: number }
  /** Seconds the load ran, to 10 ms. */
  readonly duration: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}

type Autocannon = (options: {
  url: string
  connections: number
  duration: number
  pipelining: number
  sampleInt?: number
}) => Promise<AutocannonResult>

// autocannon ships no type declarations; these are the calls the benchmark makes.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS module, typed by the cast
const autocannon = (): Autocannon => require('autocannon') as Autocannon

/** Loads `url` for `seconds` (whole) with autocannon (in the calling process); requests/s and failures. */
export async function loadUrl(url: string, seconds: number): Promise<{ requestsPerSecond: number; failures: number }> {
  const result = await autocannon()({ url, connections: 10, duration: seconds, pipelining: 1 })
  return { requestsPerSecond: result.requests.average, failures: result.non2xx + result.errors + result.timeouts }
}

/** What one slice of load on a route did. */
export interface Slice {
  readonly requests: number
  readonly seconds: number
  readonly failures: number
}

/** Loads `url` for `seconds`, fractions allowed, with autocannon; its requests, seconds and failures. */
export async function loadSlice(url: string, seconds: number): Promise<Slice> {
  // autocannon stops at the first sample tick after `duration`: ticks of 50 ms let a slice be short.
  const result = await autocannon()({ url, connections: 10, duration: seconds, pipelining: 1, sampleInt: 50 })
  return {
    requests: result.requests.total,
    seconds: result.duration,
    failures: result.non2xx + result.errors + result.timeouts,
  }
}

/** How W4 loads one server. */
export interface SliceParams {
  /** Rounds per run: one slice of each route, back to back. */
  readonly rounds: number
  readonly sliceSeconds: number
  readonly warmupSeconds: number
}

/** One route's requests/s and failed requests over a run. */
export interface RouteFigures {
  readonly requestsPerSecond: number
  readonly failures: number
}

/** W4's figures of one run: each route's, and each round's ratios to `/plain`'s slice. */
export interface HttpRun {
  readonly routes: Readonly<Record<W4Route, RouteFigures>>
  /** `/enqueue`'s requests/s over `/plain`'s in the same round of adjacent slices. */
  readonly enqueueRatios: readonly number[]
  /** `/p-queue`'s requests/s over `/plain`'s in the same round. */
  readonly pQueueRatios: readonly number[]
}

const ROUTES = Object.keys(W4_ROUTES) as W4Route[]

/**
 * Loads the routes of the server at `port`: a warm-up of each, then `rounds` rounds of short
 * slices, one per route, the order rotated from round to round and from run to run, so each route
 * takes each place in a round equally often. The shared machine's load drifts by several percent
 * within seconds; adjacent short slices see nearly the same load, so their ratio is steadier than
 * the ratio of the routes' totals.
 */
export async function loadInterleaved(port: number, run: number, params: SliceParams): Promise<HttpRun> {
  const url = (route: W4Route): string => `http://127.0.0.1:${port}${W4_ROUTES[route]}`
  for (const route of ROUTES) await loadSlice(url(route), params.warmupSeconds)
  const totals = Object.fromEntries(ROUTES.map((route) => [route, { requests: 0, seconds: 0, failures: 0 }])) as Record<
    W4Route,
    { requests: number; seconds: number; failures: number }
  >
  const enqueueRatios: number[] = []
  const pQueueRatios: number[] = []
  for (let round = 0; round < params.rounds; round++) {
    const shift = (round + run) % ROUTES.length
    const order = [...ROUTES.slice(shift), ...ROUTES.slice(0, shift)]
    const perSecond: Record<W4Route, number> = { plain: NaN, enqueue: NaN, 'p-queue': NaN }
    for (const route of order) {
      const slice = await loadSlice(url(route), params.sliceSeconds)
      totals[route].requests += slice.requests
      totals[route].seconds += slice.seconds
      totals[route].failures += slice.failures
      perSecond[route] = slice.requests / slice.seconds
    }
    enqueueRatios.push(perSecond.enqueue / perSecond.plain)
    pQueueRatios.push(perSecond['p-queue'] / perSecond.plain)
  }
  const routes = Object.fromEntries(
    ROUTES.map((route) => [
      route,
      { requestsPerSecond: totals[route].requests / totals[route].seconds, failures: totals[route].failures },
    ]),
  ) as Record<W4Route, RouteFigures>
  return { routes, enqueueRatios, pQueueRatios }
}
