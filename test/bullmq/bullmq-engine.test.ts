import assert from 'node:assert/strict'
import { asValue, createContainer, type AwilixContainer } from 'awilix'
import {
  BackgroundJobBase,
  addBackgroundJobs,
  type BackgroundJobManager,
  type JobContext,
} from 'express-background-jobs'
import { bullmqEngine } from 'express-background-jobs/bullmq'
import { CapturingLogger } from '../support/harness'
import { REDIS_URL, deleteKeys, redisUnavailable, uniquePrefix } from '../support/redis'
import { requireService } from '../support/services'

describe('bullmqEngine', () => {
  before(async function () {
    requireService(this, 'REDIS', await redisUnavailable())
  })

  let container: AwilixContainer | undefined
  let prefix = ''
  afterEach(async () => {
    await container?.resolve<BackgroundJobManager>('backgroundJobManager').stop({ drain: false })
    await container?.dispose()
    container = undefined
    await deleteKeys(prefix)
  })

  it('enqueues a job that a worker runs, with its args and context', async () => {
    const seen: { args: unknown; ctx: Omit<JobContext, 'signal'> }[] = []
    class GreetJob extends BackgroundJobBase<{ name: string }> {
      protected override async executing(args: { name: string }, ctx: JobContext): Promise<void> {
        seen.push({
          args,
          ctx: { jobId: ctx.jobId, jobName: ctx.jobName, attempt: ctx.attempt, maxAttempts: ctx.maxAttempts },
        })
      }
    }
    prefix = uniquePrefix()
    container = createContainer()
    container.register('logger', asValue(new CapturingLogger()))
    addBackgroundJobs(container, (o) => o.useEngine(bullmqEngine({ connection: REDIS_URL, prefix })).addJob(GreetJob))
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const id = await manager.enqueue(GreetJob, { name: 'masa' })
    const job = await manager.onSettled(id)
    assert.equal(job.state, 'completed')
    assert.deepEqual(seen, [
      { args: { name: 'masa' }, ctx: { jobId: id, jobName: 'GreetJob', attempt: 1, maxAttempts: 11 } },
    ])
  })
})
