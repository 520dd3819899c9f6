import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { runInNewContext } from 'node:vm'
import { InjectionMode, asClass, asFunction, createContainer, type AwilixContainer } from 'awilix'
import { BackgroundJobBase } from '../src/background-job-base'
import type { BackgroundJobManager } from '../src/background-job-manager'
import { AttemptScope } from '../src/attempt-scope'
import { ManualClock } from '../src/clock'
import { isConstructedByBaseOnly, type JobRegistry } from '../src/job-registry'
import type { JobLogger } from '../src/logger'
import { addBackgroundJobs } from '../src/register'
import { REGISTRATIONS } from '../src/registrations'
import type { JobContext } from '../src/types'
import { collectGarbage } from './support/gc'
import { CapturingLogger } from './support/harness'

/**
 * A container with the service and a capturing logger registered as a singleton (as the default
 * logger is); counts the scopes created on it.
 */
function setUp(
  container: AwilixContainer,
  jobs: Parameters<typeof addBackgroundJobs>[1],
): { manager: BackgroundJobManager; scopes: () => number } {
  container.register('logger', asFunction(() => new CapturingLogger()).singleton())
  addBackgroundJobs(container, (o) => {
    o.useInMemoryStore({ clock: new ManualClock() })
    jobs(o)
  })
  const createScope = container.createScope.bind(container)
  let scopes = 0
  container.createScope = () => {
    scopes++
    return createScope()
  }
  return { manager: container.resolve<BackgroundJobManager>('backgroundJobManager'), scopes: () => scopes }
}

/**
 * Registers a new logger singleton on `container` and builds it (awilix keeps a built singleton
 * cached past a new registration, so the old one is dropped from the cache first); returns it.
 */
function replaceLogger(container: AwilixContainer): CapturingLogger {
  const replaced = new CapturingLogger()
  container.cache.delete('logger')
  container.register('logger', asFunction(() => replaced).singleton())
  container.resolve('logger')
  return replaced
}

class Mailer {}

