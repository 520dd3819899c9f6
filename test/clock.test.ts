import assert from 'node:assert/strict'
import { ManualClock, afterAtLeast, monotonicView, systemClock, type Clock } from '../src/clock'

describe('ManualClock', () => {
  it('moves its monotonic time with advance(), as much as the wall clock', () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1))
    const fired: number[] = []
    clock.setTimer(() => fired.push(clock.monotonicNow()), 30)
    clock.advance(100)
    assert.deepEqual(fired, [30], 'a timer sees the monotonic time it fell due at')
    assert.equal(clock.monotonicNow(), 100)
    assert.equal(clock.now(), Date.UTC(2030, 0, 1) + 100)
  })

  it('leaves its monotonic time alone when the wall clock is set, forward or back', () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1))
    clock.advance(5)
    clock.set(Date.UTC(2031, 0, 1))
    assert.equal(clock.monotonicNow(), 5)
    clock.set(Date.UTC(2029, 0, 1))
    assert.equal(clock.monotonicNow(), 5)
    clock.advance(10)
    assert.equal(clock.monotonicNow(), 15)
    assert.equal(clock.now(), Date.UTC(2029, 0, 1) + 10)
  })
})

describe('systemClock', () => {
  it('reads monotonic time from performance.now()', () => {
    const before = performance.now()
    const read = systemClock.monotonicNow()
    assert.ok(read >= before && read <= performance.now())
  })
})

describe('monotonicView', () => {
  it('answers now() with the monotonic time and keeps the timers of the clock it views', () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1))
    const view = monotonicView(clock)
    clock.advance(7)
    clock.set(Date.UTC(2040, 0, 1))
    assert.equal(view.now(), 7)
    let fired = false
    view.setTimer(() => (fired = true), 10)
    assert.equal(clock.pendingTimers, 1)
    clock.advance(10)
    assert.equal(fired, true)
    const timer = view.setTimer(() => assert.fail('a cleared timer fired'), 10)
    view.clearTimer(timer)
    assert.equal(clock.pendingTimers, 0)
  })
})

describe('afterAtLeast', () => {
  /** A clock whose timers fire `earlyMs` before they are due, as a Node timer can by up to 1 ms. */
  function earlyClock(clock: ManualClock, earlyMs: number): Clock {
    return {
      now: () => clock.now(),
      monotonicNow: () => clock.monotonicNow(),
      setTimer: (callback, ms) => clock.setTimer(callback, Math.max(0, ms - earlyMs)),
      clearTimer: (timer) => clock.clearTimer(timer),
    }
  }

  it('calls back once the time has passed, never before, when the timer fires early', () => {
    const clock = new ManualClock()
    const calls: number[] = []
    afterAtLeast(earlyClock(clock, 0.6), 50, () => calls.push(clock.monotonicNow()))
    clock.advance(49.4)
    assert.deepEqual(calls, [], 'the timer fired 0.6 ms early: not yet')
    clock.advance(0.5)
    assert.deepEqual(calls, [], 'still 0.1 ms short')
    clock.advance(1)
    assert.equal(calls.length, 1)
    assert.ok(calls[0]! >= 50, `called back at ${calls[0]}`)
  })

  it('calls back at the time on a clock whose timers are on time, and not at all once cancelled', () => {
    const clock = new ManualClock()
    const calls: number[] = []
    afterAtLeast(clock, 50, () => calls.push(clock.monotonicNow()))
    const cancel = afterAtLeast(earlyClock(clock, 0.6), 50, () => assert.fail('a cancelled call ran'))
    clock.advance(49.5)
    cancel()
    clock.advance(10)
    assert.deepEqual(calls, [50])
    assert.equal(clock.pendingTimers, 0)
  })
})
