import type { Request } from 'express'
import { InvalidArgumentError, InvalidOptionError } from '../errors'
import { MAX_ID_LENGTH, MAX_LIST_OFFSET, MAX_NAME_LENGTH, MAX_PAGE_SIZE } from '../limits'
import { JOB_STATES, type JobState, type ListJobsQuery } from '../types'

/** The page size when the query gives no `limit`. */
const DEFAULT_LIMIT = 50

/**
 * The query parameters of `req`, read from the raw URL so that the app's query parser cannot turn
 * them into arrays or nested objects. Unknown and repeated parameters are refused.
 */
export function readQuery(req: Request, allowed: readonly string[]): Map<string, string> {
  const url = req.originalUrl
  const start = url.indexOf('?')
  const values = new Map<string, string>()
  if (start === -1) return values
  for (const [key, value] of new URLSearchParams(url.slice(start + 1))) {
    if (!allowed.includes(key)) {
      throw new InvalidOptionError(
        allowed.length === 0
          ? {
              option: key,
              value,
              expected: 'left out: this route takes no query parameters',
              where: 'the query string',
            }
          : { option: key, value, knownOptions: allowed, where: 'the query string' },
      )
    }
    if (values.has(key)) {
      throw new InvalidOptionError({
        option: key,
        value,
        expected: 'given once',
        where: 'the query string',
        hint: `Give a single value, e.g. ?${key}=${encodeURIComponent(values.get(key) ?? '')}.`,
      })
    }
    values.set(key, value)
  }
  return values
}

/** A list query of the admin: a state's page, optionally filtered by job name and search text. */
export interface AdminListQuery extends Required<ListJobsQuery> {
  /** Only jobs of exactly this name. */
  readonly name: string | undefined
  /** The job of exactly this id and jobs whose name contains it. */
  readonly q: string | undefined
}

/**
 * `state`, `offset`, `limit`, `name` and `q` from the query (and the `extra` parameters, which the
 * caller reads); `state` falls back to `defaultState` when absent. An empty `name` or `q` is none.
 */
export function readListQuery(
  req: Request,
  defaultState: JobState | undefined,
  extra: readonly string[] = [],
): AdminListQuery {
  const query = readQuery(req, ['state', 'offset', 'limit', 'name', 'q', ...extra])
  return {
    state: readState(query, defaultState, JOB_STATES),
    name: readText(query, 'name'),
    q: readText(query, 'q'),
    offset: readInteger(
      query,
      'offset',
      0,
      MAX_LIST_OFFSET,
      0,
      `Pages deeper than ${MAX_LIST_OFFSET} jobs are not listed: finding them means walking past every job before them. Look a job up by id (api/jobs/:id), or page a state that holds fewer jobs.`,
    ),
    limit: readInteger(query, 'limit', 1, MAX_PAGE_SIZE, DEFAULT_LIMIT),
  }
}

/** The `state` parameter, one of `allowed`, or `fallback` when absent. */
export function readState(
  query: Map<string, string>,
  fallback: JobState | undefined,
  allowed: readonly JobState[],
): JobState {
  const state = query.get('state') ?? fallback
  if (!allowed.includes(state as JobState)) {
    throw new InvalidOptionError({
      option: 'state',
      value: state,
      expected: `one of ${allowed.join(', ')}`,
      where: 'the query string',
    })
  }
  return state as JobState
}

/** A text parameter of 1 to {@link MAX_NAME_LENGTH} characters; undefined when absent or empty. */
export function readText(query: Map<string, string>, name: string): string | undefined {
  const text = query.get(name)
  if (text === undefined || text === '') return undefined
  if (text.length > MAX_NAME_LENGTH) {
    throw new InvalidOptionError({
      option: name,
      value: text,
      expected: `at most ${MAX_NAME_LENGTH} characters`,
      where: 'the query string',
    })
  }
  return text
}

function readInteger(
  query: Map<string, string>,
  name: string,
  min: number,
  max: number,
  fallback: number,
  hint?: string,
): number {
  const text = query.get(name)
  if (text === undefined) return fallback
  // Digits only: refuses '-1', '1e3', '0x10', ' 1', 'NaN', 'Infinity' and '' before Number() could accept them.
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw new InvalidOptionError({
      option: name,
      value: text,
      expected: `an integer ${range} written in digits`,
      where: 'the query string',
      ...(hint !== undefined && value > max && { hint }),
    })
  }
  return value
}

/**
 * The `:id` path parameter, the id of a job (at most {@link MAX_ID_LENGTH} characters, as the
 * manager takes) or of a schedule (`what`; at most {@link MAX_NAME_LENGTH}).
 */
export function readJobId(req: Request, what: 'job' | 'schedule' = 'job'): string {
  const id: unknown = req.params['id']
  const limit = what === 'job' ? MAX_ID_LENGTH : MAX_NAME_LENGTH
  if (typeof id !== 'string' || id === '' || id.length > limit) {
    throw new InvalidArgumentError({
      argument: `the ${what} id in the path`,
      value: id,
      expected: `1 to ${limit} characters`,
    })
  }
  return id
}
