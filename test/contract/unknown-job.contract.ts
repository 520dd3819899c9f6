import assert from 'node:assert/strict'
import type { EngineFixture } from './fixture'
import { defineJob, recordEvents, settle, useHarnesses } from './helpers'

/**
 * The unknown-job contract: a job enqueued by a name no registered job has is accepted, then
 * fails at its first attempt with `UnknownJobError`, without retry, and stops nothing else.
 */
export function unknownJobContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (unknown job name)', () => {
    const create = useHarnesses(fixture)

    it('fails a job enqueued under a name no job has at its first attempt, with UnknownJobError and no retry', async () => {
      const Known = defineJob<null>('KnownJob', () => {})
      const h = await create({ jobs: [Known], options: { retry: { maxRetries: 3, initialDelayMs: 20 } } })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue('NoSuchJob', { n: 1 })
      assert.equal(typeof id, 'string')
      const job = await settle(h, id)
      assert.equal(job.state, 'failed')
      assert.equal(job.name, 'NoSuchJob')
      assert.equal(job.attempts, 1)
      assert.equal(job.lastError?.name, 'UnknownJobError')
      assert.match(job.lastError?.message ?? '', /NoSuchJob/)
      assert.deepEqual(job.args, { n: 1 })
      await h.advance(100)
      assert.equal((await h.manager.getJob(id))?.attempts, 1, 'not retried')
      assert.deepEqual(
        heard.filter((e) => e.event === 'retrying'),
        [],
      )
      assert.equal(
        (await settle(h, await h.manager.enqueue(Known, null))).state,
        'completed',
        'registered jobs still run',
      )
    })
  })
}
