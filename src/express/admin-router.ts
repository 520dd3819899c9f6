import { randomBytes } from 'node:crypto'
import type { AwilixContainer } from 'awilix'
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import { forwardRejections } from './express-compat'
import type { BackgroundJobManager } from '../background-job-manager'
import { resolveManager } from '../background-jobs'
import { systemClock, type Clock } from '../clock'
import {
  BackgroundJobError,
  InvalidOptionError,
  JobNotFoundError,
  ScheduleNotFoundError,
  describeValue,
} from '../errors'
import { MAX_NAME_LENGTH } from '../limits'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown, toErrorInfo } from '../policy/error-info'
import { REGISTRATIONS } from '../registrations'
import type { JobErrorInfo, JobInfo, ScheduleInfo } from '../types'
import { checkBoolean, checkClock, checkFunction, checkInteger, checkName, readOptions } from '../validation'
import { loopbackDenial, parseHostHeader } from './admin-access'
import { BULK_ACTION_STATES, runBulkAction, type BulkAction } from './admin-bulk'
import { JobMetricsRing } from './admin-metrics'
import { adminPageContentSecurityPolicy, renderAdminPage, type AdminJobListItem } from './admin-page'
import { readJobId, readListQuery, readQuery, readState, readText } from './admin-query'
import { listJobNames, searchJobs } from './admin-search'
import { describeHttpError, sendHttpError, type HttpErrorAnswer } from './error-handler'
import { previewJson } from './json-preview'

/** Options of {@link backgroundJobsAdminRouter}. */
export interface AdminRouterOptions {
  /**
   * Decides who may use the admin (page and API). Only a result of `true` (or a promise of it,
   * within `authorizeTimeoutMs`) lets the request in; anything else, a throw of any value, or no
   * answer in time (each logged) answers 403. When given, it is the only access check. Put cookie
   * or header authentication here (`(req) => req.user?.isAdmin === true`).
   * @default undefined: only direct loopback requests get in (see `isDirectLoopbackRequest`),
   *   judged by the TCP peer address, never by `req.ip` or `X-Forwarded-For`; and when
   *   `NODE_ENV` is `production` at creation, nothing gets in (a reverse proxy on the same host
   *   makes every request look local)
   */
  readonly authorize?: (req: Request) => boolean | Promise<boolean>
  /**
   * How long the admin waits for `authorize` to settle before it denies the request (1 to 300000 ms).
   * @default 10000
   */
  readonly authorizeTimeoutMs?: number
  /**
   * Enables `POST /api/jobs/:id/cancel`, `POST /api/jobs/:id/retry` and `DELETE /api/jobs/:id`
   * and their buttons on the page. When false they answer 403 and the page is read-only. A
   * mutation must prove it does not come from another site: it carries the header
   * `X-Background-Jobs-Csrf` (the page's own script sends it; no cross-site form or simple request
   * can), and its `Origin`, when the browser sends one, is the admin's own (the `Host` header's)
   * or one of `allowedOrigins`.
   * @default false
   */
  readonly allowMutations?: boolean
  /**
   * Origins besides the request's own `Host` from which mutations are accepted, written as the
   * browser sends them (`https://jobs.example.com`): for a reverse proxy that rewrites `Host`.
   * @default []
   */
  readonly allowedOrigins?: readonly string[]
  /**
   * Hides job arguments in the JSON API and on the page: `true` replaces them with the string
   * `'[redacted]'`; a function maps each job to what is shown instead (its result must be JSON
   * data; if it throws or is not, `'[redacted]'` is shown and the error logged). Schedule
   * arguments are shown as `'[redacted]'` whenever this is not `false`.
   * @default false
   */
  readonly redactArgs?: boolean | ((job: JobInfo) => unknown)
  /**
   * Hides the text of job errors (`lastError.message` and `stack`), which often quotes the args:
   * `true` shows the error's name with the message `'[redacted]'` and no stack; a function maps
   * each error to the message shown (if it throws or returns a non-string, `'[redacted]'` is shown
   * and the error logged), and the stack is never shown.
   * @default true when `redactArgs` is not false, else false
   */
  readonly redactErrors?: boolean | ((error: JobErrorInfo, job: JobInfo) => string)
  /**
   * The page's title and heading (1 to 200 characters).
   * @default 'Background jobs'
   */
  readonly title?: string
  /**
   * The clock the per-minute figures of `api/metrics` are read with: give the one the engine uses
   * when it is not the system's (a `ManualClock` in tests).
   * @default systemClock
   */
  readonly clock?: Clock
}

