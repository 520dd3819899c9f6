import { BackgroundJobBase } from './background-job-base'
import type { JobContext } from './types'

/** The steps of a job instance, public here: the engine runs them, subclasses override them. */
interface JobSteps {
  readonly execute: (args: unknown, context: JobContext) => Promise<void>
  readonly preExecute: (args: unknown, context: JobContext) => Promise<void>
  readonly executing: (args: unknown, context: JobContext) => unknown
  readonly postExecute: (args: unknown, context: JobContext) => Promise<void>
}

const base = BackgroundJobBase.prototype as unknown as JobSteps
const BASE_EXECUTE = base.execute
const BASE_PRE_EXECUTE = base.preExecute
const BASE_POST_EXECUTE = base.postExecute

/**
 * Runs one attempt of `job`: what `job.execute(args, context)` does, and its promise.
 *
 * Speed trick (workload W1, immediate jobs): most jobs override only `executing`, and then
 * `execute` awaits two empty steps, three promises and four microtask turns per attempt that
 * settle to nothing. When the instance's `execute`, `preExecute` and `postExecute` are the base
 * class's own (read from the instance, so an override by class field counts too), `executing` is
 * called directly instead; `execute` is the obvious version and runs in every other case. Either
 * way a throw or rejection of `executing` rejects the promise returned, as `execute`'s would.
 */
export function executeJob(job: BackgroundJobBase<unknown>, args: unknown, context: JobContext): Promise<unknown> {
  const steps = job as unknown as JobSteps
  if (
    steps.execute !== BASE_EXECUTE ||
    steps.preExecute !== BASE_PRE_EXECUTE ||
    steps.postExecute !== BASE_POST_EXECUTE
  ) {
    return steps.execute(args, context)
  }
  try {
    // `execute` awaits what `executing` returns; so does the caller of this (a plain value too).
    return Promise.resolve(steps.executing(args, context))
  } catch (error) {
    return Promise.reject(error)
  }
}
