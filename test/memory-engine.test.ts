import assert from 'node:assert/strict'
import { asValue, createContainer } from 'awilix'
import { BackgroundJobBase } from '../src/background-job-base'
import type { BackgroundJobManager } from '../src/background-job-manager'
import { ManualClock, systemClock, type Clock } from '../src/clock'
import { backoffDelay } from '../src/policy/retry-policy'
import { JobTimeoutError, ManagerStoppedError, UnknownJobError } from '../src/errors'
import { DEFAULT_RETRY } from '../src/policy/retry-policy'
import { addBackgroundJobs } from '../src/register'
import type { JobContext, JobInfo } from '../src/types'
import { CapturingLogger, createHarness, flush, type Harness } from './support/harness'

/** Behaviour each test sets: what the next attempts of FlakyJob do. */
let script: ((args: { n: number }, ctx: JobContext) => Promise<void>)[] = []
const runs: { n: number; attempt: number; at: number }[] = []
let now: () => number = () => 0

class FlakyJob extends BackgroundJobBase<{ n: number }> {
  protected override async executing(args: { n: number }, ctx: JobContext): Promise<void> {
    runs.push({ n: args.n, attempt: ctx.attempt, at: now() })
    const next = script.shift()
    if (next) await next(args, ctx)
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('MemoryJobEngine (processor)', () => {
  let h: Harness

  function setup(options: Parameters<typeof createHarness>[1] = {}): Harness {
    h = createHarness((o) => o.addJob(FlakyJob), options)
    now = () => h.clock.now()
    return h
  }

  beforeEach(() => {
    script = []
    runs.length = 0
  })

  afterEach(async () => {
    await h?.container.dispose()
  })

  it('runs an immediate job on a later turn and marks it completed', async () => {
    setup()
    const id = await h.manager.enqueue(FlakyJob, { n: 1 })
    assert.equal(runs.length, 0, 'enqueue must not run the job in the caller’s stack')
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'completed')
    assert.equal(job.attempts, 1)
    assert.deepEqual(runs, [{ n: 1, attempt: 1, at: h.clock.now() }])
  })

  it('runs a delayed job at its time and not before', async () => {
    setup()
    const id = await h.manager.enqueue(FlakyJob, { n: 1 }, { delay: 3000 })
    await h.tick(2999)
    assert.equal(runs.length, 0)
    assert.equal((await h.manager.getJob(id))?.state, 'pending')
    await h.tick(1)
    assert.equal((await h.manager.onSettled(id)).state, 'completed')
    assert.equal(runs[0]!.at, (await h.manager.getJob(id))!.createdAt.getTime() + 3000)
  })

  it('retries with exponential backoff (MASA defaults: 60 s, factor 2) and then succeeds', async () => {
    setup()
    const fail = async (): Promise<void> => {
      throw new Error('flaky')
    }
    script = [fail, fail, fail]
    const id = await h.manager.enqueue(FlakyJob, { n: 7 })
    await h.tick(0)
    const start = runs[0]!.at
    for (const wait of [60_000, 120_000, 240_000]) {
      await h.tick(wait - 1)
      const before = runs.length
      await h.tick(1)
      assert.equal(runs.length, before + 1, `retry after ${wait} ms`)
    }
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'completed')
    assert.deepEqual(
      runs.map((r) => r.at - start),
      [0, 60_000, 180_000, 420_000],
    )
    assert.deepEqual(
      runs.map((r) => r.attempt),
      [1, 2, 3, 4],
    )
    assert.equal(h.logger.messages('error').length, 3)
    assert.match(h.logger.messages('error')[0]!, /FlakyJob .* attempt 1\/11 failed: flaky; retrying in 60000 ms/)
  })

  it('computes backoff capped at maxDelayMs', () => {
    assert.equal(backoffDelay(DEFAULT_RETRY, 1), 60_000)
    assert.equal(backoffDelay(DEFAULT_RETRY, 3), 240_000)
    assert.equal(backoffDelay(DEFAULT_RETRY, 30), DEFAULT_RETRY.maxDelayMs)
  })

  it('keeps a job failed, with its last error, once retries are exhausted', async () => {
    setup({ retry: { maxRetries: 2, initialDelayMs: 10 } })
    const events: string[] = []
    h.manager.on('retrying', (j) => events.push(`retrying:${j.attempts}`))
    h.manager.on('failed', (j) => events.push(`failed:${j.attempts}`))
    script = Array.from({ length: 3 }, () => async () => {
      throw new TypeError('always')
    })
    const id = await h.manager.enqueue(FlakyJob, { n: 1 })
    await h.tick(0)
    await h.tick(10)
    await h.tick(20)
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'failed')
    assert.equal(job.attempts, 3)
    assert.equal(job.maxAttempts, 3)
    assert.deepEqual(job.lastError && { name: job.lastError.name, message: job.lastError.message }, { name: 'TypeError', message: 'always' })
    assert.deepEqual(events, ['retrying:1', 'retrying:2', 'failed:3'])
    assert.match(h.logger.messages('error').at(-1)!, /attempt 3\/3 failed for good: always/)
    assert.equal((await h.manager.counts()).failed, 1)
  })

