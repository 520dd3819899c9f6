import assert from 'node:assert/strict'
import type { JobHandler } from '../src/background-job-engine'
import { RunningAttemptPool, type AttemptHooks } from '../src/memory/attempt-timeouts'
import type { JobAttempt } from '../src/memory/job-attempt'
import type { JobRecord } from '../src/memory/job-record'

const hooks: AttemptHooks = { timedOut() {}, ended() {} }
const record = (n: number): JobRecord => ({ n }) as unknown as JobRecord
const handler = {} as JobHandler
const context = (n: number): JobAttempt => ({ attempt: n }) as unknown as JobAttempt

describe('RunningAttemptPool', () => {
  it('serves the next attempt with one given back, its fields those of the new attempt and its callbacks kept', () => {
    const pool = new RunningAttemptPool(hooks, 2)
    const first = pool.take(record(1), handler, context(1))
    const { fulfilled, rejected } = first
    first.isSettled = true
    first.isOverrun = true
    first.begun = { body: Promise.resolve(), end: () => undefined }
    pool.give(first)
    assert.equal(first.begun, undefined, 'what the attempt held is let go')
    const second = pool.take(record(2), handler, context(2))
    assert.equal(second, first)
    assert.equal((second.record as unknown as { n: number }).n, 2)
    assert.equal(second.context.attempt, 2)
    assert.equal(second.isSettled, false)
    assert.equal(second.isOverrun, false)
    assert.equal(second.fulfilled, fulfilled)
    assert.equal(second.rejected, rejected)
  })

  it('makes a new attempt while none is idle, and keeps at most its capacity idle', () => {
    const pool = new RunningAttemptPool(hooks, 1)
    const a = pool.take(record(1), handler, context(1))
    const b = pool.take(record(2), handler, context(2))
    assert.notEqual(a, b)
    pool.give(a)
    pool.give(b)
    assert.equal(pool.idle, 1)
    assert.equal(pool.take(record(3), handler, context(3)), a)
    assert.notEqual(pool.take(record(4), handler, context(4)), b)
  })
})
