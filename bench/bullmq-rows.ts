/**
 * The BullMQ workloads of `npm run bench` (ids `b1` … `b5`, issue 12): each runs the kit on its
 * BullMQ engine against raw BullMQ (a plain `Queue` + `Worker` doing the same work) on the same
 * Redis in the same run, in fresh child processes, alternating, and becomes rows of the table.
 * Every run writes under a key prefix of its own (`ebj-bench-<pid>-<ms>`) and deletes it after.
 * Without a Redis answering, the BullMQ rows are skipped with the reason printed.
 */
import { REDIS_URL, benchRedis, deleteLeftovers, redisFacts, redisMissing } from './bullmq-support'
import { DELAYED_CONCURRENCY } from './bullmq-delayed'
import type { ChildRun, Row } from './run'
import { ZERO_TARGET, latenessRows } from './table'

/** What the runner lends the BullMQ workloads. */
export interface BenchTools {
  readonly isQuick: boolean
  readonly runs: number
  wants(this: void, workload: string): boolean
  log(this: void, message: string): void
  /** Runs `variants` of `workload` alternately in fresh children; each variant's runs. */
  alternate(
    this: void,
    workload: string,
    variants: readonly string[],
    params: object,
  ): Promise<Record<string, ChildRun[]>>
}

/** The BullMQ workloads' ids. */
export const BULLMQ_WORKLOADS = ['b1', 'b2', 'b3', 'b4', 'b5'] as const

/**
 * The sizes of the BullMQ workloads. The full run keeps issue 12's shapes (no-op jobs at
 * concurrency 10 and 50; 5,000 delayed jobs over 0-2 s; 1, 2 and 4 worker processes) with warm-ups
 * just long enough to load BullMQ's scripts and compile the hot paths. Issue 15 wants the whole
 * full run under 10 minutes on 2 cores with 5 fresh processes per variant, and B1 at 50,000 jobs
 * took half of it: B1 times 20,000 jobs per concurrency (several seconds of steady work after its
 * warm-up) and B4 3,000 per round. B3 keeps its lead of 3 s, which a loaded machine's production
 * of 5,000 jobs came near. The quick run shrinks all of them, so the BullMQ rows take well under
 * a minute there.
 */
interface BullmqConfig {
  readonly throughputJobs: number
  readonly throughputWarmup: number
  readonly awaitedJobs: number
  readonly inFlightJobs: number
  readonly enqueueWarmup: number
  readonly delayedJobs: number
  readonly delayedMaxDelayMs: number
  readonly delayedLeadMs: number
  readonly delayedWarmup: number
  readonly processJobs: number
  readonly processWarmup: number
  readonly httpSeconds: number
  readonly httpSliceSeconds: number
  readonly httpWarmupSeconds: number
}

const FULL: BullmqConfig = {
  throughputJobs: 20_000,
  throughputWarmup: 500,
  awaitedJobs: 2000,
  inFlightJobs: 10_000,
  enqueueWarmup: 300,
  delayedJobs: 5000,
  delayedMaxDelayMs: 2000,
  delayedLeadMs: 3000,
  delayedWarmup: 100,
  processJobs: 3000,
  processWarmup: 100,
  httpSeconds: 2,
  httpSliceSeconds: 0.5,
  httpWarmupSeconds: 0.5,
}
const QUICK: BullmqConfig = {
  throughputJobs: 1500,
  throughputWarmup: 200,
  awaitedJobs: 300,
  inFlightJobs: 3000,
  enqueueWarmup: 200,
  delayedJobs: 1000,
  delayedMaxDelayMs: 500,
  delayedLeadMs: 1000,
  delayedWarmup: 50,
  processJobs: 500,
  processWarmup: 30,
  httpSeconds: 0.5,
  httpSliceSeconds: 0.25,
  httpWarmupSeconds: 0.2,
}

/** Throughput concurrencies of B1. */
const B1_CONCURRENCY = [10, 50] as const
/** Worker processes of B4; 1 is the reference for the scaling factor. */
const B4_PROCESSES = [1, 2, 4] as const
/** Concurrency of each B4 worker process. */
const B4_CONCURRENCY = 10

