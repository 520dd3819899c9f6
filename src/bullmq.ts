// express-background-jobs/bullmq: the BullMQ engine. The only entry point that loads `bullmq`
// and `ioredis` (optional peer dependencies), so the kit's main entry point never needs them.
import type { EngineFactory } from './background-job-engine'
import { BullmqJobEngine } from './bullmq/bullmq-engine'
import { resolveBullmqEngineOptions, type BullmqEngineOptions } from './bullmq/bullmq-options'
import { loadBullmq } from './bullmq/peer-dependencies'

export { BULK_CHUNK_SIZE, BulkEnqueueError } from './bullmq/bulk-jobs'
export { DEFAULT_BULLMQ_ENGINE_OPTIONS } from './bullmq/bullmq-options'
export type { BullmqEngineOptions } from './bullmq/bullmq-options'
export { MissingPeerDependencyError } from './bullmq/peer-dependencies'
export type { PeerDependency } from './bullmq/peer-dependencies'
export { BackendUnavailableError } from './errors'

/**
 * The BullMQ engine's factory, for `o.useEngine(bullmqEngine(options))`: jobs live in Redis, in
 * one BullMQ queue that every process of the application shares; each process with `worker`
 * (the default) runs them. The job classes, the manager, the middleware and the admin router stay
 * as they are on the memory engine. Delivery is at-least-once: a job whose worker dies runs again.
 *
 * @example
 * addBackgroundJobs(container, (o) =>
 *   o.useEngine(bullmqEngine({ connection: { host: '127.0.0.1', port: 6379 }, queueName: 'jobs' }))
 *    .addJob(RegisterUserBackgroundJob))
 *
 * @throws InvalidOptionError for an unknown option or an invalid value
 * @throws MissingPeerDependencyError when `bullmq` or `ioredis` is not installed
 */
export function bullmqEngine(options?: BullmqEngineOptions): EngineFactory {
  const { engine: resolved, policy } = resolveBullmqEngineOptions(options)
  const modules = loadBullmq()
  return {
    policy,
    create: (context) => new BullmqJobEngine(context, resolved, modules),
  }
}