interface ResolvedAdminRouterOptions {
  readonly authorize: ((req: Request) => boolean | Promise<boolean>) | undefined
  readonly authorizeTimeoutMs: number
  readonly allowMutations: boolean
  readonly allowedOrigins: readonly string[]
  readonly redactArgs: boolean | ((job: JobInfo) => unknown)
  readonly redactErrors: boolean | ((error: JobErrorInfo, job: JobInfo) => string) | undefined
  readonly title: string
  readonly clock: Clock
}

const DEFAULT_ADMIN_ROUTER_OPTIONS: ResolvedAdminRouterOptions = {
  authorize: undefined,
  authorizeTimeoutMs: 10_000,
  allowMutations: false,
  allowedOrigins: [],
  redactArgs: false,
  redactErrors: undefined,
  title: 'Background jobs',
  clock: systemClock,
}

const ADMIN_ROUTER_KEYS = [
  'authorize',
  'authorizeTimeoutMs',
  'allowMutations',
  'allowedOrigins',
  'redactArgs',
  'redactErrors',
  'title',
  'clock',
] as const

/**
 * The header a mutation must carry. A cross-site HTML form, `<img>`, or `fetch` in `no-cors` mode
 * cannot set it, and a cross-origin `fetch` that sets it needs a CORS preflight, which the admin
 * never answers with `Access-Control-Allow-*`.
 */
export const ADMIN_CSRF_HEADER = 'X-Background-Jobs-Csrf'

/**
 * The most characters of a job's args (as JSON) and of its error's message and stack that a list
 * carries; past it the list holds a preview and the job's own view (`api/jobs/:id`) the whole.
 */
export const LIST_PREVIEW_CHARS = 2048

/** Only these manager methods are used, so any engine behind the manager works unchanged. */
type AdminManager = Pick<
  BackgroundJobManager,
  | 'counts'
  | 'listJobs'
  | 'getJob'
  | 'cancel'
  | 'cancelMany'
  | 'retry'
  | 'deleteJob'
  | 'listSchedules'
  | 'triggerSchedule'
  | 'removeSchedule'
  | 'on'
>

const REDACTED = '[redacted]'

/** The request may not use the admin (not loopback, or `authorize` said no). */
class AdminAccessDeniedError extends BackgroundJobError {
  readonly status: number = 403
}

/** A mutation did not prove that it came from the admin's own page or a non-browser client. */
class AdminCrossSiteRequestError extends BackgroundJobError {
  readonly status: number = 403
}

/** A cancel, retry or delete was requested while `allowMutations` is false. */
class AdminMutationsDisabledError extends BackgroundJobError {
  readonly status: number = 403
}

/** The route exists but not for this HTTP method. */
class AdminMethodNotAllowedError extends BackgroundJobError {
  readonly status: number = 405
}

/** No admin API route has this path. */
class AdminRouteNotFoundError extends BackgroundJobError {
  readonly status: number = 404
}

type AsyncHandler = (req: Request, res: Response) => Promise<void>

/**
 * Runs an async route and passes its rejection to `next`, so that errors reach the admin's error
 * handler on every Express major (Express 4 does not catch rejected promises itself).
 */
function route(handler: AsyncHandler): (req: Request, res: Response, next: NextFunction) => void {
  return function backgroundJobsAdminRoute(req: Request, res: Response, next: NextFunction): void {
    handler(req, res).catch(next)
  }
}

