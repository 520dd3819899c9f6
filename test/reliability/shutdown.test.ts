import assert from 'node:assert/strict'
import { BackgroundJobBase } from '../../src/background-job-base'
import type { TimerWheel } from '../../src/memory/timer-wheel'
import { REGISTRATIONS } from '../../src/registrations'
import { ManagerStoppedError } from '../../src/errors'
import type { JobContext } from '../../src/types'
import { createHarness, flush, type Harness } from '../support/harness'
import { ProcessGuard, deferred, stopAndRestore } from './process-guard'

interface ShutdownArgs {
  /** What the job does once the gate opens (or once aborted, for `ignore-abort` and `reject-late`). */
  then: 'complete' | 'fail' | 'ignore-abort' | 'reject-late'
}

let gate = deferred()
let started = 0
let finished = 0
const signals: AbortSignal[] = []

class ShutdownJob extends BackgroundJobBase<ShutdownArgs> {
  static override retry = { maxRetries: 3, initialDelayMs: 0 }
  protected override async executing(args: ShutdownArgs, ctx: JobContext): Promise<void> {
    started++
    signals.push(ctx.signal)
    if (args.then === 'ignore-abort') return new Promise(() => {})
    if (args.then === 'reject-late') {
      // Throws only after being aborted, a turn later: the rejection must be handled all the same.
      return new Promise((_resolve, reject) =>
        ctx.signal.addEventListener('abort', () => setImmediate(() => reject(new Error('aborted, then failed')))),
      )
    }
    await gate.promise
    finished++
    if (args.then === 'fail') throw new Error('fails while draining')
  }
}

describe('BackgroundJobManager.stop (graceful shutdown)', () => {
  const guard = new ProcessGuard()
  let h: Harness

  beforeEach(() => {
    gate = deferred()
    started = 0
    finished = 0
    signals.length = 0
    // Attempt timeouts far beyond the drain timeout: stop must clear the timers of the attempts it aborts.
    h = createHarness((o) => o.addJob(ShutdownJob), { concurrency: 1000, timeoutMs: 600_000, keepCompleted: 2000 })
    guard.escaped.length = 0
    guard.install()
  })

  afterEach(async () => {
    gate.resolve()
    await stopAndRestore(h, guard)
  })

  it('with 1,000 running and 10,000 pending, lets the running finish, starts none, and reports the 10,000 (plus failed retries) left pending', async () => {
    const ids = await Promise.all(
      Array.from({ length: 11_000 }, (_, n) =>
        h.manager.enqueue(ShutdownJob, { then: n % 10 === 9 && n < 1000 ? 'fail' : 'complete' }),
      ),
    )
    await flush()
    assert.equal(started, 1000)
    assert.deepEqual(await h.manager.counts(), {
      pending: 10_000,
      running: 1000,
      completed: 0,
      failed: 0,
      cancelled: 0,
    })

    const stopping = h.manager.stop({ drain: true, timeoutMs: 60_000 })
    assert.equal(h.manager.stop(), stopping, 'a second stop returns the same promise')
    assert.equal(h.manager.stop({ timeoutMs: 1 }), stopping, 'whatever its options')
    assert.equal(h.manager.isStopped, true)
    await assert.rejects(h.manager.enqueue(ShutdownJob, { then: 'complete' }), ManagerStoppedError)
    await assert.rejects(
      h.manager.enqueue('ShutdownJob', { then: 'complete' }, { delay: 10 }),
      /has been stopped and accepts no new work/,
    )
    await assert.rejects(
      h.manager.addOrUpdateSchedule({ id: 's', cron: '* * * * *', job: ShutdownJob, args: { then: 'complete' } }),
      ManagerStoppedError,
    )

    let isStopped = false
    void stopping.then(() => (isStopped = true))
    await h.tick(30_000)
    assert.equal(isStopped, false, 'stop waits for the running jobs')

    gate.resolve()
    // The 100 that fail while draining go back to pending for their retry, which never starts.
    assert.deepEqual(await stopping, { pending: 10_100, running: 0, interrupted: 0 })
    assert.equal(finished, 1000)
    await h.tick(120_000)
    assert.equal(started, 1000, 'no job started after stop, not even a retry')
    assert.deepEqual(await h.manager.counts(), { pending: 10_100, running: 0, completed: 900, failed: 0, cancelled: 0 })
    assert.equal((await h.manager.getJob(ids[1000]!))?.state, 'pending')
    assert.equal((await h.manager.getJob(ids[9]!))?.attempts, 1)
    assert.equal(h.container.resolve<TimerWheel>(REGISTRATIONS.memoryTimerWheel).isArmed, false)
    assert.equal(h.clock.pendingTimers, 0, 'the drain timer and every attempt timeout were cleared')
    assert.match(
      h.logger.messages('warn').at(-1)!,
      /stopped with 10100 pending \(0 of them interrupted\) and 0 still running/,
    )
    await h.container.dispose()
    assert.equal(await h.manager.stop(), await stopping, 'dispose stops through the same promise')
    await guard.assertNothingEscaped()
  })

  it('aborts what is still running when the drain timeout passes, and lets nothing escape from jobs that fail after the abort', async () => {
    const kinds: ShutdownArgs['then'][] = ['complete', 'ignore-abort', 'reject-late']
    const ids = await Promise.all(
      Array.from({ length: 1500 }, (_, n) => h.manager.enqueue(ShutdownJob, { then: kinds[n % 3]! })),
    )
    await flush()
    assert.equal(started, 1000)
    const stopping = h.manager.stop({ timeoutMs: 5000 })
    gate.resolve()
    await h.tick(4999)
    let isStopped = false
    void stopping.then(() => (isStopped = true))
    await flush()
    assert.equal(isStopped, false)
    await h.tick(1)
    // 334 completed while draining; the 666 left are aborted, and the 333 that end on the abort are
    // interrupted (back to pending, not failed); 500 never started.
    assert.deepEqual(await stopping, { pending: 833, running: 333, interrupted: 333 })
    assert.equal(started, 1000)
    assert.equal(signals.filter((signal) => signal.aborted).length, 666)
    assert.ok(signals.every((signal) => !signal.aborted || signal.reason instanceof ManagerStoppedError))
    await flush()
    await flush()
    // The interrupted are pending again, their attempt not counted and no error recorded; the others stay running.
    const counts = await h.manager.counts()
    assert.deepEqual(counts, { pending: 500 + 333, running: 333, completed: 334, failed: 0, cancelled: 0 })
    const interrupted = await h.manager.getJob(ids[2]!)
    assert.deepEqual([interrupted?.state, interrupted?.attempts, interrupted?.lastError], ['pending', 0, undefined])
    assert.equal(h.clock.pendingTimers, 0, 'no attempt timeout of an aborted attempt is left armed')
    await guard.assertNothingEscaped()
  })
})