const pick = (runs: readonly ChildRun[] | undefined, key: string): number[] =>
  (runs ?? []).map((run) => run.figures[key] ?? NaN)

/** A target and its test, for a row. */
interface Check {
  readonly target: string
  readonly pass: NonNullable<Row['pass']>
}

const zero: Check = ZERO_TARGET

/** Rows of the BullMQ workloads the run wants (none, with the reason said, without Redis). */
export async function bullmqRows(tools: BenchTools): Promise<Row[]> {
  const wanted = BULLMQ_WORKLOADS.filter((id) => tools.wants(id))
  if (wanted.length === 0) return []
  const missing = await redisMissing()
  if (missing !== undefined) {
    tools.log(`BullMQ workloads (${wanted.join(', ')}) skipped: ${missing}; set REDIS_URL to run them.`)
    return []
  }
  const redis = benchRedis()
  try {
    const { version, hz } = await redisFacts(redis)
    tools.log(`BullMQ workloads on Redis ${version} at ${REDIS_URL}, hz ${hz}`)
    return await runWorkloads(tools, version, hz)
  } finally {
    // Each run deletes its keys; a run that crashed or was killed cannot, so its keys go here.
    const left = await deleteLeftovers(redis)
    if (left > 0) tools.log(`Deleted ${left} Redis keys left by BullMQ workload runs that did not clean up.`)
    redis.disconnect()
  }
}

