/**
 * `npm run bench [-- --quick] [-- --only=w1,w3,b1] [-- --profile]`: runs each workload of issue 3 (and
 * the BullMQ workloads b1-b5 of issue 12, see bullmq-rows.ts) in
 * fresh child processes, alternating baseline and kit, and prints the medians, the ratios to the
 * baselines and PASS/FAIL against the targets, as a table and one JSON line per result. A full run
 * (no flags) also writes the table to bench/RESULTS.md.
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
import { BENCH_CONCURRENCY, RESULT_PREFIX, median } from './support'
import { READY_PREFIX, W4_ROUTES, loadUrl } from './w4-http'

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
  readonly immediateJobs: number
  readonly delayedJobs: number
  readonly maxDelayMs: number
  readonly pendingJobs: number
  readonly httpSeconds: number
  readonly httpWarmupSeconds: number
}

const FULL: Config = {
  runs: 5,
  immediateJobs: 100_000,
  delayedJobs: 50_000,
  maxDelayMs: 2000,
  pendingJobs: 1_000_000,
  httpSeconds: 5,
  httpWarmupSeconds: 1,
}
const QUICK: Config = {
  runs: 3,
  immediateJobs: 20_000,
  delayedJobs: 10_000,
  maxDelayMs: 2000,
  pendingJobs: 200_000,
  httpSeconds: 2,
  httpWarmupSeconds: 1,
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
async function runHttp(run: number): Promise<{ plain: Figures; enqueue: Figures }> {
  const child = spawnChild(childArgs('w4', 'server', {}))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    const port = await new Promise<number>((resolve, reject) => {
      onLines(child, (line) => {
        if (line.startsWith(READY_PREFIX)) resolve(Number(line.slice(READY_PREFIX.length)))
      })
      child.once('exit', (code) => reject(new Error(`The W4 server exited (${code}) before listening.`)))
    })
    const url = (route: string): string => `http://127.0.0.1:${port}${route}`
    const first = run % 2 === 0 ? 'plain' : 'enqueue'
    const second = first === 'plain' ? 'enqueue' : 'plain'
    for (const route of [first, second] as const) await loadUrl(url(W4_ROUTES[route]), config.httpWarmupSeconds)
    // One-second slices in A B B A order: the shared machine's load drifts by several percent within
    // seconds, and interleaving lets both routes see the same drift instead of one getting a quiet
    // five seconds and the other a busy five.
    const totals = { plain: { requests: 0, failures: 0 }, enqueue: { requests: 0, failures: 0 } }
    for (let slice = 0; slice < 2 * config.httpSeconds; slice++) {
      const route = slice % 4 === 0 || slice % 4 === 3 ? first : second
      const { requestsPerSecond, failures } = await loadUrl(url(W4_ROUTES[route]), 1)
      totals[route].requests += requestsPerSecond
      totals[route].failures += failures
    }
    const figures = (route: 'plain' | 'enqueue'): Figures => ({
      requestsPerSecond: totals[route].requests / config.httpSeconds,
      failures: totals[route].failures,
    })
    return { plain: figures('plain'), enqueue: figures('enqueue') }
  } finally {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS)
    await exited
    clearTimeout(timer)
  }
}

/** One row of the table: a figure of the kit against the same figure of its baseline. */
export interface Row {
  readonly workload: string
  readonly metric: string
  readonly unit: string
  readonly baseline: string
  readonly baselineRuns: number[]
  readonly kitRuns: number[]
  /** How the runs are summarised: the median, or the worst run (counts that must be zero). */
  readonly summary: 'median' | 'max'
  readonly target?: string
  readonly pass?: (kit: number, baseline: number) => boolean
}

function summarise(values: number[], summary: Row['summary']): number {
  return summary === 'median' ? median(values) : Math.max(...values)
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value === 0 ? '0' : value.toFixed(3)
}

function formatRatio(kit: number, baseline: number): string {
  if (baseline === 0) return kit === 0 ? '-' : 'inf'
  return `${(kit / baseline).toFixed(2)}x`
}

