import assert from 'node:assert/strict'
import { BackgroundJobBase } from '../src/background-job-base'
import type { JobContext } from '../src/types'
import { createHarness, type Harness } from './support/harness'

interface StepArgs {
  readonly fail?: 'pre' | 'executing' | 'post'
}

const steps: string[] = []

/** Records each step with the attempt number and the args it saw; fails the step named in the args. */
class HookedJob extends BackgroundJobBase<StepArgs> {
  static override retry = { maxRetries: 1, initialDelayMs: 10 }

  protected override async preExecute(args: StepArgs, ctx: JobContext): Promise<void> {
    steps.push(`pre ${ctx.attempt} ${ctx.jobName}`)
    if (args.fail === 'pre' && ctx.attempt === 1) throw new Error('pre failed')
  }

  protected override async executing(args: StepArgs, ctx: JobContext): Promise<void> {
    steps.push(`executing ${ctx.attempt}`)
    if (args.fail === 'executing' && ctx.attempt === 1) throw new Error('executing failed')
  }

  protected override async postExecute(args: StepArgs, ctx: JobContext): Promise<void> {
    steps.push(`post ${ctx.attempt} ${ctx.jobId}`)
    if (args.fail === 'post' && ctx.attempt === 1) throw new Error('post failed')
  }
}

class PlainJob extends BackgroundJobBase<null> {
  protected override async executing(): Promise<void> {
    steps.push('plain')
  }
}

/** Overrides the steps with class fields, which live on the instance rather than the prototype. */
class FieldStepsJob extends BackgroundJobBase<null> {
  protected override preExecute = async (): Promise<void> => {
    steps.push('field pre')
  }
  protected override async executing(): Promise<void> {
    steps.push('field executing')
  }
  protected override postExecute = async (): Promise<void> => {
    steps.push('field post')
  }
}

/** Overrides `execute` itself, which the docs advise against but a subclass may do. */
class OwnExecuteJob extends BackgroundJobBase<null> {
  override async execute(args: null, ctx: JobContext): Promise<void> {
    steps.push('own execute')
    await super.execute(args, ctx)
  }
  protected override async executing(): Promise<void> {
    steps.push('own executing')
  }
}

/** A plain-JavaScript job whose `executing` returns no promise and one that throws synchronously. */
class SyncJob extends BackgroundJobBase<{ readonly fail: boolean }> {
  static override retry = { maxRetries: 0 }
  protected override executing(args: { readonly fail: boolean }): Promise<void> {
    steps.push('sync')
    if (args.fail) throw new Error('sync failure')
    return undefined as unknown as Promise<void>
  }
}

describe('BackgroundJobBase preExecute and postExecute (MASA PreExecuteAsync / PostExecuteAsync)', () => {
  let h: Harness

  beforeEach(() => {
    steps.length = 0
    h = createHarness((o) => o.addJob(HookedJob, PlainJob, FieldStepsJob, OwnExecuteJob, SyncJob))
  })

  afterEach(async () => {
    await h.container.dispose()
  })

  it('runs preExecute, executing and postExecute in that order, with the same args and context', async () => {
    const id = await h.manager.enqueue(HookedJob, {})
    assert.equal((await h.manager.onSettled(id)).state, 'completed')
    assert.deepEqual(steps, ['pre 1 HookedJob', 'executing 1', `post 1 ${id}`])
  })

  it('fails the attempt without executing when preExecute throws, and runs all three at the retry', async () => {
    const id = await h.manager.enqueue(HookedJob, { fail: 'pre' })
    await h.tick(0)
    await h.tick(10)
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'completed')
    assert.deepEqual(steps, ['pre 1 HookedJob', 'pre 2 HookedJob', 'executing 2', `post 2 ${id}`])
  })

  it('does not run postExecute after a failed executing', async () => {
    const id = await h.manager.enqueue(HookedJob, { fail: 'executing' })
    await h.tick(0)
    await h.tick(10)
    assert.equal((await h.manager.onSettled(id)).state, 'completed')
    assert.deepEqual(steps, ['pre 1 HookedJob', 'executing 1', 'pre 2 HookedJob', 'executing 2', `post 2 ${id}`])
  })

  it('fails the attempt when postExecute throws, keeping its error', async () => {
    const id = await h.manager.enqueue(HookedJob, { fail: 'post' })
    await h.tick(0)
    const failed = await h.manager.getJob(id)
    assert.equal(failed?.lastError?.message, 'post failed')
    await h.tick(10)
    assert.equal((await h.manager.onSettled(id)).state, 'completed')
  })

  it('does nothing before and after executing for a job that overrides neither', async () => {
    const id = await h.manager.enqueue(PlainJob, null)
    assert.equal((await h.manager.onSettled(id)).state, 'completed')
    assert.deepEqual(steps, ['plain'])
  })

  it('runs preExecute and postExecute that a subclass sets as class fields', async () => {
    const id = await h.manager.enqueue(FieldStepsJob, null)
    assert.equal((await h.manager.onSettled(id)).state, 'completed')
    assert.deepEqual(steps, ['field pre', 'field executing', 'field post'])
  })

  it('runs the execute of a subclass that overrides it', async () => {
    const id = await h.manager.enqueue(OwnExecuteJob, null)
    assert.equal((await h.manager.onSettled(id)).state, 'completed')
    assert.deepEqual(steps, ['own execute', 'own executing'])
  })

  it('completes an executing that returns no promise and fails one that throws synchronously', async () => {
    const ok = await h.manager.enqueue(SyncJob, { fail: false })
    const bad = await h.manager.enqueue(SyncJob, { fail: true })
    assert.equal((await h.manager.onSettled(ok)).state, 'completed')
    const failed = await h.manager.onSettled(bad)
    assert.equal(failed.state, 'failed')
    assert.equal(failed.lastError?.message, 'sync failure')
  })
})