  it('honours a per-job retry policy and timeout over the store’s', async () => {
    class OnceJob extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 0 }
      static override timeoutMs = 50
      protected override async executing(): Promise<void> {
        await new Promise(() => {})
      }
    }
    h = createHarness((o) => o.addJob(OnceJob))
    const id = await h.manager.enqueue(OnceJob, null)
    await h.tick(50)
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'failed')
    assert.equal(job.maxAttempts, 1)
    assert.equal(job.lastError?.name, 'JobTimeoutError')
  })

  it('times out a hanging attempt: aborts its signal and counts a failure', async () => {
    setup({ timeoutMs: 1000, retry: { maxRetries: 0 } })
    let signal: AbortSignal | undefined
    script = [
      async (_args, ctx) => {
        signal = ctx.signal
        await new Promise(() => {})
      },
    ]
    const id = await h.manager.enqueue(FlakyJob, { n: 1 })
    await h.tick(999)
    assert.equal((await h.manager.getJob(id))?.state, 'running')
    await h.tick(1)
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'failed')
    assert.equal(signal?.aborted, true)
    assert.ok(signal?.reason instanceof JobTimeoutError)
    assert.match(job.lastError!.message, /ran longer than its 1000 ms timeout/)
  })

  it('times out many running attempts, each at its own start + timeoutMs, with one clock timer', async () => {
    setup({ concurrency: 100, timeoutMs: 50, retry: { maxRetries: 0 } })
    script = Array.from({ length: 100 }, () => () => new Promise<void>(() => {}))
    const early = await Promise.all(Array.from({ length: 60 }, (_, n) => h.manager.enqueue(FlakyJob, { n })))
    await h.tick(0)
    await h.tick(30)
    const late = await Promise.all(Array.from({ length: 40 }, (_, n) => h.manager.enqueue(FlakyJob, { n: 60 + n })))
    await h.tick(0)
    assert.equal((await h.manager.counts()).running, 100)
    assert.equal(h.clock.pendingTimers, 1, 'one timer for every running attempt, not one each')
    await h.tick(20)
    const states = async (ids: string[]): Promise<string[]> => [...new Set(await Promise.all(ids.map(async (id) => (await h.manager.getJob(id))!.state)))]
    assert.deepEqual(await states(early), ['failed'], 'the first 60 time out 50 ms after they started')
    assert.deepEqual(await states(late), ['running'], 'the last 40 started 30 ms later')
    await h.tick(29)
    assert.deepEqual(await states(late), ['running'])
    await h.tick(1)
    assert.deepEqual(await states(late), ['failed'])
    assert.equal(h.clock.pendingTimers, 0, 'no timer once no attempt runs')
  })

  it('times out on the system clock (performance.now() and one Node timer), leaving no timer behind', async () => {
    // The system clock, counting the timers it holds armed.
    let armed = 0
    const clock: Clock = {
      now: () => systemClock.now(),
      monotonicNow: () => systemClock.monotonicNow(),
      setTimer: (callback, ms) => {
        armed++
        return systemClock.setTimer(() => {
          armed--
          callback()
        }, ms)
      },
      clearTimer: (timer) => {
        armed--
        systemClock.clearTimer(timer)
      },
    }
    class HangJob extends BackgroundJobBase<null> {
      static override timeoutMs = 20
      static override retry = { maxRetries: 0 }
      protected override async executing(): Promise<void> {
        await new Promise(() => {})
      }
    }
    const container = createContainer()
    container.register('logger', asValue(new CapturingLogger()))
    addBackgroundJobs(container, (o) => o.useInMemoryStore({ clock }).addJob(HangJob))
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const started = performance.now()
    const id = await manager.enqueue(HangJob, null)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(armed, 1, 'one timer while the attempt runs')
    const job = await manager.onSettled(id)
    assert.ok(performance.now() - started >= 20, 'not before its timeout')
    assert.equal(job.lastError?.name, 'JobTimeoutError')
    assert.equal(armed, 0, 'no timer once no attempt runs')
    await container.dispose()
  })

  it('never runs more than `concurrency` attempts at once, and starts the next as one ends', async () => {
    setup({ concurrency: 3 })
    const gates = Array.from({ length: 7 }, deferred)
    let running = 0
    let peak = 0
    script = gates.map((gate) => async () => {
      running++
      peak = Math.max(peak, running)
      await gate.promise
      running--
    })
    const ids = await Promise.all(gates.map((_, n) => h.manager.enqueue(FlakyJob, { n })))
    await flush()
    assert.equal(running, 3)
    assert.equal((await h.manager.counts()).pending, 4)
    gates[0]!.resolve()
    await flush()
    assert.equal(running, 3)
    assert.deepEqual(
      runs.map((r) => r.n),
      [0, 1, 2, 3],
      'jobs start in enqueue order',
    )
    for (const gate of gates) gate.resolve()
    await Promise.all(ids.map((id) => h.manager.onSettled(id)))
    assert.equal(peak, 3)
  })

  it('lets the event loop turn while a backlog of quick jobs runs', async () => {
    setup({ concurrency: 100 })
    const total = 5000
    await Promise.all(Array.from({ length: total }, (_, n) => h.manager.enqueue(FlakyJob, { n })))
    // Quick jobs settle in microtasks and start the next ones from there; a macrotask queued now
    // must still get its turn before the backlog is through.
    let ranAt = -1
    setImmediate(() => (ranAt = runs.length))
    await h.manager.onIdle()
    assert.equal(runs.length, total)
    assert.ok(ranAt >= 0 && ranAt < total, `the macrotask ran after ${ranAt} of ${total} jobs`)
  })

  it('cancels a pending job, which then never runs', async () => {
    setup()
    const delayed = await h.manager.enqueue(FlakyJob, { n: 1 }, { delay: 500 })
    const due = await h.manager.enqueue(FlakyJob, { n: 2 })
    assert.equal(await h.manager.cancel(delayed), undefined)
    assert.equal((await h.manager.getJob(delayed))?.state, 'cancelled')
    await h.manager.cancel(due)
    assert.equal((await h.manager.getJob(due))?.state, 'cancelled', 'a due job waiting in the ready queue can be cancelled too')
    await h.tick(1000)
    assert.equal(runs.length, 0)
    assert.deepEqual((await h.manager.counts()).cancelled, 2)
  })

  it('fails a job whose name has no handler without retrying it', async () => {
    setup()
    const id = await h.manager.enqueue('NoSuchJob', { n: 1 })
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'failed')
    assert.equal(job.attempts, 1)
    assert.equal(job.lastError?.name, UnknownJobError.name)
    assert.match(job.lastError!.message, /No job named "NoSuchJob" is registered/)
  })

  it('retries a failed job on demand with a fresh retry budget', async () => {
    setup({ retry: { maxRetries: 0 } })
    script = [
      async () => {
        throw new Error('once')
      },
    ]
    const id = await h.manager.enqueue(FlakyJob, { n: 1 })
    assert.equal((await h.manager.onSettled(id)).state, 'failed')
    const retried = await h.manager.retry(id)
    assert.equal(retried.state, 'pending')
    assert.equal(retried.attempts, 0)
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'completed')
    assert.equal(job.lastError, undefined)
  })

  it('keeps failed, completed and cancelled jobs in bounded lists, dropping the oldest', async () => {
    setup({ keepCompleted: 2 })
    const ids: string[] = []
    for (let n = 0; n < 5; n++) ids.push(await h.manager.enqueue(FlakyJob, { n }))
    await h.manager.onIdle()
    const page = await h.manager.listJobs({ state: 'completed' })
    assert.equal(page.total, 2)
    assert.deepEqual(
      page.items.map((j) => j.id),
      [ids[4], ids[3]],
      'newest first',
    )
    assert.equal(await h.manager.getJob(ids[0]!), undefined)
  })

  it('emits enqueued, started and completed with job snapshots', async () => {
    setup()
    const seen: [string, JobInfo][] = []
    for (const event of ['enqueued', 'started', 'completed'] as const) h.manager.on(event, (job) => seen.push([event, job]))
    const id = await h.manager.enqueue(FlakyJob, { n: 3 })
    await h.manager.onSettled(id)
    assert.deepEqual(
      seen.map(([event, job]) => [event, job.state, job.id]),
      [
        ['enqueued', 'pending', id],
        ['started', 'running', id],
        ['completed', 'completed', id],
      ],
    )
  })

  it('stop drains running attempts, starts nothing new, reports what is left and is idempotent', async () => {
    setup({ concurrency: 1 })
    const gate = deferred()
    script = [() => gate.promise]
    await h.manager.enqueue(FlakyJob, { n: 1 })
    await h.manager.enqueue(FlakyJob, { n: 2 })
    await h.manager.enqueue(FlakyJob, { n: 3 }, { delay: 10_000 })
    await flush()
    const stopping = h.manager.stop({ timeoutMs: 5000 })
    assert.equal(h.manager.stop(), stopping, 'a second stop returns the same promise')
    await assert.rejects(h.manager.enqueue(FlakyJob, { n: 4 }), ManagerStoppedError)
    gate.resolve()
    assert.deepEqual(await stopping, { pending: 2, running: 0 })
    await h.tick(20_000)
    assert.deepEqual(
      runs.map((r) => r.n),
      [1],
    )
  })

  it('stop aborts attempts still running when the drain timeout passes', async () => {
    setup()
    let signal: AbortSignal | undefined
    script = [
      async (_a, ctx) => {
        signal = ctx.signal
        await new Promise(() => {})
      },
    ]
    await h.manager.enqueue(FlakyJob, { n: 1 })
    await flush()
    const stopping = h.manager.stop({ timeoutMs: 100 })
    h.clock.advance(100)
    assert.deepEqual(await stopping, { pending: 0, running: 1 })
    assert.ok(signal?.reason instanceof ManagerStoppedError)
  })

  it('rejects waiters of jobs that stop leaves pending, instead of leaving them waiting forever', async () => {
    setup()
    const id = await h.manager.enqueue(FlakyJob, { n: 1 }, { delay: 1000 })
    const settled = h.manager.onSettled(id)
    const idle = h.manager.onIdle()
    await h.manager.stop()
    await assert.rejects(settled, ManagerStoppedError)
    await assert.rejects(idle, ManagerStoppedError)
    await assert.rejects(h.manager.onSettled(id), /stopped while this job was pending/)
  })

  it('container.dispose() stops the manager', async () => {
    setup()
    const { manager, container } = h
    await container.dispose()
    assert.equal(manager.isStopped, true)
    await assert.rejects(manager.enqueue(FlakyJob, { n: 1 }), ManagerStoppedError)
  })

  it('resolves onIdle once nothing is pending or running', async () => {
    setup()
    await h.manager.onIdle()
    await h.manager.enqueue(FlakyJob, { n: 1 }, { delay: 100 })
    let idle = false
    const waiting = h.manager.onIdle().then(() => (idle = true))
    await h.tick(50)
    assert.equal(idle, false)
    await h.tick(50)
    await waiting
    assert.equal(idle, true)
  })
})

