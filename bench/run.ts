/**
 * `npm run bench [-- --quick] [-- --only=w1,w1h,w3,b1] [-- --profile]`: runs each workload of issues 3
 * and 15 (and the BullMQ workloads b1-b5 of issue 12, see bullmq-rows.ts) in fresh child processes,
 * alternating baseline, peers (p-queue, toad-scheduler) and kit, and prints the medians, the ratios
 * to the baseline and to p-queue, PASS/FAIL against the targets and each row's spread, as a table
 * and one JSON line per result. A full run (no flags) also writes the table to bench/RESULTS.md.
 *
 * It runs as JavaScript compiled by `tsc -p tsconfig.bench.json` (into bench/.build, source maps
 * beside it), the same way users run the package's compiled `dist/`: tsx would add its own helper
 * calls around closures, which are not in what users run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { bullmqDescription, bullmqRows } from './bullmq-rows'
import { benchRedis, redisFacts, redisMissing, REDIS_URL } from './bullmq-support'
import { BENCH_CONCURRENCY, RESULT_PREFIX, median } from './support'
import { ZERO_TARGET, format, interquartile, latenessRows, range, renderTable, type Row } from './table'
import { HAND_OVER_CONCURRENCY } from './w1-hand-over'
import { READY_PREFIX } from './http-load'
import { loadInterleaved, type HttpRun, type RouteFigures, type SliceParams, type W4Route } from './w4-http'

export type { Row } from './table'

/** The nearest folder above `from` that holds a package.json: the repository, wherever the build went. */
function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`No package.json above ${from}.`)
  }
}

if (path.extname(__filename) !== '.js') {
  throw new Error(
    'Run the benchmark with `npm run bench`: it compiles src and bench with tsc and runs the compiled JavaScript.',
  )
}
const ROOT = repositoryRoot(__dirname)
/** The compiled child, next to this compiled file. */
const CHILD = path.join(__dirname, 'child.js')
/** The repository's bench folder (the sources, RESULTS.md and results/), not the build's. */
const BENCH_DIR = path.join(ROOT, 'bench')
const PROFILE_DIR = path.join(BENCH_DIR, 'results', 'profiles')
/** A child that has reported and not exited after this long did not exit by itself. */
const EXIT_GRACE_MS = 5000
/** A child still running after this long is killed and its run counted as failed. */
const CHILD_TIMEOUT_MS = 240_000

interface Config {
  readonly runs: number
  /** W1 (issue 3's shape). */
  readonly immediateJobs: number
  /** W1h (issue 15's shape): jobs per round, and jobs before the steady round. */
  readonly handOverJobs: number
  readonly warmupJobs: number
  readonly delayedJobs: number
  readonly maxDelayMs: number
  readonly pendingJobs: number
  readonly http: SliceParams
}

const FULL: Config = {
  runs: 5,
  immediateJobs: 100_000,
  handOverJobs: 100_000,
  warmupJobs: 200_000,
  delayedJobs: 50_000,
  maxDelayMs: 2000,
  pendingJobs: 1_000_000,
  http: { rounds: 12, sliceSeconds: 0.25, warmupSeconds: 0.5 },
}
const QUICK: Config = {
  runs: 3,
  immediateJobs: 20_000,
  handOverJobs: 20_000,
  warmupJobs: 40_000,
  delayedJobs: 10_000,
  maxDelayMs: 500,
  pendingJobs: 100_000,
  http: { rounds: 4, sliceSeconds: 0.25, warmupSeconds: 0.3 },
}

const argv = process.argv.slice(2)
const isQuick = argv.includes('--quick')
const isProfiling = argv.includes('--profile')
const only = argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
const config = isQuick ? QUICK : FULL

type Figures = Record<string, number>

/** What one child run left: its figures, how it ended, and how long after reporting it exited. */
export interface ChildRun {
  readonly figures: Figures
  readonly exitCode: number | null
  readonly exitLagMs: number
}