/**
 * An Express router serving a Hangfire-like dashboard over the background-job manager of
 * `container` (resolved once, as `backgroundJobManager`, and used only through its public
 * methods, so it works with any engine). Mount it with
 * `app.use('/admin/jobs', backgroundJobsAdminRouter(container, { authorize }))`:
 *
 * - `GET /`: a self-contained HTML page (strict nonce-based CSP, `nosniff`, `no-store`); takes the
 *   same `state`, `offset` and `limit` query as `/api/jobs` (state defaults to `pending`);
 * - `GET /api/counts`: jobs per state;
 * - `GET /api/jobs?state=pending&offset=0&limit=50`: `{ items, total, offset, limit }`; `offset`
 *   is at most 10000 (see `MAX_LIST_OFFSET`). Items carry `args` when their JSON has at most 2048
 *   characters, else `argsPreview` (those first characters) and no `args`; error messages and
 *   stacks are clipped alike;
 * - `GET /api/jobs?state=failed&name=SendMail&q=text`: the same, only jobs named `name` and jobs
 *   whose id is `q` or whose name contains `q` (case-insensitive); a filtered list reads at most
 *   10000 jobs of the state (`isComplete: false` past them);
 * - `GET /api/jobs/:id`: one job, whole, or 404;
 * - `GET /api/names`: `{ items: [{ name, counts }], isComplete }`, the job names present;
 * - `GET /api/metrics`: jobs completed and failed per minute over the last hour (`minutes`), the
 *   counts per state and the totals, kept in memory by this router from the manager's events;
 *   `GET /api/metrics/prometheus`: the same counters in Prometheus's text format 0.0.4;
 * - `GET /api/schedules`: `{ items }`, the recurring schedules;
 * - `POST /api/jobs/:id/cancel`, `POST /api/jobs/:id/retry`, `DELETE /api/jobs/:id`: only with
 *   `allowMutations: true` (else 403), and only with the `X-Background-Jobs-Csrf` header and an
 *   `Origin` (when sent) of the admin's own; a browser request marked `Sec-Fetch-Site` other than
 *   `same-origin` is refused (403). The same guards apply to the bulk actions, which answer
 *   `{ action, state, name?, touched, skipped, isComplete }`: `POST /api/bulk/retry?name=` (every
 *   failed job, of one name when given), `POST /api/bulk/delete?state=completed&name=` (every job
 *   of a finished state), `POST /api/bulk/cancel?name=` (every pending job of that name), and to
 *   the schedule actions `POST /api/schedules/:id/trigger` (enqueues its job now; 201 with the
 *   job) and `DELETE /api/schedules/:id` (204, or 404).
 *
 * Without `authorize`, only direct loopback requests get in: the TCP peer must be loopback, the
 * `Host` header a well-formed loopback `host[:port]` (against DNS rebinding), and the request must
 * carry no proxy header (`Forwarded`, `Via`, `X-Forwarded-*`, `X-Real-IP`, ...). A reverse proxy
 * on the same host that adds no header cannot be told from a local client, so when `NODE_ENV` is
 * `production` the router serves nothing without `authorize` (and logs once how to set it).
 *
 * The query string is read from the raw URL (the app's `query parser` setting does not matter):
 * unknown or repeated parameters, and values out of range, answer 400. Errors answer
 * `{ error: { name, message } }`: 400 for bad input, 403 for denied access, 404 for an unknown job,
 * 405 for a wrong method, 409 for a job in the wrong state, 503 (with `Retry-After`) when the
 * manager is stopped, 500 (generic message; the real error goes to the container's `logger`) for
 * anything else.
 *
 * @throws InvalidOptionError for a bad container or options
 * @throws BackgroundJobsNotBuiltError when the container has no background-job service
 */
