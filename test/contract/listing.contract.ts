import assert from 'node:assert/strict'
import { JOB_STATES } from 'express-background-jobs'
import type { EngineFixture } from './fixture'
import { FAR_DELAY_MS, createJobsInEveryState, defineJob, settleAll, useHarnesses } from './helpers'

/**
 * The listing contract: `counts()` counts the jobs of every state; `listJobs` pages the jobs of
 * one state (`offset`, `limit`, `total`), pending jobs in the order they run, finished jobs newest
 * first.
 */
export function listingContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (listing and counts)', () => {
    const create = useHarnesses(fixture)

    it('counts no jobs in a new manager, then one in each state', async () => {
      const empty = await create({ jobs: [defineJob<null>('NoJob', () => {})] })
      assert.deepEqual(await empty.manager.counts(), { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 })
      const { h } = await createJobsInEveryState(create)
      assert.deepEqual(await h.manager.counts(), { pending: 1, running: 1, completed: 1, failed: 1, cancelled: 1 })
    })

    it('lists the jobs of each state, in that state, with their total', async () => {
      const { h, ids } = await createJobsInEveryState(create)
      for (const state of JOB_STATES) {
        const page = await h.manager.listJobs({ state })
        assert.deepEqual(
          page.items.map((job) => [job.id, job.state]),
          [[ids[state], state]],
          state,
        )
        assert.deepEqual(
          [page.total, page.offset, page.limit],
          [1, 0, 50],
          `${state}: total, and the default offset and limit`,
        )
      }
    })

    it('pages pending jobs in the order they run: offset skips, limit bounds, total counts them all', async () => {
      const Job = defineJob<{ n: number }>('PagedJob', () => {})
      const h = await create({ jobs: [Job] })
      const ids: string[] = []
      for (let n = 0; n < 5; n++) ids.push(await h.manager.enqueue(Job, { n }, { delay: FAR_DELAY_MS + n * 1000 }))
      const page = await h.manager.listJobs({ state: 'pending', offset: 1, limit: 2 })
      assert.deepEqual(
        page.items.map((job) => job.id),
        [ids[1], ids[2]],
      )
      assert.deepEqual([page.total, page.offset, page.limit], [5, 1, 2])
      assert.deepEqual(
        page.items.map((job) => job.args),
        [{ n: 1 }, { n: 2 }],
      )
      const last = await h.manager.listJobs({ state: 'pending', offset: 4, limit: 2 })
      assert.deepEqual(
        last.items.map((job) => job.id),
        [ids[4]],
      )
      const past = await h.manager.listJobs({ state: 'pending', offset: 5 })
      assert.deepEqual([past.items.length, past.total], [0, 5])
    })

    it('pages finished jobs newest first', async () => {
      const Job = defineJob<{ n: number }>('FinishedJob', () => {})
      const h = await create({ jobs: [Job], options: { concurrency: 1 } })
      const ids: string[] = []
      for (let n = 0; n < 5; n++) ids.push(await h.manager.enqueue(Job, { n }))
      await settleAll(h, ids)
      const page = await h.manager.listJobs({ state: 'completed', offset: 1, limit: 2 })
      assert.deepEqual(
        page.items.map((job) => job.id),
        [ids[3], ids[2]],
      )
      assert.equal(page.total, 5)
    })

    it('lists the first 50 jobs when no limit is given', async () => {
      const Job = defineJob<{ n: number }>('ManyJob', () => {})
      const h = await create({ jobs: [Job] })
      for (let n = 0; n < 60; n++) await h.manager.enqueue(Job, { n }, { delay: FAR_DELAY_MS })
      const page = await h.manager.listJobs({ state: 'pending' })
      assert.deepEqual([page.items.length, page.total], [50, 60])
    })
  })
}
