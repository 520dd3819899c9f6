/**
 * The soak run (`npm run soak`, or `npm run soak -- 200000` for another job count): a million
 * jobs, mixed immediate, delayed, retried, failing, timing out, cancelled and unknown, through one
 * engine on the system clock, with a producer that outruns `maxPendingJobs` and backs off.
 *
 * It prints throughput, heap before and after (after forced GC), the accounting identity
 * (completed + failed + cancelled = enqueued, each job settled exactly once and as its kind
 * says), and the timers left. It exits 1 when any of those checks fails.
 *
 * Needs `--expose-gc`; without it, it re-runs itself with the flag.
 */
import { spawnSync } from 'node:child_process'
import { asValue, createContainer } from 'awilix'
import { BackgroundJobBase } from '../../src/background-job-base'
import type { BackgroundJobManager } from '../../src/background-job-manager'
import type { TimerWheel } from '../../src/memory/timer-wheel'
import { REGISTRATIONS } from '../../src/registrations'
import { JobStateError, PendingJobsLimitError } from '../../src/errors'
import type { JobLogger } from '../../src/logger'
import { addBackgroundJobs } from '../../src/register'
import type { JobContext, JobInfo } from '../../src/types'
import { random } from '../support/random'

const gc = (globalThis as { gc?: () => void }).gc

/** What each job does, by index in {@link KINDS}. */
const KINDS = [
  'ok',
  'delayed',
  'flaky',
  'doomed',
  'thrower',
  'hang',
  'cancel-delayed',
  'cancel-due',
  'unknown',
] as const
type Kind = (typeof KINDS)[number]

/** Cumulative shares of each kind. */
const MIX: [Kind, number][] = [
  ['ok', 0.4],
  ['delayed', 0.65],
  ['flaky', 0.75],
  ['doomed', 0.77],
  ['thrower', 0.78],
  ['hang', 0.7801],
  ['cancel-delayed', 0.93],
  ['cancel-due', 0.99],
  ['unknown', 1],
]

/** Final states, as stored per job: 0 none yet. */
const COMPLETED = 1
const FAILED = 2
const CANCELLED = 3
const STATE_NAMES = ['none', 'completed', 'failed', 'cancelled']

const EXPECTED: Record<Kind, number> = {
  ok: COMPLETED,
  delayed: COMPLETED,
  flaky: COMPLETED,
  doomed: FAILED,
  thrower: FAILED,
  hang: FAILED,
  'cancel-delayed': CANCELLED,
  'cancel-due': CANCELLED,
  unknown: FAILED,
}

interface SoakArgs {
  /** The job's index, so events can be tallied per job without keeping ids. */
  i: number
  kind: Kind
}

class SoakJob extends BackgroundJobBase<SoakArgs> {
  static override retry = { maxRetries: 2, initialDelayMs: 5, factor: 2 }
  static override timeoutMs = 1000
  protected override executing(args: SoakArgs, ctx: JobContext): Promise<void> {
    switch (args.kind) {
      case 'flaky':
        return ctx.attempt === 1 ? Promise.reject(new Error('first attempt fails')) : Promise.resolve()
      case 'doomed':
        return Promise.reject(new Error('always fails'))
      case 'thrower':
        // A non-Error, thrown synchronously.
        throw { code: 'E_SOAK', i: args.i }
      case 'hang':
        return new Promise(() => {})
      default:
        return Promise.resolve()
    }
  }
}

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc!()
  return process.memoryUsage().heapUsed
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A logger that only counts, so a million failure lines do not flood the terminal. */
class CountingLogger implements JobLogger {
  readonly counts = { error: 0, warn: 0, info: 0, debug: 0 }
  error(): void {
    this.counts.error++
  }
  warn(): void {
    this.counts.warn++
  }
  info(): void {
    this.counts.info++
  }
  debug(): void {
    this.counts.debug++
  }
}

