import assert from 'node:assert/strict'
import type { JobHandler } from '../../src/background-job-engine'
import { JobOptionsCache } from '../../src/bullmq/job-options'
import { DEFAULT_RETRY } from '../../src/policy/retry-policy'

const handlerOf = (maxAttempts: number): JobHandler => ({
  maxAttempts,
  timeoutMs: 0,
  retry: DEFAULT_RETRY,
  run: async () => {},
})

describe('JobOptionsCache', () => {
  const keep = { keepCompleted: 1000, keepFailed: 0 }

  it('gives the same options for every job of a name, made once', () => {
    const handler = handlerOf(4)
    const cache = new JobOptionsCache({ handler: () => handler }, keep)
    const first = cache.of('SendJob')
    assert.equal(cache.of('SendJob'), first)
    assert.deepEqual(first, {
      attempts: 4,
      backoff: { type: 'express-background-jobs' },
      removeOnComplete: { count: 1000 },
      removeOnFail: true,
      keepLogs: 100,
    })
    assert.equal('delay' in first, false)
  })

  it('follows a source that finds a handler later or another one, and keeps no entry for an unknown name', () => {
    let handler: JobHandler | undefined
    const cache = new JobOptionsCache({ handler: () => handler }, keep)
    const unknown = cache.of('LateJob')
    assert.equal(unknown.attempts, 1001, 'a name this process does not know gets the ceiling')
    assert.notEqual(cache.of('LateJob'), unknown, 'an unknown name is not cached')
    handler = handlerOf(2)
    assert.equal(cache.of('LateJob').attempts, 2)
    handler = handlerOf(7)
    assert.equal(cache.of('LateJob').attempts, 7)
  })
})
