import assert from 'node:assert/strict'
import { PendingJobsLimitError, type JobContext } from 'express-background-jobs'
import { deferred } from '../support/deferred'
import type { ContractHarness, EngineFixture } from './fixture'
import {
  FAR_DELAY_MS,
  advanceToJustBefore,
  assertPendingBefore,
  defineJob,
  settle,
  settleAll,
  skipUnless,
  until,
  useHarnesses,
  withGapThatScales,
} from './helpers'

/** One attempt as a job saw it. */
interface Run {
  readonly args: unknown
  readonly ctx: Pick<JobContext, 'jobId' | 'jobName' | 'attempt' | 'maxAttempts'>
  /** The engine's time when the attempt started. */
  readonly at: number
}

/** A job named `name` that records each of its attempts in `runs`, reading the time from `h()`. */
function recordingJob<TArgs>(name: string, runs: Run[], h: () => ContractHarness) {
  return defineJob<TArgs>(name, (args, { jobId, jobName, attempt, maxAttempts }) => {
    runs.push({ args, ctx: { jobId, jobName, attempt, maxAttempts }, at: h().now() })
  })
}

/**
 * The enqueue contract: a job enqueued now, after a delay or at a time runs once, never before
 * its time, with the args it was given; ids are distinct strings; `maxPendingJobs` is a hard bound.
 */
