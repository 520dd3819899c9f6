import assert from 'node:assert/strict'
import { ManualClock, monotonicView, systemClock } from '../src/clock'

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