export function backgroundJobsAdminRouter(container: AwilixContainer, options?: AdminRouterOptions): Router {
  const manager: AdminManager = resolveManager(container, 'the first argument of backgroundJobsAdminRouter')
  const resolved = resolveAdminRouterOptions(options)
  const { authorize, authorizeTimeoutMs, allowMutations, allowedOrigins, redactArgs, title } = resolved
  const redactErrors = resolved.redactErrors ?? redactArgs !== false
  const isClosedByDefault = authorize === undefined && process.env.NODE_ENV === 'production'
  const metrics = new JobMetricsRing(resolved.clock)
  metrics.listen(manager)

  const log = (level: keyof JobLogger, message: string, meta?: Record<string, unknown>): void => {
    try {
      if (container.hasRegistration(REGISTRATIONS.logger)) {
        safeLog(container.resolve<JobLogger>(REGISTRATIONS.logger), level, message, meta)
      }
    } catch {
      // No logger can be resolved (e.g. the container was disposed): there is nowhere to report.
    }
  }

  if (isClosedByDefault) {
    log(
      'warn',
      'The background-jobs admin serves nothing: NODE_ENV is production and it has no `authorize` option. Behind a reverse proxy on this host every request comes from loopback, so the loopback-only default cannot protect it. Pass backgroundJobsAdminRouter(container, { authorize: (req) => ... }) with your own authentication.',
    )
  }

  const reportRedactor = (option: string, job: JobInfo, error: unknown): void => {
    log(
      'error',
      `The ${option} function of the background-jobs admin threw or returned what it may not; [redacted] is shown`,
      { jobId: job.id, error: describeThrown(error) },
    )
  }

  /** The args shown for `job`; `maxChars` bounds the JSON a list carries (undefined: the whole). */
  const presentArgs = (job: JobInfo, maxChars: number | undefined): { args?: unknown; argsPreview?: string } => {
    if (redactArgs === true) return { args: REDACTED }
    if (redactArgs === false && maxChars === undefined) return { args: job.args }
    let shown: unknown = job.args
    try {
      if (redactArgs !== false) shown = redactArgs(job)
      // Proves the result can be sent as JSON; a bigint or cycle would otherwise turn into a 500.
      if (maxChars === undefined) {
        JSON.stringify(shown)
        return { args: shown }
      }
      const preview = previewJson(shown, maxChars)
      return preview.isComplete ? { args: shown } : { argsPreview: preview.text }
    } catch (error) {
      if (redactArgs === false) return { argsPreview: '' }
      reportRedactor('redactArgs', job, error)
      return { args: REDACTED }
    }
  }

  /** The error shown for `job`, redacted as configured and clipped to `maxChars` in lists. */
  const presentError = (
    job: JobInfo,
    maxChars: number | undefined,
    error: JobErrorInfo | undefined = job.lastError,
  ): JobErrorInfo | undefined => {
    if (error === undefined) return undefined
    if (redactErrors === true) return { name: error.name, message: REDACTED }
    if (redactErrors === false) {
      if (maxChars === undefined) return error
      const stack = error.stack === undefined ? undefined : clip(error.stack, maxChars)
      return { name: error.name, message: clip(error.message, maxChars), ...(stack !== undefined && { stack }) }
    }
    try {
      const message: unknown = redactErrors(error, job)
      if (typeof message !== 'string') throw new TypeError(`returned ${describeValue(message)}, not a string`)
      return { name: error.name, message: maxChars === undefined ? message : clip(message, maxChars) }
    } catch (thrown) {
      reportRedactor('redactErrors', job, thrown)
      return { name: error.name, message: REDACTED }
    }
  }

  const presentJob = (job: JobInfo): JobInfo => {
    if (redactArgs === false && redactErrors === false) return job
    const { lastError: _lastError, logs, history, ...rest } = job
    const lastError = presentError(job, undefined)
    return {
      ...rest,
      args: presentArgs(job, undefined).args,
      ...(lastError !== undefined && { lastError }),
      // Log lines are the job's own text and quote its args as often as errors do.
      logs: redactErrors === false ? logs : logs.map((line) => ({ at: line.at, message: REDACTED })),
      history: history.map((entry) => {
        const { error, ...facts } = entry
        // The last attempt's error is the job's lastError: presented (and a redactor called) once.
        const shown = error === job.lastError ? lastError : presentError(job, undefined, error)
        return shown === undefined ? facts : { ...facts, error: shown }
      }),
    }
  }

  const presentListItem = (job: JobInfo): AdminJobListItem => {
    // A list carries neither logs nor the attempt history: up to 100 lines of 2000 characters a job.
    const { args: _args, lastError: _lastError, logs: _logs, history: _history, ...rest } = job
    const lastError = presentError(job, LIST_PREVIEW_CHARS)
    return { ...rest, ...presentArgs(job, LIST_PREVIEW_CHARS), ...(lastError !== undefined && { lastError }) }
  }

  const presentSchedule = (schedule: ScheduleInfo): ScheduleInfo =>
    redactArgs === false ? schedule : { ...schedule, args: REDACTED }

  // Express 4, if that is what the app resolves, leaves rejected handlers to the process: forward them.
  const router = forwardRejections(express.Router({ caseSensitive: true }))

  router.use(function backgroundJobsAdminHeaders(_req: Request, res: Response, next: NextFunction): void {
    res.set({
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    })
    next()
  })

  const askAuthorize = async (req: Request, check: (req: Request) => boolean | Promise<boolean>): Promise<void> => {
    const deny = (why: string, error?: unknown): never => {
      log('warn', `The authorize function of the background-jobs admin ${why}; access was denied`, {
        method: req.method,
        path: req.originalUrl,
        ...(error !== undefined && { error: toErrorInfo(error).stack ?? describeThrown(error) }),
      })
      throw new AdminAccessDeniedError(
        `Access denied: the \`authorize\` function of the background-jobs admin ${why} (see the server log).`,
      )
    }
    let timer: NodeJS.Timeout | undefined
    let allowed: unknown
    try {
      const answer: Promise<unknown> = Promise.resolve().then(() => check(req))
      const late = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), authorizeTimeoutMs)
      })
      allowed = await Promise.race([answer, late])
      // A late answer is dropped; a late rejection must not become an unhandled one.
      if (allowed === TIMED_OUT) answer.catch(() => {})
    } catch (error) {
      deny('threw', error)
    } finally {
      clearTimeout(timer)
    }
    if (allowed === TIMED_OUT) deny(`did not answer within ${authorizeTimeoutMs} ms (authorizeTimeoutMs)`)
    if (allowed !== true) {
      throw new AdminAccessDeniedError(
        'Access denied by the `authorize` function of the background-jobs admin (it must return true to let a request in).',
      )
    }
  }

  router.use(function backgroundJobsAdminGuard(req: Request, _res: Response, next: NextFunction): void {
    if (authorize !== undefined) {
      askAuthorize(req, authorize).then(() => next(), next)
      return
    }
    if (isClosedByDefault) {
      next(
        new AdminAccessDeniedError(
          'Access denied: the background-jobs admin has no `authorize` option and NODE_ENV is production, where a reverse proxy on the same host would make every request look local. Pass backgroundJobsAdminRouter(container, { authorize: (req) => ... }).',
        ),
      )
      return
    }
    const denial = loopbackDenial(req)
    next(denial === undefined ? undefined : new AdminAccessDeniedError(denial))
  })

  router.get(
    '/',
    route(async function backgroundJobsAdminPage(req: Request, res: Response): Promise<void> {
      const query = readListQuery(req, 'pending', ['job'])
      const jobId = readText(readQuery(req, ['state', 'offset', 'limit', 'name', 'q', 'job']), 'job')
      const [counts, page, schedules, names, job, exact] = await Promise.all([
        manager.counts(),
        searchJobs(manager, query, query.offset, query.limit),
        manager.listSchedules(),
        jobId === undefined ? listJobNames(manager) : undefined,
        jobId === undefined ? undefined : manager.getJob(jobId),
        query.q === undefined ? undefined : manager.getJob(query.q),
      ])
      const nonce = randomBytes(16).toString('base64')
      const html = renderAdminPage({
        title,
        nonce,
        allowMutations,
        counts,
        state: job?.state ?? query.state,
        page: { ...page, items: page.items.map(presentListItem) },
        schedules: schedules.map(presentSchedule),
        now: resolved.clock.now(),
        filter: { name: query.name, q: query.q },
        ...(names !== undefined && { names: names.items }),
        metrics: metrics.snapshot(counts),
        ...(job !== undefined && { job: presentJob(job) }),
        ...(jobId !== undefined && job === undefined && { missingJobId: jobId }),
        ...(exact !== undefined && { exactMatch: { id: exact.id, state: exact.state, name: exact.name } }),
      })
      if (jobId !== undefined && job === undefined) res.status(404)
      res.set('Content-Security-Policy', adminPageContentSecurityPolicy(nonce))
      res.type('html').send(html)
    }),
  )

  router.get(
    '/api/counts',
    route(async function backgroundJobsAdminCounts(req: Request, res: Response): Promise<void> {
      readQuery(req, [])
      res.json(await manager.counts())
    }),
  )

  router.get(
    '/api/jobs',
    route(async function backgroundJobsAdminJobs(req: Request, res: Response): Promise<void> {
      const { state, name, q, offset, limit } = readListQuery(req, undefined)
      const page = await searchJobs(manager, { state, name, q }, offset, limit)
      res.json({ ...page, items: page.items.map(presentListItem) })
    }),
  )

  router.get(
    '/api/schedules',
    route(async function backgroundJobsAdminSchedules(req: Request, res: Response): Promise<void> {
      readQuery(req, [])
      const schedules = await manager.listSchedules()
      res.json({ items: schedules.map(presentSchedule) })
    }),
  )

  router.get(
    '/api/names',
    route(async function backgroundJobsAdminNames(req: Request, res: Response): Promise<void> {
      readQuery(req, [])
      res.json(await listJobNames(manager))
    }),
  )

  router.get(
    '/api/metrics',
    route(async function backgroundJobsAdminMetrics(req: Request, res: Response): Promise<void> {
      readQuery(req, [])
      res.json(metrics.snapshot(await manager.counts()))
    }),
  )

  router.get(
    '/api/metrics/prometheus',
    route(async function backgroundJobsAdminPrometheus(req: Request, res: Response): Promise<void> {
      readQuery(req, [])
      const text = metrics.prometheus(await manager.counts())
      res.type('text/plain; version=0.0.4; charset=utf-8').send(text)
    }),
  )

  router.get(
    '/api/jobs/:id',
    route(async function backgroundJobsAdminJob(req: Request, res: Response): Promise<void> {
      readQuery(req, [])
      const id = readJobId(req)
      const job = await manager.getJob(id)
      if (job === undefined) throw new JobNotFoundError(id)
      res.json(presentJob(job))
    }),
  )

  /** Refuses a change when mutations are off or it may come from another site; `what` is e.g. `retry a job`. */
  const guardMutation = (req: Request, what: string): void => {
    if (!allowMutations) {
      throw new AdminMutationsDisabledError(
        `Cannot ${what}: the background-jobs admin is read-only. Create it with backgroundJobsAdminRouter(container, { allowMutations: true, authorize }) to enable cancel, retry, delete and the schedule actions.`,
      )
    }
    const refusal = crossSiteRefusal(req, allowedOrigins)
    if (refusal !== undefined) {
      throw new AdminCrossSiteRequestError(`Refused a request to ${what}: ${refusal}`)
    }
  }

  const assertMutation = (req: Request, action: string): string => {
    guardMutation(req, `${action} a job`)
    readQuery(req, [])
    return readJobId(req)
  }

  /** A bulk action's route: `name` narrows it to one job name; `delete` also takes the `state`. */
  const bulkRoute = (action: BulkAction): AsyncHandler =>
    async function backgroundJobsAdminBulk(req: Request, res: Response): Promise<void> {
      guardMutation(req, `${action} jobs in bulk`)
      const states = BULK_ACTION_STATES[action]
      const query = readQuery(req, action === 'delete' ? ['state', 'name'] : ['name'])
      const state = readState(query, states.length === 1 ? states[0] : undefined, states)
      const name = readText(query, 'name')
      if (action === 'cancel' && name === undefined) {
        throw new InvalidOptionError({
          option: 'name',
          value: undefined,
          expected: 'the job name whose pending jobs to cancel',
          where: 'the query string',
          hint: 'Cancelling every pending job at once is not offered; give ?name=SomeJob.',
        })
      }
      res.json(await runBulkAction(manager, action, state, name))
    }

  router.post(
    '/api/jobs/:id/cancel',
    route(async function backgroundJobsAdminCancel(req: Request, res: Response): Promise<void> {
      const id = assertMutation(req, 'cancel')
      await manager.cancel(id)
      // Gone only if the bounded history dropped it in between.
      const job = await manager.getJob(id)
      if (job === undefined) throw new JobNotFoundError(id)
      res.json(presentJob(job))
    }),
  )

  router.post(
    '/api/jobs/:id/retry',
    route(async function backgroundJobsAdminRetry(req: Request, res: Response): Promise<void> {
      const id = assertMutation(req, 'retry')
      res.json(presentJob(await manager.retry(id)))
    }),
  )

  router.delete(
    '/api/jobs/:id',
    route(async function backgroundJobsAdminDelete(req: Request, res: Response): Promise<void> {
      const id = assertMutation(req, 'delete')
      await manager.deleteJob(id)
      res.status(204).end()
    }),
  )

  router.post('/api/bulk/retry', route(bulkRoute('retry')))
  router.post('/api/bulk/cancel', route(bulkRoute('cancel')))
  router.post('/api/bulk/delete', route(bulkRoute('delete')))

  router.post(
    '/api/schedules/:id/trigger',
    route(async function backgroundJobsAdminTrigger(req: Request, res: Response): Promise<void> {
      guardMutation(req, 'trigger a schedule')
      readQuery(req, [])
      const jobId = await manager.triggerSchedule(readJobId(req, 'schedule'))
      const job = await manager.getJob(jobId)
      if (job === undefined) throw new JobNotFoundError(jobId)
      res.status(201).json(presentJob(job))
    }),
  )

  router.delete(
    '/api/schedules/:id',
    route(async function backgroundJobsAdminRemoveSchedule(req: Request, res: Response): Promise<void> {
      guardMutation(req, 'remove a schedule')
      readQuery(req, [])
      const id = readJobId(req, 'schedule')
      if (!(await manager.removeSchedule(id))) throw new ScheduleNotFoundError(id)
      res.status(204).end()
    }),
  )

  router.all(
    ['/', '/api/counts', '/api/jobs', '/api/schedules', '/api/names', '/api/metrics', '/api/metrics/prometheus'],
    methodNotAllowed('GET, HEAD'),
  )
  router.all(['/api/bulk/retry', '/api/bulk/cancel', '/api/bulk/delete'], methodNotAllowed('POST'))
  router.all('/api/schedules/:id', methodNotAllowed('DELETE'))
  router.all('/api/schedules/:id/trigger', methodNotAllowed('POST'))
  router.all('/api/jobs/:id', methodNotAllowed('GET, HEAD, DELETE'))
  router.all(['/api/jobs/:id/cancel', '/api/jobs/:id/retry'], methodNotAllowed('POST'))
  router.use('/api', function backgroundJobsAdminNotFound(req: Request, _res: Response, next: NextFunction): void {
    next(
      new AdminRouteNotFoundError(
        `No background-jobs admin API route matches ${req.method} ${describeValue(req.originalUrl.split('?')[0])}. The routes are GET api/counts, api/jobs, api/jobs/:id, api/names, api/metrics, api/metrics/prometheus, api/schedules; POST api/jobs/:id/cancel, api/jobs/:id/retry, api/bulk/retry, api/bulk/cancel, api/bulk/delete, api/schedules/:id/trigger; DELETE api/jobs/:id, api/schedules/:id.`,
      ),
    )
  })

  router.use(function backgroundJobsAdminErrors(error: unknown, req: Request, res: Response, next: NextFunction): void {
    if (res.headersSent) {
      next(error)
      return
    }
    const answer = describeAdminError(error)
    if (answer.status >= 500) {
      log('error', 'The background-jobs admin failed to answer a request', {
        method: req.method,
        path: req.originalUrl,
        error: toErrorInfo(error).stack ?? describeThrown(error),
      })
    }
    sendHttpError(res, answer)
  })

  return router
}

