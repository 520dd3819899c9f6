import assert from 'node:assert/strict'
import { JobAttempt } from '../src/memory/job-attempt'
import { JobRecord, parseJobId, type JobKind } from '../src/memory/job-record'
import { JobStore, shortIdSeq } from '../src/memory/job-store'

const kind: JobKind = { name: 'job', origin: 1000, maxAttempts: 3, due() {} }

/** Creates `count` pending records in `store`, numbered 1 to `count` (ids '1' to `${count}`). */
function create(store: JobStore, count: number): JobRecord[] {
  return Array.from({ length: count }, (_, i) => store.create(kind, { i }, 0))
}

describe('JobStore', () => {
  it('counts jobs per state as they move through their lifecycle', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const [a, b] = create(store, 2) as [JobRecord, JobRecord]
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
    for (const r of create(store, 3)) {
      store.transition(r, 'running')
      store.transition(r, 'completed')
    }
    assert.equal(store.get('1'), undefined)
    assert.deepEqual(
      store.list('completed', 0, 10).map((r) => r.id),
      ['3', '2'],
    )
    assert.equal(store.count('completed'), 2)
  })

  it('pages pending jobs in insertion order, skipping other states', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const records = create(store, 6)
    store.transition(records[1]!, 'running')
    assert.deepEqual(
      store.list('pending', 1, 3).map((r) => r.id),
      ['3', '4', '5'],
    )
  })

  it('deletes a job from every index', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const [r] = create(store, 1) as [JobRecord]
    store.transition(r, 'cancelled')
    store.delete(r)
    store.delete(r)
    assert.equal(store.get('1'), undefined)
    assert.equal(store.count('cancelled'), 0)
    assert.deepEqual(store.list('cancelled', 0, 10), [])
  })

  it('keeps a record pending with its args until its history is made, then keeps both in the history', () => {
    const args = { n: 1 }
    const r = new JobRecord(3, kind, args, 0)
    assert.equal(r.state, 'pending')
    assert.equal(r.args, args)
    r.state = 'pending'
    assert.equal(r.attempts, 0, 'writing pending to a record without history makes none')
    r.written().attempts = 2
    assert.equal(r.args, args, 'the args move to the history')
    assert.equal(r.state, 'pending')
    r.state = 'running'
    assert.deepEqual([r.state, r.args, r.attempts], ['running', args, 2])
    r.state = 'pending'
    assert.equal(r.state, 'pending', 'a retried record is pending again, with its history')
    assert.deepEqual(new JobRecord(4, kind, [1, 2], 0).toInfo().args, [1, 2])
    assert.equal(new JobRecord(5, kind, 7, 0).args, 7)
  })

  it('keeps a cancelled job that never started in a small ending, which a later write turns into a full history', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const args = { n: 1 }
    const r = store.create(kind, args, 0)
    r.finishedAt = 1234
    assert.equal(r.state, 'pending', 'pending until the store moves it')
    store.transition(r, 'cancelled')
    const info = r.toInfo()
    assert.deepEqual([info.state, info.finishedAt?.getTime(), info.args, info.attempts], ['cancelled', 1234, args, 0])
    assert.deepEqual(store.list('cancelled', 0, 10), [r])
    r.written().progress = 50
    assert.deepEqual([r.state, r.finishedAt, r.args, r.toInfo().progress], ['cancelled', 1234, args, 50])
    assert.deepEqual(store.list('cancelled', 0, 10), [r], 'its index slot moves to the history')
    store.delete(r)
    assert.deepEqual([store.count('cancelled'), store.list('cancelled', 0, 10)], [0, []])
  })

  it('hands the ending of an evicted cancelled job to the next job cancelled, and the evicted one stays cancelled', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 1 })
    const [a, b, c] = create(store, 3) as [JobRecord, JobRecord, JobRecord]
    a.finishedAt = 2000
    store.transition(a, 'cancelled')
    b.finishedAt = 3000
    store.transition(b, 'cancelled')
    assert.equal(store.get('1'), undefined, 'a is evicted past keepCancelled')
    assert.deepEqual([a.state, a.indexed, a.isScheduled], ['cancelled', 0, false], 'a is never pending again')
    c.finishedAt = 4000
    assert.deepEqual([a.state, a.args, c.state, c.args], ['cancelled', undefined, 'pending', { i: 2 }])
    store.transition(c, 'cancelled')
    assert.deepEqual(
      store.list('cancelled', 0, 10).map((r) => [r.id, r.state, r.args, r.finishedAt]),
      [['3', 'cancelled', { i: 2 }, 4000]],
    )
    assert.deepEqual(store.counts(), { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 1 })
    const info = c.toInfo()
    assert.deepEqual([info.state, info.finishedAt?.getTime(), info.args], ['cancelled', 4000, { i: 2 }])
  })

  it('gives every job cancelled in two stores its own ending, the spares made ahead being shared by the process', () => {
    const stores = [1, 2].map(() => new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 2 }))
    const records = stores.map((store) => create(store, 5))
    for (let i = 0; i < 5; i++) {
      for (const [s, store] of stores.entries()) {
        const record = records[s]![i]!
        record.finishedAt = 2000 + 10 * s + i
        store.cancelPending(record)
      }
    }
    for (const [s, store] of stores.entries()) {
      assert.deepEqual(
        store.list('cancelled', 0, 10).map((r) => [r.id, r.state, r.args, r.finishedAt]),
        [
          ['5', 'cancelled', { i: 4 }, 2004 + 10 * s],
          ['4', 'cancelled', { i: 3 }, 2003 + 10 * s],
        ],
      )
      for (const evicted of records[s]!.slice(0, 3)) {
        assert.deepEqual([evicted.state, evicted.args, evicted.indexed], ['cancelled', undefined, 0])
      }
      assert.deepEqual(store.counts(), { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 2 })
    }
  })

  it('keeps the full history of an evicted job that ran, and its state', () => {
    const store = new JobStore({ keepCompleted: 1, keepFailed: 10, keepCancelled: 10 })
    const [a, b] = create(store, 2) as [JobRecord, JobRecord]
    for (const r of [a, b]) {
      store.transition(r, 'running')
      r.written().attempts = 1
      r.finishedAt = 5000
      store.transition(r, 'completed')
    }
    assert.equal(store.get('1'), undefined)
    assert.deepEqual([a.state, a.args, a.attempts, a.finishedAt, a.indexed], ['completed', { i: 0 }, 1, 5000, 0])
    assert.equal(b.indexed !== 0, true)
  })

  it('counts and lists each finished state right after its ring has wrapped around, with jobs deleted from the middle', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 5 })
    const records = create(store, 40)
    for (const r of records.slice(0, 30)) {
      r.finishedAt = 1000 + r.seq
      store.transition(r, 'cancelled')
    }
    store.delete(records[27]!)
    store.delete(records[25]!)
    for (const r of records.slice(30, 32)) {
      r.finishedAt = 1000 + r.seq
      store.transition(r, 'cancelled')
    }
    assert.deepEqual(
      store.list('cancelled', 0, 10).map((r) => r.id),
      ['32', '31', '30', '29', '27'],
    )
    assert.deepEqual(
      store.list('cancelled', 1, 2).map((r) => r.id),
      ['31', '30'],
    )
    assert.equal(store.count('cancelled'), 5)
    assert.equal(store.count('pending'), 8)
    assert.equal(store.get('27')?.finishedAt, 1027)
    assert.equal(store.get('26'), undefined)
  })

  it('gives snapshots with Dates and a copy of the args', () => {
    const r = new JobRecord(7, kind, { id: 's' }, 0)
    const info = r.toInfo()
    assert.equal(info.id, '7')
    assert.deepEqual(info.createdAt, new Date(1000))
    assert.notEqual(info.args, r.args)
    assert.deepEqual(info.args, r.args)
  })

  it('keeps the field order and optional fields of snapshots, with deep copies of nested args', () => {
    const args = { user: { name: 'masa', tags: ['a', { b: null }] }, n: 1 }
    const r = new JobRecord(1, kind, args, 0)
    r.dueTick = 1000
    assert.deepEqual(Object.keys(r.toInfo()), [
      'id',
      'name',
      'args',
      'state',
      'attempts',
      'maxAttempts',
      'createdAt',
      'runAt',
      'logs',
      'history',
    ])
    assert.equal(r.toInfo().maxAttempts, 3, "a job that has not started shows its kind's attempts")
    r.written().scheduleId = 'nightly'
    r.lastRunAt = 3000
    r.finishedAt = 4000
    r.lastError = { name: 'Error', message: 'boom' }
    const info = r.toInfo()
    assert.deepEqual(Object.keys(info), [
      'id',
      'name',
      'args',
      'state',
      'attempts',
      'maxAttempts',
      'createdAt',
      'runAt',
      'lastRunAt',
      'finishedAt',
      'lastError',
      'scheduleId',
      'logs',
      'history',
    ])
    assert.deepEqual(info.runAt, new Date(2000))
    assert.deepEqual(info.lastRunAt, new Date(3000))
    assert.deepEqual(info.finishedAt, new Date(4000))
    assert.deepEqual(info.args, structuredClone(args))
    const copied = info.args
    assert.notEqual(copied.user, args.user)
    assert.notEqual(copied.user.tags, args.user.tags)
    assert.notEqual(copied.user.tags[1], args.user.tags[1])
  })

  it('pages running jobs oldest first and finished jobs newest first, across many removals', () => {
    const store = new JobStore({ keepCompleted: 3000, keepFailed: 10, keepCancelled: 10 })
    const records = create(store, 5000)
    for (const r of records) store.transition(r, 'running')
    // Finish all but every 1000th, out of order, so holes pile up and get compacted.
    for (let i = records.length - 1; i >= 0; i--) if (i % 1000 !== 0) store.transition(records[i]!, 'completed')
    assert.equal(store.count('running'), 5)
    assert.deepEqual(
      store.list('running', 0, 10).map((r) => r.seq),
      [1, 1001, 2001, 3001, 4001],
    )
    assert.deepEqual(
      store.list('running', 1, 2).map((r) => r.seq),
      [1001, 2001],
    )
    // 4995 completed, 3000 kept: the first 1995 to complete (r4999 down to r3004 or so) were forgotten.
    assert.equal(store.count('completed'), 3000)
    const completed = store.list('completed', 0, Infinity)
    assert.equal(completed.length, 3000)
    assert.equal(completed[0]!.seq, 2)
    assert.equal(store.get('5000'), undefined)
    assert.deepEqual(
      store.list('completed', 2, 2).map((r) => r.seq),
      [4, 5],
    )
    store.transition(records[0]!, 'completed')
    assert.equal(store.list('completed', 0, 1)[0]!.seq, 1)
    assert.equal(store.count('completed'), 3000)
  })

  it('moves a record to the end of its index when it re-enters a state', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const [a, b] = create(store, 2) as [JobRecord, JobRecord]
    for (const r of [a, b]) {
      store.transition(r, 'running')
      store.transition(r, 'failed')
    }
    store.transition(a, 'pending')
    store.transition(a, 'running')
    store.transition(a, 'failed')
    assert.deepEqual(
      store.list('failed', 0, 10).map((r) => r.id),
      ['1', '2'],
    )
    assert.equal(store.count('failed'), 2)
  })
})