async function main(): Promise<void> {
  const started = performance.now()
  if (isProfiling) mkdirSync(PROFILE_DIR, { recursive: true })
  const wants = (workload: string): boolean => only === undefined || only.includes(workload)
  const rows: Row[] = []
  const log = (message: string): void => void process.stderr.write(`${message}\n`)
  log(
    `express-background-jobs benchmark (${isQuick ? 'QUICK: fewer jobs, shorter HTTP runs; figures are indicative only' : 'full'}), ${config.runs} runs per variant, kit concurrency ${BENCH_CONCURRENCY}`,
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
        const result = await runChild(workload, variant, params)
        log(`  ${workload} ${variant} run ${run + 1}: ${JSON.stringify(result.figures)}`)
        runs[variant]!.push(result)
      }
    }
    return runs
  }
  const pick = (runs: ChildRun[], key: string): number[] => runs.map((run) => run.figures[key] ?? NaN)

  if (wants('w1')) {
    const jobs = config.immediateJobs
    const { microtask = [], kit = [] } = await alternate('w1', ['microtask', 'kit'], { jobs })
    const name = `W1 immediate (${format(jobs)} jobs)`
    rows.push(
      {
        workload: name,
        metric: 'jobs/s',
        unit: 'jobs/s',
        baseline: 'microtask',
        baselineRuns: pick(microtask, 'jobsPerSecond'),
        kitRuns: pick(kit, 'jobsPerSecond'),
        summary: 'median',
        target: '>= 0.25x',
        pass: (k, b) => k >= 0.25 * b,
      },
      {
        workload: name,
        metric: 'peak RSS',
        unit: 'MB',
        baseline: 'microtask',
        baselineRuns: pick(microtask, 'peakRssMb'),
        kitRuns: pick(kit, 'peakRssMb'),
        summary: 'median',
      },
      {
        workload: name,
        metric: 'jobs failed',
        unit: 'jobs',
        baseline: 'microtask',
        baselineRuns: microtask.map(() => 0),
        kitRuns: pick(kit, 'failed'),
        summary: 'max',
        target: '= 0',
        pass: (k) => k === 0,
      },
    )
  }

  if (wants('w2')) {
    const params = { jobs: config.delayedJobs, maxDelayMs: config.maxDelayMs, seed: 20240601 }
    const { setTimeout: baseline = [], kit = [] } = await alternate('w2', ['setTimeout', 'kit'], params)
    const name = `W2 delayed (${format(params.jobs)} jobs, 0-${params.maxDelayMs} ms)`
    const row = (
      metric: string,
      key: string,
      unit: string,
      summary: Row['summary'],
      target?: string,
      pass?: Row['pass'],
    ): Row => ({
      workload: name,
      metric,
      unit,
      baseline: 'setTimeout',
      baselineRuns: pick(baseline, key),
      kitRuns: pick(kit, key),
      summary,
      ...(target !== undefined && { target }),
      ...(pass !== undefined && { pass }),
    })
    rows.push(
      row('lateness p50', 'latenessP50Ms', 'ms', 'median'),
      row('lateness p99', 'latenessP99Ms', 'ms', 'median', '<= baseline + 2 ms', (k, b) => k <= b + 2),
      row('lateness max', 'latenessMaxMs', 'ms', 'median'),
      row('duplicates (worst run)', 'duplicates', 'jobs', 'max', '= 0', (k) => k === 0),
      row('misses (worst run)', 'misses', 'jobs', 'max', '= 0', (k) => k === 0),
      row('early starts (worst run)', 'early', 'jobs', 'max', '= 0', (k) => k === 0),
    )
  }

  if (wants('w3')) {
    const params = { jobs: config.pendingJobs }
    const { setTimeout: baseline = [], kit = [] } = await alternate('w3', ['setTimeout', 'kit'], params)
    const name = `W3 pending (${format(params.jobs)} jobs due in 1 h)`
    const row = (
      metric: string,
      key: string,
      unit: string,
      summary: Row['summary'],
      target?: string,
      pass?: Row['pass'],
    ): Row => ({
      workload: name,
      metric,
      unit,
      baseline: 'setTimeout',
      baselineRuns: pick(baseline, key),
      kitRuns: pick(kit, key),
      summary,
      ...(target !== undefined && { target }),
      ...(pass !== undefined && { pass }),
    })
    const cleanExit = (runs: ChildRun[]): number[] =>
      runs.map((run) => (run.exitCode === 0 && run.exitLagMs <= EXIT_GRACE_MS ? 0 : 1))
    rows.push(
      row('schedule', 'scheduleUs', 'µs/job', 'median', '<= 1.0x', (k, b) => k <= b),
      row('held per pending job', 'bytesPerPending', 'B/job', 'median', '<= 0.8x', (k, b) => k <= 0.8 * b),
      row('cancel', 'cancelUs', 'µs/job', 'median', '<= 1.0x', (k, b) => k <= b),
      row('floor: an awaited no-op promise, same batches', 'promiseFloorUs', 'µs/job', 'median'),
      row('retained after cancel-all', 'retainedBytesPerJob', 'B/job', 'median', '<= 5 B/job', (k) => k <= 5),
      row('timers armed after cancel-all (worst run)', 'timersArmed', 'timers', 'max', '= 0', (k) => k === 0),
      {
        workload: name,
        metric: 'runs not exiting by themselves',
        unit: 'runs',
        baseline: 'setTimeout',
        baselineRuns: cleanExit(baseline),
        kitRuns: cleanExit(kit),
        summary: 'max',
        target: '= 0',
        pass: (k) => k === 0,
      },
      {
        workload: name,
        metric: 'exit after last report',
        unit: 'ms',
        baseline: 'setTimeout',
        baselineRuns: baseline.map((run) => run.exitLagMs),
        kitRuns: kit.map((run) => run.exitLagMs),
        summary: 'median',
      },
    )
  }

  if (wants('w4')) {
    const plain: Figures[] = []
    const enqueue: Figures[] = []
    for (let run = 0; run < config.runs; run++) {
      const result = await runHttp(run)
      log(`  w4 run ${run + 1}: plain ${JSON.stringify(result.plain)} enqueue ${JSON.stringify(result.enqueue)}`)
      plain.push(result.plain)
      enqueue.push(result.enqueue)
    }
    const name = `W4 HTTP (autocannon, 10 connections, ${config.httpSeconds} x 1 s per route per run, interleaved)`
    rows.push(
      {
        workload: name,
        metric: 'requests/s',
        unit: 'req/s',
        baseline: 'no enqueue',
        baselineRuns: plain.map((f) => f.requestsPerSecond!),
        kitRuns: enqueue.map((f) => f.requestsPerSecond!),
        summary: 'median',
        target: '>= 0.9x',
        pass: (k, b) => k >= 0.9 * b,
      },
      {
        workload: name,
        metric: 'failed requests (worst run)',
        unit: 'requests',
        baseline: 'no enqueue',
        baselineRuns: plain.map((f) => f.failures!),
        kitRuns: enqueue.map((f) => f.failures!),
        summary: 'max',
        target: '= 0',
        pass: (k) => k === 0,
      },
    )
  }

  rows.push(...(await bullmqRows({ isQuick, runs: config.runs, wants, log, alternate })))

  const header = [
    'workload',
    'figure',
    'unit',
    'baseline',
    'baseline median',
    'kit median',
    'kit / baseline',
    'target',
    'result',
  ]
  const table: string[][] = []
  for (const row of rows) {
    const kit = summarise(row.kitRuns, row.summary)
    const baseline = summarise(row.baselineRuns, row.summary)
    const verdict = row.pass === undefined ? '' : row.pass(kit, baseline) ? 'PASS' : 'FAIL'
    table.push([
      row.workload,
      row.metric,
      row.unit,
      row.baseline,
      format(baseline),
      format(kit),
      formatRatio(kit, baseline),
      row.target ?? '',
      verdict,
    ])
    process.stdout.write(
      `${JSON.stringify({
        workload: row.workload,
        figure: row.metric,
        unit: row.unit,
        baseline: row.baseline,
        summary: row.summary,
        baselineValue: baseline,
        kitValue: kit,
        ratio: baseline === 0 ? null : kit / baseline,
        baselineRuns: row.baselineRuns,
        kitRuns: row.kitRuns,
        target: row.target ?? null,
        result: verdict || null,
        quick: isQuick,
      })}\n`,
    )
  }
  const markdown = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...table.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n')
  const elapsed = (performance.now() - started) / 1000
  const cpus = os.cpus()
  const machine = `Node ${process.version}, ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`
  const command = `npm run bench${isQuick ? ' -- --quick' : ''}`
  process.stdout.write(
    `\n${markdown}\n\n${isQuick ? 'QUICK run (fewer jobs, shorter HTTP runs): indicative only. ' : ''}${config.runs} runs per variant, medians; kit concurrency ${BENCH_CONCURRENCY}. ${machine}. ${elapsed.toFixed(0)} s.\n`,
  )
  if (!isQuick && !isProfiling && only === undefined) {
    writeFileSync(path.join(BENCH_DIR, 'RESULTS.md'), resultsMarkdown(markdown, machine, command, elapsed))
  }
}

