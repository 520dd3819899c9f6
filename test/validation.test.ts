import assert from 'node:assert/strict'
import { asValue, createContainer } from 'awilix'
import express from 'express'
import {
  BackgroundJobBase,
  InvalidArgumentError,
  InvalidOptionError,
  JobNotFoundError,
  JobStateError,
  JobTimeoutError,
  PendingJobsLimitError,
  addBackgroundJobs,
  backgroundJobsAdminRouter,
  mapServices,
} from '../src/index'
import { CapturingLogger, createHarness, type Harness } from './support/harness'
import { ROUTE_CONVENTION_KEYS } from '../src/express/route-options'

class NoopJob extends BackgroundJobBase<null> {
  protected override async executing(): Promise<void> {}
}

/** Asserts `run` throws (or rejects with) an InvalidOptionError for `option` that lists `known`. */
async function refusesUnknown(run: () => unknown, option: string, known: readonly string[]): Promise<void> {
  let caught: unknown
  try {
    await run()
  } catch (error) {
    caught = error
  }
  assert.ok(caught instanceof InvalidOptionError, `expected an InvalidOptionError, got ${String(caught)}`)
  assert.equal(caught.option, option)
  assert.deepEqual(caught.knownOptions, known)
  assert.match(caught.message, new RegExp(`^Unknown option \`${option}\`.*Known options: ${known.join(', ')}\\.`))
}

describe('options validation', () => {
  let h: Harness

  beforeEach(() => {
    h = createHarness((o) => o.addJob(NoopJob))
  })

  afterEach(async () => {
    await h.container.dispose()
  })

  it('refuses a misspelt store option instead of running with the default', async () => {
    const container = createContainer()
    container.register('logger', asValue(new CapturingLogger()))
    await refusesUnknown(
      () => addBackgroundJobs(container, (o) => o.useInMemoryStore({ concurency: 5 } as never)),
      'concurency',
      [
        'concurrency',
        'maxPendingJobs',
        'keepCompleted',
        'keepFailed',
        'keepCancelled',
        'clock',
        'unref',
        'timeoutMs',
        'retry',
        'maxArgsBytes',
      ],
    )
    await refusesUnknown(
      () => addBackgroundJobs(container, (o) => o.useInMemoryStore({ retry: { maxRetires: 3 } as never })),
      'maxRetires',
      ['maxRetries', 'initialDelayMs', 'factor', 'maxDelayMs'],
    )
  })

  it('refuses misspelt stop, listJobs and enqueue options', async () => {
    await refusesUnknown(() => h.manager.stop({ drian: false } as never), 'drian', ['drain', 'timeoutMs'])
    await refusesUnknown(() => h.manager.listJobs({ state: 'pending', ofset: 3 } as never), 'ofset', [
      'state',
      'offset',
      'limit',
    ])
    await refusesUnknown(() => h.manager.enqueue(NoopJob, null, { dealy: 5 } as never), 'dealy', ['delay', 'runAt'])
    assert.equal(h.manager.isStopped, false, 'a refused stop does not stop')
  })

  it('refuses misspelt admin router, mapServices and route options', async () => {
    await refusesUnknown(
      () => backgroundJobsAdminRouter(h.container, { allowMutation: true } as never),
      'allowMutation',
      [
        'authorize',
        'authorizeTimeoutMs',
        'allowMutations',
        'allowedOrigins',
        'redactArgs',
        'redactErrors',
        'title',
        'clock',
      ],
    )
    await refusesUnknown(
      () => mapServices(express(), [], { container: h.container, verison: 'v2' } as never),
      'verison',
      ['container', ...ROUTE_CONVENTION_KEYS],
    )
    class TypoService {
      static routeOptions = { baseUrl: '/x' }
      getAsync(): void {}
    }
    await refusesUnknown(() => mapServices(express(), [TypoService as never], { container: h.container }), 'baseUrl', [
      ...ROUTE_CONVENTION_KEYS,
      'baseUri',
      'serviceName',
    ])
  })

  it('names the option, the value and what was expected for a bad value', async () => {
    await assert.rejects(h.manager.stop({ drain: 'no' as never }), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError)
      assert.deepEqual([error.option, error.value, error.expected], ['drain', 'no', 'a boolean'])
      return true
    })
    await assert.rejects(h.manager.listJobs({ state: 'pending', limit: 5000 }), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError)
      assert.deepEqual([error.option, error.value, error.expected], ['limit', 5000, 'an integer from 1 to 1000'])
      return true
    })
  })
})

describe('structured errors', () => {
  let h: Harness

  beforeEach(() => {
    h = createHarness((o) => o.addJob(NoopJob), { maxPendingJobs: 1, retry: { maxRetries: 0 } })
  })

  afterEach(async () => {
    await h.container.dispose()
  })

  it('carry the job id, state and expected states, with one message per error class', async () => {
    const id = await h.manager.enqueue(NoopJob, null, { delay: 1000 })
    await assert.rejects(h.manager.retry(id), (error: unknown) => {
      assert.ok(error instanceof JobStateError)
      assert.deepEqual([error.jobId, error.state, error.expected, error.action], [id, 'pending', ['failed'], 'retry'])
      assert.equal(
        error.message,
        `Job ${id} is pending; only failed jobs can be retried. Only a job that failed for good can be retried.`,
      )
      return true
    })
    for (const call of [
      () => h.manager.cancel('404'),
      () => h.manager.onSettled('404'),
      () => h.manager.deleteJob('404'),
    ]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof JobNotFoundError)
        assert.equal(error.jobId, '404')
        assert.equal(error.message, new JobNotFoundError('404').message)
        return true
      })
    }
    await assert.rejects(h.manager.enqueue(NoopJob, null), (error: unknown) => {
      assert.ok(error instanceof PendingJobsLimitError)
      assert.deepEqual([error.limit, error.jobName], [1, 'NoopJob'])
      return true
    })
  })

  it('tell a wrong argument type from an unregistered job', async () => {
    await assert.rejects(h.manager.enqueue(42 as never), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError)
      assert.equal(error.argument, 'the first argument of enqueue')
      assert.equal(error.value, 42)
      return true
    })
  })

  it('give a timeout its job, attempt and limit', () => {
    const error = new JobTimeoutError({ jobId: '7', jobName: 'SlowJob', attempt: 2, timeoutMs: 100 })
    assert.deepEqual([error.jobId, error.jobName, error.attempt, error.timeoutMs], ['7', 'SlowJob', 2, 100])
    assert.match(error.message, /^Job "SlowJob" \(7\) attempt 2 ran longer than its 100 ms timeout/)
  })
})
