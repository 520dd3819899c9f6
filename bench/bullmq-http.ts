import { spawn } from 'node:child_process'
import path from 'node:path'
import { BENCH_QUEUE, benchPrefix, benchRedis, deleteKeys } from './bullmq-support'
import { READY_PREFIX, loadSlice } from './http-load'

/** B5 parameters. */
export interface HttpParams {
  /** Seconds of load per route, in slices of `sliceSeconds` (a whole number of them). */
  readonly seconds: number
  readonly sliceSeconds: number
  readonly warmupSeconds: number
}

/** The routes of the B5 server. */
export const B5_ROUTES = { plain: '/plain', enqueue: '/enqueue', raw: '/raw' } as const

/** What the coordinator tells the server. */
export interface HttpServerParams {
  readonly prefix: string
}

/** The raw route's queue, beside the kit's in the same prefix. */
export const RAW_HTTP_QUEUE = `${BENCH_QUEUE}-raw`

/** The compiled server, next to this compiled file. */
const SERVER = path.join(__dirname, `bullmq-http-server${path.extname(__filename)}`)

/** How long the server may take to stop after SIGTERM before it is killed. */
const EXIT_GRACE_MS = 5000

type Route = keyof typeof B5_ROUTES

/** The order of the slices: each route as often early as late (A B C C B A). */
const SLICES: readonly Route[] = ['plain', 'enqueue', 'raw', 'raw', 'enqueue', 'plain']

/**
 * B5, one run: a fresh server process (W4's routes on the kit's BullMQ engine, plus the raw route)
 * loaded with autocannon from this process, W4's way: 10 connections, a warm-up per route, then
 * `seconds` of slices of `sliceSeconds` per route, interleaved so drifts in the machine's load hit
 * all three alike. Requests/s (requests over the slices' measured time) and failures per route.
 */
export async function httpRun({ seconds, sliceSeconds, warmupSeconds }: HttpParams): Promise<Record<string, number>> {
  const prefix = benchPrefix()
  const params: HttpServerParams = { prefix }
  const child = spawn(process.execPath, [SERVER, JSON.stringify(params)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const redis = benchRedis()
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buffered = ''
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (chunk: string) => {
        buffered += chunk
        const match = new RegExp(`^${READY_PREFIX}(\\d+)$`, 'm').exec(buffered)
        if (match) resolve(Number(match[1]))
      })
      child.once('exit', (code) => reject(new Error(`The B5 server exited (${code}) before listening.`)))
    })
    const url = (route: Route): string => `http://127.0.0.1:${port}${B5_ROUTES[route]}`
    for (const route of ['plain', 'enqueue', 'raw'] as const) await loadSlice(url(route), warmupSeconds)
    const totals = { plain: [0, 0, 0], enqueue: [0, 0, 0], raw: [0, 0, 0] }
    const slices = 3 * Math.round(seconds / sliceSeconds)
    for (let slice = 0; slice < slices; slice++) {
      const route = SLICES[slice % SLICES.length]!
      const { requests, seconds: took, failures } = await loadSlice(url(route), sliceSeconds)
      totals[route][0]! += requests
      totals[route][1]! += took
      totals[route][2]! += failures
    }
    const perSecond = (route: Route): number => totals[route][0]! / totals[route][1]!
    return {
      plainPerSecond: perSecond('plain'),
      enqueuePerSecond: perSecond('enqueue'),
      rawPerSecond: perSecond('raw'),
      plainFailures: totals.plain[2]!,
      enqueueFailures: totals.enqueue[2]!,
      rawFailures: totals.raw[2]!,
    }
  } finally {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS)
    await exited
    clearTimeout(timer)
    await deleteKeys(redis, prefix)
    redis.disconnect()
  }
}
