import assert from 'node:assert/strict'
import fc from 'fast-check'
import { InvalidJobArgsError, InvalidOptionError, InvalidScheduleError } from '../src/errors'
import { MAX_RETRIES, MAX_TIMER_MS } from '../src/limits'
import { CronSchedule } from '../src/policy/cron-schedule'
import { cloneJobArgs, copyJobArgs, jsonStringBytes } from '../src/policy/job-args'
import { scheduleInfo } from '../src/policy/schedule-info'
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

describe('scheduleInfo', () => {
  const daily = {
    id: 'daily',
    cron: new CronSchedule('daily', '0 3 * * *', 'Europe/Paris'),
    name: 'Report',
    args: { to: ['ops'] },
  }

  it('gives every engine the same snapshot: the expression, zone and times as Dates, the args a copy', () => {
    const info = scheduleInfo(daily, { nextRunAt: 2_000, lastEnqueuedAt: 1_000, lastJobId: '7' })
    const args = info.args as { to: string[] }
    assert.deepEqual(info, {
      id: 'daily',
      cron: '0 3 * * *',
      jobName: 'Report',
      args: { to: ['ops'] },
      timezone: 'Europe/Paris',
      nextRunAt: new Date(2_000),
      lastEnqueuedAt: new Date(1_000),
      lastJobId: '7',
    })
    args.to.push('changed')
    assert.deepEqual(daily.args, { to: ['ops'] })
  })

  it('leaves out what the schedule does not have: a zone, a next run, a last run', () => {
    const info = scheduleInfo({ ...daily, cron: new CronSchedule('daily', '0 3 * * *', undefined) }, {})
    assert.deepEqual(Object.keys(info), ['id', 'cron', 'jobName', 'args'])
  })
})

describe('cloneJobArgs', () => {
  it('gives a deep copy of copied args that shares no object with them, for any JSON data', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const args = copyJobArgs(value, Infinity)
        const clone = cloneJobArgs(args)
        assert.deepEqual(clone, args)
        const objects = (v: unknown, into: Set<unknown>): Set<unknown> => {
          if (v !== null && typeof v === 'object') {
            into.add(v)
            for (const item of Object.values(v)) objects(item, into)
          }
          return into
        }
        const shared = [...objects(clone, new Set())].filter((o) => objects(args, new Set()).has(o))
        assert.deepEqual(shared, [])
      }),
    )
  })

  it('copies only the args own keys when Object.prototype has an enumerable one', () => {
    const args = copyJobArgs({ a: { b: 1 }, c: 2 }, 1000)
    Object.defineProperty(Object.prototype, 'polluted', { value: { x: 1 }, enumerable: true, configurable: true })
    try {
      const clone = cloneJobArgs(args) as Record<string, unknown>
      assert.deepEqual(Object.keys(clone), ['a', 'c'])
      assert.equal(Object.prototype.hasOwnProperty.call(clone, 'polluted'), false)
      assert.notEqual(clone.a, args.a)
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted
    }
  })

  it('keeps an own __proto__ key as data, not as the prototype', () => {
    const args = copyJobArgs(JSON.parse('{"__proto__": {"x": 1}, "a": [{"b": 2}]}') as object, 1000)
    const clone = cloneJobArgs(args) as Record<string, unknown>
    assert.equal(Object.getPrototypeOf(clone), Object.prototype)
    assert.deepEqual(Object.keys(clone), ['__proto__', 'a'])
    assert.deepEqual(Object.getOwnPropertyDescriptor(clone, '__proto__')?.value, { x: 1 })
  })
})

