import assert from 'node:assert/strict'
import { asValue, createContainer } from 'awilix'
import { BackgroundJobBase } from '../src/background-job-base'
import type { BackgroundJobManager } from '../src/background-job-manager'
import { BackgroundJobs } from '../src/background-jobs'
import {
  BackgroundJobError,
  BackgroundJobsNotBuiltError,
  DuplicateJobError,
  InvalidArgumentError,
  InvalidEnqueueOptionsError,
  InvalidJobArgsError,
  InvalidJobClassError,
  InvalidOptionError,
  InvalidScheduleError,
  JobNotRegisteredError,
} from '../src/errors'
import { ServiceBase } from '../src/express/service-base'
import { addBackgroundJobs } from '../src/register'
import { REGISTRATIONS } from '../src/registrations'
import type { JobContext } from '../src/types'
import { CapturingLogger, createHarness, type Harness } from './support/harness'

class RegisterUserDto {
  constructor(public name: string) {}
}

const executed: { name: string; attempt: number }[] = []

class RegisterUserBackgroundJob extends BackgroundJobBase<RegisterUserDto> {
  static override argsType = RegisterUserDto
  protected override async executing(args: RegisterUserDto, ctx: JobContext): Promise<void> {
    this.logger.info(`Execute registered account: ${args.name}`)
    executed.push({ name: args.name, attempt: ctx.attempt })
  }
}

class SendMailJob extends BackgroundJobBase<{ to: string }> {
  static override jobName = 'mail.send'
  protected override async executing(): Promise<void> {}
}

