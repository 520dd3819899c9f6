import assert from 'node:assert/strict'
import { BackgroundJobBase } from '../../src/background-job-base'
import type { TimerWheel } from '../../src/memory/timer-wheel'
import { REGISTRATIONS } from '../../src/registrations'
import { JobTimeoutError } from '../../src/errors'
import type { JobContext } from '../../src/types'
import { createHarness, flush, type Harness } from '../support/harness'
import { ProcessGuard, deferred, stopAndRestore } from './process-guard'

const HOUR = 3_600_000
const MINUTE = 60_000

/** Wall-clock times at which each job id ran, in run order. */
const runs = new Map<string, number[]>()
/** When the schedule enqueued its jobs, in ms after the test's start. */
const cronFires: number[] = []
let now: () => number = () => 0
let gate = deferred()

class StampJob extends BackgroundJobBase<{ n: number }> {
  protected override async executing(_args: { n: number }, ctx: JobContext): Promise<void> {
    const list = runs.get(ctx.jobId)
    if (list === undefined) runs.set(ctx.jobId, [now()])
    else list.push(now())
  }
}

class LongJob extends BackgroundJobBase<null> {
  static override timeoutMs = 5 * MINUTE
  static override retry = { maxRetries: 3, initialDelayMs: 0 }
  protected override async executing(_args: null, ctx: JobContext): Promise<void> {
    const list = runs.get(ctx.jobId)
    if (list === undefined) runs.set(ctx.jobId, [now()])
    else list.push(now())
    await gate.promise
  }
}

