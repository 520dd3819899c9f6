import assert from 'node:assert/strict'
import {
  InvalidArgumentError,
  InvalidEnqueueOptionsError,
  InvalidJobArgsError,
  ManagerStoppedError,
  PendingJobsLimitError,
} from 'express-background-jobs'
import type { ContractHarness, EngineFixture } from './fixture'
import {
  FAR_DELAY_MS,
  assertRunsNoMore,
  bouncingJobs,
  createJobsInEveryState,
  defineJob,
  recordEvents,
  settle,
  settleAll,
  skipUnless,
  until,
  useHarnesses,
  withGapThatScales,
} from './helpers'

/** One attempt as a job saw it. */
interface Run {
  readonly id: string
  readonly args: unknown
  readonly at: number
}

/** A job named `name` that records each attempt in `runs`, reading the time from `h()`. */
function recordingJob<TArgs>(name: string, runs: Run[], h: () => ContractHarness) {
  return defineJob<TArgs>(name, (args, { jobId }) => void runs.push({ id: jobId, args, at: h().now() }))
}

/** Asserts that `refused` rejects with an instance of `ErrorClass` whose message matches `pattern`. */
async function assertRejects(
  refused: Promise<unknown>,
  ErrorClass: abstract new (...args: never[]) => Error,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(refused, (error: unknown) => {
    assert.ok(error instanceof ErrorClass, `expected a ${ErrorClass.name}, got ${String(error)}`)
    assert.match(error.message, pattern)
    return true
  })
}

/**
 * The bulk contract: `enqueueMany` stores a batch of one job class, all or nothing, and resolves
 * with the ids in order; its jobs run as jobs enqueued one by one do. `cancelMany` cancels the
 * pending jobs of a list of ids as `cancel` does each, and lists the others as skipped.
 */