describe('BackgroundJobManager', () => {
  let h: Harness

  beforeEach(() => {
    executed.length = 0
    h = createHarness((o) => o.addJob(RegisterUserBackgroundJob, SendMailJob))
  })

  afterEach(async () => {
    await h.container.dispose()
    BackgroundJobs.reset()
  })

  describe('enqueue', () => {
    it('finds the job from an args instance, as MASA does, and runs it after the delay', async () => {
      const id = await h.manager.enqueue(new RegisterUserDto('masa'), { delay: 3000 })
      assert.match(id, /^[1-9][0-9]*$/)
      await h.tick(2999)
      assert.deepEqual(executed, [])
      await h.tick(1)
      await h.manager.onSettled(id)
      assert.deepEqual(executed, [{ name: 'masa', attempt: 1 }])
      assert.ok(h.logger.messages('info').includes('Execute registered account: masa'))
    })

    it('accepts the job class with typed args, and a job name', async () => {
      const a = await h.manager.enqueue(RegisterUserBackgroundJob, { name: 'typed' })
      const b = await h.manager.enqueue('RegisterUserBackgroundJob', { name: 'by-name' })
      await Promise.all([h.manager.onSettled(a), h.manager.onSettled(b)])
      assert.deepEqual(executed.map((e) => e.name).sort(), ['by-name', 'typed'])
      const mail = await h.manager.enqueue(SendMailJob, { to: 'a@b.c' })
      assert.equal((await h.manager.getJob(mail))?.name, 'mail.send')
    })

    it('rejects args that are not JSON data, naming the path', async () => {
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic.self = cyclic
      const cases: [unknown, RegExp][] = [
        [{ name: 'x', cb: () => 1 }, /`args\.cb` is a function/],
        [{ name: Symbol('s') }, /`args\.name` is a symbol/],
        [{ big: 10n }, /`args\.big` is a bigint/],
        [cyclic, /`args\.self` refers back .* \(a cycle\)/],
        [{ n: Number.NaN }, /`args\.n` is `NaN`/],
        [{ when: new Date() }, /`args\.when` is a Date.*toISOString/],
        [{ m: new Map() }, /`args\.m` is a Map/],
        [{ s: 'x'.repeat(2_000_000) }, /maxArgsBytes/],
      ]
      for (const [args, message] of cases) {
        await assert.rejects(
          h.manager.enqueue(RegisterUserBackgroundJob, args as RegisterUserDto),
          (error: unknown) => {
            assert.ok(error instanceof InvalidJobArgsError)
            assert.match(error.message, message)
            return true
          },
        )
      }
      assert.equal((await h.manager.counts()).pending, 0, 'nothing was enqueued')
    })

    it('copies args right when a getter of theirs enqueues another job, or fails, mid-copy', async () => {
      let inner: Promise<string> | undefined
      const outer = {
        list: [{ a: 1 }],
        get name(): string {
          inner = h.manager.enqueue(RegisterUserBackgroundJob, {
            name: 'inner',
            tags: [{ deep: [2] }],
          } as RegisterUserDto)
          return 'outer'
        },
        after: { b: [3] },
      }
      const id = await h.manager.enqueue(RegisterUserBackgroundJob, outer)
      assert.deepEqual((await h.manager.getJob(id))?.args, { list: [{ a: 1 }], name: 'outer', after: { b: [3] } })
      assert.deepEqual((await h.manager.getJob(await inner!))?.args, { name: 'inner', tags: [{ deep: [2] }] })
      // A copy that fails half-way leaves nothing behind for the next one.
      await assert.rejects(
        h.manager.enqueue(RegisterUserBackgroundJob, { name: 'x', deep: { bad: () => 1 } } as never),
        InvalidJobArgsError,
      )
      const next = await h.manager.enqueue(RegisterUserBackgroundJob, { name: 'y', deep: { fine: [1] } } as never)
      assert.deepEqual((await h.manager.getJob(next))?.args, { name: 'y', deep: { fine: [1] } })
      // Nor does it leave its path behind for the next refusal's message.
      await assert.rejects(
        h.manager.enqueue(RegisterUserBackgroundJob, { name: 'x', deep: [{ bad: () => 1 }] } as never),
        /`args\.deep\[0\]\.bad` is a function/,
      )
      await assert.rejects(
        h.manager.enqueue(RegisterUserBackgroundJob, { other: { bad: Symbol('s') } } as never),
        /`args\.other\.bad` is a symbol/,
      )
    })

    it('rejects bad delay and runAt with InvalidEnqueueOptionsError', async () => {
      const bad: unknown[] = [
        { delay: -1 },
        { delay: Number.NaN },
        { delay: Infinity },
        { delay: '100' },
        { delay: 1e300 },
        { runAt: new Date('nope') },
        { runAt: '2030-01-01' },
        { delay: 1, runAt: new Date() },
        { dealy: 5000 },
        new Date(),
        'soon',
        null,
      ]
      for (const options of bad) {
        await assert.rejects(
          h.manager.enqueue(RegisterUserBackgroundJob, { name: 'x' }, options as never),
          InvalidEnqueueOptionsError,
          JSON.stringify(options),
        )
      }
    })

    it('rejects unregistered job classes, args classes and plain objects with JobNotRegisteredError', async () => {
      class Stray extends BackgroundJobBase<null> {
        protected override async executing(): Promise<void> {}
      }
      class StrayDto {}
      await assert.rejects(h.manager.enqueue(Stray, null), /Stray.*is not registered.*addJob/)
      await assert.rejects(h.manager.enqueue(new StrayDto()), /No registered job has `static argsType = StrayDto`/)
      // A fresh object literal is a compile error (test/types/enqueue.types.ts); one held in a
      // variable is not, and is refused here.
      const plain = { name: 'plain' }
      await assert.rejects(h.manager.enqueue(plain), JobNotRegisteredError)
      await assert.rejects(h.manager.enqueue(42 as never), InvalidArgumentError)
      await assert.rejects(h.manager.enqueue('', {}), InvalidArgumentError)
    })
  })

  describe('inspection', () => {
    it('validates list queries and ids', async () => {
      await assert.rejects(
        h.manager.listJobs({ state: 'nope' as never }),
        /Expected `state` to be one of pending, running/,
      )
      await assert.rejects(h.manager.listJobs({ state: 'pending', limit: 0 }), InvalidOptionError)
      await assert.rejects(h.manager.listJobs({ state: 'pending', offset: -1 }), InvalidOptionError)
      await assert.rejects(h.manager.getJob(''), InvalidArgumentError)
      await assert.rejects(h.manager.cancel('x'.repeat(257)), InvalidArgumentError)
    })
  })

  describe('schedules', () => {
    it('rejects bad cron expressions, time zones and definitions with InvalidScheduleError', async () => {
      const bad: unknown[] = [
        { id: 's', cron: 'every minute', job: RegisterUserBackgroundJob, args: { name: 'x' } },
        { id: 's', cron: '61 * * * *', job: RegisterUserBackgroundJob, args: { name: 'x' } },
        { id: 's', cron: '* * * * *', timezone: 'Mars/Olympus', job: RegisterUserBackgroundJob, args: { name: 'x' } },
        { id: '', cron: '* * * * *', job: RegisterUserBackgroundJob, args: { name: 'x' } },
        { id: 's', cron: 5, job: RegisterUserBackgroundJob, args: { name: 'x' } },
        null,
      ]
      for (const definition of bad) {
        await assert.rejects(
          h.manager.addOrUpdateSchedule(definition as never),
          InvalidScheduleError,
          JSON.stringify(definition),
        )
      }
      assert.deepEqual(await h.manager.listSchedules(), [])
    })
  })

  describe('registration', () => {
    it('registers the store, wheel, registry, engine and manager as singletons, under names an app cannot collide with', () => {
      const names = Object.values(REGISTRATIONS).filter((name) => name !== 'logger')
      assert.ok(
        names.every((name) => name === 'backgroundJobManager' || name.startsWith('backgroundJobs:')),
        names.join(),
      )
      for (const name of names) {
        assert.equal(h.container.resolve(name), h.container.createScope().resolve(name), name)
      }
    })

    it('ignores the options of a second addBackgroundJobs call but adds its jobs', async () => {
      class LateJob extends BackgroundJobBase<null> {
        protected override async executing(): Promise<void> {}
      }
      const engine = h.container.resolve(REGISTRATIONS.engine)
      addBackgroundJobs(h.container, (o) => o.useInMemoryStore({ concurrency: 99 }).addJob(LateJob))
      assert.equal(h.container.resolve(REGISTRATIONS.engine), engine)
      assert.equal(h.container.resolve('backgroundJobManager'), h.manager)
      assert.match(h.logger.messages('warn')[0]!, /called again/)
      const id = await h.manager.enqueue(LateJob, null)
      assert.equal((await h.manager.onSettled(id)).state, 'completed')
    })

    it('rejects bad containers, configure functions, options and job classes with named errors', () => {
      const container = createContainer()
      container.register('logger', asValue(new CapturingLogger()))
      assert.throws(
        () => addBackgroundJobs({} as never, () => {}),
        /Expected the first argument of addBackgroundJobs to be an awilix container/,
      )
      assert.throws(
        () => addBackgroundJobs(container, 'x' as never),
        /Expected `configure` in addBackgroundJobs to be a configure function/,
      )
      assert.throws(
        () => addBackgroundJobs(container, () => {}),
        /Call o.useInMemoryStore\(\) \(or o.useEngine\(...\)\)/,
      )
      assert.throws(
        () => addBackgroundJobs(container, (o) => o.useInMemoryStore({ concurrency: 0 })),
        /Expected `concurrency` to be an integer from 1 to 100000, got `0` \(number\)/,
      )
      assert.throws(
        () => addBackgroundJobs(container, (o) => o.useInMemoryStore({ retry: { factor: 0.5 } })),
        /retry\.factor/,
      )
      const wallOnly = { now: () => Date.now(), setTimer: () => ({}), clearTimer: () => {} }
      assert.throws(
        () => addBackgroundJobs(container, (o) => o.useInMemoryStore({ clock: wallOnly as never })),
        /Expected `clock` to be a Clock \(now, monotonicNow, setTimer, clearTimer\)/,
      )
      assert.throws(
        () => addBackgroundJobs(container, (o) => o.useInMemoryStore().addJob((() => {}) as never)),
        InvalidJobClassError,
      )
      class A extends BackgroundJobBase<null> {
        static override jobName = 'same'
        protected override async executing(): Promise<void> {}
      }
      class B extends BackgroundJobBase<null> {
        static override jobName = 'same'
        protected override async executing(): Promise<void> {}
      }
      assert.throws(
        () => addBackgroundJobs(createContainer(), (o) => o.useInMemoryStore().addJob(A, B)),
        DuplicateJobError,
      )
      for (const E of [InvalidJobClassError, DuplicateJobError]) assert.ok(new E('x') instanceof BackgroundJobError)
      assert.ok(new InvalidOptionError({ option: 'x', value: 1, expected: 'a string' }) instanceof BackgroundJobError)
    })

    it('injects constructor dependencies from a fresh scope per attempt and disposes it', async () => {
      const disposed: number[] = []
      let created = 0
      class Counter {
        readonly n = ++created
      }
      class UsesScope extends BackgroundJobBase<null> {
        readonly counter: Counter
        constructor(deps: { counter: Counter }) {
          super()
          this.counter = deps.counter
        }
        protected override async executing(): Promise<void> {
          seen.push(this.counter.n)
        }
      }
      const seen: number[] = []
      const { asClass } = await import('awilix')
      h.container.register(
        'counter',
        asClass(Counter)
          .scoped()
          .disposer((c) => void disposed.push(c.n)),
      )
      addBackgroundJobs(h.container, (o) => o.addJob(UsesScope))
      const a = await h.manager.enqueue(UsesScope, null)
      const b = await h.manager.enqueue(UsesScope, null)
      await Promise.all([h.manager.onSettled(a), h.manager.onSettled(b)])
      assert.deepEqual(seen.sort(), [1, 2])
      assert.deepEqual(disposed.sort(), [1, 2])
    })

    it('fails the job with the resolution error when a dependency is missing', async () => {
      class NeedsMissing extends BackgroundJobBase<null> {
        static override retry = { maxRetries: 0 }
        constructor(deps: { missingService: unknown }) {
          super()
          void deps.missingService
        }
        protected override async executing(): Promise<void> {}
      }
      addBackgroundJobs(h.container, (o) => o.addJob(NeedsMissing))
      const id = await h.manager.enqueue(NeedsMissing, null)
      const job = await h.manager.onSettled(id)
      assert.equal(job.state, 'failed')
      assert.match(job.lastError!.message, /missingService/)
    })
  })

  describe('static facade', () => {
    it('throws BackgroundJobsNotBuiltError naming the missing call before build, and never builds a container', () => {
      BackgroundJobs.reset()
      assert.throws(
        () => BackgroundJobs.manager,
        (error: unknown) => {
          assert.ok(error instanceof BackgroundJobsNotBuiltError)
          assert.match(error.message, /Call BackgroundJobs\.build\(container\) once at start-up/)
          return true
        },
      )
      assert.throws(() => ServiceBase.backgroundJobManager, BackgroundJobsNotBuiltError)
      assert.equal(BackgroundJobs.isBuilt, false)
    })

    it('returns the same singleton as the container after build, and forgets it on dispose', async () => {
      BackgroundJobs.build(h.container)
      assert.equal(BackgroundJobs.manager, h.manager)
      assert.equal(ServiceBase.backgroundJobManager, h.manager)
      await h.container.dispose()
      assert.equal(BackgroundJobs.isBuilt, false)
    })

    it('refuses to build from a container without the background-job service', () => {
      assert.throws(
        () => BackgroundJobs.build(createContainer()),
        /Call addBackgroundJobs\(container, o => o.useInMemoryStore\(\)\) on it first/,
      )
      assert.throws(() => BackgroundJobs.build(null as never), InvalidArgumentError)
    })
  })

  it('types args end to end (compile-time checks)', async () => {
    const manager: BackgroundJobManager = h.manager
    const typed = async (): Promise<void> => {
      // @ts-expect-error: `name` must be a string
      await manager.enqueue(RegisterUserBackgroundJob, { name: 42 })
      // @ts-expect-error: SendMailJob needs `to`
      await manager.enqueue(SendMailJob, { name: 'x' })
    }
    assert.equal(typeof typed, 'function')
  })
})
