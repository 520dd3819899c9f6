import assert from 'node:assert/strict'
import fc from 'fast-check'
import { InvalidOptionError, InvalidScheduleError } from '../src/errors'
import { MAX_RETRIES, MAX_TIMER_MS } from '../src/limits'
import { CronSchedule } from '../src/policy/cron-schedule'
import {
  DEFAULT_RETRY,
  MAX_BACKOFF_FACTOR,
  backoffDelay,
  resolveRetryOptions,
  type ResolvedRetryOptions,
} from '../src/policy/retry-policy'

/** Every retry policy that `resolveRetryOptions` accepts. */
const validRetry: fc.Arbitrary<ResolvedRetryOptions> = fc.record({
  maxRetries: fc.integer({ min: 0, max: MAX_RETRIES }),
  initialDelayMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MAX_TIMER_MS })),
  factor: fc.oneof(
    fc.constantFrom(1, 2, MAX_BACKOFF_FACTOR),
    fc.double({ min: 1, max: MAX_BACKOFF_FACTOR, noNaN: true, noDefaultInfinity: true }),
  ),
  maxDelayMs: fc.oneof(fc.constant(MAX_TIMER_MS), fc.integer({ min: 0, max: MAX_TIMER_MS })),
})

describe('retry policy', () => {
  describe('backoffDelay', () => {
    it('is a whole number of ms from 0 to maxDelayMs for every valid policy and every attempt from 1 to 1000', () => {
      fc.assert(
        fc.property(validRetry, fc.integer({ min: 1, max: MAX_RETRIES }), (given, attempt) => {
          const retry = resolveRetryOptions(given, DEFAULT_RETRY)
          const delay = backoffDelay(retry, attempt)
          assert.ok(Number.isInteger(delay), `${delay} for attempt ${attempt} of ${JSON.stringify(retry)}`)
          assert.ok(delay >= 0 && delay <= retry.maxDelayMs, `${delay} for attempt ${attempt}`)
        }),
        { numRuns: 2000 },
      )
    })

    it('never shrinks from one attempt to the next', () => {
      fc.assert(
        fc.property(validRetry, fc.integer({ min: 1, max: MAX_RETRIES - 1 }), (retry, attempt) => {
          assert.ok(backoffDelay(retry, attempt + 1) >= backoffDelay(retry, attempt))
        }),
        { numRuns: 2000 },
      )
    })

    it('is initialDelayMs * factor^(attempt - 1), rounded, while below maxDelayMs', () => {
      const retry = { maxRetries: 10, initialDelayMs: 1000, factor: 1.5, maxDelayMs: 10_000 }
      assert.deepEqual(
        [1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(retry, attempt)),
        [1000, 1500, 2250, 3375, 5063, 7594, 10_000],
      )
      assert.deepEqual(
        [1, 2, 11].map((attempt) => backoffDelay(DEFAULT_RETRY, attempt)),
        [60_000, 120_000, 61_440_000],
      )
    })

    it('is 0 for a zero initial delay with the largest factor, where 0 * Infinity used to give NaN', () => {
      const retry = { maxRetries: MAX_RETRIES, initialDelayMs: 0, factor: MAX_BACKOFF_FACTOR, maxDelayMs: 5000 }
      for (const attempt of [1, 2, 102, 103, 500, MAX_RETRIES]) assert.equal(backoffDelay(retry, attempt), 0)
      const overflowing = { ...retry, initialDelayMs: 1 }
      assert.equal(backoffDelay(overflowing, MAX_RETRIES), 5000)
    })
  })

  describe('resolveRetryOptions', () => {
    it(`refuses a factor below 1, above ${MAX_BACKOFF_FACTOR} or not finite, naming the option`, () => {
      for (const factor of [0.5, MAX_BACKOFF_FACTOR + 1, 1e200, Infinity, Number.NaN]) {
        assert.throws(
          () => resolveRetryOptions({ initialDelayMs: 0, factor }, DEFAULT_RETRY, 'SendMailJob.retry'),
          (error: unknown) =>
            error instanceof InvalidOptionError &&
            error.option === 'SendMailJob.retry.factor' &&
            error.message.includes(`a finite number from 1 to ${MAX_BACKOFF_FACTOR}`),
          String(factor),
        )
      }
      assert.equal(resolveRetryOptions({ factor: MAX_BACKOFF_FACTOR }, DEFAULT_RETRY).factor, MAX_BACKOFF_FACTOR)
    })
  })
})

describe('CronSchedule', () => {
  /** The error `new CronSchedule(...)` throws. */
  function refusal(expression: string, timezone?: string): InvalidScheduleError {
    try {
      new CronSchedule('nightly', expression, timezone)
    } catch (error) {
      assert.ok(error instanceof InvalidScheduleError, String(error))
      assert.equal(error.scheduleId, 'nightly')
      return error
    }
    assert.fail(`${expression} was accepted`)
  }

  it('counts the fields itself: 5 or 6, or a nickname, however they are spaced', () => {
    for (const expression of ['0 0 * * *', '  0\t0 * *  * ', '30 0 0 * * *', '@daily', ' @Hourly ']) {
      assert.equal(typeof new CronSchedule('nightly', expression, 'UTC').nextAfter(Date.UTC(2030, 0, 1)), 'number')
    }
    for (const [expression, reason] of [
      ['0 0 1 1 * 2099', /\): CronPattern: Invalid value for dayOfWeek: 2099\. /],
      ['0 0 0 1 1 * 2099', /\): it has 7 fields; a seventh \(year\) field is not supported\. /],
      ['0 0 * *', /\): it has 4 fields\. /],
      ['@daily *', /\): it has 2 fields\. /],
      ['@every', /\): it has 1 field\. /],
      ['@reboot', /\): it has 1 field\. /],
    ] as const) {
      assert.match(refusal(expression).message, reason, expression)
    }
  })

  it("keeps croner's error as the cause of a syntax refusal", () => {
    const error = refusal('0 0 * * 9')
    assert.ok(error.cause instanceof Error)
    assert.match(error.message, /^Schedule "nightly" has an invalid cron expression or time zone \("0 0 \* \* 9"\): /)
  })

  it('refuses an expression that never fires, in any time zone, saying why', () => {
    for (const timezone of [undefined, 'UTC', 'Pacific/Kiritimati']) {
      assert.match(
        refusal('0 0 31 4 *', timezone).message,
        /^Schedule "nightly" has a cron expression that never fires: no date matches both the day-of-month and the month fields of "0 0 31 4 \*"/,
      )
    }
  })
})
