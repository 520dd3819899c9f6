import assert from 'node:assert/strict'
import type { EngineFixture } from './fixture'
import { FAR_DELAY_MS, defineJob, recordEvents, settle, useHarnesses, type HeardEvent } from './helpers'

/** What a test compares of an event: its name and its snapshot's id, state and attempts. */
function summary(events: readonly HeardEvent[], id: string): [string, string, number][] {
  return events.filter((e) => e.job.id === id).map((e) => [e.event, e.job.state, e.job.attempts])
}

/**
 * The event contract: `enqueued`, `started`, `retrying` and one of `completed`, `failed` or
 * `cancelled`, in the order they happen, each with a snapshot of the job in the matching state.
 */
export function eventsContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (events)', () => {
    const create = useHarnesses(fixture)

    it('emits enqueued, started and completed, in that order, with snapshots in those states', async () => {
      const Job = defineJob<{ n: number }>('EventJob', () => {})
      const h = await create({ jobs: [Job] })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue(Job, { n: 3 })
      await settle(h, id)
      assert.deepEqual(summary(heard, id), [
        ['enqueued', 'pending', 0],
        ['started', 'running', 1],
        ['completed', 'completed', 1],
      ])
      assert.deepEqual(
        heard.map((e) => [e.job.name, e.job.args]),
        heard.map(() => ['EventJob', { n: 3 }]),
      )
    })

    it('emits retrying between attempts and failed at the end, with the failed attempt’s error', async () => {
      const Job = defineJob<null>('FailingEventJob', (_args, { attempt }) => {
        throw new Error(`attempt ${attempt}`)
      })
      const h = await create({ jobs: [Job], options: { retry: { maxRetries: 1, initialDelayMs: 20 } } })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue(Job, null)
      await settle(h, id)
      assert.deepEqual(summary(heard, id), [
        ['enqueued', 'pending', 0],
        ['started', 'running', 1],
        ['retrying', 'pending', 1],
        ['started', 'running', 2],
        ['failed', 'failed', 2],
      ])
      const retrying = heard.find((e) => e.event === 'retrying')
      const failed = heard.find((e) => e.event === 'failed')
      assert.ok(retrying !== undefined && failed !== undefined)
      assert.equal(retrying.job.lastError?.message, 'attempt 1')
      assert.ok(retrying.job.runAt.getTime() >= retrying.at, 'retrying carries the retry’s time, still to come')
      assert.equal(failed.job.lastError?.message, 'attempt 2')
    })

    it('emits cancelled with the cancelled job’s snapshot', async () => {
      const Job = defineJob<null>('CancelledEventJob', () => {})
      const h = await create({ jobs: [Job] })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue(Job, null, { delay: FAR_DELAY_MS })
      await h.manager.cancel(id)
      assert.deepEqual(summary(heard, id), [
        ['enqueued', 'pending', 0],
        ['cancelled', 'cancelled', 0],
      ])
    })

    it('stops calling a listener once the function on() returned is called', async () => {
      const Job = defineJob<null>('OffJob', () => {})
      const h = await create({ jobs: [Job] })
      const heard: string[] = []
      const off = h.manager.on('completed', (job) => heard.push(job.id))
      const first = await h.manager.enqueue(Job, null)
      await settle(h, first)
      off()
      await settle(h, await h.manager.enqueue(Job, null))
      assert.deepEqual(heard, [first])
    })

    it('carries on when a listener throws: the other listeners still hear the event and the job completes', async () => {
      const Job = defineJob<null>('ThrowingListenerJob', () => {})
      const h = await create({ jobs: [Job] })
      h.manager.on('started', () => {
        throw new Error('listener failed')
      })
      const heard: string[] = []
      h.manager.on('started', (job) => heard.push(job.id))
      const id = await h.manager.enqueue(Job, null)
      assert.equal((await settle(h, id)).state, 'completed')
      assert.deepEqual(heard, [id])
    })

    it('stops calling a listener removed with off, and warns once past 100 listeners of one event', async () => {
      const Job = defineJob<null>('OffJob', () => {})
      const h = await create({ jobs: [Job] })
      const heard: string[] = []
      const listener = (job: { id: string }): void => {
        heard.push(job.id)
      }
      h.manager.on('completed', listener)
      const first = await h.manager.enqueue(Job, null)
      await settle(h, first)
      h.manager.off('completed', listener)
      await settle(h, await h.manager.enqueue(Job, null))
      assert.deepEqual(heard, [first], 'not called after off')

      const extra = Array.from({ length: 101 }, () => () => {})
      for (const added of extra.slice(0, 100)) h.manager.on('started', added)
      const leak = /More than 100 "started" listeners/
      assert.equal(h.logger.messages('warn').filter((m) => leak.test(m)).length, 0, 'no warning at 100')
      h.manager.on('started', extra[100]!)
      h.manager.on('started', () => {})
      assert.equal(h.logger.messages('warn').filter((m) => leak.test(m)).length, 1, 'one warning past 100')
    })
  })
}
