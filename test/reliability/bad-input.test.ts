import assert from 'node:assert/strict'
import fc from 'fast-check'
import { BackgroundJobBase } from '../../src/background-job-base'
import { MAX_ARGS_DEPTH } from '../../src/policy/job-args'
import { InvalidEnqueueOptionsError, InvalidJobArgsError, InvalidScheduleError } from '../../src/errors'
import { createHarness, type Harness } from '../support/harness'

class EchoJob extends BackgroundJobBase<unknown> {
  protected override async executing(): Promise<void> {}
}

/** The largest time a Date can hold. */
const MAX_TIME = 8.64e15
const MAX_ARGS_BYTES = 64 * 1024
const RUNS = { numRuns: 150 }

/** Asserts `promise` rejects with exactly `ErrorClass` (by class and name) and a message matching `message`. */
async function rejectsWith(
  promise: Promise<unknown>,
  ErrorClass: new (...args: never[]) => Error,
  message: RegExp,
): Promise<Error> {
  let caught: unknown
  await assert.rejects(promise, (error: unknown) => {
    caught = error
    return true
  })
  assert.ok(caught instanceof ErrorClass, `expected a ${ErrorClass.name}, got ${String(caught)}`)
  assert.equal(caught.name, ErrorClass.name)
  assert.match(caught.message, message)
  return caught
}

/** Values that are never a number of milliseconds. */
const notANumber = fc.oneof(
  fc.string(),
  fc.integer().map(String),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.object(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.date(),
  fc.constant(Symbol('delay')),
  fc.func(fc.integer()),
)

/** Things that look like a time but are not a valid Date. */
const notADate = fc.oneof(
  fc.constant(new Date(Number.NaN)),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ noInvalidDate: true }).map((date) => date.getTime()),
  fc.constant(null),
  fc.boolean(),
  fc.object(),
  fc.constant(Object.create(Date.prototype) as Date),
  fc.integer().map((time) => ({ getTime: () => time, valueOf: () => time })),
  fc.constant(Symbol('runAt')),
)

/** A cycle, the path to it relative to the value, for insertion into larger args. */
function cyclic(): { value: unknown; suffix: string } {
  const node: Record<string, unknown> = { id: 1 }
  node.self = node
  return { value: node, suffix: '.self' }
}

/** Values args may not hold, with the start of the message each should give. */
const poisons = fc.oneof(
  fc.constant(() => ({ value: () => 1, what: /is a function/ })),
  fc.constant(() => ({ value: Symbol('s'), what: /is a symbol/ })),
  fc.bigInt().map((big) => () => ({ value: big, what: /is a bigint/ })),
  fc
    .constantFrom(Number.NaN, Infinity, -Infinity)
    .map((n) => () => ({ value: n, what: /is `(NaN|Infinity|-Infinity)` \(number\)/ })),
  fc.constant(() => ({ value: new Date(), what: /is a Date.*toISOString/ })),
  fc.constant(() => ({ value: new Map([[1, 2]]), what: /is a Map/ })),
  fc.constant(() => ({ value: new Set([1]), what: /is a Set/ })),
  fc.constant(() => ({ value: /re/, what: /is a RegExp/ })),
  fc.constant(() => ({ value: new Uint8Array(4), what: /is a Uint8Array/ })),
  fc.constant(() => ({ value: Buffer.from('x'), what: /is a Buffer/ })),
  fc.constant(() => ({ value: new Error('e'), what: /is a Error/ })),
  fc.constant(() => ({ value: Promise.resolve(1), what: /is a Promise/ })),
  fc.constant(() => ({ value: new WeakMap(), what: /is a WeakMap/ })),
  fc.constant(() => ({ value: new Number(1), what: /is a Number/ })),
)

/** A path of object keys and array positions, from the args root to where a poison goes. */
const pathSteps = fc.array(
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 6 }).filter((key) => key !== '__proto__'),
    fc.nat({ max: 3 }),
  ),
  { maxLength: 5 },
)

/** Wraps `inner` in objects and arrays along `steps`, with random JSON siblings; returns the value and the path of `inner`. */
function embed(inner: unknown, steps: (string | number)[], siblings: unknown[]): { value: unknown; path: string } {
  let value = inner
  let path = ''
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!
    const sibling = siblings[i % Math.max(siblings.length, 1)]
    if (typeof step === 'string') {
      value = { before: sibling ?? null, [step]: value }
      path = `.${step}${path}`
    } else {
      const array: unknown[] = Array.from({ length: step }, () => sibling ?? null)
      array.push(value)
      value = array
      path = `[${step}]${path}`
    }
  }
  return { value, path: `args${path}` }
}

