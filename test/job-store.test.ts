import assert from 'node:assert/strict'
import { JobRecord, JobStore } from '../src/engine/job-store'

function record(id: string): JobRecord {
  return new JobRecord(id, 'job', { id }, 1000, 1000, undefined, () => {})
}

describe('JobStore', () => {
  it('counts jobs per state as they move through their lifecycle', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const a = record('a')
    const b = record('b')
    store.add(a)
    store.add(b)
    store.transition(a, 'running')
    assert.deepEqual(store.counts(), { pending: 1, running: 1, completed: 0, failed: 0, cancelled: 0 })
    store.transition(a, 'failed')
    store.transition(a, 'pending')
    store.transition(b, 'cancelled')
    assert.deepEqual(store.counts(), { pending: 1, running: 0, completed: 0, failed: 0, cancelled: 1 })
    assert.deepEqual(store.list('pending', 0, 10), [a])
    assert.deepEqual(store.list('failed', 0, 10), [])
  })

  it('forgets the oldest finished job past its bound, and only that one', () => {
    const store = new JobStore({ keepCompleted: 2, keepFailed: 1, keepCancelled: 1 })
    const records = ['a', 'b', 'c'].map(record)
    for (const r of records) {
      store.add(r)
      store.transition(r, 'running')
      store.transition(r, 'completed')
    }
    assert.equal(store.get('a'), undefined)
    assert.deepEqual(
      store.list('completed', 0, 10).map((r) => r.id),
      ['c', 'b'],
    )
    assert.equal(store.count('completed'), 2)
  })

  it('pages pending jobs in insertion order, skipping other states', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const records = Array.from({ length: 6 }, (_, i) => record(`j${i}`))
    for (const r of records) store.add(r)
    store.transition(records[1]!, 'running')
    assert.deepEqual(
      store.list('pending', 1, 3).map((r) => r.id),
      ['j2', 'j3', 'j4'],
    )
  })

  it('deletes a job from every index', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const r = record('x')
    store.add(r)
    store.transition(r, 'cancelled')
    store.delete(r)
    store.delete(r)
    assert.equal(store.get('x'), undefined)
    assert.equal(store.count('cancelled'), 0)
    assert.deepEqual(store.list('cancelled', 0, 10), [])
  })

  it('gives snapshots with Dates and a copy of the args', () => {
    const r = record('s')
    const info = r.toInfo()
    assert.deepEqual(info.createdAt, new Date(1000))
    assert.notEqual(info.args, r.args)
    assert.deepEqual(info.args, r.args)
  })
})
