import assert from 'node:assert/strict'
import { asFunction, asValue, createContainer, type AwilixContainer } from 'awilix'
import { BackgroundJobBase } from '../../src/background-job-base'
import type { BackgroundJobManager } from '../../src/background-job-manager'
import { ManualClock } from '../../src/clock'
import { JobTimeoutError, UnknownJobError } from '../../src/errors'
import type { JobLogger } from '../../src/logger'
import { addBackgroundJobs } from '../../src/register'
import type { JobContext, JobEventName, JobInfo } from '../../src/types'
import { createHarness, flush, type Harness } from '../support/harness'
import { ProcessGuard, deferred } from './process-guard'

type Kind =
  | 'healthy'
  | 'sync-throw'
  | 'reject'
  | 'throw-value'
  | 'hang'
  | 'resolve-after-abort'
  | 'reject-after-abort'
  | 'reject-on-abort'
  | 'enqueue-after-abort'
  | 'fail-once'

interface FaultArgs {
  kind: Kind
  n: number
}

/** What the jobs of the running test see and report. */
const world = {
  manager: undefined as BackgroundJobManager | undefined,
  gate: deferred(),
  healthyRunning: 0,
  healthyPeak: 0,
  /** Values thrown by `throw-value` jobs, by `n`. */
  thrown: [] as unknown[],
  /** Attempts per job id. */
  attempts: new Map<string, number>(),
  /** Errors the jobs themselves caught when calling back into the manager after an abort. */
  callbackErrors: [] as unknown[],
}

function resetWorld(): void {
  world.manager = undefined
  world.gate = deferred()
  world.healthyRunning = 0
  world.healthyPeak = 0
  world.thrown = []
  world.attempts = new Map()
  world.callbackErrors = []
}

/** A job whose args say how it misbehaves. */
class FaultJob extends BackgroundJobBase<FaultArgs> {
  // Not `async`: the `sync-throw` and odd `throw-value` cases must throw before any promise exists.
  protected override executing(args: FaultArgs, ctx: JobContext): Promise<void> {
    world.attempts.set(ctx.jobId, (world.attempts.get(ctx.jobId) ?? 0) + 1)
    const { signal } = ctx
    switch (args.kind) {
      case 'healthy':
        return healthy()
      case 'sync-throw':
        throw new RangeError(`sync throw ${args.n}`)
      case 'reject':
        return Promise.reject(new Error(`rejected ${args.n}`))
      case 'throw-value':
        // Half are thrown synchronously, half rejected with, so both paths see every value.
        if (args.n % 2 === 0) return Promise.reject(world.thrown[args.n])
        throw world.thrown[args.n]
      case 'fail-once':
        return ctx.attempt === 1 ? Promise.reject(new Error('first attempt fails')) : Promise.resolve()
      case 'hang':
        return new Promise(() => {})
      case 'resolve-after-abort':
        // Reports success after its attempt timed out: the attempt must stay failed.
        return new Promise((resolve) => signal.addEventListener('abort', () => setImmediate(resolve)))
      case 'reject-after-abort':
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => setImmediate(() => reject(new Error('late failure after abort')))),
        )
      case 'reject-on-abort':
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
      case 'enqueue-after-abort':
        // Calls back into the manager once aborted, then reports success.
        return new Promise((resolve) =>
          signal.addEventListener('abort', () => {
            world.manager!.enqueue(FaultJob, { kind: 'healthy', n: -1 }).then(
              () => resolve(),
              (error: unknown) => {
                world.callbackErrors.push(error)
                resolve()
              },
            )
          }),
        )
    }
  }
}

async function healthy(): Promise<void> {
  world.healthyRunning++
  world.healthyPeak = Math.max(world.healthyPeak, world.healthyRunning)
  try {
    await world.gate.promise
    await flush()
  } finally {
    world.healthyRunning--
  }
}

/** Hostile values a job may throw: not Errors, or Errors that resist being read. */
function hostileThrownValues(): unknown[] {
  const cyclic: Record<string, unknown> = { name: 'cyclic' }
  cyclic.self = cyclic
  const nullProtoCyclic = Object.create(null) as Record<string, unknown>
  nullProtoCyclic.self = nullProtoCyclic
  const { proxy: revoked, revoke } = Proxy.revocable({}, {})
  revoke()
  const unreadableError = new Error('hidden')
  Object.defineProperty(unreadableError, 'message', {
    get() {
      throw new Error('message getter throws')
    },
  })
  const objectMessageError = new Error('x')
  Object.defineProperty(objectMessageError, 'message', { value: Object.create(null) })
  return [
    'a plain string',
    '',
    undefined,
    null,
    0,
    42,
    Number.NaN,
    false,
    Symbol('thrown'),
    10n,
    { code: 'E_PLAIN_OBJECT' },
    [1, 2, 3],
    () => 'a function',
    cyclic,
    Object.create(null),
    nullProtoCyclic,
    Object.assign(Object.create(null), { big: 1n }),
    {
      toString() {
        throw new Error('toString throws')
      },
      toJSON() {
        throw new Error('toJSON throws')
      },
    },
    revoked,
    unreadableError,
    objectMessageError,
  ]
}

