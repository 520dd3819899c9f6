import assert from 'node:assert/strict'
import { BackgroundJobBase } from '../../src/background-job-base'
import type { TimerWheel } from '../../src/memory/timer-wheel'
import { REGISTRATIONS } from '../../src/registrations'
import { JobNotFoundError, JobStateError, PendingJobsLimitError } from '../../src/errors'
import type { JobContext, JobState } from '../../src/types'
import { createHarness, flush, type Harness } from '../support/harness'
import { ProcessGuard } from './process-guard'
import { random } from '../support/random'

type LoadKind = 'ok' | 'delayed' | 'flaky' | 'doomed' | 'hang' | 'thrower' | 'cancel-delayed' | 'cancel-due' | 'unknown'

interface LoadArgs {
  kind: LoadKind
  /** For `flaky`: how many first attempts fail. */
  k: number
}

/** Attempts per job id, counted by the job itself. */
const attempts = new Map<string, number>()
const NON_ERRORS: unknown[] = ['a string', undefined, { code: 'E_OBJECT' }, null]

class LoadJob extends BackgroundJobBase<LoadArgs> {
  static override retry = { maxRetries: 2, initialDelayMs: 50, factor: 2 }
  static override timeoutMs = 1000
  // Not `async`: `thrower` throws synchronously.
  protected override executing(args: LoadArgs, ctx: JobContext): Promise<void> {
    attempts.set(ctx.jobId, (attempts.get(ctx.jobId) ?? 0) + 1)
    switch (args.kind) {
      case 'flaky':
        return ctx.attempt <= args.k ? Promise.reject(new Error(`flaky attempt ${ctx.attempt}`)) : Promise.resolve()
      case 'doomed':
        return Promise.reject(new Error('doomed'))
      case 'hang':
        return new Promise(() => {})
      case 'thrower':
        throw NON_ERRORS[args.k % NON_ERRORS.length]
      default:
        return Promise.resolve()
    }
  }
}

/** Cumulative shares of each kind in the mix. */
const MIX: [LoadKind, number][] = [
  ['ok', 0.35],
  ['delayed', 0.6],
  ['flaky', 0.7],
  ['doomed', 0.74],
  ['hang', 0.745],
  ['thrower', 0.77],
  ['cancel-delayed', 0.92],
  ['cancel-due', 0.99],
  ['unknown', 1],
]

const EXPECTED: Record<LoadKind, 'completed' | 'failed' | 'cancelled'> = {
  ok: 'completed',
  delayed: 'completed',
  flaky: 'completed',
  doomed: 'failed',
  hang: 'failed',
  thrower: 'failed',
  'cancel-delayed': 'cancelled',
  'cancel-due': 'cancelled',
  unknown: 'failed',
}

