import assert from 'node:assert/strict'
import { JobRecord, JobStore, LazyAbortController, createJobId } from '../src/engine/job-store'

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

  it('keeps the field order and optional fields of snapshots, with deep copies of nested args', () => {
    const args = { user: { name: 'masa', tags: ['a', { b: null }] }, n: 1 }
    const r = new JobRecord('s', 'job', args, 1000, 2000, 'nightly', () => {})
    assert.deepEqual(Object.keys(r.toInfo()), ['id', 'name', 'args', 'state', 'attempts', 'maxAttempts', 'createdAt', 'runAt', 'scheduleId'])
    r.lastRunAt = 3000
    r.finishedAt = 4000
    r.lastError = { name: 'Error', message: 'boom' }
    const info = r.toInfo()
    assert.deepEqual(Object.keys(info), ['id', 'name', 'args', 'state', 'attempts', 'maxAttempts', 'createdAt', 'runAt', 'lastRunAt', 'finishedAt', 'lastError', 'scheduleId'])
    assert.deepEqual(info.lastRunAt, new Date(3000))
    assert.deepEqual(info.finishedAt, new Date(4000))
    assert.deepEqual(info.args, structuredClone(args))
    const copied = info.args as typeof args
    assert.notEqual(copied.user, args.user)
    assert.notEqual(copied.user.tags, args.user.tags)
    assert.notEqual(copied.user.tags[1], args.user.tags[1])
  })

  it('pages running jobs oldest first and finished jobs newest first, across many removals', () => {
    const store = new JobStore({ keepCompleted: 3000, keepFailed: 10, keepCancelled: 10 })
    const records = Array.from({ length: 5000 }, (_, i) => record(`r${i}`))
    for (const r of records) {
      store.add(r)
      store.transition(r, 'running')
    }
    // Finish all but every 1000th, out of order, so holes pile up and get compacted.
    for (let i = records.length - 1; i >= 0; i--) if (i % 1000 !== 0) store.transition(records[i]!, 'completed')
    assert.equal(store.count('running'), 5)
    assert.deepEqual(store.list('running', 0, 10).map((r) => r.id), ['r0', 'r1000', 'r2000', 'r3000', 'r4000'])
    assert.deepEqual(store.list('running', 1, 2).map((r) => r.id), ['r1000', 'r2000'])
    // 4995 completed, 3000 kept: the first 1995 to complete (r4999 down to r3004 or so) were forgotten.
    assert.equal(store.count('completed'), 3000)
    const completed = store.list('completed', 0, Infinity)
    assert.equal(completed.length, 3000)
    assert.equal(completed[0]!.id, 'r1')
    assert.equal(store.get('r4999'), undefined)
    assert.deepEqual(store.list('completed', 2, 2).map((r) => r.id), ['r3', 'r4'])
    store.transition(records[0]!, 'completed')
    assert.equal(store.list('completed', 0, 1)[0]!.id, 'r0')
    assert.equal(store.count('completed'), 3000)
  })

  it('moves a record to the end of its index when it re-enters a state', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const [a, b] = [record('a'), record('b')]
    for (const r of [a, b]) {
      store.add(r)
      store.transition(r, 'running')
      store.transition(r, 'failed')
    }
    store.transition(a, 'pending')
    store.transition(a, 'running')
    store.transition(a, 'failed')
    assert.deepEqual(store.list('failed', 0, 10).map((r) => r.id), ['a', 'b'])
    assert.equal(store.count('failed'), 2)
  })
})

describe('createJobId', () => {
  it('returns distinct version-4 UUIDs', () => {
    const ids = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const id = createJobId()
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      ids.add(id)
    }
    assert.equal(ids.size, 2000)
  })
})

describe('LazyAbortController', () => {
  it('aborts a signal read before the abort, firing its listeners once', () => {
    const controller = new LazyAbortController()
    const { signal } = controller
    const reasons: unknown[] = []
    signal.addEventListener('abort', () => reasons.push(signal.reason))
    const reason = new Error('stop')
    controller.abort(reason)
    controller.abort(new Error('again'))
    assert.equal(signal.aborted, true)
    assert.deepEqual(reasons, [reason])
    assert.equal(controller.signal, signal)
  })

  it('gives an already aborted signal, with the first reason, when read after the abort', () => {
    const controller = new LazyAbortController()
    const reason = new Error('timeout')
    controller.abort(reason)
    controller.abort(new Error('later'))
    assert.equal(controller.signal.aborted, true)
    assert.equal(controller.signal.reason, reason)
  })

  it('uses an AbortError reason when aborted without one, as AbortController does', () => {
    const controller = new LazyAbortController()
    controller.abort()
    assert.equal((controller.signal.reason as Error).name, 'AbortError')
  })
})