async function runWorkloads(tools: BenchTools, version: string, hz: number): Promise<Row[]> {
  const config = tools.isQuick ? QUICK : FULL
  const rows: Row[] = []
  const against = (
    workload: string,
    baseline: string,
    runs: Record<string, ChildRun[]>,
    metric: string,
    key: string,
    unit: string,
    summary: Row['summary'],
    check?: Check,
  ): Row => ({
    workload,
    metric,
    unit,
    baseline,
    baselineRuns: pick(runs.raw, key),
    kitRuns: pick(runs.kit, key),
    summary,
    ...check,
  })

  if (tools.wants('b1')) {
    const jobs = config.throughputJobs
    // One child per variant and run times every concurrency in turn (figures suffixed @<concurrency>).
    const runs = await tools.alternate('b1', ['raw', 'kit'], {
      jobs,
      concurrencies: B1_CONCURRENCY,
      warmupJobs: config.throughputWarmup,
    })
    for (const concurrency of B1_CONCURRENCY) {
      const name = `B1 BullMQ throughput (${jobs.toLocaleString('en-US')} no-op jobs, concurrency ${concurrency})`
      const at = (key: string): string => `${key}@${concurrency}`
      rows.push(
        against(
          name,
          'raw BullMQ',
          runs,
          'jobs/s, enqueue to last completion',
          at('jobsPerSecond'),
          'jobs/s',
          'median',
          { target: '>= 0.8x', pass: (k, b) => k >= 0.8 * b },
        ),
        against(
          name,
          'raw BullMQ',
          runs,
          'CPU per job (producer and worker, one process)',
          at('cpuUsPerJob'),
          'µs/job',
          'median',
        ),
        against(name, 'raw BullMQ', runs, 'jobs failed (worst run)', at('failed'), 'jobs', 'max', zero),
      )
    }
  }

  if (tools.wants('b2')) {
    const params = {
      awaitedJobs: config.awaitedJobs,
      inFlightJobs: config.inFlightJobs,
      warmupJobs: config.enqueueWarmup,
    }
    const runs = await tools.alternate('b2', ['raw', 'kit'], params)
    const name = `B2 BullMQ enqueue cost (${params.awaitedJobs.toLocaleString('en-US')} awaited one by one, ${params.inFlightJobs.toLocaleString('en-US')} 1000 in flight)`
    const cost: Check = { target: '<= 1.1x + 5 µs', pass: (k, b) => k <= 1.1 * b + 5 }
    rows.push(
      against(name, 'raw Queue.add', runs, 'awaited single enqueue', 'awaitedUs', 'µs/job', 'median', cost),
      against(name, 'raw Queue.add', runs, 'enqueue, 1000 in flight', 'inFlightUs', 'µs/job', 'median', cost),
      against(name, 'raw Queue.add', runs, 'CPU per awaited enqueue', 'awaitedCpuUs', 'µs/job', 'median'),
      against(name, 'raw Queue.add', runs, 'CPU per enqueue in flight', 'inFlightCpuUs', 'µs/job', 'median'),
    )
  }

  if (tools.wants('b3')) {
    const params = {
      jobs: config.delayedJobs,
      maxDelayMs: config.delayedMaxDelayMs,
      seed: 20240601,
      leadMs: config.delayedLeadMs,
      warmupJobs: config.delayedWarmup,
    }
    const runs = await tools.alternate('b3', ['raw', 'kit'], params)
    const name = `B3 BullMQ delayed (${params.jobs.toLocaleString('en-US')} jobs due ${params.leadMs} ms + 0-${params.maxDelayMs} ms after the producer starts, concurrency ${DELAYED_CONCURRENCY}, Redis ${version} hz ${hz})`
    const row = (metric: string, key: string, unit: string, summary: Row['summary'], check?: Check): Row =>
      against(name, 'raw BullMQ', runs, metric, key, unit, summary, check)
    rows.push(
      ...latenessRows(row),
      row('Redis hz during the runs', 'redisHz', 'Hz', 'max'),
      row('time to enqueue all jobs', 'productionMs', 'ms', 'median'),
      row(
        `jobs due before all were enqueued (worst run; lead ${params.leadMs} ms)`,
        'dueBeforeEnqueued',
        'jobs',
        'max',
        zero,
      ),
    )
  }

  if (tools.wants('b4')) {
    const jobs = config.processJobs
    // One coordinator per variant and run: its worker processes, spawned together, work one round
    // per process count in turn (figures suffixed @<processes>).
    const all = await tools.alternate('b4', ['raw', 'kit'], {
      processes: B4_PROCESSES,
      jobs,
      concurrency: B4_CONCURRENCY,
      warmupJobsPerProcess: config.processWarmup,
    })
    const roundOf = (processes: number): Record<string, ChildRun[]> =>
      Object.fromEntries(
        Object.entries(all).map(([variant, runs]) => [
          variant,
          runs.map((run) => ({
            ...run,
            figures: Object.fromEntries(
              Object.entries(run.figures)
                .filter(([key]) => key.endsWith(`@${processes}`))
                .map(([key, value]) => [key.slice(0, key.lastIndexOf('@')), value]),
            ),
          })),
        ]),
      )
    const byProcesses = new Map(B4_PROCESSES.map((processes) => [processes, roundOf(processes)]))
    const name = `B4 BullMQ worker processes (${jobs.toLocaleString('en-US')} no-op jobs, concurrency ${B4_CONCURRENCY} each)`
    const one = byProcesses.get(1)!
    for (const processes of B4_PROCESSES) {
      const runs = byProcesses.get(processes)!
      const label = `${processes} process${processes === 1 ? '' : 'es'}`
      rows.push(against(name, 'raw BullMQ', runs, `jobs/s, ${label}`, 'jobsPerSecond', 'jobs/s', 'median'))
      if (processes > 1) {
        const scaling = (variant: string): number[] => {
          const many = pick(runs[variant], 'jobsPerSecond')
          const single = pick(one[variant], 'jobsPerSecond')
          return many.map((value, run) => value / (single[run] ?? NaN))
        }
        rows.push({
          workload: name,
          metric: `scaling, ${label} / 1`,
          unit: 'x',
          baseline: 'raw BullMQ',
          baselineRuns: scaling('raw'),
          kitRuns: scaling('kit'),
          summary: 'median',
        })
        rows.push(
          against(
            name,
            'raw BullMQ',
            runs,
            `smallest share of the starts, ${label}`,
            'smallestShare',
            'of jobs',
            'median',
          ),
        )
      }
      rows.push(
        against(
          name,
          'raw BullMQ',
          runs,
          `jobs started twice (worst run), ${label}`,
          'duplicates',
          'jobs',
          'max',
          zero,
        ),
        against(name, 'raw BullMQ', runs, `jobs never started (worst run), ${label}`, 'missing', 'jobs', 'max', zero),
      )
    }
  }

  if (tools.wants('b5')) {
    const { http = [] } = await tools.alternate('b5', ['http'], {
      seconds: config.httpSeconds,
      sliceSeconds: config.httpSliceSeconds,
      warmupSeconds: config.httpWarmupSeconds,
    })
    const slices = Math.round(config.httpSeconds / config.httpSliceSeconds)
    const name = `B5 BullMQ HTTP (W4's route, enqueue-only web process, autocannon 10 connections, ${slices} x ${config.httpSliceSeconds} s per route per run, interleaved)`
    const row = (metric: string, baseline: string, baselineKey: string, kitKey: string, check?: Check): Row => ({
      workload: name,
      metric,
      unit: metric.startsWith('failed') ? 'requests' : 'req/s',
      baseline,
      baselineRuns: pick(http, baselineKey),
      kitRuns: pick(http, kitKey),
      summary: metric.startsWith('failed') ? 'max' : 'median',
      ...check,
    })
    rows.push(
      row('requests/s', 'raw Queue.add route', 'rawPerSecond', 'enqueuePerSecond', {
        target: '>= 0.8x',
        pass: (k, b) => k >= 0.8 * b,
      }),
      row('requests/s', 'no enqueue', 'plainPerSecond', 'enqueuePerSecond'),
      row('failed requests (worst run)', 'raw Queue.add route', 'rawFailures', 'enqueueFailures', zero),
    )
  }
  return rows
}