export function bulkContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager.enqueueMany', () => {
    const create = useHarnesses(fixture)

    it('resolves with distinct ids in the order given, and runs each job once with its args, not before its delay or runAt', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ n: number }>('BulkJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const heard = recordEvents(h)
      const start = h.now()
      const at = new Date(start + 80)
      const ids = await h.manager.enqueueMany(Job, [
        { args: { n: 0 } },
        { args: { n: 1 }, delay: 40 },
        { args: { n: 2 }, runAt: at },
        { args: { n: 3 } },
      ])
      assert.equal(ids.length, 4)
      assert.equal(new Set(ids).size, 4, 'distinct ids')
      for (const id of ids) assert.equal(typeof id, 'string')
      const jobs = await settleAll(h, ids)
      assert.deepEqual(
        jobs.map((job) => [job.id, job.state, job.args]),
        ids.map((id, n) => [id, 'completed', { n }]),
      )
      for (const [n, job] of jobs.entries()) assert.equal(job.createdAt.getTime(), jobs[0]!.createdAt.getTime(), `${n}`)
      assert.equal(jobs[1]!.runAt.getTime(), jobs[1]!.createdAt.getTime() + 40)
      assert.equal(jobs[2]!.runAt.getTime(), at.getTime())
      assert.equal(runs.length, 4, 'each job ran once')
      const ranAt = new Map(runs.map((run) => [run.id, run]))
      for (const job of jobs) {
        const run = ranAt.get(job.id)
        assert.ok(run !== undefined && run.at >= job.runAt.getTime(), `job ${job.id} not before its time`)
        assert.deepEqual(run.args, job.args)
      }
      assert.deepEqual(
        heard.filter((e) => e.event === 'enqueued').map((e) => e.job.id),
        ids,
        'one enqueued event per job, in order',
      )
    })

    it('takes a job name as enqueue does, and copies the args: a change after the call does not reach the job', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ tags: string[] }>('NamedBulkJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const args = { tags: ['a'] }
      const ids = await h.manager.enqueueMany('NamedBulkJob', [{ args }, { args }])
      args.tags.push('changed')
      const jobs = await settleAll(h, ids)
      assert.deepEqual(
        jobs.map((job) => job.args),
        [{ tags: ['a'] }, { tags: ['a'] }],
      )
      assert.deepEqual(
        runs.map((run) => run.args),
        [{ tags: ['a'] }, { tags: ['a'] }],
      )
    })

    it('resolves an empty batch with [] and stores nothing', async () => {
      const Job = defineJob<null>('EmptyBulkJob', () => {})
      const h = await create({ jobs: [Job] })
      assert.deepEqual(await h.manager.enqueueMany(Job, []), [])
      assert.equal((await h.manager.counts()).pending, 0)
    })

    it('refuses the whole batch when one item is bad, with the error one enqueue gives, naming the item', async () => {
      const Job = defineJob<{ n: unknown }>('ValidatedBulkJob', () => {})
      const h = await create({ jobs: [Job] })
      const good = { args: { n: 1 } }
      const cases: [unknown[], abstract new (...args: never[]) => Error, RegExp][] = [
        [[good, good, { args: { n: () => 1 } }], InvalidJobArgsError, /`jobs\[2\]\.args\.n` is a function/],
        [[good, { args: { n: 1 }, delay: -5 }], InvalidEnqueueOptionsError, /`delay` in jobs\[1\]/],
        [[{ args: { n: 1 }, runAt: 'tomorrow' }], InvalidEnqueueOptionsError, /`runAt` in jobs\[0\]/],
        [[good, good, good, { args: { n: 1 }, dealy: 5 }], InvalidEnqueueOptionsError, /`dealy` in jobs\[3\]/],
        [[good, 'not a job'], InvalidEnqueueOptionsError, /jobs\[1\]/],
        [[good, { delay: 5 }], InvalidJobArgsError, /`jobs\[1\]\.args` is undefined/],
      ]
      for (const [batch, ErrorClass, pattern] of cases) {
        await assertRejects(h.manager.enqueueMany(Job, batch as never), ErrorClass, pattern)
      }
      await assertRejects(h.manager.enqueueMany(Job, 'no array' as never), InvalidArgumentError, /enqueueMany/)
      assert.equal((await h.manager.counts()).pending, 0, 'no job of a refused batch is stored')
    })

    it('refuses a batch that would pass maxPendingJobs whole, and accepts one that fits', async function () {
      skipUnless(this, fixture, 'maxPendingJobs')
      const Job = defineJob<null>('BoundedBulkJob', () => {})
      const h = await create({ jobs: [Job], options: { maxPendingJobs: 3 } })
      const later = { args: null, delay: FAR_DELAY_MS }
      await assert.rejects(h.manager.enqueueMany(Job, [later, later, later, later]), (error: unknown) => {
        assert.ok(error instanceof PendingJobsLimitError)
        assert.equal(error.limit, 3)
        assert.match(error.message, /batch of 4/)
        return true
      })
      assert.equal((await h.manager.counts()).pending, 0, 'nothing of the refused batch is stored')
      assert.equal((await h.manager.enqueueMany(Job, [later, later])).length, 2)
      await assert.rejects(h.manager.enqueueMany(Job, [later, later]), PendingJobsLimitError)
      assert.equal((await h.manager.counts()).pending, 2)
      assert.equal((await h.manager.enqueueMany(Job, [later])).length, 1)
    })

    it('rejects with ManagerStoppedError after stop', async () => {
      const Job = defineJob<null>('StoppedBulkJob', () => {})
      const h = await create({ jobs: [Job] })
      await h.manager.stop()
      await assert.rejects(h.manager.enqueueMany(Job, [{ args: null }]), ManagerStoppedError)
    })
  })

  describe('BackgroundJobManager.cancelMany', () => {
    const create = useHarnesses(fixture)

    it('cancels every pending job given, as cancel does, and lists running, finished and unknown ids as skipped', async () => {
      const { h, job, ids, release } = await createJobsInEveryState(create)
      const heard = recordEvents(h)
      const more = await h.manager.enqueueMany(job, [
        { args: { then: 'complete' }, delay: FAR_DELAY_MS },
        { args: { then: 'complete' }, delay: FAR_DELAY_MS },
      ])
      const unknown = 'no-such-job-1234'
      const given = [ids.completed, ids.pending, ids.running, unknown, more[0]!, ids.failed, ids.cancelled, more[1]!]
      const result = await h.manager.cancelMany(given)
      assert.equal(result.cancelled, 3)
      assert.deepEqual(result.skipped, [ids.completed, ids.running, unknown, ids.failed, ids.cancelled])
      for (const id of [ids.pending, ...more]) {
        const cancelled = await h.manager.getJob(id)
        assert.equal(cancelled?.state, 'cancelled')
        assert.ok(cancelled.finishedAt !== undefined)
        assert.equal(cancelled.attempts, 0)
      }
      for (const state of ['running', 'completed', 'failed'] as const) {
        assert.equal((await h.manager.getJob(ids[state]))?.state, state, `the ${state} job is left as it was`)
      }
      assert.deepEqual(
        heard
          .filter((e) => e.event === 'cancelled')
          .map((e) => e.job.id)
          .sort(),
        [ids.pending, ...more].sort(),
        'one cancelled event per cancelled job',
      )
      release()
      const counts = await h.manager.counts()
      assert.equal(counts.pending, 0)
    })

    it('cancels a batch larger than keepCancelled: every job is cancelled and never runs, and keepCancelled of them are kept', async () => {
      // The batch is due a gap after it is enqueued; on a machine too slow to cancel it before, the gap grows.
      await withGapThatScales(100, async (delay) => {
        const runs: Run[] = []
        const Job = recordingJob<{ n: number }>('ManyCancelledJob', runs, () => h)
        const h = await create({ jobs: [Job], options: { keepCancelled: 2 } })
        const batch = Array.from({ length: 6 }, (_, n) => ({ args: { n }, delay }))
        const enqueuedFrom = h.now()
        const ids = await h.manager.enqueueMany(Job, batch)
        const result = await h.manager.cancelMany([...ids, ids[0]!])
        if (h.now() >= enqueuedFrom + delay) return 'tooSlow'
        assert.deepEqual(result, { cancelled: 6, skipped: [ids[0]] })
        const counts = await h.manager.counts()
        assert.deepEqual([counts.pending, counts.cancelled], [0, 2])
        const kept = await h.manager.listJobs({ state: 'cancelled' })
        assert.equal(kept.total, 2)
        for (const job of kept.items) assert.ok(ids.includes(job.id), 'the kept ones are from the batch')
        await h.advance(2 * delay)
        assert.deepEqual(runs, [], 'no cancelled job runs')
        assert.equal((await h.manager.enqueueMany(Job, [{ args: { n: 9 } }])).length, 1, 'the engine goes on')
        return 'conclusive'
      })
    })

    it('never cancels a job that ran again meanwhile: each job is cancelled as its last attempt left it or skipped, and none runs after', async () => {
      // Retried at once, each job goes back and forth between pending and running while the batch
      // is read and removed: each must be skipped or taken as it is then (cancel's own promise).
      const { runs, jobs } = bouncingJobs('BouncingBulkJob')
      const h = await create({ jobs, options: { concurrency: 10 } })
      const failedOnce = new Set<string>()
      h.manager.on('retrying', (job) => void failedOnce.add(job.id))
      const ids: string[] = []
      for (const job of jobs) ids.push(await h.manager.enqueue(job, null))
      await until(h, () => failedOnce.size === ids.length, 'every job to fail once')
      const result = await h.manager.cancelMany(ids)
      for (const id of ids) {
        const job = await settle(h, id)
        assert.equal(job.state, result.skipped.includes(id) ? 'failed' : 'cancelled', `job ${id}`)
        assert.equal(job.attempts, runs.get(id), `job ${id}: the snapshot counts every attempt that ran`)
      }
      assert.equal(result.cancelled + result.skipped.length, ids.length)
      await assertRunsNoMore(h, ids, runs)
    })

    it('tells a cancelled listener of every job of a batch larger than keepCancelled', async () => {
      const Job = defineJob<null>('HeardCancelledJob', () => {})
      const h = await create({ jobs: [Job], options: { keepCancelled: 1 } })
      const heard = recordEvents(h)
      const ids = await h.manager.enqueueMany(
        Job,
        Array.from({ length: 4 }, () => ({ args: null, delay: FAR_DELAY_MS })),
      )
      assert.equal((await h.manager.cancelMany(ids)).cancelled, 4)
      assert.deepEqual(
        heard
          .filter((e) => e.event === 'cancelled')
          .map((e) => [e.job.id, e.job.state])
          .sort(),
        ids.map((id) => [id, 'cancelled']).sort(),
      )
    })

    it('skips the second mention of an id, and resolves an empty list with nothing cancelled', async () => {
      const Job = defineJob<null>('TwiceCancelledJob', () => {})
      const h = await create({ jobs: [Job] })
      const [id] = await h.manager.enqueueMany(Job, [{ args: null, delay: FAR_DELAY_MS }])
      assert.deepEqual(await h.manager.cancelMany([id!, id!]), { cancelled: 1, skipped: [id] })
      assert.deepEqual(await h.manager.cancelMany([]), { cancelled: 0, skipped: [] })
    })

    it('refuses a list holding something that is not an id, naming its index, before cancelling anything', async () => {
      const Job = defineJob<null>('GuardedCancelJob', () => {})
      const h = await create({ jobs: [Job] })
      const [id] = await h.manager.enqueueMany(Job, [{ args: null, delay: FAR_DELAY_MS }])
      for (const bad of ['', 42, 'x'.repeat(300)]) {
        await assertRejects(h.manager.cancelMany([id!, bad as string]), InvalidArgumentError, /ids\[1\]/)
      }
      await assertRejects(h.manager.cancelMany(id as never), InvalidArgumentError, /cancelMany/)
      assert.equal((await h.manager.getJob(id!))?.state, 'pending', 'nothing was cancelled')
    })
  })
}
