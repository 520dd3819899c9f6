import type { AwilixContainer } from 'awilix'
import type { Clock } from './clock'
import { InvalidArgumentError, InvalidOptionError } from './errors'
import type { JobLogger } from './logger'

/**
 * The one place where input to a public entry point is checked. Each helper checks one kind of
 * value, throws an {@link InvalidOptionError} (or {@link InvalidArgumentError}) that names the
 * option, the value and what was expected, and returns the value typed.
 */

/** Where an option sits, for messages: `useInMemoryStore options`. */
type Where = string | undefined

/** The error class an options check throws: `InvalidOptionError` or a subclass of it. */
export type OptionErrorClass = new (facts: ConstructorParameters<typeof InvalidOptionError>[0]) => InvalidOptionError

/**
 * Checks that `options` is an options object (or undefined, read as `{}`) holding only `known`
 * keys, and returns it. A misspelt key (`concurency`) is refused rather than ignored, since the
 * caller would otherwise run with the default and never know.
 */
export function readOptions<T extends object>(
  options: T | undefined,
  known: readonly (keyof T & string)[],
  where: string,
  ErrorClass: OptionErrorClass = InvalidOptionError,
): Partial<T> {
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ErrorClass({ option: where, value: options, expected: 'an object', isWhole: true })
  }
  for (const key of Object.keys(options)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new ErrorClass({
        option: key,
        value: (options as Record<string, unknown>)[key],
        knownOptions: known,
        where,
      })
    }
  }
  return options
}

/** Checks that `value` is an integer in [min, max]. */
export function checkInteger(
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  where?: Where,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw new InvalidOptionError({ option, value, expected: `an integer ${range}`, where })
  }
  return value
}

/** Checks that `value` is a finite number in [min, max]. */
export function checkNumber(
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_VALUE,
  where?: Where,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.MAX_VALUE ? `>= ${min}` : `from ${min} to ${max}`
    throw new InvalidOptionError({ option, value, expected: `a finite number ${range}`, where })
  }
  return value
}

/** Checks that `value` is a boolean. */
export function checkBoolean(option: string, value: unknown, where?: Where): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError({ option, value, expected: 'a boolean', where })
  return value
}

/** Checks that `value` is a string of 1 to `maxLength` characters, not only white space. */
export function checkName(option: string, value: unknown, maxLength: number, where?: Where): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    throw new InvalidOptionError({ option, value, expected: `a string of 1 to ${maxLength} characters`, where })
  }
  return value
}

/** Checks that `value` is a function; `expected` describes its signature, e.g. `a function (req) => boolean`. */
export function checkFunction<F extends (...args: never[]) => unknown>(
  option: string,
  value: unknown,
  expected: string,
  where?: Where,
): F {
  if (typeof value !== 'function') throw new InvalidOptionError({ option, value, expected, where })
  return value as F
}

/** Checks that `value` has the four methods of a {@link JobLogger} (a winston `Logger` has them). */
export function checkLogger(option: string, value: unknown, where?: Where): JobLogger {
  const candidate = value as Partial<Record<keyof JobLogger, unknown>> | null
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    (['error', 'warn', 'info', 'debug'] as const).some((level) => typeof candidate[level] !== 'function')
  ) {
    throw new InvalidOptionError({
      option,
      value,
      expected: 'a logger with error, warn, info and debug methods (a winston Logger)',
      where,
    })
  }
  return value as JobLogger
}

/**
 * Checks that `value` is an awilix container; `argument` says which argument it is, e.g.
 * `the first argument of addBackgroundJobs`.
 */
export function checkContainer(value: unknown, argument: string): AwilixContainer {
  const container = value as Partial<AwilixContainer> | null
  if (
    container === null ||
    typeof container !== 'object' ||
    typeof container.register !== 'function' ||
    typeof container.createScope !== 'function' ||
    typeof container.hasRegistration !== 'function'
  ) {
    throw new InvalidArgumentError({
      argument,
      value,
      expected: 'an awilix container',
      hint: "Pass the container you called addBackgroundJobs(container, ...) on (createContainer() from 'awilix').",
    })
  }
  return value as AwilixContainer
}

/** Checks that `clock` has the four methods of a {@link Clock}. */
export function checkClock(clock: unknown): Clock {
  const candidate = clock as Partial<Clock> | null
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.now !== 'function' ||
    typeof candidate.monotonicNow !== 'function' ||
    typeof candidate.setTimer !== 'function' ||
    typeof candidate.clearTimer !== 'function'
  ) {
    throw new InvalidOptionError({
      option: 'clock',
      value: clock,
      expected: 'a Clock (now, monotonicNow, setTimer, clearTimer)',
    })
  }
  return clock as Clock
}
