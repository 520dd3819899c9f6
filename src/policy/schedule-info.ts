import type { NewSchedule } from '../background-job-engine'
import type { ScheduleInfo } from '../types'

/** What an engine knows of a schedule's runs, times in ms since the epoch (undefined: none). */
export interface ScheduleRuns {
  readonly nextRunAt?: number | undefined
  readonly lastEnqueuedAt?: number | undefined
  readonly lastJobId?: string | undefined
}

/**
 * The snapshot of `schedule` that every engine returns, with a copy of its args: the optional
 * fields present only when they hold something, times as `Date`s.
 */
export function scheduleInfo(schedule: NewSchedule, runs: ScheduleRuns): ScheduleInfo {
  const { id, cron, name, args } = schedule
  return {
    id,
    cron: cron.expression,
    jobName: name,
    args: structuredClone(args),
    ...(cron.timezone !== undefined && { timezone: cron.timezone }),
    ...(runs.nextRunAt !== undefined && { nextRunAt: new Date(runs.nextRunAt) }),
    ...(runs.lastEnqueuedAt !== undefined && { lastEnqueuedAt: new Date(runs.lastEnqueuedAt) }),
    ...(runs.lastJobId !== undefined && { lastJobId: runs.lastJobId }),
  }
}
