import assert from 'node:assert/strict'
import { JobTimeoutError } from 'express-background-jobs'
import { deferred } from '../support/deferred'
import type { EngineFixture } from './fixture'
import { advanceToJustBefore, defineJob, recordEvents, settle, until, useHarnesses } from './helpers'

/** What a job saw of its attempt's signal. */
interface Watched {
  signal?: AbortSignal
  /** The engine's time when the signal was aborted. */
  abortedAt?: number
}

/**
 * The timeout contract: an attempt running longer than its `timeoutMs` has its `ctx.signal`
 * aborted with a {@link JobTimeoutError} and fails (and is retried like any failure); an attempt
 * that ends in time is left alone.
 */
export function timeoutsContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (attempt timeouts)', () => {
    const create = useHarnesses(fixture)

    it('aborts ctx.signal and fails the attempt with JobTimeoutError once timeoutMs has passed, not before', async () => {
      const watched: Watched = {}
      const Job = defineJob<null>('HangingJob', (_args, { signal }) => {
        watched.signal = signal
        signal.addEventListener('abort', () => (watched.abortedAt = h.now()))
        return new Promise(() => {})
      })
      const h = await create({ jobs: [Job], options: { timeoutMs: 50, retry: { maxRetries: 0 } } })
      const id = await h.manager.enqueue(Job, null)
      await until(h, () => watched.signal !== undefined, 'the attempt to start')
      const startedAt = (await h.manager.getJob(id))?.lastRunAt?.getTime()
      assert.ok(startedAt !== undefined, 'a running job has lastRunAt')
      await advanceToJustBefore(h, startedAt + 50)
      const before = await h.manager.getJob(id)
      if (h.now() < startedAt + 50) {
        assert.equal(before?.state, 'running', 'not timed out before timeoutMs')
        assert.equal(watched.signal?.aborted, false)
      }
      const job = await settle(h, id)
      assert.equal(job.state, 'failed')
      assert.equal(job.attempts, 1)
      assert.equal(job.lastError?.name, 'JobTimeoutError')
      assert.match(job.lastError?.message ?? '', /\b50 ms\b/, 'the message names the timeout')
      assert.equal(watched.signal?.aborted, true)
      assert.ok(watched.signal?.reason instanceof JobTimeoutError)
      assert.ok(
        watched.abortedAt !== undefined && watched.abortedAt - startedAt >= 50,
        `aborted ${(watched.abortedAt ?? 0) - startedAt} ms after the start`,
      )
    })

    it('retries a timed-out attempt whose body ends on abort as it retries any failed one', async () => {
      const Job = defineJob<null>('SlowOnceJob', (_args, { attempt, signal }) =>
        attempt === 1
          ? new Promise<void>((_resolve, reject) =>
              signal.addEventListener('abort', () => reject(signal.reason as Error)),
            )
          : undefined,
      )
      const h = await create({ jobs: [Job], options: { timeoutMs: 50, retry: { maxRetries: 1, initialDelayMs: 20 } } })
      const heard = recordEvents(h)
      const id = await h.manager.enqueue(Job, null)
      const job = await settle(h, id)
      assert.equal(job.state, 'completed')
      assert.equal(job.attempts, 2)
      const retrying = heard.filter((e) => e.event === 'retrying')
      assert.deepEqual(
        retrying.map((e) => [e.job.id, e.job.lastError?.name]),
        [[id, 'JobTimeoutError']],
      )
    })

    it('leaves the signal of an attempt that ends in time alone, also after its timeout would have passed', async () => {
      const gate = deferred()
      const watched: Watched = {}
      const Job = defineJob<null>('QuickJob', async (_args, { signal }) => {
        watched.signal = signal
        await gate.promise
      })
      const h = await create({ jobs: [Job], options: { timeoutMs: 100, retry: { maxRetries: 0 } } })
      const id = await h.manager.enqueue(Job, null)
      await until(h, () => watched.signal !== undefined, 'the attempt to start')
      gate.resolve()
      const job = await settle(h, id)
      assert.equal(job.state, 'completed')
      await h.advance(150)
      assert.equal(watched.signal?.aborted, false)
      assert.equal((await h.manager.getJob(id))?.state, 'completed')
    })
  })
}
