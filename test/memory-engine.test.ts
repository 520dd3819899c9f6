import assert from 'node:assert/strict'
import { asValue, createContainer } from 'awilix'
import { BackgroundJobBase } from '../src/background-job-base'
import type { BackgroundJobEngine } from '../src/background-job-engine'
import type { BackgroundJobManager } from '../src/background-job-manager'
import { ManualClock, systemClock, type Clock } from '../src/clock'
import { ManagerStoppedError, PendingJobsLimitError } from '../src/errors'
import { addBackgroundJobs } from '../src/register'
import { REGISTRATIONS } from '../src/registrations'
import type { JobContext } from '../src/types'
import { deferred } from './support/deferred'
import { CapturingLogger, createHarness, type Harness } from './support/harness'

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

  it('starts the job that takes a freed slot at the time it starts, after what completed listeners spent', async () => {
    setup({ concurrency: 1 })
    h.manager.on('completed', () => h.clock.advance(7))
    const first = await h.manager.enqueue(FlakyJob, { n: 1 })
    const second = await h.manager.enqueue(FlakyJob, { n: 2 })
    await h.manager.onIdle()
    const [a, b] = [await h.manager.getJob(first), await h.manager.getJob(second)]
    assert.equal(b?.lastRunAt?.getTime(), (a?.finishedAt?.getTime() ?? NaN) + 7)
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

  it('logs the attempt that used up the retries as failed for good', async () => {
    setup({ retry: { maxRetries: 2, initialDelayMs: 10 } })
    script = Array.from({ length: 3 }, () => async () => {
      throw new TypeError('always')
    })
    const id = await h.manager.enqueue(FlakyJob, { n: 1 })
    await h.tick(0)
    await h.tick(10)
    await h.tick(20)
    assert.equal((await h.manager.onSettled(id)).state, 'failed')
    assert.deepEqual(
      h.logger.messages('error').map((message) => /attempt (\d\/\d) failed( for good)?/.exec(message)?.slice(1)),
      [
        ['1/3', undefined],
        ['2/3', undefined],
        ['3/3', ' for good'],
      ],
    )
    assert.match(h.logger.messages('error').at(-1)!, /attempt 3\/3 failed for good: always/)
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
    const states = async (ids: string[]): Promise<string[]> => [
      ...new Set(await Promise.all(ids.map(async (id) => (await h.manager.getJob(id))!.state))),
    ]
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

  it('keeps a timed-out attempt whose body still runs apart from the attempt that took its slot', async () => {
    // Running attempts are reused: the one a timed-out body still holds must not serve the next
    // attempt, or the end of that body would settle the attempt that took its slot.
    setup({ concurrency: 1, timeoutMs: 50, retry: { maxRetries: 1, initialDelayMs: 1000 } })
    const bodyA = deferred()
    const bodyB = deferred()
    script = [() => bodyA.promise, () => bodyB.promise]
    const a = await h.manager.enqueue(FlakyJob, { n: 1 })
    const b = await h.manager.enqueue(FlakyJob, { n: 2 })
    await h.tick(0)
    await h.tick(50)
    assert.equal((await h.manager.getJob(a))?.lastError?.name, 'JobTimeoutError')
    assert.equal((await h.manager.getJob(b))?.state, 'running', 'B took the slot A timed out of')
    bodyA.resolve()
    await h.tick(0)
    assert.equal((await h.manager.getJob(b))?.state, 'running', "the end of A's body leaves B running")
    assert.equal((await h.manager.getJob(a))?.state, 'pending', 'A waits for its retry')
    bodyB.resolve()
    await h.tick(0)
    const settledB = await h.manager.getJob(b)
    assert.equal(settledB?.state, 'completed')
    assert.equal(settledB?.attempts, 1)
    await h.tick(1000)
    const settledA = await h.manager.onSettled(a)
    assert.equal(settledA.state, 'completed')
    assert.equal(settledA.attempts, 2)
    assert.deepEqual(
      runs.map((run) => [run.n, run.attempt]),
      [
        [1, 1],
        [2, 1],
        [1, 2],
      ],
    )
  })

  it('container.dispose() stops the manager', async () => {
    setup()
    const { manager, container } = h
    await container.dispose()
    assert.equal(manager.isStopped, true)
    await assert.rejects(manager.enqueue(FlakyJob, { n: 1 }), ManagerStoppedError)
  })
})

/**
 * Makes `clock` move 1 ms at every reading of `now()`, so the times it gave apart show how many
 * readings were taken; `count` is how many.
 */
function countReadings(clock: ManualClock): { count: number } {
  const readings = { count: 0 }
  const read = clock.now.bind(clock)
  clock.now = () => {
    readings.count++
    clock.advance(1)
    return read()
  }
  return readings
}

/** Four FlakyJobs due in 5 s on `h`, and from then on a count of `h`'s clock readings ({@link countReadings}). */
async function fourDelayedJobs(h: Harness): Promise<{ ids: string[]; readings: { count: number } }> {
  const ids = await h.manager.enqueueMany(
    FlakyJob,
    Array.from({ length: 4 }, (_, i) => ({ args: { n: i }, delay: 5000 })),
  )
  return { ids, readings: countReadings(h.clock) }
}

/**
 * Three FlakyJobs on `h`, one due now between two due in 5 s, and an idle waiter asked for
 * then: `isIdle()` says whether it has resolved since.
 */
async function threeJobsAndIdleWaiter(h: Harness): Promise<{ ids: string[]; isIdle: () => boolean }> {
  const ids = await h.manager.enqueueMany(FlakyJob, [
    { args: { n: 1 }, delay: 5000 },
    { args: { n: 2 } },
    { args: { n: 3 }, delay: 5000 },
  ])
  let isIdle = false
  void h.manager.onIdle().then(() => (isIdle = true))
  return { ids, isIdle: () => isIdle }
}

describe('MemoryJobEngine.cancelMany past keepCancelled', () => {
  let h: Harness | undefined

  beforeEach(() => {
    script = []
    runs.length = 0
  })

  afterEach(async () => {
    await h?.container.dispose()
  })

  it('keeps the newest keepCancelled, forgets the others and the older ones, and cancels due and retry-waiting jobs of the batch too', async () => {
    h = createHarness((o) => o.addJob(FlakyJob), { keepCancelled: 3, retry: { maxRetries: 1, initialDelayMs: 1000 } })
    now = () => h!.clock.now()
    const { manager } = h
    const older = await manager.enqueue(FlakyJob, { n: -1 }, { delay: 5000 })
    await manager.cancel(older)
    script = [() => Promise.reject(new Error('fails once'))]
    const retrying = await manager.enqueue(FlakyJob, { n: 0 })
    await h.tick()
    assert.equal((await manager.getJob(retrying))?.attempts, 1, 'waiting for its retry')
    const delayed = await manager.enqueueMany(
      FlakyJob,
      Array.from({ length: 6 }, (_, i) => ({ args: { n: i + 1 }, delay: 5000 })),
    )
    const due = await manager.enqueue(FlakyJob, { n: 7 })
    const ids = [retrying, ...delayed, due]
    assert.deepEqual(await manager.cancelMany(ids), { cancelled: 8, skipped: [] })
    const kept = await manager.listJobs({ state: 'cancelled' })
    assert.deepEqual(
      kept.items.map((job) => job.id),
      [due, delayed[5], delayed[4]],
      'the newest three, newest first',
    )
    assert.equal(await manager.getJob(older), undefined, 'the older cancelled job is forgotten')
    assert.equal(await manager.getJob(delayed[0]!), undefined)
    assert.deepEqual(await manager.counts(), { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 3 })
    await h.tick(10_000)
    assert.deepEqual(
      runs.map((run) => run.n),
      [0],
      'only the first attempt of the retrying job ran',
    )
    await manager.onIdle()
  })

  it('cancels a batch at one moment: every job of it gets the same finishedAt, read once', async () => {
    h = createHarness((o) => o.addJob(FlakyJob))
    const { manager } = h
    const { ids, readings } = await fourDelayedJobs(h)
    await manager.cancelMany(ids)
    const finished = await Promise.all(ids.map(async (id) => (await manager.getJob(id))?.finishedAt?.getTime()))
    assert.equal(readings.count, 1)
    assert.equal(new Set(finished).size, 1, `one finishedAt, got ${finished.join(', ')}`)
  })

  it('cancels the jobs cancelled in one run of code at one moment, and jobs cancelled one await apart at their own', async () => {
    h = createHarness((o) => o.addJob(FlakyJob))
    const { manager } = h
    const { ids, readings } = await fourDelayedJobs(h)
    const cancels = [manager.cancel(ids[0]!), manager.cancel(ids[1]!)]
    await Promise.all(cancels)
    assert.equal(readings.count, 1, 'two cancels in one run of code read the clock once')
    await manager.cancel(ids[2]!)
    await manager.cancel(ids[3]!)
    assert.equal(readings.count, 3)
    const finished = await Promise.all(ids.map(async (id) => (await manager.getJob(id))?.finishedAt?.getTime()))
    assert.equal(finished[0], finished[1])
    assert.ok(finished[1]! < finished[2]! && finished[2]! < finished[3]!, `finishedAt ${finished.join(', ')}`)
  })

  it('resolves an idle waiter once a batch nobody listens to cancels the last pending jobs, due or delayed', async () => {
    h = createHarness((o) => o.addJob(FlakyJob), { concurrency: 1 })
    const { ids, isIdle } = await threeJobsAndIdleWaiter(h)
    assert.deepEqual(await h.manager.cancelMany(ids), { cancelled: 3, skipped: [] })
    await h.tick(10_000)
    assert.equal(isIdle(), true)
    assert.deepEqual(runs, [], 'no cancelled job runs')
    assert.equal((await h.manager.counts()).cancelled, 3)
  })

  it('resolves an idle waiter once cancel(id) of jobs nobody listens to or waits for takes the last pending one, due or delayed, keeping the newest keepCancelled', async () => {
    h = createHarness((o) => o.addJob(FlakyJob), { concurrency: 1, keepCancelled: 1 })
    const { ids, isIdle } = await threeJobsAndIdleWaiter(h)
    await Promise.all(ids.map((id) => h!.manager.cancel(id)))
    await h.tick(10_000)
    assert.equal(isIdle(), true)
    assert.deepEqual(runs, [], 'no cancelled job runs')
    assert.deepEqual(await h.manager.counts(), { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 1 })
    assert.equal((await h.manager.getJob(ids[2]!))?.state, 'cancelled')
    assert.equal(await h.manager.getJob(ids[0]!), undefined, 'the older cancelled jobs are forgotten')
    const cancelled: string[] = []
    h.manager.on('cancelled', (job) => void cancelled.push(job.id))
    const seen = await h.manager.enqueue(FlakyJob, { n: 4 }, { delay: 5000 })
    await h.manager.cancel(seen)
    assert.deepEqual(cancelled, [seen], 'a listener added later sees the next cancel')
  })

  it('gives a settled waiter of a job in the batch its cancelled snapshot', async () => {
    h = createHarness((o) => o.addJob(FlakyJob), { keepCancelled: 1 })
    const ids = await h.manager.enqueueMany(FlakyJob, [
      { args: { n: 1 }, delay: 5000 },
      { args: { n: 2 }, delay: 5000 },
      { args: { n: 3 }, delay: 5000 },
    ])
    const settled = h.manager.onSettled(ids[0]!)
    await h.manager.cancelMany(ids)
    assert.equal((await settled).state, 'cancelled')
  })
})

describe('MemoryJobEngine.enqueueMany', () => {
  let h: Harness | undefined

  beforeEach(() => {
    script = []
    runs.length = 0
    now = () => h!.clock.now()
  })

  afterEach(async () => {
    await h?.container.dispose()
  })

  it('stores a batch given as columns, each job with its args and due time, and refuses it whole past maxPendingJobs', async () => {
    h = createHarness((o) => o.addJob(FlakyJob), { maxPendingJobs: 3 })
    const engine = h.container.resolve<BackgroundJobEngine>(REGISTRATIONS.engine)
    const t = h.clock.now()
    const ids = await engine.enqueueMany({
      name: 'FlakyJob',
      enqueuedAt: t,
      args: [{ n: 1 }, { n: 2 }],
      runAt: [t + 5000, t - 10],
    })
    const jobs = await Promise.all(ids.map((id) => h!.manager.getJob(id)))
    assert.deepEqual(
      jobs.map((job) => [job?.name, job?.args, job?.createdAt.getTime(), job?.runAt.getTime()]),
      [
        ['FlakyJob', { n: 1 }, t, t + 5000],
        ['FlakyJob', { n: 2 }, t, t],
      ],
    )
    await assert.rejects(
      engine.enqueueMany({ name: 'FlakyJob', enqueuedAt: t, args: [{ n: 3 }, { n: 4 }], runAt: [t, t] }),
      PendingJobsLimitError,
    )
    assert.equal((await h.manager.counts()).pending, 2)
    assert.deepEqual(await engine.enqueueMany({ name: 'FlakyJob', enqueuedAt: t, args: [], runAt: [] }), [])
    await h.tick(5000)
    assert.deepEqual(
      runs.map((run) => [run.n, run.at - t]),
      [
        [2, 0],
        [1, 5000],
      ],
    )
  })

  it('tells an enqueued listener added while a batch is stored of the jobs stored after it', async () => {
    h = createHarness((o) => o.addJob(FlakyJob))
    const heard: number[] = []
    const off = h.manager.on('enqueued', () => {
      off()
      h!.manager.on('enqueued', (job) => heard.push((job.args as { n: number }).n))
    })
    await h.manager.enqueueMany(FlakyJob, [{ args: { n: 1 } }, { args: { n: 2 } }, { args: { n: 3 } }])
    assert.deepEqual(heard, [2, 3])
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
