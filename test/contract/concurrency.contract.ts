import assert from 'node:assert/strict'
import { deferred } from '../support/deferred'
import type { EngineFixture } from './fixture'
import { defineJob, settleAll, until, useHarnesses } from './helpers'

/**
 * The concurrency contract: never more than `concurrency` attempts run at once; a slot freed by
 * an attempt that ends (completed, failed or timed out) goes to the next job.
 */
export function concurrencyContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (concurrency)', () => {
    const create = useHarnesses(fixture)

    it('never runs more than concurrency attempts at once, and starts the next one as one ends', async () => {
      const gates = Array.from({ length: 5 }, deferred)
      const log: string[] = []
      let running = 0
      let peak = 0
      const Job = defineJob<{ n: number }>('GatedJob', async ({ n }) => {
        log.push(`start ${n}`)
        peak = Math.max(peak, ++running)
        await gates[n]!.promise
        running--
        log.push(`end ${n}`)
      })
      const h = await create({ jobs: [Job], options: { concurrency: 2 } })
      const ids: string[] = []
      for (let n = 0; n < gates.length; n++) ids.push(await h.manager.enqueue(Job, { n }))
      await until(h, () => running === 2, 'two attempts to run')
      await h.advance(30)
      assert.equal(running, 2, 'no third attempt while two run')
      const counts = await h.manager.counts()
      assert.deepEqual([counts.running, counts.pending], [2, 3])
      gates[0]!.resolve()
      await until(h, () => log.length === 4, 'a third attempt to start once one ended')
      assert.deepEqual(new Set(log.slice(0, 2)), new Set(['start 0', 'start 1']))
      assert.deepEqual(log.slice(2), ['end 0', 'start 2'], 'the next job starts after one ended')
      for (const gate of gates) gate.resolve()
      const jobs = await settleAll(h, ids)
      assert.deepEqual(new Set(jobs.map((job) => job.state)), new Set(['completed']))
      assert.equal(peak, 2)
    })

    it('gives the slot of an attempt that fails or times out to the next job', async () => {
      const Failing = defineJob<null>('FailingJob', () => {
        throw new Error('fails')
      })
      const Hanging = defineJob<null>(
        'TimingOutJob',
        (_args, { signal }) =>
          new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      )
      const Fine = defineJob<null>('FineJob', () => {})
      const h = await create({
        jobs: [Failing, Hanging, Fine],
        options: { concurrency: 1, timeoutMs: 50, retry: { maxRetries: 0 } },
      })
      const ids = [
        await h.manager.enqueue(Failing, null),
        await h.manager.enqueue(Hanging, null),
        await h.manager.enqueue(Fine, null),
      ]
      const jobs = await settleAll(h, ids)
      assert.deepEqual(
        jobs.map((job) => [job.state, job.lastError?.name]),
        [
          ['failed', 'Error'],
          ['failed', 'JobTimeoutError'],
          ['completed', undefined],
        ],
      )
    })
  })
}