describe('JobRegistry', () => {
  let container: AwilixContainer

  afterEach(async () => {
    await container.dispose()
  })

  it('answers singletons the root holds without creating a scope, with the same instances', async () => {
    container = createContainer()
    const seen: unknown[] = []
    class UsesSingletons extends BackgroundJobBase<null> {
      constructor(readonly deps: { mailer: Mailer; logger: JobLogger }) {
        super(deps)
      }
      protected override async executing(): Promise<void> {
        seen.push(this.deps.mailer, this.logger)
      }
    }
    container.register('mailer', asClass(Mailer).singleton())
    const { manager, scopes } = setUp(container, (o) => o.addJob(UsesSingletons))
    const mailer = container.resolve<Mailer>('mailer')
    await manager.onSettled(await manager.enqueue(UsesSingletons, null))
    await manager.onSettled(await manager.enqueue(UsesSingletons, null))
    assert.deepEqual(seen, [mailer, container.resolve('logger'), mailer, container.resolve('logger')])
    assert.equal(scopes(), 0)
  })

  it('creates the scope on the first scoped, transient or not yet built lookup, and disposes it', async () => {
    container = createContainer()
    const disposed: string[] = []
    let built = 0
    class Unit {
      readonly n = ++built
    }
    class UsesScoped extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 0 }
      constructor(readonly deps: { unit: Unit; lazySingleton: Mailer }) {
        super()
      }
      protected override async executing(): Promise<void> {
        assert.equal(this.deps.unit, this.deps.unit)
        assert.ok(this.deps.lazySingleton instanceof Mailer)
      }
    }
    container.register({
      unit: asClass(Unit)
        .scoped()
        .disposer((unit) => void disposed.push(`unit ${unit.n}`)),
      lazySingleton: asClass(Mailer).singleton(),
    })
    const { manager, scopes } = setUp(container, (o) => o.addJob(UsesScoped))
    for (let i = 0; i < 2; i++) {
      const job = await manager.onSettled(await manager.enqueue(UsesScoped, null))
      assert.equal(job.state, 'completed')
    }
    assert.equal(scopes(), 2)
    assert.deepEqual(disposed, ['unit 1', 'unit 2'])
    assert.equal(container.resolve('lazySingleton'), container.resolve('lazySingleton'))
  })

  it('disposes a scope the body created after an await before the job settles, and logs a disposer that fails', async () => {
    container = createContainer()
    const disposed: number[] = []
    let built = 0
    class Unit {
      readonly n = ++built
    }
    class LateLookup extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 0 }
      constructor(readonly deps: { unit: Unit }) {
        super()
      }
      protected override async executing(): Promise<void> {
        await new Promise((resolve) => setImmediate(resolve))
        assert.ok(this.deps.unit instanceof Unit)
      }
    }
    container.register({
      unit: asClass(Unit)
        .scoped()
        .disposer((unit) => {
          disposed.push(unit.n)
          if (unit.n === 2) throw new Error('disposer broke')
        }),
    })
    const { manager } = setUp(container, (o) => o.addJob(LateLookup))
    const first = await manager.onSettled(await manager.enqueue(LateLookup, null))
    assert.deepEqual([first.state, disposed], ['completed', [1]])
    const second = await manager.onSettled(await manager.enqueue(LateLookup, null))
    assert.deepEqual([second.state, disposed], ['completed', [1, 2]])
    const logger = container.resolve<CapturingLogger>('logger')
    const entry = logger.entries.find((e) => e.message === 'Disposing the scope of job LateLookup failed')
    assert.equal(entry?.meta?.['jobId'], second.id)
  })

  it('gives the job a cradle that answers `in`, keys and inspection like awilix', async () => {
    container = createContainer()
    const seen: unknown[] = []
    class Inspects extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 0 }
      constructor(readonly deps: Record<string, unknown>) {
        super()
      }
      protected override async executing(): Promise<void> {
        const cradle = container.createScope().cradle as Record<string, unknown>
        seen.push(
          ['mailer' in this.deps, 'nothing' in this.deps, Object.keys(this.deps), inspect(this.deps)],
          ['mailer' in cradle, 'nothing' in cradle, Object.keys(cradle), inspect(cradle)],
        )
        assert.throws(() => {
          this.deps.mailer = null
        }, /not allowed/)
      }
    }
    container.register('mailer', asClass(Mailer).singleton())
    const { manager } = setUp(container, (o) => o.addJob(Inspects))
    const job = await manager.onSettled(await manager.enqueue(Inspects, null))
    assert.equal(job.state, 'completed', job.lastError?.message)
    assert.deepEqual(seen[0], seen[1])
    assert.ok((seen[0] as unknown[][])[2]!.includes('mailer'))
  })

  it('constructs a job whose class declares no constructor with the root logger, without a lazy cradle', async () => {
    container = createContainer()
    const seen: JobLogger[] = []
    class Base extends BackgroundJobBase<null> {
      protected override async executing(): Promise<void> {
        seen.push(this.logger)
      }
    }
    class NoConstructor extends Base {}
    const resolve: (this: AttemptScope, name: string | symbol) => unknown = Reflect.get(
      AttemptScope.prototype,
      'resolve',
    )
    let lookups = 0
    AttemptScope.prototype.resolve = function (this: AttemptScope, name: string | symbol): unknown {
      lookups++
      return resolve.call(this, name)
    }
    try {
      const { manager, scopes } = setUp(container, (o) => o.addJob(NoConstructor))
      await manager.onSettled(await manager.enqueue(NoConstructor, null))
      const replaced = replaceLogger(container)
      await manager.onSettled(await manager.enqueue(NoConstructor, null))
      assert.equal(seen.length, 2)
      assert.ok(seen[0] instanceof CapturingLogger)
      assert.notEqual(seen[0], replaced)
      assert.equal(seen[1], replaced, 'a logger registered since is the one the next attempt gets')
      assert.equal(scopes(), 0)
      assert.equal(lookups, 0, 'no lazy cradle was asked for the logger')
    } finally {
      AttemptScope.prototype.resolve = resolve
    }
  })

  it('checks the container once per run of code: a logger replaced in the middle of one is seen from the attempts begun after it gives way', async () => {
    container = createContainer()
    const seen: unknown[] = []
    class NoConstructor extends BackgroundJobBase<null> {
      protected override async executing(): Promise<void> {
        seen.push(this.logger)
      }
    }
    const { manager } = setUp(container, (o) => o.addJob(NoConstructor))
    await manager.onSettled(await manager.enqueue(NoConstructor, null))
    const registry = container.resolve<JobRegistry>(REGISTRATIONS.registry)
    const context = { jobId: '0', jobName: 'NoConstructor', attempt: 1, maxAttempts: 1 } as JobContext
    const begin = (): Promise<unknown> => registry.handler('NoConstructor')!.begin(null, context).body
    const before = begin()
    const replaced = replaceLogger(container)
    const sameRun = begin()
    await Promise.all([before, sameRun])
    await begin()
    assert.equal(seen.length, 4)
    assert.notEqual(seen[0], replaced)
    assert.equal(seen[1], seen[0])
    assert.equal(seen[2], seen[0], 'an attempt begun in the same run of code shares the check made at its start')
    assert.equal(seen[3], replaced, 'the next run of code checks again')
  })

  it('keeps the last instance of a class constructed without a scope, and its attempt, until the next attempt of that class', async () => {
    // The layouts of these objects must outlive an idle spell (see LayoutKeeper in the registry).
    container = createContainer()
    const instances: WeakRef<object>[] = []
    class Kept extends BackgroundJobBase<null> {
      protected override async executing(): Promise<void> {
        instances.push(new WeakRef(this))
      }
    }
    const { manager } = setUp(container, (o) => o.addJob(Kept))
    const registry = container.resolve<JobRegistry>(REGISTRATIONS.registry)
    const attempts: WeakRef<object>[] = []
    const context = { jobId: '0', jobName: 'Kept', attempt: 1, maxAttempts: 1 } as JobContext
    const begin = (): Promise<unknown> => {
      const begun = registry.handler('Kept')!.begin(null, context)
      attempts.push(new WeakRef(begun))
      return begun.body
    }
    await manager.onSettled(await manager.enqueue(Kept, null))
    await begin()
    await collectGarbage()
    assert.equal(instances.length, 2)
    assert.notEqual(instances[1]!.deref(), undefined, 'the last instance is kept')
    assert.notEqual(attempts[0]!.deref(), undefined, 'the last attempt is kept')
    await begin()
    await collectGarbage()
    assert.equal(instances[1]!.deref(), undefined, 'an instance replaced by a later one is not')
    assert.equal(attempts[0]!.deref(), undefined, 'nor is its attempt')
    assert.notEqual(instances[2]!.deref(), undefined)
    assert.notEqual(attempts[1]!.deref(), undefined)
  })

  it('gives a job whose class declares no constructor the logger of its own scope when the logger is scoped', async () => {
    container = createContainer()
    const seen: unknown[] = []
    class NoConstructor extends BackgroundJobBase<null> {
      protected override async executing(): Promise<void> {
        seen.push(this.logger)
      }
    }
    const { manager, scopes } = setUp(container, (o) => o.addJob(NoConstructor))
    container.register('logger', asFunction(() => new CapturingLogger()).scoped())
    await manager.onSettled(await manager.enqueue(NoConstructor, null))
    await manager.onSettled(await manager.enqueue(NoConstructor, null))
    assert.equal(scopes(), 2)
    assert.equal(seen.length, 2)
    assert.notEqual(seen[0], seen[1], 'one logger per attempt scope')
  })

  it('tells classes constructed by BackgroundJobBase alone from those that may declare a constructor', () => {
    class Plain extends BackgroundJobBase<null> {
      protected override async executing(): Promise<void> {}
    }
    class Derived extends Plain {
      readonly field = 1
      method(): string {
        return 'no constructor here'
      }
    }
    class Declares extends BackgroundJobBase<null> {
      constructor(deps: { logger?: JobLogger }) {
        super(deps)
      }
      protected override async executing(): Promise<void> {}
    }
    class BelowDeclares extends Declares {}
    // A string-literal key "constructor" declares the class constructor too.
    const Quoted = runInNewContext(`(class Quoted extends Base { 'constructor'(deps) { super(deps) } })`, {
      Base: BackgroundJobBase,
    }) as never
    const Escaped = runInNewContext(`(class Escaped extends Base { \\u0063onstructor(deps) { super(deps) } })`, {
      Base: BackgroundJobBase,
    }) as never
    function Legacy(): void {}
    Object.setPrototypeOf(Legacy, BackgroundJobBase)
    assert.equal(isConstructedByBaseOnly(Plain), true)
    assert.equal(isConstructedByBaseOnly(Derived), false, 'the word `constructor` anywhere counts as a declared one')
    assert.equal(isConstructedByBaseOnly(Declares), false)
    assert.equal(isConstructedByBaseOnly(BelowDeclares), false)
    assert.equal(isConstructedByBaseOnly(Quoted), false)
    assert.equal(isConstructedByBaseOnly(Escaped), false)
    assert.equal(isConstructedByBaseOnly(Legacy as never), false, 'a function is not read as a class')
  })

  it('resolves the job from a real scope in a CLASSIC container', async () => {
    container = createContainer({ injectionMode: InjectionMode.CLASSIC })
    const seen: unknown[] = []
    class Classic extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 0 }
      constructor(readonly mailer: Mailer) {
        super()
      }
      protected override async executing(): Promise<void> {
        seen.push(this.mailer)
      }
    }
    container.register('mailer', asClass(Mailer).singleton())
    const { manager, scopes } = setUp(container, (o) => o.addJob(Classic))
    const job = await manager.onSettled(await manager.enqueue(Classic, null))
    assert.equal(job.state, 'completed', job.lastError?.message)
    assert.equal(scopes(), 1)
    assert.deepEqual(seen, [container.resolve('mailer')])
  })

  it('resolves the job from a real scope in a strict container, which checks lifetimes there', async () => {
    container = createContainer({ strict: true })
    const seen: unknown[] = []
    class Strict extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 0 }
      constructor(readonly deps: { mailer: Mailer }) {
        super()
      }
      protected override async executing(): Promise<void> {
        seen.push(this.deps.mailer)
      }
    }
    container.register('mailer', asClass(Mailer).singleton())
    const { manager, scopes } = setUp(container, (o) => o.addJob(Strict))
    const job = await manager.onSettled(await manager.enqueue(Strict, null))
    assert.equal(job.state, 'completed', job.lastError?.message)
    assert.equal(scopes(), 1)
    assert.deepEqual(seen, [container.resolve('mailer')])
  })
})
