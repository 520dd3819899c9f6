/**
 * What the HTTP workloads (W4, B5) share, without the servers: the line a server prints once it
 * listens, and autocannon, which loads a server from the runner's process. The servers, which load
 * express, live in their own modules (w4-http.ts, bullmq-http-server.ts).
 */

/** The prefix of the line an HTTP workload's server prints once it listens, followed by its port. */
export const READY_PREFIX = 'BENCH_READY '

/** The part of autocannon's result the benchmark reads. */
export interface AutocannonResult {
  /** Requests per sample tick (`average`), and in all (`total`). */
  readonly requests: { readonly average: number; readonly total: number }
  /** Seconds the load ran, to 10 ms. */
  readonly duration: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}

/** A running load: its result once it ends, and an event per response meanwhile. */
export type AutocannonRun = Promise<AutocannonResult> & { on(event: 'response', listener: () => void): unknown }

type Autocannon = (options: {
  url: string
  connections: number
  duration: number
  pipelining: number
  sampleInt?: number
}) => AutocannonRun

// autocannon ships no type declarations; these are the calls the benchmark makes.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS module, typed by the cast
export const autocannon = (): Autocannon => require('autocannon') as Autocannon

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
