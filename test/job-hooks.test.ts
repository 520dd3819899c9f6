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

describe('BackgroundJobBase preExecute and postExecute (MASA PreExecuteAsync / PostExecuteAsync)', () => {
  let h: Harness

  beforeEach(() => {
    steps.length = 0
    h = createHarness((o) => o.addJob(HookedJob, PlainJob))
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
})