const TIMED_OUT = Symbol('timed out')

/**
 * Why a mutation may have come from another site, or undefined when it may not have. Browsers send
 * `Origin` with every cross-origin POST and DELETE (and `Sec-Fetch-Site` since 2020-2023); a
 * request without either comes from a non-browser client or an old browser, and the required
 * {@link ADMIN_CSRF_HEADER} stops a cross-site form or simple request sent by the latter.
 */
function crossSiteRefusal(req: Request, allowedOrigins: readonly string[]): string | undefined {
  const site = req.get('sec-fetch-site')
  if (site !== undefined && site !== 'same-origin') {
    return `the browser marked it Sec-Fetch-Site: ${describeValue(site)}; the admin API accepts changes only from its own page (same origin) or from non-browser clients.`
  }
  const origin = req.get('origin')
  if (origin !== undefined && !allowedOrigins.includes(origin) && !isSameOrigin(origin, req.get('host'))) {
    return `its Origin ${describeValue(origin)} is not this admin's (Host ${describeValue(req.get('host'))}). Behind a proxy that rewrites Host, list the public origin in the \`allowedOrigins\` option.`
  }
  const proof = req.get(ADMIN_CSRF_HEADER)
  if (proof === undefined || proof === '') {
    return `it lacks the ${ADMIN_CSRF_HEADER} header, which the admin page sends and no cross-site form can. Send \`${ADMIN_CSRF_HEADER}: 1\` from scripts and API clients.`
  }
  return undefined
}

