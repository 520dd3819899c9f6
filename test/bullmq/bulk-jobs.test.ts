import assert from 'node:assert/strict'
import { BackendUnavailableError } from 'express-background-jobs'
import { BULK_CHUNK_SIZE, BulkEnqueueError } from 'express-background-jobs/bullmq'
import type { NewJobBatch } from '../../src/background-job-engine'
import { addJobsInChunks, type BulkEnqueueParts } from '../../src/bullmq/bulk-jobs'
import { JobEventHub } from '../../src/job-events'
import { CapturingLogger } from '../support/harness'

/** A batch of `count` jobs named `BulkJob`, args `{ i }`, all due now. */
function batch(count: number): NewJobBatch {
  return {
    name: 'BulkJob',
    enqueuedAt: 1000,
    args: Array.from({ length: count }, (_, i) => ({ i })),
    runAt: Array.from({ length: count }, () => 1000),
  }
}

/**
 * What `addJobsInChunks` writes through, with a queue whose `addBulk` numbers the jobs it is given
 * and fails from call number `failingCall` on, as Redis going away between two chunks would.
 */
function fakeParts(failingCall = Infinity): { parts: BulkEnqueueParts; chunks: number[] } {
  const chunks: number[] = []
  let next = 1
  const queue = {
    addBulk(jobs: readonly { name: string; data: unknown }[]) {
      chunks.push(jobs.length)
      if (chunks.length >= failingCall) return Promise.reject(new Error('Connection is closed.'))
      return Promise.resolve(jobs.map((job) => ({ ...job, id: String(next++), timestamp: 1000, opts: {} })))
    },
  }
  const parts = {
    connections: {
      run: async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
        try {
          return await call()
        } catch (error) {
          throw new BackendUnavailableError({ operation, backend: 'Redis (fake)', reason: 'gone', cause: error })
        }
      },
    },
    access: { queue },
    events: new JobEventHub(new CapturingLogger()),
    jobOptions: () => ({ attempts: 1 }),
  } as unknown as BulkEnqueueParts
  return { parts, chunks }
}

describe('the BullMQ engine’s enqueueMany (addJobsInChunks)', () => {
  it(`writes a batch in chunks of ${BULK_CHUNK_SIZE} jobs, one addBulk each, and resolves with every id in order`, async () => {
    const { parts, chunks } = fakeParts()
    const ids = await addJobsInChunks(parts, batch(2500))
    assert.deepEqual(chunks, [1000, 1000, 500])
    assert.deepEqual(
      ids,
      Array.from({ length: 2500 }, (_, i) => String(i + 1)),
    )
  })

  it('rejects with BulkEnqueueError carrying the ids already stored when a later chunk fails', async () => {
    const { parts } = fakeParts(3)
    await assert.rejects(addJobsInChunks(parts, batch(2500)), (error: unknown) => {
      assert.ok(error instanceof BulkEnqueueError, `expected a BulkEnqueueError, got ${String(error)}`)
      assert.equal(error.requested, 2500)
      assert.equal(error.storedIds.length, 2000)
      assert.equal(error.storedIds[1999], '2000')
      assert.ok(error.cause instanceof BackendUnavailableError, 'the cause is what the failing chunk threw')
      assert.match(error.message, /2000 of them were stored/)
      assert.match(error.message, /remaining 500/)
      return true
    })
  })

  it('rejects with the chunk’s own error when the first chunk fails: nothing was stored', async () => {
    const { parts } = fakeParts(1)
    await assert.rejects(addJobsInChunks(parts, batch(10)), BackendUnavailableError)
  })
})