async function soak(total: number): Promise<boolean> {
  const keep = 1000
  const maxPendingJobs = 4000
  // Bursts larger than the bound, so the producer meets PendingJobsLimitError and must back off.
  const burst = 5000
  const logger = new CountingLogger()
  const container = createContainer()
  container.register('logger', asValue(logger))
  addBackgroundJobs(container, (o) =>
    o
      .useInMemoryStore({
        concurrency: 256,
        timeoutMs: 1000,
        maxPendingJobs,
        keepCompleted: keep,
        keepFailed: keep,
        keepCancelled: keep,
      })
      .addJob(SoakJob),
  )
  const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
  const wheel = container.resolve<TimerWheel>(REGISTRATIONS.memoryTimerWheel)

  // Per-job tallies indexed by `args.i`: typed arrays, so the bookkeeping itself holds no objects.
  const kinds = new Uint8Array(total)
  const finals = new Uint8Array(total)
  const enqueuedSeen = new Uint8Array(total)
  const tally = {
    enqueued: 0,
    started: 0,
    retrying: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    duplicates: 0,
    unexpected: 0,
  }
  const indexOf = (job: JobInfo): number => (job.args as SoakArgs).i
  manager.on('enqueued', (job) => {
    const i = indexOf(job)
    if (enqueuedSeen[i]! > 0) tally.duplicates++
    enqueuedSeen[i] = 1
    tally.enqueued++
  })
  manager.on('started', () => void tally.started++)
  manager.on('retrying', () => void tally.retrying++)
  for (const [event, code] of [
    ['completed', COMPLETED],
    ['failed', FAILED],
    ['cancelled', CANCELLED],
  ] as const) {
    manager.on(event, (job) => {
      const i = indexOf(job)
      if (finals[i]! > 0) tally.duplicates++
      finals[i] = code
      tally[event]++
    })
  }

  const heapBefore = heapAfterGc()
  let heapPeak = heapBefore
  const next = random(20_301)
  let rejections = 0
  let cancelRaces = 0
  const started = performance.now()
  for (let i = 0; i < total; i++) {
    const roll = next()
    const kind = MIX.find(([, upTo]) => roll < upTo)![0]
    kinds[i] = KINDS.indexOf(kind)
    const args: SoakArgs = { i, kind }
    const delay =
      kind === 'delayed'
        ? 1 + Math.floor(next() * 200)
        : kind === 'cancel-delayed'
          ? 500 + Math.floor(next() * 1500)
          : 0
    let id: string | undefined
    while (id === undefined) {
      try {
        id =
          kind === 'unknown'
            ? await manager.enqueue('NoSuchSoakJob', args)
            : await manager.enqueue(SoakJob, args, { delay })
      } catch (error) {
        if (!(error instanceof PendingJobsLimitError)) throw error
        rejections++
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
        // Back off and try the same job again: a rejected enqueue stored nothing.
        await sleep(1)
      }
    }
    if (kind === 'cancel-delayed') await manager.cancel(id)
    if (kind === 'cancel-due') {
      try {
        await manager.cancel(id)
      } catch (error) {
        // Another job settling may have started this one already: then it runs as an ordinary job.
        if (!(error instanceof JobStateError)) throw error
        kinds[i] = KINDS.indexOf('ok')
        cancelRaces++
      }
    }
    if (i % burst === burst - 1) await turn()
  }
  const enqueuedAt = performance.now()
  while (tally.completed + tally.failed + tally.cancelled < tally.enqueued) {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
    await sleep(50)
  }
  const settledAt = performance.now()
  await sleep(50)

  const counts = await manager.counts()
  const heapSettled = heapAfterGc()
  const isArmedAfter = wheel.isArmed
  const wheelSize = wheel.size
  await container.dispose()
  const heapAfterStop = heapAfterGc()
  const timersLeft = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length

  let wrongOutcome = 0
  const byKind = new Map<Kind, number>()
  for (let i = 0; i < total; i++) {
    const kind = KINDS[kinds[i]!]!
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1)
    if (finals[i] !== EXPECTED[kind]) {
      if (wrongOutcome < 5)
        console.error(`  job ${i} (${kind}) ended ${STATE_NAMES[finals[i]!]}, expected ${STATE_NAMES[EXPECTED[kind]]}`)
      wrongOutcome++
    }
  }
  const settled = tally.completed + tally.failed + tally.cancelled
  const seconds = (settledAt - started) / 1000
  const growth = heapSettled - heapBefore
  // The bounded histories hold up to 3 × keep finished jobs: allow well over their size, far under the run's.
  const allowedGrowth = 32 * 1048576

  const checks: [string, boolean][] = [
    [
      `every job was accepted in the end: ${tally.enqueued} enqueued events for ${total} jobs`,
      tally.enqueued === total,
    ],
    [
      `completed + failed + cancelled = enqueued: ${tally.completed} + ${tally.failed} + ${tally.cancelled} = ${settled} (enqueued ${tally.enqueued})`,
      settled === tally.enqueued,
    ],
    [`no job was enqueued or settled twice: ${tally.duplicates} duplicates`, tally.duplicates === 0],
    [`every job ended as its kind says: ${wrongOutcome} did not`, wrongOutcome === 0],
    [`nothing pending or running: ${JSON.stringify(counts)}`, counts.pending === 0 && counts.running === 0],
    [
      `finished histories bounded by keep* = ${keep}`,
      counts.completed <= keep && counts.failed <= keep && counts.cancelled <= keep,
    ],
    [
      `heap back near baseline: ${mb(heapBefore)} before, ${mb(heapSettled)} after (+${mb(growth)}, limit +${mb(allowedGrowth)})`,
      growth < allowedGrowth,
    ],
    [
      `no timer left armed: wheel.isArmed=${isArmedAfter}, wheel.size=${wheelSize}, Node timeouts after stop=${timersLeft}`,
      !isArmedAfter && wheelSize === 0 && timersLeft === 0,
    ],
  ]

  console.log(
    `soak: ${total.toLocaleString('en')} jobs on the system clock, concurrency 256, maxPendingJobs ${maxPendingJobs.toLocaleString('en')}`,
  )
  console.log(`  mix: ${[...byKind].map(([kind, n]) => `${kind} ${n}`).join(', ')} (cancel races lost: ${cancelRaces})`)
  console.log(
    `  enqueued in ${((enqueuedAt - started) / 1000).toFixed(1)} s, all settled in ${seconds.toFixed(1)} s: ${Math.round(total / seconds).toLocaleString('en')} jobs/s`,
  )
  console.log(
    `  attempts started ${tally.started}, retries ${tally.retrying}, maxPendingJobs rejections ${rejections} (each retried by the producer; none dropped)`,
  )
  console.log(
    `  heap: before ${mb(heapBefore)}, peak ${mb(heapPeak)} (sampled, before GC), after settling ${mb(heapSettled)}, after stop ${mb(heapAfterStop)}`,
  )
  console.log(`  logger calls: ${JSON.stringify(logger.counts)}`)
  for (const [text, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${text}`)
  return checks.every(([, ok]) => ok)
}

function main(): void {
  if (gc === undefined) {
    // Re-run with --expose-gc, keeping tsx's loader flags.
    const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
    })
    process.exit(child.status ?? 1)
  }
  const total = Number(process.argv[2] ?? 1_000_000)
  if (!Number.isSafeInteger(total) || total < 1) {
    console.error(`Expected a job count such as 1000000, got ${JSON.stringify(process.argv[2])}.`)
    process.exit(2)
  }
  soak(total).then(
    (ok) => {
      process.exitCode = ok ? 0 : 1
    },
    (error: unknown) => {
      console.error(error)
      process.exitCode = 1
    },
  )
}

main()