describe('MemoryJobEngine under load', () => {
  const guard = new ProcessGuard()
  let h: Harness

  beforeEach(() => {
    attempts.clear()
    guard.escaped.length = 0
    guard.install()
  })

  afterEach(async () => {
    try {
      await h.manager.stop({ drain: false })
      await h.container.dispose()
    } finally {
      guard.restore()
    }
  })

  it('accounts for each of 20,000 mixed jobs exactly once, counts maxPendingJobs rejections, drops nothing and leaves no timer armed', async () => {
    const total = 20_000
    const maxPendingJobs = 3000
    const keep = 500
    h = createHarness((o) => o.addJob(LoadJob), {
      concurrency: 64,
      maxPendingJobs,
      keepCompleted: keep,
      keepFailed: keep,
      keepCancelled: keep,
    })
    const { manager, clock } = h
    const next = random(4)

    const enqueuedEvents = new Set<string>()
    const finalState = new Map<string, JobState>()
    const duplicates: string[] = []
    manager.on('enqueued', (job) => {
      if (enqueuedEvents.has(job.id)) duplicates.push(`enqueued twice: ${job.id}`)
      enqueuedEvents.add(job.id)
    })
    for (const state of ['completed', 'failed', 'cancelled'] as const) {
      manager.on(state, (job) => {
        if (finalState.has(job.id)) duplicates.push(`${job.id}: ${finalState.get(job.id)} then ${state}`)
        finalState.set(job.id, state)
      })
    }

    const kindOf = new Map<string, LoadArgs>()
    const ids: string[] = []
    /** Jobs cancelled later by id, whatever their kind: some may have made attempts already. */
    const cancelledLater = new Set<string>()
    let rejections = 0
    let extraCancels = 0
    let refusedCancels = 0
    let raceLost = 0
    let pendingPeak = 0
    for (let i = 0; i < total; i++) {
      const roll = next()
      const kind = MIX.find(([, upTo]) => roll < upTo)![0]
      const args: LoadArgs = { kind, k: 1 + Math.floor(next() * 2) }
      const delay =
        kind === 'delayed'
          ? 1 + Math.floor(next() * 3000)
          : kind === 'cancel-delayed'
            ? 1000 + Math.floor(next() * 4000)
            : 0
      let id: string | undefined
      while (id === undefined) {
        try {
          id =
            kind === 'unknown'
              ? await manager.enqueue('NoSuchLoadJob', args)
              : await manager.enqueue(LoadJob, args, { delay })
        } catch (error) {
          if (!(error instanceof PendingJobsLimitError)) throw error
          rejections++
          pendingPeak = Math.max(pendingPeak, (await manager.counts()).pending)
          // Back off as a producer should: let time pass and jobs run, then try the same job again.
          await flush()
          clock.advance(100)
        }
      }
      kindOf.set(id, args)
      ids.push(id)
      if (kind === 'cancel-delayed') {
        await manager.cancel(id)
        assert.equal((await manager.getJob(id))?.state, 'cancelled')
      }
      if (kind === 'cancel-due') {
        try {
          await manager.cancel(id)
        } catch (error) {
          // A job settling meanwhile frees a slot and may start this one at once: then it runs as an ordinary job.
          assert.ok(error instanceof JobStateError, String(error))
          kindOf.set(id, { kind: 'ok', k: 0 })
          raceLost++
        }
      }
      if (i % 97 === 0 && i > 0) {
        // Cancel some earlier job, whatever its state now: only a pending one may be cancelled.
        const earlier = ids[Math.floor(next() * ids.length)]!
        try {
          await manager.cancel(earlier)
          if (!kindOf.get(earlier)!.kind.startsWith('cancel')) cancelledLater.add(earlier)
          extraCancels++
        } catch (error) {
          assert.ok(error instanceof JobStateError || error instanceof JobNotFoundError, String(error))
          refusedCancels++
        }
      }
      if (i % 500 === 0) await flush()
    }

    for (let turn = 0; finalState.size < kindOf.size; turn++) {
      assert.ok(turn < 10_000, `${kindOf.size - finalState.size} jobs never settled`)
      await flush()
      clock.advance(100)
    }
    await flush()

    assert.deepEqual(duplicates, [], 'no job is enqueued twice or settles twice')
    assert.equal(kindOf.size, total, 'every job the producer meant to enqueue was accepted in the end')
    assert.equal(enqueuedEvents.size, total, 'a rejected enqueue stores nothing and emits nothing')
    assert.ok(rejections > 0, 'the producer outran the bound')
    assert.ok(pendingPeak <= maxPendingJobs, `pending peaked at ${pendingPeak}`)
    const tally = { completed: 0, failed: 0, cancelled: 0, pending: 0, running: 0 }
    for (const state of finalState.values()) tally[state]++
    assert.equal(tally.completed + tally.failed + tally.cancelled, total, 'completed + failed + cancelled = enqueued')

    for (const [id, args] of kindOf) {
      const expectedAttempts = {
        ok: 1,
        delayed: 1,
        flaky: args.k + 1,
        doomed: 3,
        // Its body never ends, so it gets no retry beside it.
        hang: 1,
        thrower: 3,
        unknown: undefined,
        'cancel-delayed': undefined,
        'cancel-due': undefined,
      }[args.kind]
      if (cancelledLater.has(id)) {
        assert.equal(finalState.get(id), 'cancelled', `${args.kind} job ${id}, cancelled later`)
        assert.ok(
          // A hang job is cancelled while its retry waits for its first body: it ran once.
          (attempts.get(id) ?? 0) < (args.kind === 'hang' ? 2 : (expectedAttempts ?? 1)),
          `${args.kind} job ${id}, cancelled while pending, ran ${attempts.get(id)} times`,
        )
        continue
      }
      assert.equal(finalState.get(id), EXPECTED[args.kind], `${args.kind} job ${id}`)
      assert.equal(attempts.get(id), expectedAttempts, `${args.kind} job ${id} ran ${attempts.get(id)} times`)
    }
    const counts = await manager.counts()
    assert.deepEqual(counts, {
      pending: 0,
      running: 0,
      completed: Math.min(tally.completed, keep),
      failed: Math.min(tally.failed, keep),
      cancelled: Math.min(tally.cancelled, keep),
    })
    const wheel = h.container.resolve<TimerWheel>(REGISTRATIONS.memoryTimerWheel)
    assert.equal(wheel.size, 0)
    assert.equal(wheel.isArmed, false, 'no timer left armed')
    // The timeout wheel's timer, left to lapse once no attempt runs, fires by the longest timeout and is not set again.
    clock.advance(300_000)
    assert.equal(clock.pendingTimers, 0, 'no attempt timeout left either')
    assert.ok(
      extraCancels > 0 && refusedCancels > 0,
      `cancels of earlier jobs: ${extraCancels} done, ${refusedCancels} refused`,
    )
    assert.ok(
      raceLost < tally.cancelled,
      `most due jobs were cancelled before they started (${raceLost} started first)`,
    )
    await guard.assertNothingEscaped()
  })

  it('skips a schedule occurrence while maxPendingJobs are pending, logs it, and creates no half-made job', async () => {
    h = createHarness((o) => o.addJob(LoadJob), { maxPendingJobs: 2 })
    await h.manager.enqueue(LoadJob, { kind: 'ok', k: 0 }, { delay: 120_000 })
    await h.manager.enqueue(LoadJob, { kind: 'ok', k: 0 }, { delay: 120_000 })
    await h.manager.addOrUpdateSchedule({
      id: 'every-minute',
      cron: '* * * * *',
      job: LoadJob,
      args: { kind: 'ok', k: 0 },
    })
    await h.tick(60_000)
    assert.deepEqual(await h.manager.counts(), { pending: 2, running: 0, completed: 0, failed: 0, cancelled: 0 })
    assert.match(
      h.logger.messages('error').at(-1)!,
      /Schedule "every-minute" could not enqueue job "LoadJob": PendingJobsLimitError: Cannot enqueue "LoadJob": 2 jobs are already pending/,
    )
    const [schedule] = await h.manager.listSchedules()
    assert.equal(schedule?.lastJobId, undefined)
    assert.ok(schedule?.nextRunAt, 'the schedule stays armed for its next occurrence')
    await h.tick(60_000)
    await h.manager.removeSchedule('every-minute')
    await h.manager.onIdle()
    assert.equal((await h.manager.counts()).completed, 2)
    await guard.assertNothingEscaped()
  })
})
