import assert from 'node:assert/strict'
import type { JobHandler } from '../src/background-job-engine'
import { ManualClock } from '../src/clock'
import { RunningAttempt, TimeoutQueue, type AttemptHooks } from '../src/memory/attempt-timeouts'
import type { JobAttempt } from '../src/memory/job-attempt'
import type { JobRecord } from '../src/memory/job-record'

/** Running attempts whose timeouts are noted in `timedOut`, in the order they fire. */
function attempts(timeoutMs: number): { make: (n: number) => RunningAttempt; timedOut: number[] } {
  const timedOut: number[] = []
  const hooks: AttemptHooks = {
    timedOut: (run) => timedOut.push((run.record as unknown as { n: number }).n),
    ended() {},
  }
  const handler = { timeoutMs } as JobHandler
  const make = (n: number): RunningAttempt =>
    new RunningAttempt({ n } as unknown as JobRecord, handler, {} as JobAttempt, hooks)
  return { make, timedOut }
}

describe('TimeoutQueue', () => {
  it('times out each attempt once its full timeout has passed since it was filed, never earlier, in filing order', () => {
    const clock = new ManualClock()
    const { make, timedOut } = attempts(100)
    const queue = new TimeoutQueue(100, clock, false, () => {})
    queue.add(make(1))
    clock.advance(30)
    queue.add(make(2))
    clock.advance(69)
    assert.deepEqual(timedOut, [])
    clock.advance(1)
    assert.deepEqual(timedOut, [1])
    clock.advance(29)
    assert.deepEqual(timedOut, [1])
    clock.advance(1)
    assert.deepEqual(timedOut, [1, 2])
    assert.equal(queue.size, 0)
    assert.equal(clock.pendingTimers, 0, 'no timer once nothing is filed')
  })

  it('never times out an attempt removed before its timeout, and keeps timing out the ones filed around it', () => {
    const clock = new ManualClock()
    const { make, timedOut } = attempts(50)
    const queue = new TimeoutQueue(50, clock, false, () => {})
    const first = make(1)
    queue.add(first)
    clock.advance(10)
    queue.add(make(2))
    queue.remove(first)
    clock.advance(49)
    assert.deepEqual(timedOut, [])
    clock.advance(1)
    assert.deepEqual(timedOut, [2])
  })

  it('holds at most about twice as many entries as attempts filed while a long one blocks the front', () => {
    const clock = new ManualClock()
    const { make, timedOut } = attempts(1000)
    const queue = new TimeoutQueue(1000, clock, false, () => {})
    queue.add(make(0))
    const run = make(1)
    for (let i = 0; i < 10_000; i++) {
      queue.add(run)
      queue.remove(run)
    }
    assert.equal(queue.size, 1)
    assert.ok(queue.held <= 1026, `${queue.held} entries held`)
    clock.advance(1000)
    assert.deepEqual(timedOut, [0])
  })

  it('lets its timer lapse unref’d once nothing is filed, and holds the process open again for the next attempt', () => {
    const clock = new ManualClock()
    const refs: string[] = []
    const setTimer = clock.setTimer.bind(clock)
    clock.setTimer = (callback, ms) => {
      const timer = setTimer(callback, ms)
      timer.ref = () => refs.push('ref')
      timer.unref = () => refs.push('unref')
      return timer
    }
    const { make, timedOut } = attempts(100)
    const queue = new TimeoutQueue(100, clock, false, () => {})
    const a = make(1)
    queue.add(a)
    queue.remove(a)
    assert.deepEqual(refs, ['unref'])
    queue.add(make(2))
    assert.deepEqual(refs, ['unref', 'ref'])
    assert.equal(clock.pendingTimers, 1, 'the lapsing timer serves the next attempt')
    clock.advance(100)
    assert.deepEqual(timedOut, [2])
  })

  it('refuses an attempt whose due time the clock cannot give, as the timer wheel does', () => {
    const clock = new ManualClock()
    clock.monotonicNow = () => Number.NaN
    const { make } = attempts(100)
    const queue = new TimeoutQueue(100, clock, false, () => {})
    assert.throws(() => queue.add(make(1)), /Expected `dueAt` to be a time in ms/)
    assert.equal(queue.size, 0)
  })
})
