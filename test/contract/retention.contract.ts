import assert from 'node:assert/strict'
import type { JobState } from 'express-background-jobs'
import type { ContractHarness, ContractOption, EngineFixture } from './fixture'
import { FAR_DELAY_MS, defineJob, settle, skipUnless, useHarnesses } from './helpers'

/** One finished state, the option that bounds it, and how a test puts a job in it. */
interface Bound {
  readonly state: Extract<JobState, 'completed' | 'failed' | 'cancelled'>
  readonly option: Extract<ContractOption, 'keepCompleted' | 'keepFailed' | 'keepCancelled'>
  /** Enqueues a job that ends in `state`, and waits until it has; resolves with its id. */
  readonly finishOne: (h: ContractHarness) => Promise<string>
}

const Completing = defineJob<null>('CompletingJob', () => {})
const Failing = defineJob<null>(
  'FailingJob',
  () => {
    throw new Error('fails')
  },
  { retry: { maxRetries: 0 } },
)
const Waiting = defineJob<null>('WaitingJob', () => {})

const BOUNDS: readonly Bound[] = [
  {
    state: 'completed',
    option: 'keepCompleted',
    async finishOne(h) {
      const id = await h.manager.enqueue(Completing, null)
      await settle(h, id)
      return id
    },
  },
  {
    state: 'failed',
    option: 'keepFailed',
    async finishOne(h) {
      const id = await h.manager.enqueue(Failing, null)
      await settle(h, id)
      return id
    },
  },
  {
    state: 'cancelled',
    option: 'keepCancelled',
    async finishOne(h) {
      const id = await h.manager.enqueue(Waiting, null, { delay: FAR_DELAY_MS })
      await h.manager.cancel(id)
      return id
    },
  },
]

/**
 * The retention contract: at most `keepCompleted` completed, `keepFailed` failed and
 * `keepCancelled` cancelled jobs are kept; past the bound, the oldest is forgotten.
 */
export function retentionContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (keeping finished jobs)', () => {
    const create = useHarnesses(fixture)

    for (const { state, option, finishOne } of BOUNDS) {
      it(`keeps at most ${option} ${state} jobs, forgetting the oldest first`, async function () {
        skipUnless(this, fixture, option)
        const h = await create({ jobs: [Completing, Failing, Waiting], options: { [option]: 2 } })
        const ids: string[] = []
        for (let n = 0; n < 4; n++) ids.push(await finishOne(h))
        const page = await h.manager.listJobs({ state })
        assert.deepEqual(
          page.items.map((job) => job.id),
          [ids[3], ids[2]],
        )
        assert.equal(page.total, 2)
        assert.equal((await h.manager.counts())[state], 2)
        for (const id of ids.slice(0, 2)) assert.equal(await h.manager.getJob(id), undefined, `job ${id} was forgotten`)
        for (const id of ids.slice(2)) assert.equal((await h.manager.getJob(id))?.state, state)
      })
    }
  })
}