/** Whether the `Origin` header names the same host and port as the `Host` header. */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  if (url.origin !== origin || (url.protocol !== 'http:' && url.protocol !== 'https:')) return false
  const parsed = parseHostHeader(host)
  if (parsed === undefined) return false
  // The scheme is not compared: behind a TLS-terminating proxy the page is https and the request http.
  const defaultPort = url.protocol === 'https:' ? 443 : 80
  const originPort = url.port === '' ? defaultPort : Number(url.port)
  const hostPort = parsed.port ?? defaultPort
  const originName = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return originName === parsed.name && originPort === hostPort
}

function resolveAdminRouterOptions(options: AdminRouterOptions | undefined): ResolvedAdminRouterOptions {
  const given: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(
    readOptions(options, ADMIN_ROUTER_KEYS, 'the backgroundJobsAdminRouter options'),
  )) {
    // An option given as undefined means "not given", so the default applies.
    if (value !== undefined) given[key] = value
  }
  const resolved: ResolvedAdminRouterOptions = { ...DEFAULT_ADMIN_ROUTER_OPTIONS, ...given }
  if (resolved.authorize !== undefined) {
    checkFunction('authorize', resolved.authorize, 'a function (req) => boolean | Promise<boolean>')
  }
  checkInteger('authorizeTimeoutMs', resolved.authorizeTimeoutMs, 1, 300_000)
  checkBoolean('allowMutations', resolved.allowMutations)
  checkOrigins(resolved.allowedOrigins)
  if (typeof resolved.redactArgs !== 'boolean') {
    checkFunction('redactArgs', resolved.redactArgs, 'a boolean or a function (job) => shownArgs')
  }
  if (resolved.redactErrors !== undefined && typeof resolved.redactErrors !== 'boolean') {
    checkFunction('redactErrors', resolved.redactErrors, 'a boolean or a function (error, job) => shownMessage')
  }
  checkName('title', resolved.title, MAX_NAME_LENGTH)
  checkClock(resolved.clock)
  return resolved
}

