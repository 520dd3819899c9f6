import { asValue, createContainer, type AwilixContainer } from 'awilix'
import { addBackgroundJobs, type BackgroundJobManager, type JobClass } from 'express-background-jobs'
import { bullmqEngine, type BullmqEngineOptions } from 'express-background-jobs/bullmq'
import { CapturingLogger } from './harness'
import { REDIS_URL, deleteKeys, uniquePrefix } from './redis'

/** The BullMQ managers of one test, on a key prefix of that test's own. */
export interface BullmqManagers {
  /** The current test's key prefix. */
  readonly prefix: string
  /** The containers started in the current test, oldest first. */
  readonly live: readonly AwilixContainer[]
  /** A manager on the current test's prefix with the jobs registered; `options` override the engine's. */
  start(options?: BullmqEngineOptions): BackgroundJobManager
  /** Stops `container`'s manager and disposes of it after the test, as for those `start` made. */
  track(container: AwilixContainer): void
}

/**
 * Call inside a `describe`: gives each test a fresh prefix, and after each test stops every manager
 * it started (without draining), disposes of their containers and deletes the prefix's keys.
 */
export function bullmqManagers(jobs: readonly JobClass[]): BullmqManagers {
  const live: AwilixContainer[] = []
  let prefix = ''
  beforeEach(() => {
    prefix = uniquePrefix()
  })
  afterEach(async () => {
    for (const container of live.splice(0)) {
      await container.resolve<BackgroundJobManager>('backgroundJobManager').stop({ drain: false })
      await container.dispose()
    }
    await deleteKeys(prefix)
  })
  return {
    get prefix() {
      return prefix
    },
    live,
    start(options = {}) {
      const container = createContainer()
      container.register('logger', asValue(new CapturingLogger()))
      addBackgroundJobs(container, (o) => {
        o.useEngine(bullmqEngine({ connection: REDIS_URL, prefix, ...options }))
        for (const job of jobs) o.addJob(job)
        return o
      })
      live.push(container)
      return container.resolve<BackgroundJobManager>('backgroundJobManager')
    },
    track(container) {
      live.push(container)
    },
  }
}
