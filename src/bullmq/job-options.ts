import type { JobsOptions } from 'bullmq'
import type { JobHandlerSource } from '../background-job-engine'
import { MAX_JOB_LOG_LINES } from '../policy/job-progress'
import type { ResolvedBullmqEngineOptions } from './bullmq-options'

/** The BullMQ backoff type of every job: the kit's policy, through the worker's `backoffStrategy`. */
export const KIT_BACKOFF = 'express-background-jobs'

/**
 * The most attempts of a job enqueued by a process that does not know its class (by name): the
 * worker's backoff strategy stops it at its class's real limit.
 */
const ATTEMPTS_CEILING = 1001

/**
 * The BullMQ options of every job named `name`: attempts, the kit's backoff, the keep bounds, and
 * the log lines BullMQ keeps (`keepLogs`: it trims the job's log list as lines are added).
 */
export function kitJobOptions(
  handlers: JobHandlerSource,
  options: Pick<ResolvedBullmqEngineOptions, 'keepCompleted' | 'keepFailed'>,
  name: string,
): JobsOptions {
  const { keepCompleted, keepFailed } = options
  return {
    attempts: handlers.handler(name)?.maxAttempts ?? ATTEMPTS_CEILING,
    backoff: { type: KIT_BACKOFF },
    removeOnComplete: keepCompleted === 0 ? true : { count: keepCompleted },
    removeOnFail: keepFailed === 0 ? true : { count: keepFailed },
    keepLogs: MAX_JOB_LOG_LINES,
  }
}