describe('copyJobArgs', () => {
  /** Any UTF-16 code unit or code point: ASCII, escapes, two to four UTF-8 bytes, lone surrogates. */
  const anyUnit = fc
    .oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    )
    .map((point) => String.fromCodePoint(point))
  const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value))

  /** The InvalidJobArgsError `copyJobArgs(args)` throws. */
  function refusal(args: unknown, maxBytes = 1_000_000): InvalidJobArgsError {
    try {
      copyJobArgs(args, maxBytes)
    } catch (error) {
      assert.ok(error instanceof InvalidJobArgsError, `expected an InvalidJobArgsError, got ${String(error)}`)
      return error
    }
    assert.fail('the args were accepted')
  }

  describe('maxArgsBytes', () => {
    it('counts the UTF-8 bytes of the JSON text exactly: accepts args at the limit, refuses them one byte under it', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.jsonValue({ stringUnit: anyUnit, maxDepth: 3 }),
            fc.array(fc.double({ noNaN: true, noDefaultInfinity: true })),
            fc.array(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(1e21, -1e21, 1e20, -0, 123e-20))),
          ),
          (value) => {
            const bytes = jsonBytes(value)
            assert.equal(JSON.stringify(copyJobArgs(value, bytes)), JSON.stringify(value))
            assert.match(refusal(value, bytes - 1).message, /past the `maxArgsBytes` limit/)
          },
        ),
        { numRuns: 1000 },
      )
    })

    it('counts a string as JSON.stringify writes it', () => {
      fc.assert(
        fc.property(fc.string({ unit: anyUnit }), (text) => {
          assert.equal(jsonStringBytes(text), jsonBytes(text))
        }),
        { numRuns: 2000 },
      )
      assert.equal(jsonStringBytes('é'.repeat(1000)), 2002, 'not 1002, as a count of code units gives')
      assert.equal(jsonStringBytes('\u0001'.repeat(1000)), 6002)
    })
  })

  describe('objects copied again (their keys seen before, so copied from a blank)', () => {
    /** Keys that take every road: index keys, `__proto__`, escapes, multi-byte text, and any string. */
    const anyKey = fc.oneof(
      fc.constantFrom('i', 'id', 'name', '0', '12', '__proto__', 'toString', 'with space', 'quote"', 'é', '\u2028'),
      fc.string({ unit: anyUnit, maxLength: 8 }),
    )
    /** Values a flat object may hold: JSON primitives, and the ones JSON would change or drop. */
    const anyFlatValue = fc.oneof(
      fc.string({ unit: anyUnit, maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e21, -0),
      fc.constant(() => 1),
      fc.constant(Symbol('s')),
      fc.bigInt(),
    )
    /** An object with these entries as its own data, `__proto__` included. */
    const objectOf = (entries: [string, unknown][]): Record<string, unknown> => {
      const object: Record<string, unknown> = {}
      for (const [key, value] of entries)
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
      return object
    }
    const isJsonPrimitive = (value: unknown): boolean =>
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))

    /**
     * What copying a flat object under `maxBytes` gives, worked out the obvious way: the copy
     * when it fits, else the path and message of the first refusal (a value's own refusal, as the
     * copy of `[value]` words it; the budget, at the object for a key and at the key for a value).
     */
    function expectedFlat(
      object: Record<string, unknown>,
      maxBytes: number,
    ): { copy: unknown } | { path: string; message: string } {
      const budget = (path: string): { path: string; message: string } => ({
        path,
        message: `Job arguments must be JSON data, but \`${path}\` pushes the arguments past the \`maxArgsBytes\` limit. Store large data elsewhere and pass its key, or raise \`maxArgsBytes\`.`,
      })
      let left = maxBytes - 2
      if (left < 0) return budget('args')
      let written = 0
      for (const key of Object.keys(object)) {
        const value = object[key]
        if (value === undefined) continue
        left -= jsonBytes(key) + (written === 0 ? 1 : 2)
        if (left < 0) return budget('args')
        const path = `args.${key}`
        if (!isJsonPrimitive(value))
          return { path, message: refusal([value]).message.replace('`args[0]`', () => `\`${path}\``) }
        left -= jsonBytes(value)
        if (left < 0) return budget(path)
        written++
      }
      // JSON leaves undefined values out (and the copy keeps -0 as it is, where JSON writes 0).
      return { copy: objectOf(Object.entries(object).filter(([, value]) => value !== undefined)) }
    }

    it('copies a flat object, or refuses it at the same path with the same message, the first time its keys are seen and every time after', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.tuple(anyKey, anyFlatValue), { selector: ([key]) => key, maxLength: 6 }),
          fc.nat({ max: 120 }),
          (entries, maxBytes) => {
            const object = objectOf(entries)
            const expected = expectedFlat(object, maxBytes)
            for (let time = 0; time < 3; time++) {
              if ('copy' in expected) {
                const copied = copyJobArgs(object, maxBytes)
                assert.deepEqual(copied, expected.copy)
                assert.equal(Object.getPrototypeOf(copied), Object.prototype)
                assert.deepEqual(Object.keys(copied), Object.keys(expected.copy as object))
              } else {
                const error = refusal(object, maxBytes)
                assert.equal(error.path, expected.path)
                assert.equal(error.message, expected.message)
              }
            }
          },
        ),
        { numRuns: 2000 },
      )
    })

    it('copies any JSON object as JSON would, and refuses it one byte under its size, however often its keys were seen', () => {
      fc.assert(
        fc.property(fc.dictionary(anyKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }), (value) => {
          const bytes = jsonBytes(value)
          for (let time = 0; time < 3; time++) {
            const copied = copyJobArgs(value, bytes)
            assert.equal(JSON.stringify(copied), JSON.stringify(value))
            assert.deepEqual(copied, cloneJobArgs(value), 'plain data, own __proto__ keys included')
            assert.match(refusal(value, bytes - 1).message, /past the `maxArgsBytes` limit/)
          }
        }),
        { numRuns: 1000 },
      )
    })

    it('reads each string-keyed getter once per copy, and symbol keys not at all, as JSON does', () => {
      let reads = 0
      const secret = Symbol('secret')
      const make = (): object => ({
        id: 1,
        get name(): string {
          reads++
          return 'masa'
        },
        get [secret](): never {
          throw new Error('read')
        },
        [Symbol('data')]: 2,
      })
      for (let time = 0; time < 3; time++) {
        const copied = copyJobArgs(make(), 100)
        assert.deepEqual(copied, { id: 1, name: 'masa' })
        assert.deepEqual(Object.getOwnPropertySymbols(copied), [])
        assert.deepEqual(Object.getOwnPropertyDescriptor(copied, 'name'), {
          value: 'masa',
          writable: true,
          enumerable: true,
          configurable: true,
        })
      }
      assert.equal(reads, 3)
    })

    it('makes every copy its own object, which a later change of the source or of another copy leaves as it was', () => {
      const source = { id: 1, tags: ['a'] }
      const copies = [copyJobArgs(source, 100), copyJobArgs(source, 100), copyJobArgs(source, 100)]
      source.id = 2
      source.tags.push('b')
      copies[1]!.id = 3
      assert.deepEqual(copies[0], { id: 1, tags: ['a'] })
      assert.deepEqual(copies[2], { id: 1, tags: ['a'] })
      assert.notEqual(copies[0], copies[2])
    })
  })

  describe('toJSON', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return (this.cents / 100).toFixed(2)
      }
    }

    it('stores what toJSON() returns, as JSON would, calling it with the key', () => {
      const order = { total: new Money(1999), lines: [new Money(500)], nested: { tax: new Money(1) } }
      assert.deepEqual(copyJobArgs(order, 1000), { total: '19.99', lines: ['5.00'], nested: { tax: '0.01' } })
      assert.equal(copyJobArgs(new Money(1), 1000), '0.01')
      const keys: string[] = []
      const spy = {
        toJSON(key: string) {
          keys.push(key)
          return key
        },
      }
      const args = { a: spy, list: [spy, spy] }
      assert.deepEqual(copyJobArgs(args, 1000), JSON.parse(JSON.stringify(args)))
      assert.deepEqual(keys, ['a', '0', '1', 'a', '0', '1'])
      assert.equal(copyJobArgs(spy, 100), '')
    })

    it('copies what toJSON() returns like JSON does: its own toJSON is not called again, those inside it are', () => {
      const inner = { toJSON: () => 'inner' }
      class Itself {
        x = 1
        toJSON(): this {
          return this
        }
      }
      const args = {
        self: new Itself(),
        twice: { toJSON: () => ({ toJSON: 'not a function', deep: inner }) },
        gone: { toJSON: () => undefined },
        list: [{ toJSON: () => undefined }],
      }
      const copied = copyJobArgs(args, 1000)
      assert.equal(JSON.stringify(copied), JSON.stringify(args))
      assert.deepEqual(copied, { self: { x: 1 }, twice: { toJSON: 'not a function', deep: 'inner' }, list: [null] })
      assert.equal(jsonBytes(args), JSON.stringify(copied).length)
      assert.doesNotThrow(() => copyJobArgs(args, jsonBytes(args)))
      assert.throws(() => copyJobArgs(args, jsonBytes(args) - 1), InvalidJobArgsError)
    })

    it('checks what toJSON() returns, naming the path of the value that returned it', () => {
      const error = refusal({ price: { toJSON: () => () => 1 } })
      assert.equal(error.path, 'args.price')
      assert.match(error.message, /is a function/)
      assert.match(
        refusal({ toJSON: () => undefined }).message,
        /`args` is undefined \(its toJSON\(\) returned undefined\)/,
      )
      assert.match(refusal({ when: { toJSON: () => new Map() } }).message, /`args\.when` is a Map/)
    })

    it('keeps refusing a Date, whose built-in toJSON() would hand a job typed to get a Date a string', () => {
      const error = refusal({ at: new Date(0) })
      assert.equal(error.path, 'args.at')
      assert.match(error.message, /is a Date\. Pass date\.toISOString\(\) and parse it in the job\./)
    })
  })

  describe('objects made with Object.create', () => {
    it('accepts one whose prototype is a plain object holding no enumerable property, as its own data', () => {
      const hidden = Object.create({}, { x: { value: 1, enumerable: true } }) as object
      assert.deepEqual(copyJobArgs(hidden, 100), { x: 1 })
      const onNull = Object.assign(Object.create(Object.create(null) as object) as object, { y: 2 })
      assert.deepEqual(copyJobArgs({ onNull }, 100), { onNull: { y: 2 } })
      const withMethod = Object.create(
        Object.defineProperty({}, 'describe', { value: () => 'x', enumerable: false }),
      ) as object
      assert.deepEqual(copyJobArgs(withMethod, 100), {})
    })

    it('refuses one that inherits an enumerable property, which JSON would drop, naming it', () => {
      const settings = Object.assign(Object.create({ retries: 3 }) as object, { name: 'x' })
      const error = refusal({ settings })
      assert.equal(error.path, 'args.settings')
      assert.match(
        error.message,
        /`args\.settings` inherits `retries` from its prototype \(made with Object\.create\(\)\), which JSON would leave out\. Copy every property/,
      )
      assert.doesNotMatch(error.message, /is a Object/)
      assert.match(refusal(Object.create(Date.prototype)).message, /`args` is a Date/)
    })
  })

  describe('values that throw when read', () => {
    it('turns any throw from a getter, proxy trap or toJSON() into an InvalidJobArgsError naming the path, with the throw as its cause', () => {
      const { proxy: revoked, revoke } = Proxy.revocable({}, {})
      revoke()
      const thrown = new Error('getter failed.')
      const cases: [args: unknown, path: string, cause: (error: unknown) => boolean][] = [
        [
          {
            user: {
              get name(): string {
                throw thrown
              },
            },
          },
          'args.user',
          (e) => e === thrown,
        ],
        [{ list: [1, revoked] }, 'args.list[1]', (e) => e instanceof TypeError],
        [{ p: new Proxy({}, { ownKeys: () => [1 as never] }) }, 'args.p', (e) => e instanceof TypeError],
        [{ p: new Proxy([], { get: (_, key) => (key === 'length' ? 'many' : undefined) }) }, 'args.p', () => false],
        [
          {
            a: [
              new Proxy([1], {
                get: () => {
                  throw new RangeError('trap')
                },
              }),
            ],
          },
          'args.a[0]',
          (e) => e instanceof RangeError,
        ],
        [
          {
            money: {
              toJSON: () => {
                throw 'not an error'
              },
            },
          },
          'args.money',
          (e) => e === 'not an error',
        ],
        [
          {
            p: new Proxy(
              {},
              {
                getPrototypeOf: () => {
                  throw thrown
                },
              },
            ),
          },
          'args.p',
          (e) => e === thrown,
        ],
      ]
      for (const [args, path, isCause] of cases) {
        const error = refusal(args)
        assert.equal(error.path, path, error.message)
        assert.ok(error.message.startsWith(`Job arguments must be JSON data, but \`${path}\` `), error.message)
        if (error.cause !== undefined) {
          assert.ok(isCause(error.cause), path)
          assert.match(
            error.message,
            /could not be read: a getter, proxy trap or toJSON\(\) threw .+[^.]\. Pass plain data/,
          )
        }
      }
      assert.match(
        refusal({
          user: {
            get name(): string {
              throw thrown
            },
          },
        }).message,
        /threw Error: getter failed\. Pass/,
      )
    })

    it("wraps a refusal from another copy made inside a getter, with this copy's path", () => {
      const args = {
        outer: {
          get name(): string {
            return copyJobArgs({ inner: () => 1 }, 100) as never
          },
        },
      }
      const error = refusal(args)
      assert.equal(error.path, 'args.outer')
      assert.ok(error.cause instanceof InvalidJobArgsError && error.cause.path === 'args.inner')
      assert.deepEqual(copyJobArgs({ after: [1] }, 100), { after: [1] }, 'the walk state is left clean')
    })
  })
})
