import assert from 'node:assert/strict'
import { deferred } from '../support/deferred'
import type { EngineFixture } from './fixture'
import {
  FAR_DELAY_MS,
  assertWaits,
  defineJob,
  flakyJob,
  recordEvents,
  settle,
  until,
  useHarnesses,
  type Attempt,
} from './helpers'

/**
 * The per-class policy contract: a job class's static `retry` (field by field) and `timeoutMs`
 * win over the engine's options; a class without them gets the engine's.
 */
export function jobPolicyContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (per-class policy)', () => {
    const create = useHarnesses(fixture)

    it('takes a job class’s static retry over the engine’s, field by field, and the engine’s for a class without one', async () => {
      const attempts: Attempt[] = []
      const Own = flakyJob(
        'OwnRetryJob',
        attempts,
        () => h,
        () => true,
        { retry: { maxRetries: 2, factor: 3 } },
      )
      const Plain = defineJob<null>('PlainRetryJob', () => {})
      const h = await create({
        jobs: [Own, Plain],
        options: { retry: { maxRetries: 5, initialDelayMs: 20, factor: 2 } },
      })
      const heard = recordEvents(h)
      const plain = await h.manager.enqueue(Plain, null, { delay: FAR_DELAY_MS })
      assert.equal((await h.manager.getJob(plain))?.maxAttempts, 6, 'the engine’s 5 retries')
      const id = await h.manager.enqueue(Own, null)
      const job = await settle(h, id)
      assert.equal(job.state, 'failed')
      assert.equal(job.attempts, 3, 'the class’s 2 retries')
      assert.equal(job.maxAttempts, 3)
      // initialDelayMs from the engine, factor from the class.
      assertWaits(
        attempts,
        heard.filter((e) => e.event === 'retrying' && e.job.id === id),
        [20, 60],
      )
    })

    it('takes a job class’s static timeoutMs over the engine’s (0: no limit), and the engine’s for a class without one', async () => {
      const gate = deferred()
      let patientSignal: AbortSignal | undefined
      const Strict = defineJob<null>('StrictJob', () => new Promise(() => {}), { timeoutMs: 50 })
      const Patient = defineJob<null>(
        'PatientJob',
        async (_args, { signal }) => {
          patientSignal = signal
          await gate.promise
        },
        { timeoutMs: 0 },
      )
      const Plain = defineJob<null>('PlainTimeoutJob', () => new Promise(() => {}))
      const h = await create({ jobs: [Strict, Patient, Plain], options: { timeoutMs: 100, retry: { maxRetries: 0 } } })
      const strict = await h.manager.enqueue(Strict, null)
      const patient = await h.manager.enqueue(Patient, null)
      const plain = await h.manager.enqueue(Plain, null)
      const strictJob = await settle(h, strict)
      const plainJob = await settle(h, plain)
      assert.equal(strictJob.lastError?.name, 'JobTimeoutError')
      assert.match(strictJob.lastError?.message ?? '', /\b50 ms\b/, 'the class’s 50 ms')
      assert.equal(plainJob.lastError?.name, 'JobTimeoutError')
      assert.match(plainJob.lastError?.message ?? '', /\b100 ms\b/, 'the engine’s 100 ms')
      const startedAt = (await h.manager.getJob(patient))?.lastRunAt?.getTime()
      assert.ok(startedAt !== undefined)
      await until(h, () => h.now() >= startedAt + 150, 'the engine’s timeout to pass for the patient job')
      assert.equal((await h.manager.getJob(patient))?.state, 'running', 'no timeout for a class with timeoutMs 0')
      assert.equal(patientSignal?.aborted, false)
      gate.resolve()
      assert.equal((await settle(h, patient)).state, 'completed')
    })
  })
}
