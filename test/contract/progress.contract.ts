import assert from 'node:assert/strict'
import express from 'express'
import request from 'supertest'
import { InvalidArgumentError, backgroundJobsAdminRouter, type JobInfo } from 'express-background-jobs'
import { deferred } from '../support/deferred'
import type { EngineFixture } from './fixture'
import { defineJob, settle, until, useHarnesses } from './helpers'

/** What `GET api/jobs/:id` of the admin router answers, dates as JSON strings. */
interface JobJson {
  readonly progress?: unknown
  readonly logs: { at: string; message: string }[]
  readonly history: {
    attempt: number
    outcome: string
    startedAt: string
    finishedAt?: string
    error?: { name: string; message: string; stack?: string }
  }[]
}

/**
 * The progress contract: what a job reports with `ctx.updateProgress` and `ctx.log` is kept with
 * it (the last progress, the last 100 lines), and `history` has one entry per attempt with its
 * times, outcome and error, in every snapshot: `onSettled`, `getJob` and the admin API.
 */
export function progressContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (progress, log lines and attempt history)', () => {
    const create = useHarnesses(fixture)

    it('shows the progress, the log lines and both attempts of a job that failed once, then succeeded', async () => {
      const Job = defineJob<{ file: string }>(
        'ReportingJob',
        (args, ctx) => {
          ctx.log(`attempt ${ctx.attempt}: reading ${args.file}`)
          ctx.updateProgress(ctx.attempt === 1 ? 30 : { done: 3, of: 3 })
          if (ctx.attempt === 1) throw new TypeError(`${args.file} is locked`)
          ctx.log('done')
        },
        { retry: { maxRetries: 1, initialDelayMs: 0 } },
      )
      const h = await create({ jobs: [Job] })
      const before = h.now()
      const id = await h.manager.enqueue(Job, { file: 'data.csv' })
      const settled = await settle(h, id)
      const read = await h.manager.getJob(id)
      assert.ok(read !== undefined)
      for (const [where, job] of [
        ['onSettled', settled],
        ['getJob', read],
      ] as const) {
        assert.equal(job.state, 'completed', where)
        assert.deepEqual(job.progress, { done: 3, of: 3 }, where)
        assert.deepEqual(
          job.logs.map((line) => line.message),
          ['attempt 1: reading data.csv', 'attempt 2: reading data.csv', 'done'],
          where,
        )
        for (const line of job.logs) {
          assert.ok(line.at instanceof Date, where)
          assert.ok(
            line.at.getTime() >= before && line.at.getTime() <= h.now(),
            `${where}: a line's time is when it was logged`,
          )
        }
        assert.deepEqual(
          job.history.map((entry) => [entry.attempt, entry.outcome, entry.error?.name, entry.error?.message]),
          [
            [1, 'failed', 'TypeError', 'data.csv is locked'],
            [2, 'completed', undefined, undefined],
          ],
          where,
        )
        const [first, second] = job.history
        assert.match(first?.error?.stack ?? '', /^TypeError: data\.csv is locked\n\s+at /, where)
        assert.ok(first !== undefined && second !== undefined && first.finishedAt !== undefined)
        assert.ok(first.startedAt.getTime() <= first.finishedAt.getTime(), where)
        assert.ok(first.finishedAt.getTime() <= second.startedAt.getTime(), where)
        assert.deepEqual(second.startedAt, job.lastRunAt, `${where}: the last attempt started at lastRunAt`)
        assert.deepEqual(second.finishedAt, job.finishedAt, `${where}: and ended the job`)
      }

      const app = express().use('/admin', backgroundJobsAdminRouter(h.container))
      const shown = (await request(app).get(`/admin/api/jobs/${id}`).expect(200)).body as JobJson
      assert.deepEqual(shown.progress, { done: 3, of: 3 })
      assert.deepEqual(
        shown.logs.map((line) => [line.message, Date.parse(line.at)]),
        read.logs.map((line) => [line.message, line.at.getTime()]),
      )
      assert.deepEqual(
        shown.history.map((entry) => [entry.attempt, entry.outcome, entry.error?.message, Date.parse(entry.startedAt)]),
        read.history.map((entry) => [entry.attempt, entry.outcome, entry.error?.message, entry.startedAt.getTime()]),
      )
    })

    it('shows nothing reported for a job that reports nothing: no progress, no lines, one completed attempt', async () => {
      const Job = defineJob<null>('QuietJob', () => {})
      const h = await create({ jobs: [Job] })
      const later = await h.manager.enqueue(Job, null, { delay: 60_000 })
      const pending = await h.manager.getJob(later)
      assert.deepEqual([pending?.progress, pending?.logs, pending?.history], [undefined, [], []])
      const id = await h.manager.enqueue(Job, null)
      for (const job of [await settle(h, id), await h.manager.getJob(id)]) {
        assert.ok(job !== undefined)
        assert.equal('progress' in job, false, 'progress is absent when none was reported')
        assert.deepEqual(job.logs, [])
        assert.deepEqual(
          job.history.map((entry) => [entry.attempt, entry.outcome, 'error' in entry]),
          [[1, 'completed', false]],
        )
      }
    })

    it('shows a running job’s progress, its lines and its running attempt while it runs', async () => {
      const gate = deferred()
      const Job = defineJob<null>('SlowJob', async (_args, ctx) => {
        ctx.updateProgress(40)
        ctx.log('halfway')
        await gate.promise
      })
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, null)
      let running: JobInfo | undefined
      await until(
        h,
        async () => {
          running = await h.manager.getJob(id)
          // Its state and hash are two reads: wait until both show it running with its reports.
          return running?.state === 'running' && running.progress === 40 && running.logs.length === 1
        },
        `job ${id} to report its progress`,
      )
      assert.deepEqual(
        running?.history.map((entry) => [entry.attempt, entry.outcome, 'finishedAt' in entry]),
        [[1, 'running', false]],
      )
      gate.resolve()
      assert.equal((await settle(h, id)).progress, 40)
    })

    it('keeps the last 100 lines, clips a long one, and refuses bad progress and messages in the attempt', async () => {
      const refused: string[] = []
      const Job = defineJob<null>('ChattyJob', (_args, ctx) => {
        for (let i = 1; i <= 150; i++) ctx.log(`line ${i}`)
        ctx.log('x'.repeat(3000))
        for (const bad of [101, -1, Number.NaN, [1], { big: 'y'.repeat(2000) }]) {
          try {
            ctx.updateProgress(bad as number)
          } catch (error) {
            refused.push(error instanceof InvalidArgumentError ? 'InvalidArgumentError' : String(error))
          }
        }
        try {
          ctx.log(42 as unknown as string)
        } catch (error) {
          refused.push(error instanceof InvalidArgumentError ? 'InvalidArgumentError' : String(error))
        }
      })
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, null)
      for (const job of [await settle(h, id), await h.manager.getJob(id)]) {
        assert.ok(job !== undefined)
        assert.equal(job.logs.length, 100)
        assert.equal(job.logs[0]?.message, 'line 52')
        const long = job.logs.at(-1)?.message ?? ''
        assert.equal(long.length, 2000)
        assert.ok(long.endsWith('\u2026'))
        assert.equal('progress' in job, false, 'refused progress is not stored')
      }
      assert.deepEqual(refused, Array(6).fill('InvalidArgumentError'))
    })

    it('keeps every failed attempt of a job that fails for good, and a retry by hand numbers its attempts from 1 after them', async () => {
      const Job = defineJob<null>(
        'DoomedJob',
        (_args, ctx) => {
          ctx.log(`attempt ${ctx.attempt}`)
          throw new RangeError(`attempt ${ctx.attempt} failed`)
        },
        { retry: { maxRetries: 1, initialDelayMs: 0 } },
      )
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, null)
      const failed = await settle(h, id)
      assert.deepEqual(
        failed.history.map((entry) => [entry.attempt, entry.outcome, entry.error?.name, entry.error?.message]),
        [
          [1, 'failed', 'RangeError', 'attempt 1 failed'],
          [2, 'failed', 'RangeError', 'attempt 2 failed'],
        ],
      )
      assert.deepEqual(failed.history[1]?.error?.message, failed.lastError?.message)
      const retried = await h.manager.retry(id)
      assert.deepEqual(
        retried.history.map((entry) => [entry.attempt, entry.outcome]),
        [
          [1, 'failed'],
          [2, 'failed'],
        ],
        'the pending retry shows the attempts so far',
      )
      const again = await settle(h, id)
      assert.deepEqual(
        again.history.map((entry) => [entry.attempt, entry.outcome, entry.error?.message]),
        [
          [1, 'failed', 'attempt 1 failed'],
          [2, 'failed', 'attempt 2 failed'],
          [1, 'failed', 'attempt 1 failed'],
          [2, 'failed', 'attempt 2 failed'],
        ],
      )
      assert.deepEqual(
        (await h.manager.getJob(id))?.logs.map((line) => line.message),
        ['attempt 1', 'attempt 2', 'attempt 1', 'attempt 2'],
      )
    })

    it('keeps what a job reported in its cancelled snapshot', async () => {
      const Job = defineJob<null>(
        'FlakyOnceJob',
        (_args, ctx) => {
          ctx.log('tried')
          throw new Error('not yet')
        },
        { retry: { maxRetries: 1, initialDelayMs: 60_000 } },
      )
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, null)
      // Pending again with one attempt in its history: failed once and waiting for its retry (a
      // running first attempt is in the history too, and cannot be cancelled).
      await until(
        h,
        async () => {
          const job = await h.manager.getJob(id)
          return job?.state === 'pending' && job.history.length === 1
        },
        `job ${id} to fail once`,
      )
      await h.manager.cancel(id)
      for (const job of [await h.manager.getJob(id), (await h.manager.listJobs({ state: 'cancelled' })).items[0]]) {
        assert.equal(job?.state, 'cancelled')
        assert.deepEqual(
          job?.logs.map((line) => line.message),
          ['tried'],
        )
        assert.ok(job?.logs[0]?.at instanceof Date)
        assert.deepEqual(
          job?.history.map((entry) => [
            entry.attempt,
            entry.outcome,
            entry.error?.message,
            entry.startedAt instanceof Date,
          ]),
          [[1, 'failed', 'not yet', true]],
        )
      }
    })
  })
}