describe('MemoryJobEngine when the wall clock jumps', () => {
  const guard = new ProcessGuard()
  let h: Harness
  let start = 0

  beforeEach(() => {
    runs.clear()
    cronFires.length = 0
    gate = deferred()
    h = createHarness((o) => o.addJob(StampJob, LongJob), { concurrency: 100 })
    now = () => h.clock.now()
    start = h.clock.now()
    h.manager.on('enqueued', (job) => {
      if (job.scheduleId !== undefined) cronFires.push(job.createdAt.getTime() - start)
    })
    guard.escaped.length = 0
    guard.install()
  })

  afterEach(async () => {
    gate.resolve()
    await stopAndRestore(h, guard)
  })

  /** Enqueues `count` jobs due every `step` ms from `first` ms on; returns id → runAt. */
  async function enqueueSpread(count: number, first: number, step: number): Promise<Map<string, number>> {
    const dueAt = new Map<string, number>()
    for (let n = 0; n < count; n++) {
      const delay = first + n * step
      // Alternate the two ways of giving a time.
      const id =
        n % 2 === 0
          ? await h.manager.enqueue(StampJob, { n }, { delay })
          : await h.manager.enqueue(StampJob, { n }, { runAt: new Date(h.clock.now() + delay) })
      dueAt.set(id, h.clock.now() + delay)
    }
    return dueAt
  }

  /** Lets `ms` pass in `step` ms increments, letting jobs run between them. */
  async function pass(ms: number, step = 1000): Promise<void> {
    for (let left = ms; left > 0; left -= step) await h.tick(Math.min(step, left))
    await flush()
  }

  function assertRanOnceNotEarly(dueAt: Map<string, number>): void {
    for (const [id, due] of dueAt) {
      const times = runs.get(id)
      assert.equal(times?.length, 1, `job due at +${due - start} ms ran ${times?.length ?? 0} times`)
      const first = times?.[0] ?? Number.NaN
      assert.ok(first >= due, `job due at +${due - start} ms ran ${due - first} ms early`)
    }
  }

  it('runs every job that falls due when the clock is set forward an hour exactly once, and none due later', async () => {
    const dueAt = await enqueueSpread(400, 1, 18_000) // from 1 ms to 2 h
    const schedule = await h.manager.addOrUpdateSchedule({
      id: 'hourly',
      cron: '0 * * * *',
      timezone: 'UTC',
      job: StampJob,
      args: { n: -1 },
    })
    assert.equal(schedule.nextRunAt?.getTime(), start + HOUR)

    h.clock.set(start + HOUR)
    // Nothing has slept through the jump yet; the wheel's capped sleep (1 s) notices it.
    await pass(1000)
    const jumpedTo = h.clock.now()
    let ran = 0
    for (const [id, due] of dueAt) {
      const times = runs.get(id) ?? []
      if (due <= jumpedTo) {
        assert.equal(times.length, 1, `job due at +${due - start} ms, before the jump, ran ${times.length} times`)
        ran++
      } else {
        assert.equal(times.length, 0, `job due at +${due - start} ms, after the jump, ran early`)
      }
    }
    assert.ok(ran > 190 && ran < 210, `about half the jobs were due (${ran})`)
    const [listed] = await h.manager.listSchedules()
    assert.ok(listed?.lastJobId)
    assert.equal(runs.get(listed.lastJobId)?.length, 1, 'the hourly schedule fired once for the hour it jumped to')
    assert.equal(listed.nextRunAt?.getTime(), start + 2 * HOUR)

    await pass(HOUR + 1000, 60_000)
    assertRanOnceNotEarly(dueAt)
    assert.equal(cronFires.length, 2, 'one job per hour from the schedule: at 1:00 and 2:00')
    assert.ok(
      cronFires[0]! >= HOUR && cronFires[0]! <= HOUR + 1000,
      'the 1:00 job came as soon as the jump was noticed',
    )
    assert.equal(cronFires[1], 2 * HOUR)
    await h.manager.removeSchedule('hourly')
    assert.equal(h.container.resolve<TimerWheel>(REGISTRATIONS.memoryTimerWheel).isArmed, false)
    await guard.assertNothingEscaped()
  })

  it('runs no job early or twice when the clock is set back an hour, and keeps new short delays short', async () => {
    const dueAt = await enqueueSpread(400, 0, 18_000) // from now to 2 h
    await h.manager.addOrUpdateSchedule({
      id: 'hourly',
      cron: '0 * * * *',
      timezone: 'UTC',
      job: StampJob,
      args: { n: -1 },
    })

    await pass(HOUR + 30 * MINUTE, 60_000)
    const ranBefore = [...dueAt].filter(([id]) => runs.has(id)).length
    assert.ok(ranBefore > 290 && ranBefore < 310, `three quarters ran before the jump (${ranBefore})`)
    assert.deepEqual(cronFires, [HOUR], 'the schedule fired at 1:00')

    h.clock.set(h.clock.now() - HOUR) // back to 0:30
    const afterJump = await h.manager.enqueue(StampJob, { n: 1000 }, { delay: 1000 })
    const dueAfterJump = h.clock.now() + 1000
    await pass(999, 333)
    assert.equal(runs.get(afterJump), undefined, 'a delay given after the jump is not cut short')
    await pass(1)
    assert.deepEqual(runs.get(afterJump), [dueAfterJump], 'nor stretched by the hour the clock went back')

    // Back over the hour already lived through (0:30 to 1:30): nothing that already ran runs again.
    await pass(HOUR, 60_000)
    const ranTwice = [...runs].filter(([, times]) => times.length > 1)
    assert.deepEqual(ranTwice, [])
    await pass(HOUR, 60_000)
    assertRanOnceNotEarly(dueAt)
    assert.deepEqual(cronFires, [HOUR, 2 * HOUR], 'the schedule did not fire 1:00 twice')
    await h.manager.removeSchedule('hourly')
    assert.equal(h.container.resolve<TimerWheel>(REGISTRATIONS.memoryTimerWheel).isArmed, false)
    await guard.assertNothingEscaped()
  })

  it('does not time out a running attempt when the clock is set forward, nor let it run longer when it is set back', async () => {
    const forward = await h.manager.enqueue(LongJob, null)
    await flush()
    h.clock.set(h.clock.now() + HOUR)
    await pass(2000)
    assert.equal((await h.manager.getJob(forward))?.state, 'running', 'an hour of wall clock is not an hour of running')
    gate.resolve()
    const done = await h.manager.onSettled(forward)
    assert.equal(done.state, 'completed')
    assert.equal(done.attempts, 1)
    assert.equal(runs.get(forward)?.length, 1, 'the attempt was not aborted and run again')

    gate = deferred()
    const back = await h.manager.enqueue(LongJob, null)
    await flush()
    h.clock.set(h.clock.now() - HOUR)
    await pass(5 * MINUTE - 1000)
    assert.equal((await h.manager.getJob(back))?.state, 'running')
    await pass(1000)
    const timedOut = await h.manager.getJob(back)
    assert.equal(
      timedOut?.lastError?.name,
      JobTimeoutError.name,
      'the timeout fires after 5 minutes of running, not an hour and 5 minutes',
    )
    assert.equal(timedOut?.attempts, 1, 'and its retry waits for the body, which still runs')
    assert.equal(timedOut?.state, 'pending')
    gate.resolve()
    assert.equal((await h.manager.onSettled(back)).attempts, 2, 'the retry ran once the body had ended')
    await guard.assertNothingEscaped()
  })
})