describe('job ids', () => {
  it('numbers jobs from 1 in creation order and finds them by their decimal id', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    const records = create(store, 12)
    assert.deepEqual(
      records.map((r) => r.id),
      Array.from({ length: 12 }, (_, i) => String(i + 1)),
    )
    assert.equal(store.get('12'), records[11])
  })

  it('finds nothing for ids it could not have issued, without throwing', () => {
    const store = new JobStore({ keepCompleted: 10, keepFailed: 10, keepCancelled: 10 })
    create(store, 12)
    for (const id of ['', '0', '01', '+1', '-1', '1.0', '1e1', ' 1', '1 ', '0x1', 'abc', '9'.repeat(16), '\u0661']) {
      assert.equal(store.get(id), undefined, JSON.stringify(id))
    }
    assert.equal(parseJobId('123456789012345'), 123456789012345)
    assert.equal(parseJobId('1234567890123456'), 0)
  })

  it('reads a short id as parseJobId does, whether the string holds its value or not, and refuses every other form of a number', () => {
    const forms = [
      '12.0',
      '1.',
      '1e2',
      '12e2',
      '1e+3',
      '1.5e4',
      '1e0002',
      '1E2',
      '0x1F',
      '0b1',
      '0o7',
      '12 ',
      ' 12',
      '1\n',
    ]
    const others = ['+12', '-1', '1_0', 'Infinity', 'NaN', '', '0', '00', '007', '\u0663', '1a', '9999999 ', '1234567']
    // Digits typed in (not made from a number) take V8's other path, which must agree too.
    const typed = Array.from({ length: 300 }, (_, i) => [...String(i * 33_331 + 1)].join(''))
    for (const id of [
      ...forms,
      ...others,
      ...typed,
      ...Array.from({ length: 300 }, (_, i) => String(i * 33_331 + 1)),
    ]) {
      if (id.length <= 7) assert.equal(shortIdSeq(id), parseJobId(id), JSON.stringify(id))
    }
    assert.equal(shortIdSeq('9999999'), 9_999_999)
    assert.equal(shortIdSeq('12.0'), 0)
  })
})

