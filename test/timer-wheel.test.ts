import assert from 'node:assert/strict'
import { ManualClock, systemClock, type Clock, type ClockTimer } from '../src/clock'
import { TimerNode, TimerWheel } from '../src/memory/timer-wheel'
import { InvalidOptionError } from '../src/errors'
import { random } from './support/random'

class Probe extends TimerNode {
  firedAt: number[] = []
  constructor(
    readonly clock: ManualClock,
    readonly label = '',
    readonly onExpire?: () => void,
  ) {
    super()
  }
  override expire(): void {
    this.firedAt.push(this.clock.now())
    this.onExpire?.()
  }
}

describe('TimerWheel', () => {
  const start = Date.UTC(2030, 0, 1, 0, 0, 0, 7)
  let clock: ManualClock
  let wheel: TimerWheel

  beforeEach(() => {
    clock = new ManualClock(start)
    wheel = new TimerWheel({ clock })
  })

  afterEach(() => wheel.close())

  it('fires a node at its due time, not a millisecond before', () => {
    const probe = new Probe(clock)
    wheel.schedule(probe, start + 150)
    clock.advance(149)
    assert.deepEqual(probe.firedAt, [])
    clock.advance(1)
    assert.deepEqual(probe.firedAt, [start + 150])
    assert.equal(wheel.size, 0)
  })

  it('rounds a fractional due time up, so it never fires early', () => {
    const probe = new Probe(clock)
    wheel.schedule(probe, start + 10.2)
    clock.advance(10)
    assert.deepEqual(probe.firedAt, [])
    clock.advance(1)
    assert.deepEqual(probe.firedAt, [start + 11])
  })

  it('fires zero and past delays on the next turn, not synchronously', () => {
    const now = new Probe(clock)
    const past = new Probe(clock)
    wheel.schedule(now, start)
    wheel.schedule(past, start - 60_000)
    assert.deepEqual(now.firedAt, [])
    assert.equal(wheel.isArmed, true)
    clock.advance(1)
    assert.equal(now.firedAt.length, 1)
    assert.equal(past.firedAt.length, 1)
  })

  it('fires far-future nodes (a year, a century, the last Date) exactly on time', () => {
    const dues = [start + 365 * 86_400_000 + 3, start + 100 * 365 * 86_400_000 + 12_345, 8.64e15]
    const probes = dues.map((due) => {
      const probe = new Probe(clock)
      wheel.schedule(probe, due)
      return probe
    })
    for (const [i, due] of dues.entries()) {
      // Jump close, then let the capped sleep notice the jump.
      clock.set(due - 1_001)
      clock.advance(1_000)
      assert.deepEqual(probes[i]!.firedAt, [], `node ${i} fired early`)
      clock.advance(1)
      assert.deepEqual(probes[i]!.firedAt, [due])
    }
  })

  it('matches a brute-force model on 20,000 random due times', () => {
    const rand = random(42)
    const probes: { probe: Probe; due: number }[] = []
    for (let i = 0; i < 20_000; i++) {
      const scale = [10, 1_000, 100_000, 10_000_000][i % 4]!
      const due = start + Math.floor(rand() * scale)
      const probe = new Probe(clock)
      wheel.schedule(probe, due)
      probes.push({ probe, due })
    }
    // Move in uneven steps, including big jumps, like a real event loop under load.
    while (wheel.size > 0) clock.advance(1 + Math.floor(rand() * 5_000))
    for (const { probe, due } of probes) {
      assert.equal(probe.firedAt.length, 1)
      assert.ok(probe.firedAt[0]! >= due, `fired at ${probe.firedAt[0]} before due ${due}`)
    }
  })

  it('fires nodes scheduled in runs sharing a due time, among cancels and moves of time, each at its time', () => {
    const rand = random(11)
    const live = new Map<Probe, number>()
    const done: { probe: Probe; due: number }[] = []
    for (let round = 0; round < 200; round++) {
      // A run of nodes due at one time, as a batch enqueued with one delay is.
      const due = clock.now() + Math.floor(rand() * [50, 5_000, 500_000][round % 3]!)
      for (let i = 0, run = 1 + Math.floor(rand() * 20); i < run; i++) {
        const probe = new Probe(clock)
        wheel.schedule(probe, due)
        live.set(probe, due)
      }
      for (const probe of live.keys()) {
        if (rand() < 0.2) {
          wheel.cancel(probe)
          live.delete(probe)
        }
      }
      if (rand() < 0.5) clock.advance(Math.floor(rand() * 3_000))
      for (const [probe, at] of live) {
        if (!probe.isScheduled) {
          done.push({ probe, due: at })
          live.delete(probe)
        }
      }
    }
    clock.advance(1_000_000)
    for (const [probe, due] of live) done.push({ probe, due })
    for (const { probe, due } of done) {
      assert.equal(probe.firedAt.length, 1)
      assert.ok(probe.firedAt[0]! >= due, `fired at ${probe.firedAt[0]} before due ${due}`)
    }
  })

  it('fires a node due when the last one was, after that one was cancelled and its emptied slot given up', () => {
    const cancelled = new Probe(clock)
    const again = new Probe(clock)
    wheel.schedule(cancelled, start + 5_000)
    wheel.cancel(cancelled)
    // A turn at the same time finds the cancelled node's slot empty and gives it up.
    wheel.advance()
    wheel.schedule(again, start + 5_000)
    clock.advance(5_000)
    assert.deepEqual(again.firedAt, [start + 5_000])
    assert.deepEqual(cancelled.firedAt, [])
  })

  it('fires each node within a millisecond when time moves one millisecond at a time', () => {
    const rand = random(7)
    const probes: { probe: Probe; due: number }[] = []
    for (let i = 0; i < 2_000; i++) {
      const due = start + 1 + Math.floor(rand() * 5_000)
      const probe = new Probe(clock)
      wheel.schedule(probe, due)
      probes.push({ probe, due })
    }
    for (let t = 0; t <= 5_000; t++) clock.advance(1)
    for (const { probe, due } of probes) assert.deepEqual(probe.firedAt, [due])
  })

  it('cancels in O(1) by unlinking, and a cancelled node never fires', () => {
    const a = new Probe(clock)
    const b = new Probe(clock)
    const c = new Probe(clock)
    for (const p of [a, b, c]) wheel.schedule(p, start + 500)
    assert.equal(wheel.cancel(b), true)
    assert.equal(wheel.cancel(b), false)
    clock.advance(500)
    assert.equal(a.firedAt.length, 1)
    assert.equal(b.firedAt.length, 0)
    assert.equal(c.firedAt.length, 1)
  })

  it('lets a node cancel another node of the same firing slot', () => {
    const victim = new Probe(clock)
    const killer = new Probe(clock, 'killer', () => wheel.cancel(victim))
    wheel.schedule(victim, start + 100)
    wheel.schedule(killer, start + 100)
    clock.advance(100)
    // Both were due in the same turn: the wheel hands over every due node before calling any.
    assert.equal(killer.firedAt.length, 1)
    assert.equal(victim.firedAt.length + (victim.isScheduled ? 1 : 0), 1)
    assert.equal(wheel.size, 0)
  })

  it('lets an expiring node schedule a new one', () => {
    const second = new Probe(clock)
    const first = new Probe(clock, 'first', () => wheel.schedule(second, clock.now() + 5))
    wheel.schedule(first, start + 10)
    clock.advance(10)
    clock.advance(5)
    assert.deepEqual(second.firedAt, [start + 15])
  })

  it('moves a node scheduled twice instead of holding it twice', () => {
    const probe = new Probe(clock)
    wheel.schedule(probe, start + 100)
    wheel.schedule(probe, start + 300)
    assert.equal(wheel.size, 1)
    clock.advance(1_000)
    assert.deepEqual(probe.firedAt, [start + 300])
  })

  it('arms at most one timer, and none when empty; after the last cancel the one left lapses, firing nothing', () => {
    assert.equal(clock.pendingTimers, 0)
    const probes = Array.from({ length: 1_000 }, () => new Probe(clock))
    for (const [i, p] of probes.entries()) wheel.schedule(p, start + 1 + i * 37)
    assert.equal(clock.pendingTimers, 1)
    for (const p of probes) wheel.cancel(p)
    assert.equal(wheel.isArmed, false)
    clock.advance(1_000)
    assert.equal(clock.pendingTimers, 0, 'the lapsed timer was not set again')
    assert.ok(probes.every((p) => p.firedAt.length === 0))
  })

  it('emptied by a cancel, lets its timer lapse unref’d and refs it again for the next node, instead of clearing one timer and setting another', () => {
    const calls: string[] = []
    const counting: Clock = {
      now: () => clock.now(),
      monotonicNow: () => clock.monotonicNow(),
      setTimer(callback: () => void, ms: number) {
        calls.push('set')
        const timer = clock.setTimer(callback, ms)
        return { unref: () => void calls.push('unref'), ref: () => void calls.push('ref'), timer }
      },
      clearTimer(wrapper) {
        calls.push('clear')
        clock.clearTimer((wrapper as { timer: ClockTimer }).timer)
      },
    }
    const held = new TimerWheel({ clock: counting, unref: false })
    try {
      const first = new Probe(clock)
      held.schedule(first, start + 500)
      held.cancel(first)
      assert.equal(held.isArmed, false)
      const second = new Probe(clock)
      held.schedule(second, start + 600)
      assert.equal(held.isArmed, true)
      assert.deepEqual(calls, ['set', 'unref', 'ref'])
      clock.advance(600)
      assert.deepEqual(second.firedAt, [start + 600], 'the node still fires on time')
    } finally {
      held.close()
    }
  })

  it('clears the timer of a clock whose timers cannot be ref’d again once it is emptied', () => {
    const plain: Clock = {
      now: () => clock.now(),
      monotonicNow: () => clock.monotonicNow(),
      setTimer: (callback: () => void, ms: number) => {
        const timer = clock.setTimer(callback, ms)
        return { unref: () => timer.unref?.(), timer }
      },
      clearTimer: (wrapper) => clock.clearTimer((wrapper as { timer: ClockTimer }).timer),
    }
    const bare = new TimerWheel({ clock: plain })
    const probe = new Probe(clock)
    bare.schedule(probe, start + 500)
    bare.cancel(probe)
    assert.equal(clock.pendingTimers, 0)
    bare.close()
  })

  it('caps each sleep and catches up when the clock jumps forward', () => {
    const probes = [start + 3_600_000, start + 60_000, start + 30].map((due) => {
      const p = new Probe(clock)
      wheel.schedule(p, due)
      return p
    })
    clock.set(start + 2 * 3_600_000)
    assert.equal(probes[2]!.firedAt.length, 0, 'a clock change alone fires nothing')
    clock.advance(1_000)
    for (const p of probes) assert.equal(p.firedAt.length, 1)
  })

  it('never fires early when the clock is set back, even for nodes scheduled afterwards', () => {
    const early = new Probe(clock)
    wheel.schedule(early, start + 1_000)
    clock.advance(500)
    clock.set(start - 3_600_000)
    const late = new Probe(clock)
    wheel.schedule(late, start - 3_600_000 + 200)
    clock.advance(200)
    assert.deepEqual(late.firedAt, [start - 3_600_000 + 200])
    assert.deepEqual(early.firedAt, [])
    clock.set(start)
    clock.advance(999)
    assert.deepEqual(early.firedAt, [])
    clock.advance(1)
    assert.deepEqual(early.firedAt, [start + 1_000])
  })

  it('reports an error thrown by a node and still fires the others', () => {
    const errors: unknown[] = []
    wheel.close()
    wheel = new TimerWheel({ clock, onError: (e) => errors.push(e) })
    const bad = new Probe(clock, 'bad', () => {
      throw new Error('boom')
    })
    const good = new Probe(clock)
    wheel.schedule(bad, start + 5)
    wheel.schedule(good, start + 5)
    clock.advance(5)
    assert.equal(good.firedAt.length, 1)
    assert.equal((errors[0] as Error).message, 'boom')
  })

  it('holds a million nodes and fires them all', () => {
    const count = 1_000_000
    let fired = 0
    class Counter extends TimerNode {
      override expire(): void {
        fired++
      }
    }
    for (let i = 0; i < count; i++) wheel.schedule(new Counter(), start + 1 + (i % 3_600_000))
    assert.equal(wheel.size, count)
    clock.advance(3_600_001)
    assert.equal(fired, count)
    assert.equal(wheel.isArmed, false)
  })

  it('rejects due times that are not finite numbers within a Date', () => {
    for (const due of [Number.NaN, Infinity, 9e15]) {
      assert.throws(() => wheel.schedule(new Probe(clock), due), InvalidOptionError)
    }
    assert.throws(() => new TimerWheel({ clock, maxSleepMs: 0 }), /maxSleepMs/)
  })

  it('uses a real unref-ed timer that lets the process exit', async () => {
    const real = new TimerWheel({ clock: systemClock })
    const probe = new Probe(clock)
    let resolve!: () => void
    const fired = new Promise<void>((r) => (resolve = r))
    const node = new (class extends TimerNode {
      override expire(): void {
        resolve()
      }
    })()
    real.schedule(probe, Date.now() + 60_000)
    real.schedule(node, Date.now() + 5)
    await fired
    assert.equal(real.isArmed, true)
    real.cancel(probe)
    assert.equal(real.isArmed, false)
    real.close()
  })
})
