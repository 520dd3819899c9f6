import assert from 'node:assert/strict'
import type { JobCounts, JobInfo } from 'express-background-jobs'
import { deferred } from '../support/deferred'
import type { EngineFixture } from './fixture'
import { FAR_DELAY_MS, createJobsInEveryState, defineJob, recordEvents, settle, until, useHarnesses } from './helpers'

/**
 * The waiter contract: `onSettled(id)` resolves with the job once it is completed, failed for
 * good or cancelled, and not at a failed attempt that will be retried; `onIdle()` resolves once
 * no job is pending or running.
 */
export function waitersContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (onSettled and onIdle)', () => {
    const create = useHarnesses(fixture)

    it('resolves onSettled and onIdle once the job has completed, not at an attempt that failed and will be retried', async () => {
      const Job = defineJob<null>('OnceFailingJob', (_args, { attempt }) => {
        if (attempt === 1) throw new Error('first attempt fails')
      })
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 1, initialDelayMs: 30 } } })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue(Job, null)
      const seen: { settled?: JobInfo; isIdle: boolean } = { isIdle: false }
      void h.manager.onSettled(id).then((job) => (seen.settled = job))
      void h.manager.onIdle().then(() => (seen.isIdle = true))
      await until(h, () => heard.some((e) => e.event === 'retrying'), 'the first attempt to fail')
      assert.equal(seen.settled !== undefined, false, 'not settled while its retry is pending')
      assert.equal(seen.isIdle, false, 'not idle while a retry is pending')
      await until(h, () => seen.settled !== undefined && seen.isIdle, 'the job to settle and the manager to be idle')
      assert.deepEqual([seen.settled?.state, seen.settled?.attempts], ['completed', 2])
    })

    it('resolves onSettled with the snapshot of a failed or cancelled job, and at once for a job already settled', async () => {
      const Failing = defineJob<null>(
        'FailingJob',
        () => {
          throw new Error('fails')
        },
        { retry: { maxRetries: 0 } },
      )
      const h = await create({ jobs: [Failing] })
      const failedId = await h.manager.enqueue(Failing, null)
      const cancelledId = await h.manager.enqueue(Failing, null, { delay: FAR_DELAY_MS })
      const cancelling = h.manager.onSettled(cancelledId)
      await h.manager.cancel(cancelledId)
      const cancelled = await cancelling
      const failed = await settle(h, failedId)
      assert.equal(failed.state, 'failed')
      assert.equal(cancelled.state, 'cancelled')
      assert.deepEqual(await h.manager.onSettled(failedId), failed, 'a settled job’s waiter resolves with its snapshot')
      assert.deepEqual(await h.manager.onSettled(cancelledId), cancelled)
    })

    it('resolves onIdle at once when no job is pending or running, finished jobs or not', async () => {
      const h = await create({ jobs: [defineJob<null>('IdleJob', () => {})] })
      await h.manager.onIdle()
      const { h: finished, ids, release } = await createJobsInEveryState(create)
      await finished.manager.cancel(ids.pending)
      release()
      await settle(finished, ids.running)
      await finished.manager.onIdle()
      const counts = await finished.manager.counts()
      assert.deepEqual([counts.pending, counts.running], [0, 0])
    })

    it('resolves onIdle only once every pending and running job has settled', async () => {
      const gate = deferred()
      const Blocked = defineJob<null>('BlockedJob', () => gate.promise)
      const Later = defineJob<null>('LaterJob', () => {})
      const h = await create({ jobs: [Blocked, Later] })
      const blocked = await h.manager.enqueue(Blocked, null)
      const later = await h.manager.enqueue(Later, null, { delay: 100 })
      const laterDueAt = (await h.manager.getJob(later))?.runAt.getTime() ?? 0
      const seen: { countsWhenIdle?: JobCounts } = {}
      void h.manager.onIdle().then(async () => (seen.countsWhenIdle = await h.manager.counts()))
      await until(h, async () => (await h.manager.getJob(blocked))?.state === 'running', 'the blocked job to start')
      await h.advance(20)
      assert.equal(seen.countsWhenIdle !== undefined, false, 'not idle while a job runs')
      gate.resolve()
      await settle(h, blocked)
      if (h.now() < laterDueAt)
        assert.equal(seen.countsWhenIdle !== undefined, false, 'not idle while a job is pending')
      await until(h, () => seen.countsWhenIdle !== undefined, 'the manager to be idle')
      assert.deepEqual(
        [seen.countsWhenIdle?.pending, seen.countsWhenIdle?.running, seen.countsWhenIdle?.completed],
        [0, 0, 2],
      )
    })
  })
}
