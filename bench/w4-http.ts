import { get } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { backgroundJobsMiddleware } from '../src/index'
import { loadPQueue } from './peers'
import { READY_PREFIX, autocannon } from './http-load'
import { BENCH_CONCURRENCY, NoopJob, createKit, noopJob, type BenchArgs } from './support'

/** The routes the W4 server serves: the same handler without a job, with the kit's enqueue, with p-queue's add. */
export const W4_ROUTES = { plain: '/plain', enqueue: '/enqueue', 'p-queue': '/p-queue' } as const

/** One of the W4 routes. */
export type W4Route = keyof typeof W4_ROUTES

/**
 * The W4 server's route that answers its process's CPU time so far (`process.cpuUsage()`), read
 * between slices; registered after the measured routes, which the router matches first.
 */
export const W4_CPU_ROUTE = '/cpu-usage'

/**
 * The W4 server (run in its own child process): Express with `backgroundJobsMiddleware`, one
 * route that enqueues one no-op job per request via `req.backgroundJobs`, one that hands it to a
 * p-queue (not awaited: `add()`'s promise settles when the job has run), and one that does neither.
 * It listens on 127.0.0.1 only and prints its port. {@link W4_CPU_ROUTE} tells the benchmark its CPU time.
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
  app.get(W4_CPU_ROUTE, (_req, res) => {
    res.json(process.cpuUsage())
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

/** How W4 loads one server. */
export interface SliceParams {
  /** Rounds per run: a slice of `/enqueue` and one of `/p-queue`, each after a slice of `/plain`. */
  readonly rounds: number
  readonly sliceSeconds: number
  /** Seconds of load on each route before the first measured slice. */
  readonly warmupSeconds: number
}

/** One route's figures over a run. */
export interface RouteFigures {
  /** Responses over the slices' loaded time (first response to last, see {@link loadTimedSlice}). */
  readonly requestsPerSecond: number
  /** The server process's CPU time (user + system) over its slices, per response. */
  readonly serverMicrosPerRequest: number
  readonly failures: number
}

/** W4's figures of one run: each route's, and each slice's ratio to the `/plain` slices beside it. */
export interface HttpRun {
  readonly routes: Readonly<Record<W4Route, RouteFigures>>
  /** Each `/enqueue` slice's requests/s over the mean of the `/plain` slices just before and after it. */
  readonly enqueueRatios: readonly number[]
  /** The same for each `/p-queue` slice. */
  readonly pQueueRatios: readonly number[]
}

/**
 * The slices of one run, in order: `/plain` before and after every other slice, which alternate
 * between `/enqueue` and `/p-queue` from round to round (`run` shifts which one leads), so each is
 * as often first in its round as second: plain, enqueue, plain, p-queue, plain, p-queue, plain,
 * enqueue, plain, enqueue, ...
 */
export function w4SliceOrder(rounds: number, run: number): W4Route[] {
  const order: W4Route[] = ['plain']
  for (let round = 0; round < rounds; round++) {
    const isEnqueueFirst = (round + run) % 2 === 0
    order.push(isEnqueueFirst ? 'enqueue' : 'p-queue', 'plain', isEnqueueFirst ? 'p-queue' : 'enqueue', 'plain')
  }
  return order
}

/**
 * The ratio of each slice of `route` to the mean of the `/plain` slices on either side of it (in
 * `slices`' order, as {@link w4SliceOrder} lays them out): a drift in the machine's load that is
 * linear over the three slices cancels out, where against one neighbour it counts in full.
 */
export function flankedRatios(
  slices: readonly { readonly route: W4Route; readonly requestsPerSecond: number }[],
  route: Exclude<W4Route, 'plain'>,
): number[] {
  const ratios: number[] = []
  for (let i = 1; i < slices.length - 1; i++) {
    const before = slices[i - 1]!
    const after = slices[i + 1]!
    if (slices[i]!.route !== route || before.route !== 'plain' || after.route !== 'plain') continue
    ratios.push(slices[i]!.requestsPerSecond / ((before.requestsPerSecond + after.requestsPerSecond) / 2))
  }
  return ratios
}

