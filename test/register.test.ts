import assert from 'node:assert/strict'
import { asValue, createContainer, type AwilixContainer } from 'awilix'
import { BackgroundJobBase } from '../src/background-job-base'
import type { EngineFactory } from '../src/background-job-engine'
import { ManualClock } from '../src/clock'
import { InvalidOptionError } from '../src/errors'
import { memoryEngine } from '../src/memory/memory-engine'
import { addBackgroundJobs } from '../src/register'
import { REGISTRATIONS } from '../src/registrations'
import type { BackgroundJobManager } from '../src/background-job-manager'
import { CapturingLogger } from './support/harness'

class NoopJob extends BackgroundJobBase<null> {
  protected override async executing(): Promise<void> {}
}

/** A memory engine factory that records whether it was used to build the engine. */
function recording(name: string, used: string[]): EngineFactory {
  const memory = memoryEngine({ clock: new ManualClock() })
  return {
    policy: memory.policy,
    clock: memory.clock,
    create: (context) => {
      used.push(name)
      return memory.create(context)
    },
  }
}

describe('addBackgroundJobs: which engine choice wins', () => {
  let container: AwilixContainer
  let logger: CapturingLogger

  beforeEach(() => {
    container = createContainer()
    logger = new CapturingLogger()
    container.register('logger', asValue(logger))
  })

  afterEach(async () => {
    await container.dispose()
  })

  it('keeps the first of two engines chosen in one configure function, and warns that the second is ignored', () => {
    const used: string[] = []
    addBackgroundJobs(container, (o) => o.useEngine(recording('first', used)).useEngine(recording('second', used)))
    container.resolve(REGISTRATIONS.engine)
    assert.deepEqual(used, ['first'])
    assert.deepEqual(logger.messages('warn'), [
      'addBackgroundJobs: 2 engines were chosen in one configure function (useInMemoryStore/useEngine); the first one is in force and the later ones are ignored',
    ])
  })

  it('keeps the first useInMemoryStore options of one configure function, as a second addBackgroundJobs does', async () => {
    const clock = new ManualClock()
    addBackgroundJobs(container, (o) =>
      o.useInMemoryStore({ clock, concurrency: 1 }).useInMemoryStore({ clock, concurrency: 7 }).addJob(NoopJob),
    )
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    // The first store runs one job at a time: with two enqueued, one is running and one pending.
    class SlowJob extends BackgroundJobBase<null> {
      protected override async executing(_args: null, ctx: { signal: AbortSignal }): Promise<void> {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
      }
    }
    addBackgroundJobs(container, (o) => o.useInMemoryStore({ concurrency: 50 }).addJob(SlowJob))
    await manager.enqueue(SlowJob, null)
    await manager.enqueue(SlowJob, null)
    await new Promise((resolve) => setImmediate(resolve))
    const counts = await manager.counts()
    assert.equal(counts.running, 1)
    assert.equal(counts.pending, 1)
    assert.equal(logger.messages('warn').length, 2)
    assert.match(logger.messages('warn')[0]!, /2 engines were chosen in one configure function/)
    assert.match(logger.messages('warn')[1]!, /called again: the first call's engine and options stay in force/)
    await manager.stop({ drain: false })
  })

  it('still validates an engine choice it ignores', () => {
    assert.throws(
      () => addBackgroundJobs(container, (o) => o.useInMemoryStore().useInMemoryStore({ concurency: 2 } as never)),
      InvalidOptionError,
    )
  })
})