function childArgs(workload: string, variant: string, params: object): string[] {
  const profile = isProfiling
    ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${workload}-${variant}-${Date.now()}.cpuprofile`]
    : []
  return ['--expose-gc', ...profile, CHILD, workload, variant, JSON.stringify(params)]
}

function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
}

/** Calls `onLine` for each line `child` writes to stdout. */
function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  let buffered = ''
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, newline))
      buffered = buffered.slice(newline + 1)
    }
  })
}

/** Runs one workload variant in a fresh child and waits for it to exit (by itself). */
function runChild(workload: string, variant: string, params: object): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(childArgs(workload, variant, params))
    let figures: Figures | undefined
    let reportedAt = 0
    const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS)
    onLines(child, (line) => {
      if (line.startsWith(RESULT_PREFIX)) {
        figures = JSON.parse(line.slice(RESULT_PREFIX.length)) as Figures
        reportedAt = performance.now()
      } else if (line.trim() !== '') {
        process.stderr.write(`  [${workload} ${variant}] ${line}\n`)
      }
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(killer)
      if (figures === undefined) {
        reject(new Error(`${workload} ${variant} exited (${signal ?? code}) without reporting figures.`))
        return
      }
      resolve({ figures, exitCode: code, exitLagMs: performance.now() - reportedAt })
    })
  })
}

/** Runs the W4 server in a fresh child and loads both routes from this process. */
async function runHttp(run: number): Promise<HttpRun> {
  const child = spawnChild(childArgs('w4', 'server', {}))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    const port = await new Promise<number>((resolve, reject) => {
      onLines(child, (line) => {
        if (line.startsWith(READY_PREFIX)) resolve(Number(line.slice(READY_PREFIX.length)))
      })
      child.once('exit', (code) => reject(new Error(`The W4 server exited (${code}) before listening.`)))
    })
    return await loadInterleaved(port, run, config.http)
  } finally {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS)
    await exited
    clearTimeout(timer)
  }
}

/** The machine the run is on, as RESULTS.md states it: CPU, cores, memory, OS, Node, Redis. */
async function machineFacts(): Promise<string> {
  const cpus = os.cpus()
  let redis: string
  if ((await redisMissing()) !== undefined) redis = `no Redis at ${REDIS_URL}`
  else {
    const client = benchRedis()
    try {
      redis = `Redis ${(await redisFacts(client)).version}`
    } finally {
      client.disconnect()
    }
  }
  return `Node ${process.version}, ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, ${redis}`
}

const loadAverage = (): string => `${os.loadavg()[0]!.toFixed(2)}`

async function main(): Promise<void> {
  const started = performance.now()
  const loadAtStart = loadAverage()
  if (isProfiling) mkdirSync(PROFILE_DIR, { recursive: true })
  const wants = (workload: string): boolean => only === undefined || only.includes(workload)
  const rows: Row[] = []
  const log = (message: string): void => void process.stderr.write(`${message}\n`)
  const timings: string[] = []
  /** Seconds spent in each workload's children (spawn to exit), for the BullMQ workloads' timings. */
  const childSeconds = new Map<string, number>()
  log(
    `express-background-jobs benchmark (${isQuick ? 'QUICK: fewer jobs, shorter HTTP runs; figures are indicative only' : 'full'}), ${config.runs} runs per variant, kit concurrency ${BENCH_CONCURRENCY} (W1h: ${HAND_OVER_CONCURRENCY})`,
  )

  /** Runs `variants` alternately `config.runs` times; returns each variant's figures per run. */
  const alternate = async (
    workload: string,
    variants: readonly string[],
    params: object,
  ): Promise<Record<string, ChildRun[]>> => {
    const runs: Record<string, ChildRun[]> = Object.fromEntries(variants.map((variant) => [variant, []]))
    for (let run = 0; run < config.runs; run++) {
      const order = run % 2 === 0 ? variants : [...variants].reverse()
      for (const variant of order) {
        const start = performance.now()
        const result = await runChild(workload, variant, params)
        const seconds = (performance.now() - start) / 1000
        childSeconds.set(workload, (childSeconds.get(workload) ?? 0) + seconds)
        log(`  ${workload} ${variant} run ${run + 1} (${seconds.toFixed(1)} s): ${JSON.stringify(result.figures)}`)
        runs[variant]!.push(result)
      }
    }
    return runs
  }
  const pick = (runs: readonly ChildRun[] | undefined, key: string): number[] =>
    (runs ?? []).map((run) => run.figures[key] ?? NaN)
  /** Runs `body` and notes how long it took, for the per-workload timings printed at the end. */
  const timed = async (workload: string, body: () => Promise<void>): Promise<void> => {
    if (!wants(workload)) return
    const start = performance.now()
    await body()
    timings.push(`${workload} ${((performance.now() - start) / 1000).toFixed(0)} s`)
  }
  /** A row of `workload` whose figure `key` every variant in `runs` reports. */
  const figureRow = (
    runs: Record<string, ChildRun[]>,
    workload: string,
    baseline: readonly [label: string, variant: string],
    kitVariant: string,
    metric: string,
    key: string,
    unit: string,
    summary: Row['summary'],
    extra: Partial<Row> = {},
  ): Row => ({
    workload,
    metric,
    unit,
    baseline: baseline[0],
    baselineRuns: pick(runs[baseline[1]], key),
    kitRuns: pick(runs[kitVariant], key),
    summary,
    ...extra,
  })
  const zero = ZERO_TARGET
  const cleanExit = (runs: readonly ChildRun[] | undefined): number[] =>
    (runs ?? []).map((run) => (run.exitCode === 0 && run.exitLagMs <= EXIT_GRACE_MS ? 0 : 1))

  await timed('w1', async () => {
    const jobs = config.immediateJobs
    const runs = await alternate('w1', ['microtask', 'p-queue', 'kit'], { jobs })
    const name = `W1 immediate, issue 3's shape (${format(jobs)} jobs, async body, concurrency ${BENCH_CONCURRENCY})`
    const baseline = ['microtask, async no-op', 'microtask'] as const
    const peers = (key: string): Row['peers'] => ({
      'p-queue': pick(runs['p-queue'], key),
      'toad-scheduler': 'no one-shot jobs',
    })
    rows.push(
      figureRow(runs, name, baseline, 'kit', 'jobs/s', 'jobsPerSecond', 'jobs/s', 'median', {
        peers: peers('jobsPerSecond'),
        target: '>= 0.5x',
        pass: (k, b) => k >= 0.5 * b,
      }),
      figureRow(runs, name, baseline, 'kit', 'peak RSS', 'peakRssMb', 'MB', 'median', { peers: peers('peakRssMb') }),
      figureRow(runs, name, baseline, 'kit', 'jobs failed (worst run)', 'failed', 'jobs', 'max', zero),
    )
  })

  await timed('w1h', async () => {
    const params = { jobs: config.handOverJobs, warmupJobs: config.warmupJobs }
    const runs = await alternate('w1h', ['setTimeout', 'microtask', 'p-queue', 'kit'], params)
    const name = `W1h immediate, issue 15's shape (${format(params.jobs)} jobs handed over one by one, sync body, concurrency ${HAND_OVER_CONCURRENCY})`
    const peers = (key: string): Row['peers'] => ({
      'p-queue': pick(runs['p-queue'], key),
      'toad-scheduler': 'no one-shot jobs',
    })
    const againstPQueue = {
      reference: 'p-queue',
      target: '>= 1.25x',
      pass: (k: number, p: number) => k >= 1.25 * p,
    } as const
    const steady = `jobs/s, steady (after ${format(params.warmupJobs)} jobs of warm-up)`
    const setTimeoutBaseline = ['setTimeout(body, 0)', 'setTimeout'] as const
    const microtaskBaseline = ['microtask, direct call', 'microtask'] as const
    rows.push(
      figureRow(runs, name, setTimeoutBaseline, 'kit', 'jobs/s, one-shot', 'oneShotJobsPerSecond', 'jobs/s', 'median', {
        peers: peers('oneShotJobsPerSecond'),
        ...againstPQueue,
      }),
      figureRow(runs, name, setTimeoutBaseline, 'kit', steady, 'steadyJobsPerSecond', 'jobs/s', 'median', {
        peers: peers('steadyJobsPerSecond'),
      }),
      figureRow(runs, name, microtaskBaseline, 'kit', 'jobs/s, one-shot', 'oneShotJobsPerSecond', 'jobs/s', 'median', {
        peers: peers('oneShotJobsPerSecond'),
      }),
      figureRow(runs, name, microtaskBaseline, 'kit', steady, 'steadyJobsPerSecond', 'jobs/s', 'median', {
        peers: peers('steadyJobsPerSecond'),
      }),
      figureRow(runs, name, setTimeoutBaseline, 'kit', 'peak RSS, all rounds', 'peakRssMb', 'MB', 'median', {
        peers: peers('peakRssMb'),
      }),
      figureRow(runs, name, setTimeoutBaseline, 'kit', 'jobs failed (worst run)', 'failed', 'jobs', 'max', zero),
      figureRow(runs, name, setTimeoutBaseline, 'kit', 'jobs started twice (worst run)', 'duplicates', 'jobs', 'max', {
        peers: peers('duplicates'),
        ...zero,
      }),
      figureRow(runs, name, setTimeoutBaseline, 'kit', 'jobs never started (worst run)', 'misses', 'jobs', 'max', {
        peers: peers('misses'),
        ...zero,
      }),
    )
  })

  await timed('w2', async () => {
    const params = { jobs: config.delayedJobs, maxDelayMs: config.maxDelayMs, seed: 20240601 }
    const runs = await alternate('w2', ['setTimeout', 'kit'], params)
    const name = `W2 delayed (${format(params.jobs)} jobs, 0-${params.maxDelayMs} ms)`
    const baseline = ['setTimeout', 'setTimeout'] as const
    const row = (metric: string, key: string, unit: string, summary: Row['summary'], extra?: Partial<Row>): Row =>
      figureRow(runs, name, baseline, 'kit', metric, key, unit, summary, extra)
    rows.push(...latenessRows(row))
  })

  await timed('w3', async () => {
    const params = { jobs: config.pendingJobs }
    const variants = ['setTimeout', 'p-queue', 'toad-scheduler', 'kit', 'kit-bulk']
    const runs = await alternate('w3', variants, params)
    const name = `W3 pending (${format(params.jobs)} jobs due in 1 h, handed over one by one)`
    const baseline = ['setTimeout / clearTimeout', 'setTimeout'] as const
    const peers = (key: string): Row['peers'] => ({
      'p-queue': pick(runs['p-queue'], key),
      'toad-scheduler': pick(runs['toad-scheduler'], key),
    })
    const row = (
      metric: string,
      key: string,
      unit: string,
      summary: Row['summary'],
      extra?: Partial<Row>,
      kitVariant = 'kit',
    ): Row => figureRow(runs, name, baseline, kitVariant, metric, key, unit, summary, { peers: peers(key), ...extra })
    const times = (factor: number): Pick<Row, 'target' | 'pass'> => ({
      target: `<= ${factor.toFixed(factor % 1 === 0 ? 1 : 2)}x`,
      pass: (k, b) => k <= factor * b,
    })
    rows.push(
      row('schedule, enqueue(job, args, { delay })', 'scheduleUs', 'µs/job', 'median', {
        reference: 'p-queue',
        ...times(1),
      }),
      row('schedule, enqueueMany(job, 1000 jobs)', 'scheduleUs', 'µs/job', 'median', times(0.7), 'kit-bulk'),
      row('cancel, cancel(id)', 'cancelUs', 'µs/job', 'median', times(3)),
      row('cancel, cancelMany(1000 ids)', 'cancelUs', 'µs/job', 'median', times(1.5), 'kit-bulk'),
      row('held per pending job, enqueue', 'bytesPerPending', 'B/job', 'median', times(0.65)),
      row('held per pending job, enqueueMany', 'bytesPerPending', 'B/job', 'median', {}, 'kit-bulk'),
      row('floor: a resolved promise handed over and awaited the same way', 'promiseFloorUs', 'µs/job', 'median'),
      row('retained after cancel-all', 'retainedBytesPerJob', 'B/job', 'median', {
        target: '<= 5 B/job',
        pass: (k) => k <= 5,
      }),
      row('timers armed after cancel-all, cancel(id) (worst run)', 'timersArmed', 'timers', 'max', zero),
      row('timers armed after cancel-all, cancelMany (worst run)', 'timersArmed', 'timers', 'max', zero, 'kit-bulk'),
      row('jobs left pending after cancel-all, cancel(id) (worst run)', 'stillPending', 'jobs', 'max', zero),
      row(
        'jobs left pending after cancel-all, cancelMany (worst run)',
        'stillPending',
        'jobs',
        'max',
        zero,
        'kit-bulk',
      ),
      row('ids cancelMany skipped (worst run)', 'skipped', 'ids', 'max', zero, 'kit-bulk'),
      {
        workload: name,
        metric: 'runs not exiting by themselves (kit: enqueue and enqueueMany runs)',
        unit: 'runs',
        baseline: baseline[0],
        baselineRuns: cleanExit(runs.setTimeout),
        kitRuns: cleanExit([...(runs.kit ?? []), ...(runs['kit-bulk'] ?? [])]),
        peers: { 'p-queue': cleanExit(runs['p-queue']), 'toad-scheduler': cleanExit(runs['toad-scheduler']) },
        summary: 'max',
        ...zero,
      },
    )
  })

  await timed('w4', async () => {
    const results: HttpRun[] = []
    for (let run = 0; run < config.runs; run++) {
      const result = await runHttp(run)
      const ratios = (values: readonly number[]): string => values.map((r) => r.toFixed(2)).join(' ')
      log(
        `  w4 run ${run + 1}: ${JSON.stringify(result.routes)} enqueue/plain ${ratios(result.enqueueRatios)} p-queue/plain ${ratios(result.pQueueRatios)}`,
      )
      results.push(result)
    }
    const { rounds, sliceSeconds } = config.http
    const name = `W4 HTTP (autocannon, 10 connections, ${rounds} rounds per run of ${sliceSeconds} s slices, each between two of /plain)`
    const runMedians = (key: 'enqueueRatios' | 'pQueueRatios'): number[] => results.map((result) => median(result[key]))
    const all = (key: 'enqueueRatios' | 'pQueueRatios'): number[] => results.flatMap((result) => result[key])
    const slices = (key: 'enqueueRatios' | 'pQueueRatios'): string =>
      `IQR ${interquartile(all(key), 'x')}, min–max ${range(all(key), 'x')} over ${all(key).length} slices; run medians ${range(runMedians(key), 'x')}`
    const route = (name: W4Route, key: keyof RouteFigures): number[] =>
      results.map((result) => result.routes[name][key])
    rows.push(
      {
        workload: name,
        metric: 'requests/s over the /plain slices before and after (median slice per run)',
        unit: 'x',
        baseline: 'no enqueue',
        baselineRuns: results.map(() => 1),
        kitRuns: runMedians('enqueueRatios'),
        peers: { 'p-queue': runMedians('pQueueRatios') },
        summary: 'median',
        target: '>= 0.95x',
        pass: (k, b) => k >= 0.95 * b,
        spread: `kit ${slices('enqueueRatios')}; p-queue ${slices('pQueueRatios')}`,
      },
      {
        workload: name,
        metric: 'requests/s',
        unit: 'req/s',
        baseline: 'no enqueue',
        baselineRuns: route('plain', 'requestsPerSecond'),
        kitRuns: route('enqueue', 'requestsPerSecond'),
        peers: { 'p-queue': route('p-queue', 'requestsPerSecond') },
        summary: 'median',
      },
      {
        workload: name,
        metric: 'server CPU time per request',
        unit: 'us',
        baseline: 'no enqueue',
        baselineRuns: route('plain', 'serverMicrosPerRequest'),
        kitRuns: route('enqueue', 'serverMicrosPerRequest'),
        peers: { 'p-queue': route('p-queue', 'serverMicrosPerRequest') },
        summary: 'median',
      },
      {
        workload: name,
        metric: 'failed requests (worst run)',
        unit: 'requests',
        baseline: 'no enqueue',
        baselineRuns: route('plain', 'failures'),
        kitRuns: route('enqueue', 'failures'),
        peers: { 'p-queue': route('p-queue', 'failures') },
        summary: 'max',
        ...zero,
      },
    )
  })

  const bullmqStart = performance.now()
  rows.push(...(await bullmqRows({ isQuick, runs: config.runs, wants, log, alternate })))
  if (rows.some((row) => row.workload.startsWith('B'))) {
    const each = [...childSeconds].filter(([workload]) => workload.startsWith('b'))
    const parts = each.map(([workload, seconds]) => `${workload} ${seconds.toFixed(0)} s`).join(', ')
    timings.push(`b1-b5 ${((performance.now() - bullmqStart) / 1000).toFixed(0)} s: ${parts}`)
  }

  const { markdown, json } = renderTable(rows, isQuick)
  for (const line of json) process.stdout.write(`${line}\n`)
  const elapsed = (performance.now() - started) / 1000
  const machine = await machineFacts()
  const load = `load average (1 min) ${loadAtStart} at the start, ${loadAverage()} at the end`
  const command = `npm run bench${isQuick ? ' -- --quick' : ''}`
  process.stdout.write(
    `\n${markdown}\n\n${isQuick ? 'QUICK run (fewer jobs, shorter HTTP runs): indicative only. ' : ''}${config.runs} runs per variant, medians; ${machine}; ${load}. ${elapsed.toFixed(0)} s (${timings.join(', ')}).\n`,
  )
  if (!isQuick && !isProfiling && only === undefined) {
    writeFileSync(path.join(BENCH_DIR, 'RESULTS.md'), resultsMarkdown(markdown, machine, load, command, elapsed))
  }
}