function resultsMarkdown(markdown: string, machine: string, command: string, elapsed: number): string {
  return `# Benchmark results

The latest full run of \`${command}\` (${elapsed.toFixed(0)} s), on ${machine}.

Each workload runs in a fresh child process (\`node --expose-gc bench/.build/bench/child.js\`):
the bench and \`src\` compiled by \`tsc -p tsconfig.bench.json\`, as users run the compiled \`dist/\`,
not TypeScript through tsx. Baseline and kit alternate, ${config.runs} runs each; figures are medians over
the runs (counts that must be zero show the worst run). The kit runs through its public API with the
default logger and \`concurrency: ${BENCH_CONCURRENCY}\` (no-op jobs gain nothing from more slots).

- **W1 immediate**: ${format(config.immediateJobs)} no-op jobs \`{ i }\`; the baseline queues one microtask per job that
  calls an async no-op; the kit enqueues them (batches of 1000 awaited together) and awaits \`onIdle()\`.
- **W2 delayed**: ${format(config.delayedJobs)} jobs, delays uniform in [0, ${config.maxDelayMs}] ms (whole ms, seeded PRNG); the
  baseline is \`setTimeout(run, delay, { i })\`. Both variants schedule in batches of 1000 and yield to
  the event loop (\`setImmediate\`) between batches, the kit after awaiting its batch's enqueues, as a
  producer serving requests does: scheduled in one synchronous loop, no timer could fire before the
  loop ended, and the p99 lateness measured that loop's duration rather than the scheduler. The due
  time is \`Date.now() + delay\` taken just before scheduling; the job records \`Date.now()\` first
  thing, so lateness is in whole ms. Node's own \`setTimeout\` fires up to 1 ms before a \`Date.now()\`
  due time (it counts on its monotonic clock), which is the baseline's "early starts".
- **W3 pending**: ${format(config.pendingJobs)} jobs due in one hour, the handles (timers or job ids) kept in an array; bytes are
  heap used + external after forced GC, per job, including that array. The "floor" row times the same batches
  of awaited promises doing no work (in both children): no promise-returning call can cost less. The kit's store is created with
  \`unref: false\`, so a timer left armed would keep the child alive; the child never calls \`process.exit\`.
- **W4 HTTP**: Express 5 with \`backgroundJobsMiddleware\`, \`GET /enqueue\` awaits
  \`req.backgroundJobs.enqueue(NoopJob, { i })\` and \`GET /plain\` is the same async handler without it;
  autocannon in the parent process, 10 connections, on 127.0.0.1, after a ${config.httpWarmupSeconds} s warm-up per route;
  each route gets ${config.httpSeconds} one-second slices per run, the two routes interleaved A B B A, so drifts in the
  shared machine's load hit both alike.
${bullmqDescription(isQuick)}

${markdown}
`
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