/** The BullMQ workloads, described for bench/RESULTS.md. */
export function bullmqDescription(isQuick: boolean): string {
  const config = isQuick ? QUICK : FULL
  const n = (value: number): string => value.toLocaleString('en-US')
  return `- **B1–B5, BullMQ** (Redis at \`REDIS_URL\`, else 127.0.0.1:6379; skipped without one): the kit on
  \`bullmqEngine\` against raw BullMQ 6 (a plain \`Queue\` + \`Worker\` doing the same work, each job
  with the options the kit gives its jobs: 11 attempts, a backoff, 1000 completed and 10,000 failed kept)
  on the same Redis, alternating fresh children. Both variants enqueue
  one call per job (\`Queue.add\` against \`manager.enqueue\`; the producer of an application
  serving requests; \`addBulk\` and \`enqueueMany\` would time another one), and run warm-up jobs to their end before any clock starts.
  **B1**: ${n(config.throughputJobs)} no-op jobs, one process per variant and run timing concurrency ${B1_CONCURRENCY.join(' then ')} in turn
  (a fresh queue and worker or engine for each), after ${n(config.throughputWarmup)} warm-up jobs (a fifth of them before the second),
  clock from the first enqueue (1000 in flight) to the last \`completed\` event; CPU per job is the process's
  (producer and worker) over the timed part. **B2**: µs per enqueue on a producer without a worker,
  ${n(config.awaitedJobs)} awaited one by one and ${n(config.inFlightJobs)} 1000 in flight, after ${n(config.enqueueWarmup)} warm-up adds of each shape; wall
  clock and CPU. **B3**: ${n(config.delayedJobs)} jobs, each with an intended run time fixed first (the producer's start
  + ${n(config.delayedLeadMs)} ms + a seeded 0–${n(config.delayedMaxDelayMs)} ms), all enqueued at once with the delay left until it; lateness is the first
  start minus the intended time; worker at concurrency ${DELAYED_CONCURRENCY} in the producing process, after ${n(config.delayedWarmup)} warm-up
  jobs; Redis's \`hz\` printed. **B4**: 4 fresh worker processes per variant and run, spawned together, working rounds of
  1, 2 and 4 of them (concurrency ${B4_CONCURRENCY} each) on a queue of the round's own; in each round, once all listen, the
  coordinator runs ${n(config.processWarmup)} warm-up jobs per process, then enqueues ${n(config.processJobs)} jobs; every start noted as (job id,
  process) and counted across processes after the last completion; the scaling factor is run by run. **B5**: W4's routes on an enqueue-only (\`worker: false\`) web process,
  \`/enqueue\` through \`req.backgroundJobs\` against \`/raw\` (the same handler calling \`Queue.add\`)
  and \`/plain\`, after a ${config.httpWarmupSeconds} s warm-up per route, interleaved ${config.httpSliceSeconds} s slices, ${config.httpSeconds} s per route per run.`
}
