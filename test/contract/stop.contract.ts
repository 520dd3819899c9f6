import assert from 'node:assert/strict'
import { ManagerStoppedError, type JobInfo, type StopResult } from 'express-background-jobs'
import { deferred } from '../support/deferred'
import type { EngineFixture } from './fixture'
import { FAR_DELAY_MS, advanceToJustBefore, defineJob, until, useHarnesses, recordEvents } from './helpers'

/** What a test saw of a job's signal. */
interface Watched {
  signal?: AbortSignal
  /** The engine's time when the signal was aborted. */
  abortedAt?: number
}

/**
 * The stop contract: `stop()` starts nothing new, lets running attempts drain (for at most
 * `timeoutMs`, then aborts their signals) or aborts them at once with `drain: false`, resolves
 * with what is left, returns the same promise every time, and refuses new work afterwards.
 */
export function stopContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager.stop', () => {
    const create = useHarnesses(fixture)

    it('drains: waits for the running attempt, starts nothing new, and resolves with what is left pending', async () => {
      const gate = deferred()
      const runs: number[] = []
      const Job = defineJob<{ n: number }>('DrainedJob', async ({ n }) => {
        runs.push(n)
        if (n === 0) await gate.promise
      })
      const h = await create({ jobs: [Job], options: { concurrency: 1 } })
      const running = await h.manager.enqueue(Job, { n: 0 })
      await until(h, () => runs.length === 1, 'the first job to start')
      const due = await h.manager.enqueue(Job, { n: 1 })
      const delayed = await h.manager.enqueue(Job, { n: 2 }, { delay: 100 })
      const seen: { result?: StopResult; settled?: JobInfo } = {}
      void h.manager.onSettled(running).then((job) => (seen.settled = job))
      void h.manager.stop().then((result) => (seen.result = result))
      assert.equal(h.manager.isStopped, true)
      await h.advance(30)
      assert.equal(seen.result, undefined, 'stop waits for the running attempt')
      gate.resolve()
      await until(h, () => seen.result !== undefined, 'stop to resolve')
      assert.deepEqual(seen.result, { pending: 2, running: 0, interrupted: 0 })
      assert.equal(seen.settled?.state, 'completed', 'the drained job completed, and its waiter heard it')
      await h.advance(150)
      assert.deepEqual(runs, [0], 'nothing started after stop, not even a job that fell due')
      for (const id of [due, delayed]) assert.equal((await h.manager.getJob(id))?.state, 'pending')
    })

    it('returns the same promise from every call, whatever its options', async () => {
      const h = await create({ jobs: [defineJob<null>('IdleJob', () => {})] })
      const stopping = h.manager.stop()
      assert.equal(h.manager.stop({ drain: false }), stopping)
      assert.equal(h.manager.stop({ timeoutMs: 1 }), stopping)
      assert.deepEqual(await stopping, { pending: 0, running: 0, interrupted: 0 })
      assert.equal(h.manager.stop(), stopping, 'also once it has resolved')
    })

    it('refuses new work once stopped with ManagerStoppedError: enqueue in every form, and addOrUpdateSchedule', async () => {
      const Job = defineJob<null>('RefusedJob', () => {})
      const h = await create({ jobs: [Job] })
      await h.manager.stop()
      await assert.rejects(h.manager.enqueue(Job, null), ManagerStoppedError)
      await assert.rejects(h.manager.enqueue('RefusedJob', null, { delay: 10 }), ManagerStoppedError)
      await assert.rejects(
        h.manager.addOrUpdateSchedule({ id: 'late', cron: '* * * * * *', job: Job, args: null }),
        ManagerStoppedError,
      )
      assert.deepEqual(
        await h.manager.counts(),
        { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
        'nothing was enqueued',
      )
      assert.deepEqual(await h.manager.listSchedules(), [])
    })

    it('gives running attempts timeoutMs to finish, then aborts their signals with ManagerStoppedError and counts them running', async () => {
      const watched: Watched = {}
      const Job = defineJob<null>('StubbornJob', (_args, { signal }) => {
        watched.signal = signal
        signal.addEventListener('abort', () => (watched.abortedAt = h.now()))
        return new Promise(() => {})
      })
      const h = await create({ jobs: [Job] })
      await h.manager.enqueue(Job, null)
      await until(h, () => watched.signal !== undefined, 'the attempt to start')
      const stoppedAt = h.now()
      const seen: { result?: StopResult } = {}
      void h.manager.stop({ timeoutMs: 50 }).then((result) => (seen.result = result))
      await advanceToJustBefore(h, stoppedAt + 50)
      if (h.now() < stoppedAt + 50) {
        assert.equal(watched.signal?.aborted, false, 'not aborted before the drain timeout')
        assert.equal(seen.result, undefined)
      }
      await until(h, () => seen.result !== undefined, 'stop to resolve')
      assert.deepEqual(seen.result, { pending: 0, running: 1, interrupted: 0 })
      assert.equal(watched.signal?.aborted, true)
      assert.ok(watched.signal?.reason instanceof ManagerStoppedError)
      assert.ok(
        watched.abortedAt !== undefined && watched.abortedAt - stoppedAt >= 50,
        'aborted once the drain timeout passed',
      )
    })

    it('with drain: false, aborts the running attempt’s signal at once, starts nothing new, and counts it running', async () => {
      const watched: Watched = {}
      const runs: string[] = []
      const Stubborn = defineJob<null>('StubbornJob', (_args, { signal, jobId }) => {
        runs.push(jobId)
        watched.signal = signal
        return new Promise(() => {})
      })
      const h = await create({ jobs: [Stubborn], options: { concurrency: 1 } })
      const running = await h.manager.enqueue(Stubborn, null)
      await until(h, () => watched.signal !== undefined, 'the attempt to start')
      const waiting = await h.manager.enqueue(Stubborn, null)
      assert.deepEqual(await h.manager.stop({ drain: false }), { pending: 1, running: 1, interrupted: 0 })
      assert.equal(watched.signal?.aborted, true)
      assert.ok(watched.signal?.reason instanceof ManagerStoppedError)
      await h.advance(50)
      assert.deepEqual(runs, [running], 'the waiting job never started')
      assert.equal((await h.manager.getJob(waiting))?.state, 'pending')
    })

    it('reports attempts that end on the stop’s abort as interrupted, not failed: no failed event, the job pending again', async () => {
      const started: string[] = []
      const Polite = defineJob<null>('PoliteJob', (_args, { signal, jobId }) => {
        started.push(jobId)
        return new Promise<void>((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error)),
        )
      })
      const h = await create({ jobs: [Polite], options: { concurrency: 3, retry: { maxRetries: 0 } } })
      const heard = recordEvents(h)
      const ids = [await h.manager.enqueue(Polite, null), await h.manager.enqueue(Polite, null)]
      await until(h, () => started.length === 2, 'both attempts to start')
      assert.deepEqual(await h.manager.stop({ drain: false }), { pending: 2, running: 0, interrupted: 2 })
      assert.deepEqual(
        heard.filter((e) => e.event === 'failed'),
        [],
        'no failed event',
      )
      assert.deepEqual(
        heard.filter((e) => e.event === 'interrupted').map((e) => [e.job.id, e.job.state]),
        ids.map((id) => [id, 'pending']),
      )
      const counts = await h.manager.counts()
      assert.deepEqual([counts.failed, counts.pending, counts.running], [0, 2, 0])
      for (const id of ids)
        assert.equal((await h.manager.getJob(id))?.attempts, 0, 'the interrupted attempt is not counted')
    })

    it('escalates a draining stop when stop({ drain: false }) follows: aborts what runs now and resolves the same promise', async () => {
      const watched: Watched = {}
      const Slow = defineJob<null>('SlowToDrain', (_args, { signal }) => {
        watched.signal = signal
        return new Promise<void>((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error)),
        )
      })
      const h = await create({ jobs: [Slow] })
      await h.manager.enqueue(Slow, null)
      await until(h, () => watched.signal !== undefined, 'the attempt to start')
      const draining = h.manager.stop({ timeoutMs: 600_000 })
      await h.advance(10)
      assert.equal(watched.signal?.aborted, false, 'the first stop drains')
      const forced = h.manager.stop({ drain: false })
      assert.equal(forced, draining, 'the same promise')
      assert.deepEqual(await forced, { pending: 1, running: 0, interrupted: 1 })
      assert.equal(watched.signal?.aborted, true)
    })

    it('rejects the onSettled and onIdle waiters of jobs it leaves pending with ManagerStoppedError', async () => {
      const Job = defineJob<null>('LeftJob', () => {})
      const h = await create({ jobs: [Job] })
      const id = await h.manager.enqueue(Job, null, { delay: FAR_DELAY_MS })
      const settled = assert.rejects(h.manager.onSettled(id), ManagerStoppedError)
      const idle = assert.rejects(h.manager.onIdle(), ManagerStoppedError)
      assert.deepEqual(await h.manager.stop(), { pending: 1, running: 0, interrupted: 0 })
      await settled
      await idle
      await assert.rejects(h.manager.onSettled(id), ManagerStoppedError, 'also a waiter that comes after stop')
      assert.equal((await h.manager.getJob(id))?.state, 'pending')
    })
  })
}
