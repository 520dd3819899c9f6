import type { JobsOptions } from 'bullmq'
import type { JobHandler, JobHandlerSource } from '../background-job-engine'
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
 * The BullMQ options of every job of `handler` (undefined: a name this process does not know):
 * attempts, the kit's backoff, the keep bounds, and the log lines BullMQ keeps (`keepLogs`: it
 * trims the job's log list as lines are added).
 */
function optionsFor(
  handler: JobHandler | undefined,
  { keepCompleted, keepFailed }: Pick<ResolvedBullmqEngineOptions, 'keepCompleted' | 'keepFailed'>,
): JobsOptions {
  return {
    attempts: handler?.maxAttempts ?? ATTEMPTS_CEILING,
    backoff: { type: KIT_BACKOFF },
    removeOnComplete: keepCompleted === 0 ? true : { count: keepCompleted },
    removeOnFail: keepFailed === 0 ? true : { count: keepFailed },
    keepLogs: MAX_JOB_LOG_LINES,
  }
}

/**
 * The BullMQ options of the jobs of each name, made once per handler instead of once per enqueue. An entry
 * holds the handler it was made from and is made again when `handlers` answers with another one
 * (a source that looks handlers up lazily, or registers one later); a name without a handler is
 * not kept, so unknown names cannot grow the cache. Callers copy what they are given before adding
 * per-job fields: the cached objects are shared.
 */
export class JobOptionsCache {
  readonly #handlers: JobHandlerSource
  readonly #options: Pick<ResolvedBullmqEngineOptions, 'keepCompleted' | 'keepFailed'>
  readonly #byName = new Map<string, { readonly handler: JobHandler; readonly options: JobsOptions }>()

  constructor(handlers: JobHandlerSource, options: Pick<ResolvedBullmqEngineOptions, 'keepCompleted' | 'keepFailed'>) {
    this.#handlers = handlers
    this.#options = options
  }

  /** The BullMQ options of every job named `name` (shared: copy before changing). */
  of(name: string): JobsOptions {
    const handler = this.#handlers.handler(name)
    if (handler === undefined) return optionsFor(undefined, this.#options)
    const cached = this.#byName.get(name)
    if (cached?.handler === handler) return cached.options
    const options = optionsFor(handler, this.#options)
    this.#byName.set(name, { handler, options })
    return options
  }
}
