import { asValue, createContainer } from 'awilix'
import { addBackgroundJobs, type BackgroundJobManager } from 'express-background-jobs'
import { bullmqEngine } from 'express-background-jobs/bullmq'
import { CapturingLogger } from '../support/harness'
import { REDIS_URL, deleteKeys, uniquePrefix } from '../support/redis'
import type { ContractHarness, EngineFixture } from './fixture'

/**
 * The BullMQ engine under the contract suite, on the Redis of `REDIS_URL` (else
 * 127.0.0.1:6379): `addBackgroundJobs(container, o => o.useEngine(bullmqEngine({ connection,
 * prefix, ...options })).addJob(...jobs))` with a key prefix of its own per test
 * (`ebj-test-<pid>-<n>`), whose keys `dispose` deletes, and nothing else. Time is real:
 * `advance(ms)` sleeps.
 */
export const bullmqFixture: EngineFixture = {
  name: 'bullmq',
  unsupported: {
    maxPendingJobs:
      'a pending-jobs bound across processes would cost a count before every enqueue and still race between producers',
  },
  async create({ jobs, options = {} }): Promise<ContractHarness> {
    const prefix = uniquePrefix()
    const logger = new CapturingLogger()
    const container = createContainer()
    container.register('logger', asValue(logger))
    addBackgroundJobs(container, (o) =>
      o.useEngine(bullmqEngine({ connection: REDIS_URL, prefix, ...options })).addJob(...jobs),
    )
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    return {
      container,
      manager,
      logger,
      now: () => Date.now(),
      advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      async dispose() {
        await manager.stop({ drain: false })
        await container.dispose()
        await deleteKeys(prefix)
      },
    }
  },
}
