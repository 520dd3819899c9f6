import type { BackgroundJobManager } from '../background-job-manager'
import { MAX_PAGE_SIZE } from '../limits'
import { JOB_STATES, type JobCounts, type JobInfo, type JobState } from '../types'

/** The manager methods a search needs: any engine's manager has them. */
export type SearchManager = Pick<BackgroundJobManager, 'listJobs' | 'getJob' | 'counts' | 'listSchedules'>

/**
 * The most jobs of one state a search, a filter or a bulk action reads. No engine indexes jobs by
 * name, so a filter walks the state's list page by page; past this bound the answer says it is
 * incomplete instead of blocking the event loop (or Redis) for longer.
 */
export const MAX_SCANNED_JOBS = 10_000

/** The most jobs of each state read to find the job names present ({@link listJobNames}). */
export const MAX_NAME_SCAN_PER_STATE = 2_000

/** Which jobs a filtered list holds. */
export interface JobFilter {
  readonly state: JobState
  /** Only jobs of exactly this name. */
  readonly name?: string | undefined
  /** The job with exactly this id, and jobs whose name contains this text (case-insensitive). */
  readonly q?: string | undefined
}

/** A page of a filtered list. */
export interface FilteredJobPage {
  readonly items: readonly JobInfo[]
  /** The matches found among the jobs read. */
  readonly total: number
  readonly offset: number
  readonly limit: number
  /** False when the state holds more than {@link MAX_SCANNED_JOBS} jobs, so matches past them are not counted. */
  readonly isComplete: boolean
}

/**
 * Calls `visit` with every job of `state`, oldest page first, up to `max` jobs; resolves with
 * whether it saw them all. Reads through `listJobs` only, a page of {@link MAX_PAGE_SIZE} at a time.
 */
export async function scanJobs(
  manager: Pick<BackgroundJobManager, 'listJobs'>,
  state: JobState,
  max: number,
  visit: (job: JobInfo) => void,
): Promise<boolean> {
  let offset = 0
  for (;;) {
    const limit = Math.min(MAX_PAGE_SIZE, max - offset)
    if (limit <= 0) {
      const probe = await manager.listJobs({ state, offset, limit: 1 })
      return probe.items.length === 0
    }
    const page = await manager.listJobs({ state, offset, limit })
    for (const job of page.items) visit(job)
    offset += page.items.length
    if (page.items.length < limit || offset >= page.total) return true
  }
}

/** Whether `job` matches the name filter and the search text of `filter`. */
export function matchesFilter(job: JobInfo, filter: JobFilter): boolean {
  if (filter.name !== undefined && job.name !== filter.name) return false
  if (filter.q === undefined) return true
  return job.id === filter.q || job.name.toLowerCase().includes(filter.q.toLowerCase())
}

/**
 * One page of the jobs of `filter.state` that match `filter`, the exact-id match first. Without a
 * name or text it is one `listJobs` call; with them it reads at most {@link MAX_SCANNED_JOBS} jobs.
 */
export async function searchJobs(
  manager: SearchManager,
  filter: JobFilter,
  offset: number,
  limit: number,
): Promise<FilteredJobPage> {
  if (filter.name === undefined && filter.q === undefined) {
    const page = await manager.listJobs({ state: filter.state, offset, limit })
    return { items: page.items, total: page.total, offset, limit, isComplete: true }
  }
  const matches: JobInfo[] = []
  const seen = new Set<string>()
  if (filter.q !== undefined) {
    const exact = await manager.getJob(filter.q)
    if (exact !== undefined && exact.state === filter.state && matchesFilter(exact, filter)) {
      matches.push(exact)
      seen.add(exact.id)
    }
  }
  const isComplete = await scanJobs(manager, filter.state, MAX_SCANNED_JOBS, (job) => {
    // A job can move between pages while they are read; each is listed once.
    if (!seen.has(job.id) && matchesFilter(job, filter)) {
      seen.add(job.id)
      matches.push(job)
    }
  })
  return { items: matches.slice(offset, offset + limit), total: matches.length, offset, limit, isComplete }
}

/** A job name and how many jobs of it each state holds (among the jobs read). */
export interface JobNameCount {
  readonly name: string
  readonly counts: JobCounts
}

/** The job names present, for a filter menu. */
export interface JobNames {
  /** Sorted by name; names of schedules appear even when none of their jobs is held. */
  readonly items: readonly JobNameCount[]
  /** False when some state holds more than {@link MAX_NAME_SCAN_PER_STATE} jobs, so names only past them are missing. */
  readonly isComplete: boolean
}

/** The names of the jobs held in every state (and of the schedules), with counts per state. */
export async function listJobNames(manager: SearchManager): Promise<JobNames> {
  const counts = new Map<string, Record<JobState, number>>()
  const entry = (name: string): Record<JobState, number> => {
    let found = counts.get(name)
    if (found === undefined) {
      found = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }
      counts.set(name, found)
    }
    return found
  }
  let isComplete = true
  for (const state of JOB_STATES) {
    const whole = await scanJobs(manager, state, MAX_NAME_SCAN_PER_STATE, (job) => {
      entry(job.name)[state] += 1
    })
    isComplete &&= whole
  }
  for (const schedule of await manager.listSchedules()) entry(schedule.jobName)
  const items = [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, byState]) => ({ name, counts: byState }))
  return { items, isComplete }
}