/** Final and retry events per job id, as listeners saw them. */
function recordEvents(manager: BackgroundJobManager): Map<string, JobEventName[]> {
  const seen = new Map<string, JobEventName[]>()
  for (const event of ['enqueued', 'started', 'retrying', 'completed', 'failed', 'cancelled'] as const) {
    manager.on(event, (job: JobInfo) => {
      const list = seen.get(job.id)
      if (list === undefined) seen.set(job.id, [event])
      else list.push(event)
    })
  }
  return seen
}

const FINAL: readonly JobEventName[] = ['completed', 'failed', 'cancelled']

describe('MemoryJobEngine under faulty jobs', () => {
  const guard = new ProcessGuard()
  let h: Harness | undefined
  let container: AwilixContainer | undefined

  beforeEach(() => {
    resetWorld()
    guard.escaped.length = 0
    guard.install()
  })

  afterEach(async () => {
    world.gate.resolve()
    try {
      // Without draining: a failed test may leave hanging jobs, and the manual clock will not move.
      await h?.manager.stop({ drain: false })
      await h?.container.dispose()
      await container?.resolve<BackgroundJobManager>('backgroundJobManager').stop({ drain: false })
      await container?.dispose()
    } finally {
      h = undefined
      container = undefined
      guard.restore()
    }
  })

  it('ends every throwing, rejecting, hanging and late-settling job failed after its configured retries, lets nothing escape, and keeps healthy jobs at full concurrency', async () => {
    const concurrency = 8
    h = createHarness((o) => o.addJob(FaultJob), {
      concurrency,
      timeoutMs: 5000,
      retry: { maxRetries: 1, initialDelayMs: 1000, factor: 1 },
    })
    world.manager = h.manager
    const events = recordEvents(h.manager)
    world.thrown = hostileThrownValues()

    const hangKinds: Kind[] = [
      'hang',
      'resolve-after-abort',
      'reject-after-abort',
      'reject-on-abort',
      'enqueue-after-abort',
    ]
    const hangers = new Map<string, Kind>()
    for (const kind of hangKinds) hangers.set(await h.manager.enqueue(FaultJob, { kind, n: 0 }), kind)
    const throwers = new Map<string, FaultArgs>()
    const healthyIds: string[] = []
    const throwerArgs: FaultArgs[] = [
      ...[0, 1, 2].flatMap((n): FaultArgs[] => [
        { kind: 'sync-throw', n },
        { kind: 'reject', n },
      ]),
      ...world.thrown.map((_, n): FaultArgs => ({ kind: 'throw-value', n })),
    ]
    // Interleave throwers with healthy jobs so both compete for the same slots.
    for (const [i, args] of throwerArgs.entries()) {
      throwers.set(await h.manager.enqueue(FaultJob, args), args)
      healthyIds.push(await h.manager.enqueue(FaultJob, { kind: 'healthy', n: i }))
    }
    // Healthy jobs hold their slot for a macrotask; throwers fail within microtasks. So whenever a
    // healthy job starts, every slot the hanging jobs leave should be busy with healthy work.
    world.gate.resolve()
    await Promise.all(healthyIds.map((id) => h!.manager.onSettled(id)))
    const freeSlots = concurrency - hangKinds.length
    assert.equal(world.healthyPeak, freeSlots, 'healthy jobs ran at every slot the hanging ones left, and never above')
    assert.equal((await h.manager.counts()).running, hangKinds.length)
    for (const [id, args] of throwers)
      assert.deepEqual(events.get(id), ['enqueued', 'started', 'retrying'], JSON.stringify(args))

    // The throwers' retries, 1 s later, fail for good with a readable error.
    await h.tick(1000)
    await flush()
    for (const [id, args] of throwers) {
      const job = await h.manager.onSettled(id)
      assert.equal(job.state, 'failed', JSON.stringify(args))
      assert.equal(job.attempts, 2)
      assert.equal(typeof job.lastError?.name, 'string')
      assert.equal(typeof job.lastError?.message, 'string')
      if (args.kind === 'sync-throw')
        assert.deepEqual([job.lastError!.name, job.lastError!.message], ['RangeError', `sync throw ${args.n}`])
      if (args.kind === 'reject') assert.equal(job.lastError!.message, `rejected ${args.n}`)
    }
    const nonErrors = [...throwers].filter(([, args]) => args.kind === 'throw-value')
    const stringJob = await h.manager.getJob(nonErrors[0]![0])
    assert.deepEqual(stringJob?.lastError, { name: 'Error', message: 'Non-error value thrown: a plain string' })
    const undefinedJob = await h.manager.getJob(nonErrors[2]![0])
    assert.equal(undefinedJob?.lastError?.message, 'Non-error value thrown: undefined')

    // The hangers time out at 5 s and retry 1 s later, once their body has ended, then time out
    // again and fail for good. A body that never ends ('hang') gets no retry beside it: it fails
    // for good 5 s after its abort.
    assert.equal((await h.manager.counts()).running, hangKinds.length)
    await h.tick(3999)
    assert.equal((await h.manager.counts()).running, hangKinds.length, 'no attempt times out early')
    await h.tick(1)
    await flush()
    for (const id of hangers.keys()) assert.deepEqual(events.get(id)?.slice(-1), ['retrying'])
    await h.tick(1000)
    await h.tick(5000)
    await flush()
    for (const [id, kind] of hangers) {
      const job = await h.manager.onSettled(id)
      assert.equal(job.state, 'failed', kind)
      const runs = kind === 'hang' ? 1 : 2
      assert.equal(job.attempts, runs, kind)
      assert.equal(world.attempts.get(id), runs, `${kind} ran exactly ${runs} times`)
      assert.equal(job.lastError?.name, JobTimeoutError.name, kind)
      assert.deepEqual(
        events.get(id),
        kind === 'hang'
          ? ['enqueued', 'started', 'retrying', 'failed']
          : ['enqueued', 'started', 'retrying', 'started', 'failed'],
        `${kind} has one final event, and no late completion`,
      )
    }
    assert.deepEqual(world.callbackErrors, [], 'calling back into the manager after an abort works')
    await h.manager.onIdle()

    // Every slot came back: a fresh batch runs at exactly `concurrency`.
    world.gate = deferred()
    world.healthyPeak = 0
    const batch = await Promise.all(
      Array.from({ length: concurrency + 2 }, (_, n) => h!.manager.enqueue(FaultJob, { kind: 'healthy', n })),
    )
    await flush()
    assert.equal(world.healthyRunning, concurrency)
    assert.deepEqual(await h.manager.counts().then((c) => [c.running, c.pending]), [concurrency, 2])
    world.gate.resolve()
    await Promise.all(batch.map((id) => h!.manager.onSettled(id)))
    assert.equal(world.healthyPeak, concurrency)

    // Every job enqueued (including the follow-ups enqueued from abort listeners) has exactly one final event.
    for (const [id, list] of events) {
      assert.equal(list.filter((event) => FINAL.includes(event)).length, 1, `job ${id}: ${list.join(',')}`)
    }
    assert.equal(events.size, hangKinds.length + throwers.size + healthyIds.length + 2 + batch.length)
    // The timeout wheel's timer, left to lapse once no attempt runs, fires by the last timeout and is not set again.
    h.clock.advance(5000)
    assert.equal(h.clock.pendingTimers, 0, 'no attempt timeout is left armed')
    await guard.assertNothingEscaped()
  })

  it('retries a job whose awilix resolution fails, as configured, and fails it with the resolution error', async () => {
    class NeedsMissing extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 2, initialDelayMs: 10, factor: 1 }
      constructor(deps: { missingService: unknown }) {
        super()
        void deps.missingService
      }
      protected override async executing(): Promise<void> {}
    }
    class NeedsBrokenFactory extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 1, initialDelayMs: 10, factor: 1 }
      constructor(deps: { brokenService: unknown }) {
        super()
        void deps.brokenService
      }
      protected override async executing(): Promise<void> {}
    }
    h = createHarness((o) => o.addJob(NeedsMissing, NeedsBrokenFactory))
    // A factory that throws a string, not an Error, while the job is being resolved.
    h.container.register(
      'brokenService',
      asFunction(() => {
        throw 'database unreachable'
      }),
    )
    const events = recordEvents(h.manager)
    const missing = await h.manager.enqueue(NeedsMissing, null)
    const broken = await h.manager.enqueue(NeedsBrokenFactory, null)
    await h.tick(0)
    await h.tick(10)
    await h.tick(10)
    const missingJob = await h.manager.onSettled(missing)
    assert.equal(missingJob.state, 'failed')
    assert.equal(missingJob.attempts, 3)
    assert.equal(missingJob.lastError?.name, 'AwilixResolutionError')
    assert.match(missingJob.lastError.message, /Could not resolve 'missingService'/)
    assert.deepEqual(events.get(missing), [
      'enqueued',
      'started',
      'retrying',
      'started',
      'retrying',
      'started',
      'failed',
    ])
    const brokenJob = await h.manager.onSettled(broken)
    assert.equal(brokenJob.state, 'failed')
    assert.equal(brokenJob.attempts, 2)
    assert.equal(brokenJob.lastError?.message, 'Non-error value thrown: database unreachable')
    assert.deepEqual(events.get(broken), ['enqueued', 'started', 'retrying', 'started', 'failed'])
    await guard.assertNothingEscaped()
  })

  it('fails an attempt whose timeout cannot be filed (a clock whose monotonic time is NaN) and lets nothing escape', async () => {
    class NaNClock extends ManualClock {
      override monotonicNow(): number {
        return Number.NaN
      }
    }
    class QuickJob extends BackgroundJobBase<null> {
      protected override async executing(): Promise<void> {}
    }
    h = createHarness((o) => o.addJob(QuickJob), { clock: new NaNClock(), retry: { maxRetries: 0 } })
    const job = await h.manager.onSettled(await h.manager.enqueue(QuickJob, null))
    assert.equal(job.state, 'failed')
    assert.equal(job.lastError?.name, 'InvalidOptionError')
    assert.match(job.lastError.message, /Expected `dueAt` to be a time in ms/)
    await guard.assertNothingEscaped()
  })

  it('keeps processing, with right counts, when every logger method and every event listener throws', async () => {
    class WorkJob extends BackgroundJobBase<FaultArgs> {
      static override retry = { maxRetries: 1, initialDelayMs: 0 }
      static override timeoutMs = 100
      protected override async executing(args: FaultArgs, ctx: JobContext): Promise<void> {
        if (args.kind === 'reject') throw new Error('always')
        if (args.kind === 'fail-once' && ctx.attempt === 1) throw new Error('once')
        if (args.kind === 'hang') await new Promise(() => {})
      }
    }
    const unreadable = new Error('x')
    Object.defineProperty(unreadable, 'message', {
      get() {
        throw new Error('unreadable')
      },
    })
    const throwingLogger: JobLogger = {
      error() {
        throw new Error('logger down')
      },
      warn() {
        throw Object.create(null)
      },
      info() {
        throw unreadable
      },
      get debug(): JobLogger['debug'] {
        throw new TypeError('no debug method')
      },
    }
    const clock = new ManualClock()
    container = createContainer()
    container.register('logger', asValue(throwingLogger))
    // Concurrency 1: if one settle were cut short by a throw, the next job would never start.
    addBackgroundJobs(container, (o) => o.useInMemoryStore({ clock, concurrency: 1 }).addJob(WorkJob))
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const throwers: unknown[] = [new Error('listener down'), Object.create(null), unreadable, 'a string']
    let calls = 0
    for (const event of ['enqueued', 'started', 'retrying', 'completed', 'failed', 'cancelled'] as const) {
      for (const value of throwers) {
        manager.on(event, () => {
          calls++
          throw value
        })
      }
    }
    const finals = { completed: 0, failed: 0, cancelled: 0 }
    for (const state of ['completed', 'failed', 'cancelled'] as const) manager.on(state, () => void finals[state]++)

    const plan: [Kind, number][] = [
      ['healthy', 20],
      ['fail-once', 5],
      ['reject', 5],
      ['hang', 2],
    ]
    const ids: string[] = []
    for (const [kind, count] of plan)
      for (let n = 0; n < count; n++) ids.push(await manager.enqueue(WorkJob, { kind, n }))
    const unknown = await manager.enqueue('NoSuchJob', null)
    const toCancel = await manager.enqueue(WorkJob, { kind: 'healthy', n: 99 }, { delay: 60_000 })
    await manager.cancel(toCancel)
    for (let i = 0; i < 10; i++) {
      await flush()
      clock.advance(100)
    }
    await manager.onIdle()
    assert.deepEqual(await manager.counts(), { pending: 0, running: 0, completed: 25, failed: 5 + 2 + 1, cancelled: 1 })
    assert.deepEqual(finals, { completed: 25, failed: 8, cancelled: 1 })
    assert.equal((await manager.getJob(unknown))?.lastError?.name, UnknownJobError.name)
    assert.ok(calls > 0)

    // Stop, whose summary warning also throws, still resolves.
    await manager.enqueue(WorkJob, { kind: 'healthy', n: 100 }, { delay: 1000 })
    assert.deepEqual(await manager.stop(), { pending: 1, running: 0, interrupted: 0 })
    await guard.assertNothingEscaped()
  })
})