export function enqueueContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager.enqueue', () => {
    const create = useHarnesses(fixture)

    it('runs a job enqueued without options once, after enqueue has returned, and completes it', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ n: number }>('NowJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const enqueuing = h.manager.enqueue(Job, { n: 1 })
      assert.equal(runs.length, 0, 'enqueue must not run the job in the caller’s stack')
      const id = await enqueuing
      const job = await settle(h, id)
      assert.equal(job.state, 'completed')
      assert.equal(job.attempts, 1)
      assert.equal(job.name, 'NowJob')
      assert.deepEqual(
        runs.map((run) => run.ctx),
        [{ jobId: id, jobName: 'NowJob', attempt: 1, maxAttempts: job.maxAttempts }],
      )
      assert.ok(runs[0]!.at >= job.runAt.getTime(), 'not before its time')
      assert.ok(
        job.lastRunAt !== undefined && job.finishedAt !== undefined,
        'a finished job has lastRunAt and finishedAt',
      )
      assert.ok(job.lastRunAt.getTime() >= job.createdAt.getTime())
      assert.ok(job.finishedAt.getTime() >= job.lastRunAt.getTime())
    })

    it('runs a delayed job at createdAt + delay, never earlier', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ n: number }>('DelayedJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, { n: 1 }, { delay: 100 })
      const pending = await h.manager.getJob(id)
      assert.ok(pending !== undefined)
      const dueAt = pending.createdAt.getTime() + 100
      assert.equal(pending.runAt.getTime(), dueAt, 'runAt is createdAt + delay')
      assert.equal(pending.attempts, 0)
      await advanceToJustBefore(h, dueAt)
      await assertPendingBefore(h, id, dueAt)
      const job = await settle(h, id)
      assert.equal(job.state, 'completed')
      assert.equal(runs.length, 1)
      assert.ok(runs[0]!.at >= dueAt, `started at ${runs[0]!.at}, before its time ${dueAt}`)
    })

    it('runs a job at the runAt Date it was given, never earlier', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ n: number }>('AtJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const runAt = new Date(h.now() + 150)
      const id = await h.manager.enqueue(Job, { n: 1 }, { runAt })
      assert.equal((await h.manager.getJob(id))?.runAt.getTime(), runAt.getTime())
      await advanceToJustBefore(h, runAt.getTime())
      await assertPendingBefore(h, id, runAt.getTime())
      const job = await settle(h, id)
      assert.equal(job.state, 'completed')
      assert.ok(runs[0]!.at >= runAt.getTime(), `started at ${runs[0]!.at}, before its runAt ${runAt.getTime()}`)
    })

    it('treats a runAt in the past, and a delay of 0, as now', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ n: number }>('PastJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const past = await h.manager.enqueue(Job, { n: 1 }, { runAt: new Date(h.now() - 60_000) })
      const zero = await h.manager.enqueue(Job, { n: 2 }, { delay: 0 })
      for (const id of [past, zero]) {
        const pending = await h.manager.getJob(id)
        assert.ok(pending !== undefined)
        assert.equal(pending.runAt.getTime(), pending.createdAt.getTime(), 'due when it was enqueued')
      }
      const jobs = await settleAll(h, [past, zero])
      assert.deepEqual(
        jobs.map((job) => job.state),
        ['completed', 'completed'],
      )
    })

    it('starts due jobs in the order they were enqueued', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ n: number }>('FifoJob', runs, () => h)
      const h = await create({ jobs: [Job], options: { concurrency: 1 } })
      const ids: string[] = []
      for (let n = 0; n < 5; n++) ids.push(await h.manager.enqueue(Job, { n }))
      await settleAll(h, ids)
      assert.deepEqual(
        runs.map((run) => run.ctx.jobId),
        ids,
      )
    })

    it('starts delayed jobs in the order of their due times, whatever the order they were enqueued in', async () => {
      // Each job's time is fixed before the first enqueue, a gap apart; on a machine too slow to
      // enqueue all three before the first is due the gap grows.
      await withGapThatScales(50, async (gapMs) => {
        const runs: Run[] = []
        const Job = recordingJob<{ offset: number }>('DueOrderJob', runs, () => h)
        const h = await create({ jobs: [Job], options: { concurrency: 1 } })
        const base = h.now()
        const byOffset = new Map<number, string>()
        for (const offset of [3 * gapMs, gapMs, 2 * gapMs]) {
          byOffset.set(offset, await h.manager.enqueue(Job, { offset }, { runAt: new Date(base + offset) }))
        }
        const isInTime = h.now() < base + gapMs
        const jobs = await settleAll(h, [...byOffset.values()])
        for (const job of jobs) {
          const run = runs.find((r) => r.ctx.jobId === job.id)
          assert.ok(run !== undefined && run.at >= job.runAt.getTime(), `job ${job.id} started before its time`)
        }
        if (!isInTime) return 'tooSlow'
        assert.deepEqual(
          runs.map((run) => run.ctx.jobId),
          [byOffset.get(gapMs), byOffset.get(2 * gapMs), byOffset.get(3 * gapMs)],
        )
        return 'conclusive'
      })
    })

    it('gives every job an id of its own, a string that getJob answers to', async () => {
      const Job = defineJob<{ n: number }>('IdJob', () => {})
      const h = await create({ jobs: [Job] })
      const ids: string[] = []
      for (let n = 0; n < 10; n++) ids.push(await h.manager.enqueue(Job, { n }, { delay: FAR_DELAY_MS }))
      for (const id of ids) {
        assert.equal(typeof id, 'string')
        assert.notEqual(id, '')
        assert.equal((await h.manager.getJob(id))?.id, id)
      }
      assert.equal(new Set(ids).size, ids.length, 'ids are distinct')
    })

    it('rejects an enqueue past maxPendingJobs with PendingJobsLimitError, keeps every accepted job, and accepts again once they ran', async function () {
      skipUnless(this, fixture, 'maxPendingJobs')
      const gate = deferred()
      const Blocker = defineJob<null>('Blocker', () => gate.promise)
      const Job = defineJob<{ n: number }>('LimitedJob', () => {})
      const h = await create({ jobs: [Blocker, Job], options: { concurrency: 1, maxPendingJobs: 3 } })
      // The blocker holds the one slot, so the three jobs after it stay pending, however long this takes.
      const blocker = await h.manager.enqueue(Blocker, null)
      await until(h, async () => (await h.manager.getJob(blocker))?.state === 'running', 'the blocker to start')
      const ids: string[] = []
      for (let n = 0; n < 3; n++) ids.push(await h.manager.enqueue(Job, { n }))
      await assert.rejects(h.manager.enqueue(Job, { n: 3 }), (error: unknown) => {
        assert.ok(error instanceof PendingJobsLimitError)
        assert.match(error.message, /maxPendingJobs/)
        return true
      })
      assert.equal((await h.manager.counts()).pending, 3, 'nothing was enqueued')
      gate.resolve()
      const jobs = await settleAll(h, [blocker, ...ids])
      assert.deepEqual(new Set(jobs.map((job) => job.state)), new Set(['completed']))
      assert.equal((await settle(h, await h.manager.enqueue(Job, { n: 4 }))).state, 'completed')
    })
  })

  describe('BackgroundJobManager.enqueue (args)', () => {
    const create = useHarnesses(fixture)

    /** JSON data of every kind: what a job's args may hold. */
    const ARGS = {
      text: 'masa ✓ 日本',
      empty: '',
      integer: 42,
      negative: -7,
      fraction: 0.25,
      isOn: true,
      isOff: false,
      nothing: null,
      list: [1, 'two', null, [3, [4]], { five: 5 }],
      emptyList: [],
      nested: { deeper: { deepest: { leaf: 'x' } } },
      emptyObject: {},
    }

    it('passes the job args equal to those given, and getJob and onSettled return them too', async () => {
      const runs: Run[] = []
      const Job = recordingJob<typeof ARGS>('ArgsJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, ARGS)
      assert.deepEqual((await h.manager.getJob(id))?.args, ARGS)
      const job = await settle(h, id)
      assert.deepEqual(job.args, ARGS)
      assert.deepEqual(
        runs.map((run) => run.args),
        [ARGS],
      )
    })

    it('keeps args as JSON would: undefined properties left out, undefined array items as null', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ a: number; b?: number; list: (number | undefined)[] }>('JsonJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, { a: 1, b: undefined, list: [1, undefined, 3] })
      const expected = { a: 1, list: [1, null, 3] }
      assert.deepEqual((await h.manager.getJob(id))?.args, expected)
      await settle(h, id)
      assert.deepEqual(runs[0]?.args, expected)
    })

    it('copies args at enqueue: a later change by the caller reaches neither the job nor getJob', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ name: string; nested: { list: number[] } }>('CopyJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const args = { name: 'before', nested: { list: [1, 2] } }
      const id = await h.manager.enqueue(Job, args, { delay: 50 })
      args.name = 'after'
      args.nested.list.push(3)
      const expected = { name: 'before', nested: { list: [1, 2] } }
      assert.deepEqual((await h.manager.getJob(id))?.args, expected)
      await settle(h, id)
      assert.deepEqual(runs[0]?.args, expected)
    })

    it('returns snapshots whose args the caller may change without changing the job', async () => {
      const runs: Run[] = []
      const Job = recordingJob<{ name: string; list: number[] }>('SnapshotJob', runs, () => h)
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, { name: 'x', list: [1] }, { delay: 50 })
      const snapshot = await h.manager.getJob(id)
      const args = snapshot?.args as { name: string; list: number[] }
      args.name = 'changed'
      args.list.push(2)
      assert.deepEqual((await h.manager.getJob(id))?.args, { name: 'x', list: [1] })
      await settle(h, id)
      assert.deepEqual(runs[0]?.args, { name: 'x', list: [1] })
    })
  })
}
