import type { BackgroundJobManager } from '../background-job-manager'
import type { Clock } from '../clock'
import { jobEndedListener } from '../job-events'
import { JOB_STATES, type JobCounts, type JobInfo } from '../types'

const MINUTE_MS = 60_000

/** How many minutes the ring keeps: the last hour. */
export const METRICS_MINUTES = 60

/**
 * The most distinct job names the per-name totals keep; jobs of further names are added to the
 * name `(other)`, so that a producer inventing names cannot grow the ring or the Prometheus output.
 */
export const MAX_METRIC_NAMES = 200

const OTHER_NAME = '(other)'

/** Jobs that ended in one minute. */
export interface MinuteFigures {
  /** The start of the minute. */
  readonly at: Date
  readonly completed: number
  readonly failed: number
}

/** What `GET api/metrics` answers. */
export interface AdminMetrics {
  /** The last {@link METRICS_MINUTES} minutes, oldest first, the current minute last. */
  readonly minutes: readonly MinuteFigures[]
  /** Jobs per state now. */
  readonly counts: JobCounts
  /** Jobs that completed and that failed for good since this router started listening. */
  readonly totals: { readonly completed: number; readonly failed: number }
  /** When this router started listening. */
  readonly since: Date
}

interface Totals {
  completed: number
  failed: number
}

/**
 * Jobs completed and failed per minute over the last hour, kept in a ring of 60 buckets in this
 * process's memory and fed by the manager's `completed` and `failed` events (so on a distributed
 * engine it counts the jobs this process saw end). Each event costs two array writes; a bucket is
 * reset when its minute comes round again.
 */
export class JobMetricsRing {
  readonly #clock: Clock
  readonly #since: number
  /** The minute (ms since the epoch / 60000) each bucket holds, or -1. */
  readonly #minute = new Array<number>(METRICS_MINUTES).fill(-1)
  readonly #completed = new Array<number>(METRICS_MINUTES).fill(0)
  readonly #failed = new Array<number>(METRICS_MINUTES).fill(0)
  readonly #byName = new Map<string, Totals>()
  readonly #totals: Totals = { completed: 0, failed: 0 }

  constructor(clock: Clock) {
    this.#clock = clock
    this.#since = clock.now()
  }

  /**
   * Starts counting the jobs `manager` reports as ended; returns a function that stops it. Its
   * listeners read only a job's name and end time, so an engine that can tell them those builds
   * no job snapshot for them (see {@link jobEndedListener}).
   */
  listen(manager: Pick<BackgroundJobManager, 'on'>): () => void {
    const offCompleted = manager.on(
      'completed',
      jobEndedListener((name, finishedAt) => this.count('completed', name, finishedAt)),
    )
    const offFailed = manager.on(
      'failed',
      jobEndedListener((name, finishedAt) => this.count('failed', name, finishedAt)),
    )
    return () => {
      offCompleted()
      offFailed()
    }
  }

  /** Counts one job that ended, in the minute of its `finishedAt` (or now). */
  record(outcome: keyof Totals, job: Pick<JobInfo, 'name' | 'finishedAt'>): void {
    this.count(outcome, job.name, job.finishedAt?.getTime())
  }

  /** Counts one job named `name` that ended at `finishedAt` (ms since the epoch; now when undefined). */
  count(outcome: keyof Totals, name: string, finishedAt: number | undefined): void {
    const at = finishedAt ?? this.#clock.now()
    const minute = Math.floor(at / MINUTE_MS)
    const slot = ((minute % METRICS_MINUTES) + METRICS_MINUTES) % METRICS_MINUTES
    if (this.#minute[slot] !== minute) {
      // An event older than the minute in its slot is out of the window: only the totals count it.
      if ((this.#minute[slot] ?? -1) < minute) {
        this.#minute[slot] = minute
        this.#completed[slot] = 0
        this.#failed[slot] = 0
      }
    }
    if (this.#minute[slot] === minute) {
      const figures = outcome === 'completed' ? this.#completed : this.#failed
      figures[slot] = (figures[slot] ?? 0) + 1
    }
    this.#totals[outcome] += 1
    let totals = this.#byName.get(name)
    if (totals === undefined) {
      const key = this.#byName.size < MAX_METRIC_NAMES ? name : OTHER_NAME
      totals = this.#byName.get(key) ?? { completed: 0, failed: 0 }
      this.#byName.set(key, totals)
    }
    totals[outcome] += 1
  }

  /** The figures of the last hour, ending with the current minute, and the totals. */
  snapshot(counts: JobCounts): AdminMetrics {
    const now = Math.floor(this.#clock.now() / MINUTE_MS)
    const minutes: MinuteFigures[] = []
    for (let minute = now - METRICS_MINUTES + 1; minute <= now; minute += 1) {
      const slot = ((minute % METRICS_MINUTES) + METRICS_MINUTES) % METRICS_MINUTES
      const isCurrent = this.#minute[slot] === minute
      minutes.push({
        at: new Date(minute * MINUTE_MS),
        completed: isCurrent ? (this.#completed[slot] ?? 0) : 0,
        failed: isCurrent ? (this.#failed[slot] ?? 0) : 0,
      })
    }
    return { minutes, counts, totals: { ...this.#totals }, since: new Date(this.#since) }
  }

  /**
   * The counters and current counts in Prometheus's text exposition format 0.0.4: the counters
   * `background_jobs_completed_total` and `background_jobs_failed_total` by job `name`, and the
   * gauge `background_jobs` by `state`.
   */
  prometheus(counts: JobCounts): string {
    const lines: string[] = []
    const counter = (metric: string, help: string, outcome: keyof Totals): void => {
      lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} counter`)
      for (const [name, totals] of [...this.#byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        lines.push(`${metric}{name="${escapeLabelValue(name)}"} ${totals[outcome]}`)
      }
    }
    counter(
      'background_jobs_completed_total',
      'Jobs that completed, seen by this process since the admin router started.',
      'completed',
    )
    counter(
      'background_jobs_failed_total',
      'Jobs that failed for good, seen by this process since the admin router started.',
      'failed',
    )
    lines.push('# HELP background_jobs Jobs held in each state now.', '# TYPE background_jobs gauge')
    for (const state of JOB_STATES) lines.push(`background_jobs{state="${state}"} ${counts[state] ?? 0}`)
    return `${lines.join('\n')}\n`
  }
}

/** A label value as the text format writes it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