describe('BackgroundJobManager input validation (property-based)', () => {
  let h: Harness

  beforeEach(() => {
    h = createHarness((o) => o.addJob(EchoJob), { maxArgsBytes: MAX_ARGS_BYTES })
  })

  afterEach(async () => {
    await h.manager.stop({ drain: false })
    await h.container.dispose()
  })

  describe('enqueue options', () => {
    it('rejects every delay that is negative, NaN, infinite, past the last Date, or not a number, with InvalidEnqueueOptionsError', async () => {
      const badDelay = fc.oneof(
        fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
        fc.constantFrom(Number.NaN, Infinity, -Infinity, -1, Number.MIN_SAFE_INTEGER),
        fc.double({ min: MAX_TIME, noNaN: true }),
        fc.integer({ min: 1, max: 1e9 }).map((extra) => MAX_TIME - Date.UTC(2030, 0, 1) + extra),
        notANumber,
      )
      await fc.assert(
        fc.asyncProperty(badDelay, async (delay) => {
          const error = await rejectsWith(
            h.manager.enqueue(EchoJob, null, { delay } as never),
            InvalidEnqueueOptionsError,
            /^Expected `delay` to be a finite number of milliseconds >= 0 .*, got `.*` \(\w+\)\. For a fixed time, use \{ runAt: date \}\.$/s,
          )
          assert.ok(error.message.length < 400, 'the message stays short enough to read')
        }),
        RUNS,
      )
      assert.equal((await h.manager.counts()).pending, 0, 'nothing was enqueued')
    })

    it('rejects every runAt that is not a valid Date (invalid dates, strings, numbers, look-alikes) with InvalidEnqueueOptionsError', async () => {
      await fc.assert(
        fc.asyncProperty(notADate, async (runAt) => {
          await rejectsWith(
            h.manager.enqueue(EchoJob, null, { runAt } as never),
            InvalidEnqueueOptionsError,
            /^Expected `runAt` to be a valid Date, got .+\. Use new Date\(\.\.\.\) or \{ delay: ms \}\.$/s,
          )
        }),
        RUNS,
      )
      assert.equal((await h.manager.counts()).pending, 0)
    })

    it('rejects options that are not an object, or give both delay and runAt', async () => {
      const notOptions = fc.oneof(
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.integer()),
        fc.func(fc.integer()),
        fc.bigInt(),
      )
      await fc.assert(
        fc.asyncProperty(notOptions, async (options) => {
          await rejectsWith(
            h.manager.enqueue(EchoJob, null, options as never),
            InvalidEnqueueOptionsError,
            /^Expected the enqueue options to be an object, got /,
          )
        }),
        RUNS,
      )
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.date(), async (delay, runAt) => {
          await rejectsWith(
            h.manager.enqueue(EchoJob, null, { delay, runAt }),
            InvalidEnqueueOptionsError,
            /Give either `delay` or `runAt`/,
          )
        }),
        { numRuns: 20 },
      )
    })

    it('accepts every delay from 0 to the last Date, and runs the job at now + delay (rounded up to a whole ms)', async () => {
      const now = h.clock.now()
      const goodDelay = fc.oneof(
        fc.nat({ max: 2 ** 31 }),
        fc.double({ min: 0, max: MAX_TIME - now, noNaN: true }),
        fc.constantFrom(0, -0, MAX_TIME - now),
      )
      await fc.assert(
        fc.asyncProperty(goodDelay, async (delay) => {
          const id = await h.manager.enqueue(EchoJob, null, { delay })
          const job = await h.manager.getJob(id)
          assert.equal(job?.runAt.getTime(), Math.ceil(now + delay))
        }),
        RUNS,
      )
    })

    it('accepts every valid Date as runAt, a past one meaning now', async () => {
      const now = h.clock.now()
      await fc.assert(
        fc.asyncProperty(fc.date({ noInvalidDate: true }), async (runAt) => {
          const id = await h.manager.enqueue(EchoJob, null, { runAt })
          const job = await h.manager.getJob(id)
          assert.equal(job?.runAt.getTime(), Math.max(runAt.getTime(), now))
        }),
        RUNS,
      )
    })
  })

  describe('job arguments', () => {
    it('rejects a function, symbol, bigint, non-finite number or built-in object anywhere in the args with InvalidJobArgsError naming its path', async () => {
      await fc.assert(
        fc.asyncProperty(
          poisons,
          pathSteps,
          fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
          async (poison, steps, siblings) => {
            const { value: bad, what } = poison()
            const { value, path } = embed(bad, steps, siblings)
            const error = await rejectsWith(h.manager.enqueue(EchoJob, value), InvalidJobArgsError, what)
            assert.equal((error as InvalidJobArgsError).path, path)
            assert.ok(error.message.startsWith(`Job arguments must be JSON data, but \`${path}\` `), error.message)
            assert.match(error.message, /\. [A-Z][^.]+.*\.$/s, 'the message ends with what to do instead')
          },
        ),
        RUNS,
      )
      assert.equal((await h.manager.counts()).pending, 0)
    })

    it('rejects undefined as the whole args, and cycles wherever they are', async () => {
      await rejectsWith(h.manager.enqueue(EchoJob, undefined), InvalidJobArgsError, /`args` is undefined\. Pass null/)
      await fc.assert(
        fc.asyncProperty(pathSteps, async (steps) => {
          const { value: cycle, suffix } = cyclic()
          const { value, path } = embed(cycle, steps, [])
          const error = await rejectsWith(
            h.manager.enqueue(EchoJob, value),
            InvalidJobArgsError,
            /refers back to one of its parents \(a cycle\)\. Remove the cycle/,
          )
          assert.equal((error as InvalidJobArgsError).path, `${path}${suffix}`)
        }),
        { numRuns: 50 },
      )
    })

    it(`rejects nesting deeper than ${MAX_ARGS_DEPTH} levels and accepts up to it`, async () => {
      const nest = (levels: number, useArrays: boolean): unknown => {
        let value: unknown = 1
        for (let i = 0; i < levels; i++) value = useArrays ? [value] : { d: value }
        return value
      }
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: MAX_ARGS_DEPTH + 1, max: 100_000 }),
          fc.boolean(),
          async (levels, useArrays) => {
            await rejectsWith(
              h.manager.enqueue(EchoJob, nest(levels, useArrays)),
              InvalidJobArgsError,
              new RegExp(`is nested deeper than ${MAX_ARGS_DEPTH} levels\\. Flatten the arguments\\.`),
            )
          },
        ),
        { numRuns: 30 },
      )
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: MAX_ARGS_DEPTH }), fc.boolean(), async (levels, useArrays) => {
          const id = await h.manager.enqueue(EchoJob, nest(levels, useArrays))
          assert.deepEqual((await h.manager.getJob(id))?.args, nest(levels, useArrays))
        }),
        { numRuns: 30 },
      )
    })

    it('rejects args past maxArgsBytes, however they are made large (long strings, wide arrays, many keys, sparse arrays), and quickly', async () => {
      const huge = fc.oneof(
        fc.integer({ min: MAX_ARGS_BYTES, max: 4 * MAX_ARGS_BYTES }).map((length) => () => 'x'.repeat(length)),
        fc
          .integer({ min: MAX_ARGS_BYTES / 2, max: MAX_ARGS_BYTES })
          .map((length) => () => Array.from({ length }, (_, i) => i)),
        // Each of these takes more than one byte in the JSON text: two in UTF-8, or an escape.
        fc
          .tuple(fc.constantFrom('é', '€', '😀', '"', '\\', '\n', '\u0001', '\ud800'), fc.integer({ min: 1, max: 4 }))
          .map(([char, times]) => () => ({ text: char.repeat(Math.ceil((MAX_ARGS_BYTES * times) / 2)) })),
        fc
          .integer({ min: MAX_ARGS_BYTES / 4, max: MAX_ARGS_BYTES / 2 })
          .map((keys) => () => Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, true]))),
        // Holes cost no memory in the caller's array, but each becomes a null in the copy.
        fc.integer({ min: MAX_ARGS_BYTES, max: 2 ** 32 - 1 }).map((length) => () => new Array<unknown>(length)),
        fc.integer({ min: 20_000_000, max: 2 ** 32 - 1 }).map((length) => () => ({ list: new Array<unknown>(length) })),
      )
      await fc.assert(
        fc.asyncProperty(huge, async (make) => {
          const value = make()
          const started = process.hrtime.bigint()
          await rejectsWith(
            h.manager.enqueue(EchoJob, value),
            InvalidJobArgsError,
            /pushes the arguments past the `maxArgsBytes` limit\. Store large data elsewhere and pass its key, or raise `maxArgsBytes`\./,
          )
          const ms = Number(process.hrtime.bigint() - started) / 1e6
          assert.ok(ms < 1000, `rejected in ${ms.toFixed(0)} ms`)
        }),
        { numRuns: 40 },
      )
    })

    it('accepts every JSON value, stores a copy equal to it, and keeps `__proto__` keys as plain data', async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (value) => {
          const id = await h.manager.enqueue(EchoJob, value)
          const job = await h.manager.getJob(id)
          assert.deepEqual(job?.args, value)
        }),
        { numRuns: 300 },
      )
      await fc.assert(
        fc.asyncProperty(fc.json(), async (text) => {
          const value: unknown = JSON.parse(text)
          const id = await h.manager.enqueue(EchoJob, value)
          assert.equal(JSON.stringify((await h.manager.getJob(id))?.args), JSON.stringify(value))
        }),
        RUNS,
      )
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    })

    it('accepts instances of plain data classes and sparse arrays, as JSON would see them', async () => {
      class Address {
        constructor(
          public street: string,
          public zip: string | null,
        ) {}
      }
      class UserDto {
        constructor(
          public name: string,
          public addresses: Address[],
        ) {}
      }
      await fc.assert(
        fc.asyncProperty(
          fc.string(),
          fc.array(fc.tuple(fc.string(), fc.option(fc.string(), { nil: null })), { maxLength: 4 }),
          async (name, rows) => {
            const dto = new UserDto(
              name,
              rows.map(([street, zip]) => new Address(street, zip)),
            )
            const id = await h.manager.enqueue(EchoJob, dto)
            assert.deepEqual((await h.manager.getJob(id))?.args, JSON.parse(JSON.stringify(dto)))
          },
        ),
        { numRuns: 50 },
      )
      // eslint-disable-next-line no-sparse-arrays
      const sparse = [1, , 3]
      const id = await h.manager.enqueue(EchoJob, { sparse, skipped: undefined, [Symbol('hidden')]: 1 })
      const args = (await h.manager.getJob(id))?.args as object
      assert.deepEqual(args, { sparse: [1, null, 3] })
      assert.deepEqual(Object.getOwnPropertySymbols(args), [], 'symbol keys are left out, as JSON leaves them')
      const proto = await h.manager.getJob(await h.manager.enqueue(EchoJob, JSON.parse('{"__proto__":{"x":1},"y":2}')))
      assert.equal(Object.getPrototypeOf(proto?.args), Object.prototype)
      assert.deepEqual(Object.getOwnPropertyDescriptor(proto?.args, '__proto__')?.value, { x: 1 })
    })
  })

  describe('schedules', () => {
    const definition = (cron: unknown, extra: Record<string, unknown> = {}): never =>
      ({ id: 'nightly', cron, job: EchoJob, args: null, ...extra }) as never

    const minute = fc.integer({ min: 0, max: 59 })
    const hour = fc.integer({ min: 0, max: 23 })

    it('rejects cron expressions with the wrong number of fields, values out of range, illegal characters or zero steps', async () => {
      const field = fc.oneof(fc.constant('*'), fc.integer({ min: 1, max: 12 }).map(String))
      const outOfRange = fc.oneof(
        fc.integer({ min: 60, max: 10_000 }).map((m) => `${m} * * * *`),
        fc.integer({ min: 24, max: 10_000 }).map((h) => `0 ${h} * * *`),
        fc.integer({ min: 32, max: 10_000 }).map((d) => `0 0 ${d} * *`),
        fc.constant('0 0 0 * *'),
        fc.integer({ min: 13, max: 10_000 }).map((m) => `0 0 * ${m} *`),
        fc.constant('0 0 * 0 *'),
        fc.integer({ min: 8, max: 10_000 }).map((d) => `0 0 * * ${d}`),
      )
      const wrongCount = fc
        .oneof(fc.array(field, { minLength: 1, maxLength: 4 }), fc.array(field, { minLength: 7, maxLength: 12 }))
        .map((fields) => fields.join(' '))
      const illegal = fc
        .tuple(
          fc.array(field, { minLength: 5, maxLength: 5 }),
          fc.nat({ max: 4 }),
          fc.stringMatching(/^[!$%&=~^|]{1,3}$/),
        )
        .map(([fields, at, junk]) => fields.map((f, i) => (i === at ? `${f}${junk}` : f)).join(' '))
      const zeroStep = fc
        .nat({ max: 4 })
        .map((at) => ['*', '*', '*', '*', '*'].map((f, i) => (i === at ? '*/0' : f)).join(' '))
      await fc.assert(
        fc.asyncProperty(fc.oneof(outOfRange, wrongCount, illegal, zeroStep), async (cron) => {
          await rejectsWith(
            h.manager.addOrUpdateSchedule(definition(cron)),
            InvalidScheduleError,
            /^Schedule "nightly" has an invalid cron expression or time zone \(".*"\): .+\. Use five fields \(minute hour day month weekday\) or six with seconds first, and an IANA time zone\.$/s,
          )
        }),
        RUNS,
      )
      assert.deepEqual(await h.manager.listSchedules(), [])
    })

    it('rejects a seven-field expression (croner reads the seventh as a year), which the README never offered', async () => {
      await rejectsWith(
        h.manager.addOrUpdateSchedule(definition('0 0 0 1 1 * 2099')),
        InvalidScheduleError,
        /^Schedule "nightly" has an invalid cron expression or time zone \("0 0 0 1 1 \* 2099"\): it has 7 fields; a seventh \(year\) field is not supported\. Use five fields/,
      )
      assert.deepEqual(await h.manager.listSchedules(), [])
    })

    it('rejects expressions that never fire (30 or 31 February, 31 April, June, September or November), saying so', async () => {
      const impossible = fc.oneof(
        fc.constantFrom('30', '31', '30,31', '30W', '31W').map((day) => ({ day, month: '2' })),
        fc.constantFrom('4', '6', '9', '11', '4,6', 'APR', 'JUN-JUN').map((month) => ({ day: '31', month })),
      )
      await fc.assert(
        fc.asyncProperty(impossible, minute, hour, fc.option(minute), async ({ day, month }, m, hr, s) => {
          const cron = `${s === null ? '' : `${s} `}${m} ${hr} ${day} ${month} *`
          await rejectsWith(
            h.manager.addOrUpdateSchedule(definition(cron, { timezone: 'UTC' })),
            InvalidScheduleError,
            /^Schedule "nightly" has a cron expression that never fires: no date matches both the day-of-month and the month fields of ".*" \(as with 30 February or 31 April\)\. Name days those months have, or use L for the last day of the month\.$/,
          )
        }),
        { numRuns: 50 },
      )
      assert.deepEqual(await h.manager.listSchedules(), [])
      // 30 February on a Monday is any Monday of February: day of month and weekday are ORed, as in Vixie cron.
      const info = await h.manager.addOrUpdateSchedule(definition('0 0 30 2 1', { timezone: 'UTC' }))
      assert.deepEqual([info.nextRunAt?.getUTCMonth(), info.nextRunAt?.getUTCDay()], [1, 1])
    })

    it('rejects cron values that are not strings, blank expressions, unknown time zones and bad ids', async () => {
      const notCron = fc.oneof(
        fc.integer(),
        fc.constant(null),
        fc.constant(undefined),
        fc.object(),
        fc.array(fc.string()),
        fc.stringMatching(/^\s*$/),
      )
      await fc.assert(
        fc.asyncProperty(notCron, async (cron) => {
          await rejectsWith(
            h.manager.addOrUpdateSchedule(definition(cron)),
            InvalidScheduleError,
            /^Schedule "nightly" needs `cron` to be a cron expression such as "\*\/5 \* \* \* \*", got /,
          )
        }),
        RUNS,
      )
      const isTimeZone = (zone: string): boolean => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: zone })
          return true
        } catch {
          return false
        }
      }
      const badZone = fc
        .oneof(fc.stringMatching(/^[A-Z][a-z]{2,8}\/[A-Z][a-z]{2,8}$/), fc.string({ minLength: 1 }))
        .filter((zone) => zone.trim() !== '' && !isTimeZone(zone))
      await fc.assert(
        fc.asyncProperty(badZone, async (timezone) => {
          await rejectsWith(
            h.manager.addOrUpdateSchedule(definition('0 3 * * *', { timezone })),
            InvalidScheduleError,
            /invalid cron expression or time zone/,
          )
        }),
        { numRuns: 50 },
      )
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.integer(), fc.object(), fc.constant(null)), async (timezone) => {
          await rejectsWith(
            h.manager.addOrUpdateSchedule(definition('0 3 * * *', { timezone })),
            InvalidScheduleError,
            /Schedule "nightly" needs `timezone` to be an IANA zone name/,
          )
        }),
        { numRuns: 20 },
      )
      const badId = fc.oneof(
        fc.constant(''),
        fc.string({ minLength: 201, maxLength: 400 }),
        fc.integer(),
        fc.constant(null),
        fc.object(),
      )
      await fc.assert(
        fc.asyncProperty(badId, async (id) => {
          await rejectsWith(
            h.manager.addOrUpdateSchedule(definition('0 3 * * *', { id })),
            InvalidScheduleError,
            /^The schedule needs an `id` of 1 to 200 characters, got /,
          )
        }),
        { numRuns: 30 },
      )
      assert.deepEqual(await h.manager.listSchedules(), [])
    })

    it('accepts every `m h * * *` expression and schedules its next occurrence at h:m within a day', async () => {
      const now = h.clock.now()
      await fc.assert(
        fc.asyncProperty(minute, hour, async (m, hr) => {
          const info = await h.manager.addOrUpdateSchedule(definition(`${m} ${hr} * * *`, { timezone: 'UTC' }))
          const next = info.nextRunAt!
          assert.deepEqual([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()], [hr, m, 0])
          assert.ok(next.getTime() > now && next.getTime() <= now + 86_400_000)
        }),
        RUNS,
      )
      assert.equal((await h.manager.listSchedules()).length, 1, 'each add replaced the schedule with the same id')
    })

    it('accepts the nicknames, names, ?, L, W and # that the README documents, each meaning what it says', async () => {
      const day = 86_400_000
      const utc = (at: Date): number[] => [at.getUTCDate(), at.getUTCDay(), at.getUTCHours(), at.getUTCMinutes()]
      const cases: [cron: string, holds: (at: Date) => boolean][] = [
        ['@yearly', (at) => at.getUTCMonth() === 0 && utc(at)[0] === 1 && utc(at)[2] === 0],
        ['@annually', (at) => at.getUTCMonth() === 0 && utc(at)[0] === 1],
        ['@monthly', (at) => utc(at)[0] === 1 && utc(at)[2] === 0],
        ['@weekly', (at) => utc(at)[1] === 0 && utc(at)[2] === 0],
        ['@DAILY', (at) => utc(at)[2] === 0 && utc(at)[3] === 0],
        ['@midnight', (at) => utc(at)[2] === 0 && utc(at)[3] === 0],
        ['@hourly', (at) => utc(at)[3] === 0],
        ['0 9 * JAN-MAR MON-FRI', (at) => at.getUTCMonth() <= 2 && utc(at)[1]! >= 1 && utc(at)[1]! <= 5],
        ['0 0 ? * MON', (at) => utc(at)[1] === 1],
        ['0 0 L * *', (at) => new Date(at.getTime() + day).getUTCDate() === 1],
        ['0 0 * * 5L', (at) => utc(at)[1] === 5 && new Date(at.getTime() + 7 * day).getUTCMonth() !== at.getUTCMonth()],
        ['0 0 15W * *', (at) => utc(at)[1]! >= 1 && utc(at)[1]! <= 5 && Math.abs(utc(at)[0]! - 15) <= 2],
        ['0 0 * * FRI#2', (at) => utc(at)[1] === 5 && utc(at)[0]! >= 8 && utc(at)[0]! <= 14],
      ]
      for (const [cron, holds] of cases) {
        const info = await h.manager.addOrUpdateSchedule(definition(cron, { timezone: 'UTC' }))
        const next = info.nextRunAt!
        assert.ok(next.getTime() > h.clock.now() && holds(next), `${cron}: ${next.toISOString()}`)
      }
    })

    it('accepts steps, ranges, lists and a seconds field', async () => {
      const step = fc.integer({ min: 1, max: 59 }).map((n) => `*/${n} * * * *`)
      const range = fc.tuple(hour, hour).map(([a, b]) => `0 ${Math.min(a, b)}-${Math.max(a, b)} * * *`)
      const list = fc.uniqueArray(minute, { minLength: 1, maxLength: 5 }).map((ms) => `${ms.join(',')} * * * *`)
      const seconds = fc.tuple(minute, minute, hour).map(([s, m, hr]) => `${s} ${m} ${hr} * * *`)
      const weekday = fc.tuple(minute, hour, fc.integer({ min: 0, max: 7 })).map(([m, hr, d]) => `${m} ${hr} * * ${d}`)
      await fc.assert(
        fc.asyncProperty(fc.oneof(step, range, list, seconds, weekday), async (cron) => {
          const info = await h.manager.addOrUpdateSchedule(definition(cron, { timezone: 'UTC' }))
          assert.ok(info.nextRunAt instanceof Date && info.nextRunAt.getTime() > h.clock.now(), cron)
        }),
        RUNS,
      )
    })
  })
})
