import assert from 'node:assert/strict'
import { JobNotFoundError, JobStateError, type JobState } from 'express-background-jobs'
import { deferred } from '../support/deferred'
import type { EngineFixture } from './fixture'
import {
  assertRunsNoMore,
  bouncingJobs,
  createJobsInEveryState,
  defineJob,
  recordEvents,
  settle,
  until,
  useHarnesses,
  withGapThatScales,
} from './helpers'

/** Asserts that `refused` rejects with a `JobStateError` whose message names the job's `state`. */
async function assertRefused(refused: Promise<unknown>, state: JobState): Promise<void> {
  await assert.rejects(refused, (error: unknown) => {
    assert.ok(error instanceof JobStateError, `a ${state} job: expected a JobStateError, got ${String(error)}`)
    assert.match(error.message, new RegExp(`\\b${state}\\b`), 'the message names the state')
    return true
  })
}

/**
 * The job-control contract: `cancel` applies to pending jobs only, `retry` to failed jobs only,
 * `deleteJob` to finished jobs only; any other state is refused with `JobStateError` and leaves
 * the job as it was, and an id no job has is refused with `JobNotFoundError`.
 */
export function jobControlContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (cancel, retry and deleteJob)', () => {
    const create = useHarnesses(fixture)

    it('cancels a pending job, delayed or due: it ends cancelled, with finishedAt, and never runs', async () => {
      const gate = deferred()
      const ran: string[] = []
      const Blocker = defineJob<null>('Blocker', () => gate.promise)
      const Job = defineJob<null>('CancelledJob', (_args, { jobId }) => void ran.push(jobId))
      const h = await create({ jobs: [Blocker, Job], options: { concurrency: 1 } })
      const heard = recordEvents(h)
      const blocker = await h.manager.enqueue(Blocker, null)
      await until(h, async () => (await h.manager.getJob(blocker))?.state === 'running', 'the blocker to start')
      const delayed = await h.manager.enqueue(Job, null, { delay: 50 })
      // Due now, but waiting for the slot the blocker holds.
      const due = await h.manager.enqueue(Job, null)
      for (const id of [delayed, due]) {
        assert.equal(await h.manager.cancel(id), undefined, 'cancel resolves with nothing')
        const job = await h.manager.getJob(id)
        assert.equal(job?.state, 'cancelled')
        assert.ok(job.finishedAt !== undefined && job.finishedAt >= job.createdAt)
        assert.equal(job.attempts, 0)
      }
      gate.resolve()
      await settle(h, blocker)
      await h.advance(100)
      assert.deepEqual(ran, [], 'a cancelled job never runs')
      assert.deepEqual(
        heard.filter((e) => e.event === 'cancelled').map((e) => e.job.id),
        [delayed, due],
      )
    })

    it('cancels a job waiting for its retry: it keeps its attempts and last error and is not retried', async () => {
      // The cancel must land before the retry is due; on a machine too slow for that the backoff grows.
      await withGapThatScales(50, async (initialDelayMs) => {
        let runs = 0
        const Job = defineJob<null>('RetryWaitJob', () => {
          runs++
          throw new Error('fails once at least')
        })
        const h = await create({ jobs: [Job], options: { retry: { maxRetries: 2, initialDelayMs } } })
        const heard = recordEvents(h)
        const id = await h.manager.enqueue(Job, null)
        await until(h, () => heard.some((e) => e.event === 'retrying'), 'the first attempt to fail')
        const dueAt = heard.find((e) => e.event === 'retrying')?.job.runAt.getTime() ?? 0
        const cancelled = await h.manager.cancel(id).then(
          () => true,
          () => false,
        )
        if (h.now() >= dueAt) return 'tooSlow'
        assert.ok(cancelled, 'cancel resolves')
        const job = await settle(h, id)
        assert.equal(job.state, 'cancelled')
        assert.equal(job.attempts, 1)
        assert.equal(job.lastError?.message, 'fails once at least')
        await h.advance(3 * initialDelayMs)
        assert.equal(runs, 1, 'not retried')
        return 'conclusive'
      })
    })

    it('never cancels a job that ran again meanwhile: a cancel that resolves leaves the job as its last attempt left it, and it runs no more', async () => {
      // Retried at once, each job goes back and forth between pending and running while cancel
      // checks and removes it: the cancel must either refuse or take the job as it is then.
      const { runs, jobs } = bouncingJobs('BouncingJob')
      const h = await create({ jobs, options: { concurrency: 10 } })
      const cancels = new Map<string, Promise<boolean>>()
      h.manager.on('retrying', (job) => {
        if (cancels.has(job.id)) return
        const cancelled = h.manager.cancel(job.id).then(
          () => true,
          (error: unknown) => {
            assert.ok(error instanceof JobStateError, `cancel refuses with JobStateError, not ${String(error)}`)
            return false
          },
        )
        cancels.set(job.id, cancelled)
      })
      const ids: string[] = []
      for (const job of jobs) ids.push(await h.manager.enqueue(job, null))
      await until(h, () => cancels.size === ids.length, 'every job to fail once')
      for (const id of ids) {
        const isCancelled = await cancels.get(id)
        const job = await settle(h, id)
        const ranAtCancel = runs.get(id)
        assert.equal(job.state, isCancelled === true ? 'cancelled' : 'failed', `job ${id}`)
        assert.equal(job.attempts, ranAtCancel, `job ${id}: the snapshot counts every attempt that ran`)
      }
      await assertRunsNoMore(h, ids, runs)
    })

    it('refuses to cancel a running, completed, failed or cancelled job with JobStateError, leaving it as it was', async () => {
      const { h, ids } = await createJobsInEveryState(create)
      for (const state of ['running', 'completed', 'failed', 'cancelled'] as const) {
        await assertRefused(h.manager.cancel(ids[state]), state)
        assert.equal((await h.manager.getJob(ids[state]))?.state, state)
      }
    })

    it('retries a failed job now, from attempt 1, with a fresh retry budget', async () => {
      let failuresLeft = 3
      const seen: number[] = []
      const Job = defineJob<null>('RetriedJob', (_args, { attempt }) => {
        seen.push(attempt)
        if (failuresLeft-- > 0) throw new Error('not yet')
      })
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 1, initialDelayMs: 20 } } })
      const id = await h.manager.enqueue(Job, null)
      const failed = await settle(h, id)
      assert.equal(failed.state, 'failed')
      assert.equal(failed.attempts, 2)
      const retried = await h.manager.retry(id)
      const retriedBy = h.now()
      assert.equal(retried.id, id)
      assert.equal(retried.state, 'pending')
      assert.equal(retried.attempts, 0)
      assert.ok(failed.lastRunAt !== undefined)
      assert.deepEqual(retried.lastRunAt, failed.lastRunAt, 'when its last attempt started, until the retry starts')
      assert.ok(
        failed.finishedAt !== undefined && retried.runAt >= failed.finishedAt && retried.runAt.getTime() <= retriedBy,
        'due now',
      )
      const job = await settle(h, id)
      assert.equal(job.state, 'completed')
      assert.equal(job.attempts, 2, 'one more failure, then a success: the retry budget was renewed')
      assert.equal(job.lastError, undefined)
      assert.deepEqual(seen, [1, 2, 1, 2])
    })

    it('refuses to retry a pending, running, completed or cancelled job with JobStateError, leaving it as it was', async () => {
      const { h, ids } = await createJobsInEveryState(create)
      for (const state of ['pending', 'running', 'completed', 'cancelled'] as const) {
        await assertRefused(h.manager.retry(ids[state]), state)
        assert.equal((await h.manager.getJob(ids[state]))?.state, state)
      }
    })

    it('deletes a completed, failed or cancelled job: getJob, listJobs and counts forget it', async () => {
      const { h, ids } = await createJobsInEveryState(create)
      for (const state of ['completed', 'failed', 'cancelled'] as const) {
        assert.equal(await h.manager.deleteJob(ids[state]), undefined)
        assert.equal(await h.manager.getJob(ids[state]), undefined, state)
        assert.equal((await h.manager.counts())[state], 0, state)
        assert.deepEqual((await h.manager.listJobs({ state })).items, [], state)
        await assert.rejects(h.manager.deleteJob(ids[state]), JobNotFoundError, 'a deleted job is gone')
      }
    })

    it('refuses to delete a pending or running job with JobStateError, leaving it as it was', async () => {
      const { h, ids } = await createJobsInEveryState(create)
      for (const state of ['pending', 'running'] as const) {
        await assertRefused(h.manager.deleteJob(ids[state]), state)
        assert.equal((await h.manager.getJob(ids[state]))?.state, state)
      }
    })

    it('refuses cancel, retry, deleteJob and onSettled of an id no job has with JobNotFoundError, and getJob answers undefined', async () => {
      const { h, ids } = await createJobsInEveryState(create)
      await h.manager.deleteJob(ids.completed)
      for (const id of ['no-such-job', ids.completed]) {
        assert.equal(await h.manager.getJob(id), undefined)
        await assert.rejects(h.manager.cancel(id), JobNotFoundError)
        await assert.rejects(h.manager.retry(id), JobNotFoundError)
        await assert.rejects(h.manager.deleteJob(id), JobNotFoundError)
        await assert.rejects(h.manager.onSettled(id), JobNotFoundError)
      }
      const counts = await h.manager.counts()
      const states: JobState[] = ['pending', 'running', 'failed', 'cancelled']
      assert.deepEqual(
        states.map((state) => counts[state]),
        [1, 1, 1, 1],
        'the other jobs are untouched',
      )
    })
  })
}
