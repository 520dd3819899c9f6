import type { BackgroundJobManager } from '../background-job-manager'
import { JobNotFoundError, JobStateError } from '../errors'
import type { JobState } from '../types'
import { MAX_SCANNED_JOBS, matchesFilter, scanJobs } from './admin-search'

/** The manager methods the bulk actions compose: every engine's manager has them. */
export type BulkManager = Pick<BackgroundJobManager, 'listJobs' | 'retry' | 'cancelMany' | 'deleteJob'>

/** The bulk actions: one per single-job action. */
export type BulkAction = 'retry' | 'cancel' | 'delete'

/** The states a bulk action applies to. */
export const BULK_ACTION_STATES: Readonly<Record<BulkAction, readonly JobState[]>> = {
  retry: ['failed'],
  cancel: ['pending'],
  delete: ['completed', 'failed', 'cancelled'],
}

/** What a bulk action did. */
export interface BulkResult {
  readonly action: BulkAction
  readonly state: JobState
  /** The job name it was limited to, if any. */
  readonly name?: string
  /** Jobs it retried, cancelled or deleted. */
  readonly touched: number
  /** Jobs it found but that had left the state (or were gone) when their turn came. */
  readonly skipped: number
  /**
   * False when the state held more than {@link MAX_SCANNED_JOBS} jobs: the ones past them were not
   * touched, and the same action again handles the next ones.
   */
  readonly isComplete: boolean
}

/**
 * Applies `action` to every job of `state` (of `name`, when given): it first reads the ids through
 * `listJobs` (at most {@link MAX_SCANNED_JOBS}), then cancels them all with one `cancelMany`, or
 * retries or deletes them with the single-job method, one at a time, so it works on every engine
 * and never holds a lock. A job that changed state or vanished in between is counted in
 * `skipped`; any other error stops the action and is thrown. Jobs added while it runs may be left out.
 */
export async function runBulkAction(
  manager: BulkManager,
  action: BulkAction,
  state: JobState,
  name: string | undefined,
): Promise<BulkResult> {
  const ids: string[] = []
  const seen = new Set<string>()
  const isComplete = await scanJobs(manager, state, MAX_SCANNED_JOBS, (job) => {
    if (!seen.has(job.id) && matchesFilter(job, { state, name })) {
      seen.add(job.id)
      ids.push(job.id)
    }
  })
  const summary = { action, state, ...(name !== undefined && { name }) }
  if (action === 'cancel') {
    const { cancelled, skipped } = await manager.cancelMany(ids)
    return { ...summary, touched: cancelled, skipped: skipped.length, isComplete }
  }
  let touched = 0
  let skipped = 0
  for (const id of ids) {
    try {
      if (action === 'retry') await manager.retry(id)
      else await manager.deleteJob(id)
      touched += 1
    } catch (error) {
      if (!(error instanceof JobStateError || error instanceof JobNotFoundError)) throw error
      skipped += 1
    }
  }
  return { ...summary, touched, skipped, isComplete }
}