function resultsMarkdown(markdown: string, machine: string, load: string, command: string, elapsed: number): string {
  const n = format
  return `# Benchmark results

The latest full run of \`${command}\` (${elapsed.toFixed(0)} s), on ${machine}; ${load}.

Each workload runs in a fresh child process (\`node --expose-gc bench/.build/bench/child.js\`):
the bench and \`src\` compiled by \`tsc -p tsconfig.bench.json\`, as users run the compiled \`dist/\`,
not TypeScript through tsx. Baseline, peers and kit alternate, ${config.runs} runs each; figures are medians over
the runs (counts that must be zero show the worst run), and each row's spread is the min–max over
its runs and of the run-by-run ratio to the row's reference (run r of each variant ran back to back). The kit runs through its public API with the
default logger. The peers are p-queue 9.3.5 and toad-scheduler 4.1.0, through their public APIs; where
a peer has no such job, its column says so, or the row says what its users write instead.

- **W1 immediate, issue 3's shape**: ${n(config.immediateJobs)} no-op jobs \`{ i }\`, concurrency ${BENCH_CONCURRENCY}; the baseline queues one
  microtask per job that calls an async no-op and counts its settling; the kit enqueues them (batches of 1000 awaited
  together) and awaits \`onIdle()\`; p-queue \`add()\`s them the same way and awaits \`onIdle()\`.
- **W1h immediate, issue 15's shape**: ${n(config.handOverJobs)} jobs handed over one by one in a synchronous loop that yields
  with \`setImmediate\` after every 1000, the returned promises awaited in batches of 1000 after the loop; the body is
  synchronous and notes its start; the clock runs from the first hand-over to the last job's start. Baselines:
  \`setTimeout(body, 0, { i })\` and \`queueMicrotask\` calling the body directly; p-queue \`add(() => body({ i }))\` and the
  kit \`enqueue(Job, { i })\` at concurrency ${HAND_OVER_CONCURRENCY}. Each child measures a one-shot round first, then, in the same
  process after ${n(config.warmupJobs)} jobs in all (the one-shot round included), the steady-state round. toad-scheduler has no
  one-shot jobs.
- **W2 delayed**: ${n(config.delayedJobs)} jobs, delays uniform in [0, ${config.maxDelayMs}] ms (whole ms, seeded PRNG); the
  baseline is \`setTimeout(run, delay, { i })\`. Both variants schedule in batches of 1000 and yield to
  the event loop (\`setImmediate\`) between batches, the kit after awaiting its batch's enqueues, as a
  producer serving requests does: scheduled in one synchronous loop, no timer could fire before the
  loop ended, and the p99 lateness measured that loop's duration rather than the scheduler. The due
  time is \`Date.now() + delay\` taken just before scheduling; the job records \`Date.now()\` first
  thing, so lateness is in whole ms. Node's own \`setTimeout\` fires up to 1 ms before a \`Date.now()\`
  due time (it counts on its monotonic clock), which is the baseline's "early starts". Neither peer has
  delayed one-shot jobs (their W3 stand-ins are a \`setTimeout\` and a \`setInterval\`, the baseline's lateness).
- **W3 pending**: ${n(config.pendingJobs)} jobs due in one hour, handed over in W1h's loop, the handles (timers or job ids)
  kept in an array; bytes are heap used + external after forced GC, per job, including that array. p-queue has no
  delayed jobs: its row is what its users write, a \`setTimeout\` that then calls \`add()\`, cancelled with
  \`clearTimeout\`. toad-scheduler has no one-shot jobs: its row is a \`SimpleIntervalJob\` of one hour whose task stops its job
  first, the jobs kept and cancelled with \`job.stop()\` (cheaper than ids and \`removeById(id)\`); its engine keeps
  every job it was given, stopped or not, hence its bytes retained after cancel-all. The kit's bulk rows hand over 1000 jobs per
  \`enqueueMany(Job, [{ args: { i }, delay }, …])\` call in the same loop (one promise per call, awaited after the loop)
  and cancel 1000 ids per \`cancelMany(ids)\` call. The "floor" row times resolved promises handed
  over and awaited the same way: no promise-returning call can cost less. The kit's store is created with
  \`unref: false\`, so a timer left armed would keep the child alive; the child never calls \`process.exit\`.
- **W4 HTTP**: Express 5 with \`backgroundJobsMiddleware\`, \`GET /enqueue\` awaits
  \`req.backgroundJobs.enqueue(NoopJob, { i })\`, \`GET /p-queue\` calls \`queue.add(() => noop({ i }))\` without awaiting it
  (its promise settles when the job has run), and \`GET /plain\` is the same async handler with neither;
  autocannon in the parent process, 10 connections, on 127.0.0.1, after a ${config.http.warmupSeconds} s warm-up per route;
  then, per server process, ${config.http.rounds} rounds of a ${config.http.sliceSeconds} s slice of \`/enqueue\` and one of \`/p-queue\`,
  each between two slices of \`/plain\` (plain, enqueue, plain, p-queue, plain, ...; which of the two comes first
  alternates). A slice's requests/s is its responses after the first over the time from its first response to its
  last (autocannon's own duration, to 10 ms, would add the connecting and the wait for the first responses). The
  target is on each slice's requests/s over the mean of the two \`/plain\` slices beside it, which cancels a load
  on the shared machine that rises or falls steadily over the three: the median slice of each run, the median over
  runs; the spread shows every slice. The server's CPU time per request (user + system, all its threads, over its
  slices) counts only the time the server ran, so the machine's load sways it less than requests/s.
${bullmqDescription(isQuick)}

${markdown}
`
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