/** What one timed slice of load on a route did. */
export interface TimedSlice {
  /** Responses after the first, over {@link TimedSlice.loadedSeconds}. */
  readonly requestsPerSecond: number
  /** Seconds from the first response to the last. */
  readonly loadedSeconds: number
  /** Every response, and the server's CPU time (µs) over the whole slice. */
  readonly responses: number
  readonly serverMicros: number
  readonly failures: number
}

/** The server's CPU time so far (user + system, µs), read from its {@link W4_CPU_ROUTE}. */
async function serverCpuMicros(port: number): Promise<number> {
  const body = await new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: W4_CPU_ROUTE }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve(text))
      res.on('error', reject)
    }).on('error', reject)
  })
  const { user, system } = JSON.parse(body) as NodeJS.CpuUsage
  return user + system
}

/**
 * Loads `route` of the server at `port` for about `seconds` with autocannon (10 connections), and
 * times the load from its first response to its last. autocannon's own figure (requests over its
 * run, to 10 ms) also counts opening the connections and waiting for the first responses, and on
 * a slice of a quarter second that rounding alone is up to 2%; between the first response and the
 * last all connections are busy, and `performance.now()` times it to the microsecond.
 */
export async function loadTimedSlice(port: number, route: W4Route, seconds: number): Promise<TimedSlice> {
  const cpuBefore = await serverCpuMicros(port)
  let first = NaN
  let last = NaN
  let responses = 0
  const instance = autocannon()({
    url: `http://127.0.0.1:${port}${W4_ROUTES[route]}`,
    connections: 10,
    duration: seconds,
    pipelining: 1,
    sampleInt: 50,
  })
  instance.on('response', () => {
    last = performance.now()
    if (responses++ === 0) first = last
  })
  const result = await instance
  const cpuAfter = await serverCpuMicros(port)
  const loadedSeconds = (last - first) / 1000
  return {
    requestsPerSecond: (responses - 1) / loadedSeconds,
    loadedSeconds,
    responses,
    serverMicros: cpuAfter - cpuBefore,
    failures: result.non2xx + result.errors + result.timeouts,
  }
}

const ROUTES = Object.keys(W4_ROUTES) as W4Route[]

/**
 * Loads the routes of the server at `port`: a warm-up of each, then the slices of
 * {@link w4SliceOrder}, each `/enqueue` and `/p-queue` slice between two `/plain` slices. The shared
 * machine's load drifts by several percent within seconds; short slices side by side see nearly the
 * same load, and the mean of the `/plain` slices on both sides cancels a steady drift, so the ratio
 * of each slice to its neighbours is steadier than the ratio of the routes' totals.
 */
export async function loadInterleaved(port: number, run: number, params: SliceParams): Promise<HttpRun> {
  for (const route of ROUTES) await loadTimedSlice(port, route, params.warmupSeconds)
  const slices: { route: W4Route; slice: TimedSlice; requestsPerSecond: number }[] = []
  for (const route of w4SliceOrder(params.rounds, run)) {
    const slice = await loadTimedSlice(port, route, params.sliceSeconds)
    slices.push({ route, slice, requestsPerSecond: slice.requestsPerSecond })
  }
  const figures = (route: W4Route): RouteFigures => {
    const mine = slices.filter((entry) => entry.route === route).map((entry) => entry.slice)
    const sum = (key: keyof TimedSlice): number => mine.reduce((total, slice) => total + slice[key], 0)
    return {
      requestsPerSecond: (sum('responses') - mine.length) / sum('loadedSeconds'),
      serverMicrosPerRequest: sum('serverMicros') / sum('responses'),
      failures: sum('failures'),
    }
  }
  const routes = Object.fromEntries(ROUTES.map((route) => [route, figures(route)])) as Record<W4Route, RouteFigures>
  return { routes, enqueueRatios: flankedRatios(slices, 'enqueue'), pQueueRatios: flankedRatios(slices, 'p-queue') }
}