describe('JobAttempt', () => {
  const record = new JobRecord(5, kind, {}, 0)

  it('aborts a signal read before the abort, firing its listeners once', () => {
    const attempt = new JobAttempt(record, 1, 3)
    const { signal } = attempt
    const reasons: unknown[] = []
    signal.addEventListener('abort', () => reasons.push(signal.reason))
    const reason = new Error('stop')
    JobAttempt.abort(attempt, reason)
    JobAttempt.abort(attempt, new Error('again'))
    assert.equal(signal.aborted, true)
    assert.deepEqual(reasons, [reason])
    assert.equal(attempt.signal, signal)
  })

  it('gives an already aborted signal, with the first reason, when read after the abort', () => {
    const attempt = new JobAttempt(record, 1, 3)
    const reason = new Error('timeout')
    JobAttempt.abort(attempt, reason)
    JobAttempt.abort(attempt, new Error('later'))
    assert.equal(attempt.signal.aborted, true)
    assert.equal(attempt.signal.reason, reason)
  })

  it('shows the context fields, and only them, as JSON', () => {
    const attempt = new JobAttempt(record, 2, 3)
    assert.deepEqual(JSON.parse(JSON.stringify(attempt)), { jobId: '5', jobName: 'job', attempt: 2, maxAttempts: 3 })
    assert.equal('abort' in attempt, false, 'a job cannot abort through its context')
  })
})