function checkOrigins(origins: unknown): void {
  const list: unknown = origins
  if (!Array.isArray(list)) {
    throw new InvalidOptionError({ option: 'allowedOrigins', value: origins, expected: 'an array of origins' })
  }
  list.forEach((origin: unknown, index) => {
    let isOrigin = false
    try {
      isOrigin = typeof origin === 'string' && new URL(origin).origin === origin
    } catch {
      isOrigin = false
    }
    if (!isOrigin) {
      throw new InvalidOptionError({
        option: `allowedOrigins[${index}]`,
        value: origin,
        expected: 'an origin as a browser sends it: scheme, host and port only, e.g. "https://jobs.example.com"',
      })
    }
  })
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text
}

function methodNotAllowed(allow: string): (req: Request, res: Response, next: NextFunction) => void {
  return function backgroundJobsAdminMethodNotAllowed(req: Request, res: Response, next: NextFunction): void {
    res.set('Allow', allow)
    next(new AdminMethodNotAllowedError(`${req.method} is not allowed on ${describeValue(req.path)}; use ${allow}.`))
  }
}

/** The answer for `error`: the shared HTTP mapping, plus a bad percent-encoding in the path. */
function describeAdminError(error: unknown): HttpErrorAnswer {
  // Express's router fails to decode a path parameter such as %E0%A4%A with a URIError.
  if (error instanceof URIError) {
    return {
      status: 400,
      name: 'InvalidOptionError',
      message: 'Expected the URL path to be valid percent-encoded UTF-8.',
      retryAfterSeconds: undefined,
    }
  }
  const answer = describeHttpError(error)
  if (answer.status !== 500) return answer
  return {
    ...answer,
    message: 'The background-jobs admin failed to answer this request; the error was logged on the server.',
  }
}
