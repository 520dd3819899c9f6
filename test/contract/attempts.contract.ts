import assert from 'node:assert/strict'
import { PendingJobsLimitError, type JobInfo } from 'express-background-jobs'
import { deferred } from '../support/deferred'
import type { EngineFixture } from './fixture'
import { defineJob, settle, skipUnless, until, useHarnesses, withGapThatScales } from './helpers'

/**
 * What each attempt is promised: the args as they were enqueued, never two attempts of one job at
 * once, and the limits and snapshots of the calls that start one.
 */
export function attemptsContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (what each attempt gets)', () => {
    const create = useHarnesses(fixture)

    it('gives every attempt the args as they were enqueued, whatever an earlier attempt did to them', async () => {
      const seen: number[][] = []
      const Job = defineJob<{ items: number[] }>('MutatingJob', (args) => {
        seen.push([...args.items])
        args.items.shift()
        throw new Error('try again')
      })
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 2, initialDelayMs: 10 } } })
      const id = await h.manager.enqueue(Job, { items: [1, 2, 3] })
      const job = await settle(h, id)
      assert.equal(job.state, 'failed')
      assert.deepEqual(seen, [
        [1, 2, 3],
        [1, 2, 3],
        [1, 2, 3],
      ])
      assert.deepEqual(job.args, { items: [1, 2, 3] }, 'the stored args are unchanged')
    })

    it('starts a retry only after the timed-out body it follows has ended, even when that body ignores its signal', async () => {
      // The body is released within the timeout's grace (as long as the timeout, the backoff
      // being 0), so the retry must follow; on a machine too slow to release it in time the
      // timeout grows.
      await withGapThatScales(50, async (timeoutMs) => {
        let running = 0
        let most = 0
        const release = deferred()
        const Job = defineJob<null>('StubbornJob', async () => {
          running++
          most = Math.max(most, running)
          await release.promise
          running--
        })
        const h = await create({
          jobs: [Job],
          options: { concurrency: 2, timeoutMs, retry: { maxRetries: 2, initialDelayMs: 0 } },
        })
        const id = await h.manager.enqueue(Job, null)
        await until(
          h,
          async () => ((await h.manager.getJob(id))?.lastError?.name ?? '') === 'JobTimeoutError',
          'a timeout',
        )
        await h.advance(20)
        assert.equal(running, 1, 'the retry waits for the body still running')
        const timedOut = await h.manager.getJob(id)
        assert.equal(timedOut?.attempts, 1)
        const startedAt = timedOut.lastRunAt?.getTime()
        assert.ok(startedAt !== undefined, 'a job that ran has lastRunAt')
        // The grace ends no sooner than two timeouts after the start.
        const releasedAt = h.now()
        release.resolve()
        const job = await settle(h, id)
        assert.equal(most, 1, 'never two bodies of one job at once')
        if (releasedAt >= startedAt + 2 * timeoutMs) return 'tooSlow'
        assert.equal(job.attempts, 2, 'the retry ran once the first body ended, and succeeded')
        assert.equal(job.state, 'completed')
        return 'conclusive'
      })
    })

    it('fails a job for good, without a retry beside it, when its timed-out body is still running once the retry is due', async () => {
      let bodies = 0
      const never = deferred()
      const Job = defineJob<null>('HungJob', async () => {
        bodies++
        await never.promise
      })
      const h = await create({ jobs: [Job], options: { timeoutMs: 50, retry: { maxRetries: 3, initialDelayMs: 0 } } })
      const id = await h.manager.enqueue(Job, null)
      const job = await settle(h, id)
      assert.equal(job.state, 'failed')
      assert.equal(job.attempts, 1)
      assert.equal(bodies, 1, 'no second body ran beside the first')
      assert.equal(job.lastError?.name, 'JobTimeoutError')
      assert.match(job.lastError?.message ?? '', /was still running when its retry was due/)
      never.resolve()
    })

    it('refuses to retry a failed job past maxPendingJobs with PendingJobsLimitError, leaving it failed', async function () {
      skipUnless(this, fixture, 'maxPendingJobs')
      const gate = deferred()
      const Blocker = defineJob<null>('RetryBlocker', () => gate.promise)
      const Failing = defineJob<null>('FailsOnce', () => {
        throw new Error('no')
      })
      const h = await create({
        jobs: [Blocker, Failing],
        options: { concurrency: 1, maxPendingJobs: 2, retry: { maxRetries: 0 } },
      })
      const failed = await h.manager.enqueue(Failing, null)
      assert.equal((await settle(h, failed)).state, 'failed')
      const blocker = await h.manager.enqueue(Blocker, null)
      await until(h, async () => (await h.manager.getJob(blocker))?.state === 'running', 'the blocker to start')
      await h.manager.enqueue(Failing, null)
      await h.manager.enqueue(Failing, null)
      await assert.rejects(h.manager.retry(failed), PendingJobsLimitError)
      assert.equal((await h.manager.getJob(failed))?.state, 'failed')
      assert.equal((await h.manager.counts()).pending, 2)
      gate.resolve()
    })

    it('resolves onSettled with the job as it settled, even when a failed listener retries it at once', async () => {
      let runs = 0
      const Job = defineJob<null>('RetriedByListener', () => {
        runs++
        if (runs === 1) throw new Error('first run fails')
      })
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 0 } } })
      const id = await h.manager.enqueue(Job, null)
      const settled = h.manager.onSettled(id)
      const retried = new Promise<unknown>((resolve) => {
        h.manager.on('failed', (job) => {
          if (job.id === id) resolve(h.manager.retry(id))
        })
      })
      const job: JobInfo = await settled
      assert.deepEqual([job.state, job.attempts, job.lastError?.message], ['failed', 1, 'first run fails'])
      // The retry is asynchronous on every engine: a settle asked for before it took effect would
      // see the failed job (BullMQ's retry takes a round trip; this failed in CI once).
      await retried
      assert.equal((await settle(h, id)).state, 'completed', 'the listener’s retry ran')
    })
  })
}
