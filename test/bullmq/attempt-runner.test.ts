import assert from 'node:assert/strict'
import { JobTimeoutError, ManagerStoppedError, type JobContext } from 'express-background-jobs'
import type { JobHandler } from '../../src/background-job-engine'
import { AttemptRunner } from '../../src/bullmq/attempt-runner'
import type { BullmqJob } from '../../src/bullmq/job-mapping'
import { NO_REPORTS } from '../../src/bullmq/job-reports'
import { DEFAULT_RETRY } from '../../src/policy/retry-policy'
import { CapturingLogger } from '../support/harness'
import { deferred } from '../support/deferred'

/** BullMQ's `WaitingError` stand-in: what the runner throws after moving a job back to waiting. */
class WaitingError extends Error {}

/** The parts of a BullMQ job the runner reads, and a record of its moves back to waiting. */
function fakeJob(): BullmqJob & { readonly movedToWait: number } {
  let movedToWait = 0
  return {
    id: '7',
    name: 'WatchJob',
    data: {},
    attemptsMade: 0,
    repeatJobKey: undefined,
    moveToWait: async () => void movedToWait++,
    get movedToWait() {
      return movedToWait
    },
  } as unknown as BullmqJob & { readonly movedToWait: number }
}

/** A runner whose one job, `WatchJob`, runs `body`. */
function runnerOf(body: (context: JobContext) => Promise<void>, timeoutMs = 0): AttemptRunner {
  const handler: JobHandler = {
    maxAttempts: 3,
    timeoutMs,
    retry: DEFAULT_RETRY,
    run: (_args, context) => body(context),
  }
  return new AttemptRunner({
    handlers: { handler: (name) => (name === 'WatchJob' ? handler : undefined) },
    logger: new CapturingLogger(),
    WaitingError,
    hooks: {
      recordError: async () => {},
      recordDue: async () => {},
      recordScheduleRun: async () => {},
      interrupted: () => {},
      started: () => {},
      readReports: async () => NO_REPORTS,
      recordAttempt: async () => {},
    },
  })
}

/**
 * Runs one attempt on a fresh runner whose body, once `goOn` resolves, reads its signal (what
 * `seen()` returns) and throws the signal's reason if it was aborted; resolves once the body started.
 */
async function startLateReader(): Promise<{
  runner: AttemptRunner
  job: ReturnType<typeof fakeJob>
  ran: Promise<unknown>
  goOn: ReturnType<typeof deferred>
  seen: () => AbortSignal | undefined
}> {
  const started = deferred()
  const goOn = deferred()
  let seen: AbortSignal | undefined
  const runner = runnerOf(async (context) => {
    started.resolve()
    await goOn.promise
    seen = context.signal
    if (seen.aborted) throw seen.reason
  })
  const job = fakeJob()
  const ran = runner.run(job, 'token')
  await started.promise
  return { runner, job, ran, goOn, seen: () => seen }
}

describe('AttemptRunner signal', () => {
  it('gives a body that reads its signal only after stop aborted it an aborted signal with ManagerStoppedError, and puts the job back to waiting', async () => {
    const { runner, job, ran, goOn, seen } = await startLateReader()
    runner.abortAll(() => new ManagerStoppedError('interrupted'))
    goOn.resolve()
    await assert.rejects(ran, WaitingError)
    assert.equal(seen()?.aborted, true)
    assert.ok(seen()?.reason instanceof ManagerStoppedError)
    assert.equal(job.movedToWait, 1)
    assert.equal(runner.interrupted, 1)
  })

  it('gives a body that reads its signal only after its timeout an aborted signal with JobTimeoutError', async () => {
    const ended = deferred()
    let seen: AbortSignal | undefined
    const runner = runnerOf(async (context) => {
      await new Promise((resolve) => setTimeout(resolve, 60))
      seen = context.signal
      ended.resolve()
    }, 20)
    const ran = runner.run(fakeJob(), 'token')
    await assert.rejects(ran, (error: { thrown?: unknown }) => error.thrown instanceof JobTimeoutError)
    await ended.promise
    assert.equal(seen?.aborted, true)
    assert.ok(seen?.reason instanceof JobTimeoutError)
  })

  it('gives a body that reads its signal after two aborts an aborted signal with the first reason, as an AbortController keeps it', async () => {
    const { runner, ran, goOn, seen } = await startLateReader()
    const first = new ManagerStoppedError('interrupted')
    runner.abortAll(() => first)
    runner.abortAll(() => new ManagerStoppedError('stopped'))
    goOn.resolve()
    await assert.rejects(ran, WaitingError)
    assert.equal(seen()?.reason, first)
  })
})