describe('MemoryJobEngine (debug entries)', () => {
  it('writes debug entries to a logger that cannot say which levels it drops', async () => {
    const h = createHarness((o) => o.addJob(FlakyJob))
    await h.manager.onSettled(await h.manager.enqueue(FlakyJob, { n: 1 }))
    assert.deepEqual(h.logger.messages('debug'), ['Job FlakyJob started', 'Job FlakyJob completed'])
    await h.container.dispose()
  })

  it('skips the debug entries a logger says it drops (isLevelEnabled), and writes them once it would not', async () => {
    let isDebug = false
    const entries: string[] = []
    const logger = {
      error() {},
      warn() {},
      info() {},
      debug: (message: string) => void entries.push(message),
      isLevelEnabled: (level: string) => level !== 'debug' || isDebug,
    }
    const container = createContainer()
    container.register('logger', asValue(logger))
    addBackgroundJobs(container, (o) => o.useInMemoryStore({ clock: new ManualClock() }).addJob(FlakyJob))
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    await manager.onSettled(await manager.enqueue(FlakyJob, { n: 1 }))
    assert.deepEqual(entries, [])
    isDebug = true
    await manager.onSettled(await manager.enqueue(FlakyJob, { n: 2 }))
    assert.deepEqual(entries, ['Job FlakyJob started', 'Job FlakyJob completed'])
    await container.dispose()
  })
})
