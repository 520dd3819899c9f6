import assert from 'node:assert/strict'
import { UnrecoverableJobError } from 'express-background-jobs'
import type { EngineFixture } from './fixture'
import { assertWaits, defineJob, flakyJob, recordEvents, settle, useHarnesses, type Attempt } from './helpers'

/**
 * The retry contract: a failing attempt is retried after exponential waits (capped) with its
 * attempt number; a job that runs out of attempts is kept failed with its last error.
 */
export function retriesContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (retries and backoff)', () => {
    const create = useHarnesses(fixture)

    it('retries a failing job, numbering its attempts from 1, and completes it when an attempt succeeds', async () => {
      const attempts: Attempt[] = []
      const Job = flakyJob(
        'FlakyJob',
        attempts,
        () => h,
        (attempt) => attempt < 3,
      )
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 3, initialDelayMs: 20, factor: 2 } } })
      const id = await h.manager.enqueue(Job, null)
      const job = await settle(h, id)
      assert.equal(job.state, 'completed')
      assert.equal(job.attempts, 3)
      assert.equal(job.maxAttempts, 4)
      assert.equal(job.lastError, undefined, 'a completed job carries no error')
      assert.deepEqual(
        attempts.map((a) => a.ctx),
        [1, 2, 3].map((attempt) => ({ jobId: id, jobName: 'FlakyJob', attempt, maxAttempts: 4 })),
      )
    })

    it('waits initialDelayMs * factor^(n-1) before retry n, and never starts a retry early', async () => {
      const attempts: Attempt[] = []
      const Job = flakyJob(
        'BackoffJob',
        attempts,
        () => h,
        () => true,
      )
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 3, initialDelayMs: 20, factor: 2 } } })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue(Job, null)
      const job = await settle(h, id)
      assert.equal(job.state, 'failed')
      assertWaits(
        attempts,
        heard.filter((e) => e.event === 'retrying'),
        [20, 40, 80],
      )
    })

    it('caps every wait at maxDelayMs', async () => {
      const attempts: Attempt[] = []
      const Job = flakyJob(
        'CappedJob',
        attempts,
        () => h,
        () => true,
      )
      const h = await create({
        jobs: [Job],
        options: { retry: { maxRetries: 3, initialDelayMs: 20, factor: 3, maxDelayMs: 50 } },
      })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue(Job, null)
      await settle(h, id)
      // Uncapped, the waits would be 20, 60 and 180 ms.
      assertWaits(
        attempts,
        heard.filter((e) => e.event === 'retrying'),
        [20, 50, 50],
      )
    })

    it('keeps a job that used up its attempts failed, with attempts = maxAttempts and the last attempt’s error', async () => {
      const attempts: Attempt[] = []
      const Job = flakyJob(
        'DoomedJob',
        attempts,
        () => h,
        () => true,
      )
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 2, initialDelayMs: 20 } } })
      const id = await h.manager.enqueue(Job, null)
      const job = await settle(h, id)
      assert.equal(job.state, 'failed')
      assert.equal(job.attempts, 3)
      assert.equal(job.maxAttempts, 3)
      assert.deepEqual(job.lastError && { name: job.lastError.name, message: job.lastError.message }, {
        name: 'TypeError',
        message: 'attempt 3 failed',
      })
      assert.ok(job.finishedAt !== undefined && job.lastRunAt !== undefined && job.finishedAt >= job.lastRunAt)
      assert.deepEqual(await h.manager.getJob(id), job, 'getJob shows the same failed job')
      const counts = await h.manager.counts()
      assert.deepEqual([counts.failed, counts.pending, counts.running], [1, 0, 0])
      assert.deepEqual(
        (await h.manager.listJobs({ state: 'failed' })).items.map((j) => j.id),
        [id],
      )
      await h.advance(200)
      assert.equal(attempts.length, 3, 'a failed job is not run again')
    })

    it('records a thrown value that is not an Error as an error named Error', async () => {
      const Job = defineJob<null>(
        'ThrowsTextJob',
        () => {
          throw 'plain text'
        },
        { retry: { maxRetries: 0 } },
      )
      const h = await create({ jobs: [Job] })
      const job = await settle(h, await h.manager.enqueue(Job, null))
      assert.equal(job.state, 'failed')
      assert.equal(job.lastError?.name, 'Error')
      assert.match(job.lastError?.message ?? '', /plain text/)
    })

    it('fails a job that throws UnrecoverableJobError at once, without retry, and lets it be retried by hand', async () => {
      let runs = 0
      const Job = defineJob<null>('UnrecoverableJob', () => {
        runs++
        throw new UnrecoverableJobError('the user was deleted')
      })
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 5, initialDelayMs: 20 } } })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue(Job, null)
      const job = await settle(h, id)
      assert.equal(job.state, 'failed')
      assert.equal(job.attempts, 1)
      assert.deepEqual(job.lastError && [job.lastError.name, job.lastError.message], [
        'UnrecoverableJobError',
        'the user was deleted',
      ])
      assert.deepEqual(
        heard.filter((e) => e.event === 'retrying'),
        [],
      )
      await h.advance(200)
      assert.equal(runs, 1, 'no retry follows')
      await h.manager.retry(id)
      assert.equal((await settle(h, id)).attempts, 1, 'a manual retry runs it once more, with a fresh budget')
      assert.equal(runs, 2)
    })
  })
}
