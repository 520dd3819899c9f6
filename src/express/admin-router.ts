import { randomBytes } from 'node:crypto'
import type { AwilixContainer } from 'awilix'
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import { forwardRejections } from './express-compat'
import type { BackgroundJobManager } from '../background-job-manager'
import { resolveManager } from '../background-jobs'
import {
  BackgroundJobError,
  InvalidArgumentError,
  InvalidOptionError,
  JobNotFoundError,
  JobStateError,
  ManagerStoppedError,
  describeValue,
} from '../errors'
import { MAX_NAME_LENGTH } from '../limits'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown, toErrorInfo } from '../policy/error-info'
import { REGISTRATIONS } from '../registrations'
import type { JobInfo, ScheduleInfo } from '../types'
import { checkBoolean, checkFunction, checkName, readOptions } from '../validation'
import { loopbackDenial } from './admin-access'
import { adminPageContentSecurityPolicy, renderAdminPage } from './admin-page'
import { readJobId, readListQuery, readQuery } from './admin-query'

/** Options of {@link backgroundJobsAdminRouter}. */
export interface AdminRouterOptions {
  /**
   * Decides who may use the admin (page and API). Only a result of `true` (or a promise of it)
   * lets the request in; anything else, or a throw (logged), answers 403. When given, it is the
   * only check. Put cookie or header authentication here (`(req) => req.user?.isAdmin === true`).
   * @default undefined: only loopback requests get in (see {@link isLoopbackAddress}), judged by
   *   the TCP peer address, never by `req.ip` or `X-Forwarded-For`
   */
  readonly authorize?: (req: Request) => boolean | Promise<boolean>
  /**
   * Enables `POST /api/jobs/:id/cancel`, `POST /api/jobs/:id/retry` and `DELETE /api/jobs/:id`
   * and their buttons on the page. When false they answer 403 and the page is read-only.
   * @default false
   */
  readonly allowMutations?: boolean
  /**
   * Hides job arguments in the JSON API and on the page: `true` replaces them with the string
   * `'[redacted]'`; a function maps each job to what is shown instead (its result must be JSON
   * data; if it throws or is not, `'[redacted]'` is shown and the error logged). Schedule
   * arguments are shown as `'[redacted]'` whenever this is not `false`.
   * @default false
   */
  readonly redactArgs?: boolean | ((job: JobInfo) => unknown)
  /**
   * The page's title and heading (1 to 200 characters).
   * @default 'Background jobs'
   */
  readonly title?: string
}

interface ResolvedAdminRouterOptions {
  readonly authorize: ((req: Request) => boolean | Promise<boolean>) | undefined
  readonly allowMutations: boolean
  readonly redactArgs: boolean | ((job: JobInfo) => unknown)
  readonly title: string
}

const DEFAULT_ADMIN_ROUTER_OPTIONS: ResolvedAdminRouterOptions = {
  authorize: undefined,
  allowMutations: false,
  redactArgs: false,
  title: 'Background jobs',
}

const ADMIN_ROUTER_KEYS = ['authorize', 'allowMutations', 'redactArgs', 'title'] as const

/** Only these manager methods are used, so any engine behind the manager works unchanged. */
type AdminManager = Pick<
  BackgroundJobManager,
  'counts' | 'listJobs' | 'getJob' | 'cancel' | 'retry' | 'deleteJob' | 'listSchedules'
>

const REDACTED = '[redacted]'

/** The request may not use the admin (not loopback, or `authorize` said no). */
class AdminAccessDeniedError extends BackgroundJobError {}

/** A cancel, retry or delete was requested while `allowMutations` is false. */
class AdminMutationsDisabledError extends BackgroundJobError {}

/** The route exists but not for this HTTP method. */
class AdminMethodNotAllowedError extends BackgroundJobError {}

/** No admin API route has this path. */
class AdminRouteNotFoundError extends BackgroundJobError {}

/**
 * An Express router serving a Hangfire-like dashboard over the background-job manager of
 * `container` (resolved once, as `backgroundJobManager`, and used only through its public
 * methods, so it works with any engine). Mount it with
 * `app.use('/admin/jobs', backgroundJobsAdminRouter(container, { authorize }))`:
 *
 * - `GET /`: a self-contained HTML page (strict nonce-based CSP, `nosniff`, `no-store`); takes the
 *   same `state`, `offset` and `limit` query as `/api/jobs` (state defaults to `pending`);
 * - `GET /api/counts`: jobs per state;
 * - `GET /api/jobs?state=pending&offset=0&limit=50`: `{ items, total, offset, limit }`;
 * - `GET /api/jobs/:id`: one job, or 404;
 * - `GET /api/schedules`: `{ items }`, the recurring schedules;
 * - `POST /api/jobs/:id/cancel`, `POST /api/jobs/:id/retry`, `DELETE /api/jobs/:id`: only with
 *   `allowMutations: true` (else 403); cross-site browser requests (`Sec-Fetch-Site` other than
 *   `same-origin`) are refused with 403.
 *
 * Without `authorize`, only loopback requests get in: the TCP peer must be loopback, the `Host`
 * header a loopback name (against DNS rebinding), and the request must carry no forwarding header
 * (`Forwarded`, `X-Forwarded-For`, ...): behind a reverse proxy on the same host every request
 * comes from loopback, so pass `authorize` there.
 *
 * The query string is read from the raw URL (the app's `query parser` setting does not matter):
 * unknown or repeated parameters, and values out of range, answer 400. Errors answer
 * `{ error: { name, message } }`: 400 for bad input, 403 for denied access, 404 for an unknown job,
 * 405 for a wrong method, 409 for a job in the wrong state, 503 when the manager is stopped, 500
 * (generic message; the real error goes to the container's `logger`) for anything else.
 *
 * @throws InvalidOptionError for a bad container or options
 * @throws BackgroundJobsNotBuiltError when the container has no background-job service
 */
export function backgroundJobsAdminRouter(container: AwilixContainer, options?: AdminRouterOptions): Router {
  const manager: AdminManager = resolveManager(container, 'the first argument of backgroundJobsAdminRouter')
  const { authorize, allowMutations, redactArgs, title } = resolveAdminRouterOptions(options)

  const log = (level: keyof JobLogger, message: string, meta?: Record<string, unknown>): void => {
    try {
      if (container.hasRegistration(REGISTRATIONS.logger)) {
        safeLog(container.resolve<JobLogger>(REGISTRATIONS.logger), level, message, meta)
      }
    } catch {
      // No logger can be resolved (e.g. the container was disposed): there is nowhere to report.
    }
  }

  const presentArgs = (job: JobInfo): unknown => {
    if (redactArgs === false) return job.args
    if (redactArgs === true) return REDACTED
    try {
      const shown = redactArgs(job)
      // Proves the result can be sent as JSON; a bigint or cycle would otherwise turn into a 500.
      JSON.stringify(shown)
      return shown
    } catch (error) {
      log(
        'error',
        'The redactArgs function of the background-jobs admin threw or returned non-JSON data; the args are shown as [redacted]',
        { jobId: job.id, error: describeThrown(error) },
      )
      return REDACTED
    }
  }
  const presentJob = (job: JobInfo): JobInfo => (redactArgs === false ? job : { ...job, args: presentArgs(job) })
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

  router.use(async function backgroundJobsAdminGuard(req: Request, _res: Response, next: NextFunction): Promise<void> {
    if (authorize === undefined) {
      const denial = loopbackDenial(req)
      if (denial !== undefined) throw new AdminAccessDeniedError(denial)
      next()
      return
    }
    let allowed: unknown
    try {
      allowed = await authorize(req)
    } catch (error) {
      log('warn', 'The authorize function of the background-jobs admin threw; access was denied', {
        method: req.method,
        path: req.originalUrl,
        error: toErrorInfo(error).stack ?? describeThrown(error),
      })
      throw new AdminAccessDeniedError(
        'Access denied: the `authorize` function of the background-jobs admin threw (see the server log).',
      )
    }
    if (allowed !== true) {
      throw new AdminAccessDeniedError(
        'Access denied by the `authorize` function of the background-jobs admin (it must return true to let a request in).',
      )
    }
    next()
  })

  router.get('/', async function backgroundJobsAdminPage(req: Request, res: Response): Promise<void> {
    const query = readListQuery(req, 'pending')
    const [counts, page, schedules] = await Promise.all([
      manager.counts(),
      manager.listJobs(query),
      manager.listSchedules(),
    ])
    const nonce = randomBytes(16).toString('base64')
    const html = renderAdminPage({
      title,
      nonce,
      allowMutations,
      counts,
      state: query.state,
      page: { ...page, items: page.items.map(presentJob) },
      schedules: schedules.map(presentSchedule),
    })
    res.set('Content-Security-Policy', adminPageContentSecurityPolicy(nonce))
    res.type('html').send(html)
  })

  router.get('/api/counts', async function backgroundJobsAdminCounts(req: Request, res: Response): Promise<void> {
    readQuery(req, [])
    res.json(await manager.counts())
  })

  router.get('/api/jobs', async function backgroundJobsAdminJobs(req: Request, res: Response): Promise<void> {
    const page = await manager.listJobs(readListQuery(req, undefined))
    res.json({ items: page.items.map(presentJob), total: page.total, offset: page.offset, limit: page.limit })
  })

  router.get('/api/schedules', async function backgroundJobsAdminSchedules(req: Request, res: Response): Promise<void> {
    readQuery(req, [])
    const schedules = await manager.listSchedules()
    res.json({ items: schedules.map(presentSchedule) })
  })

  router.get('/api/jobs/:id', async function backgroundJobsAdminJob(req: Request, res: Response): Promise<void> {
    readQuery(req, [])
    const id = readJobId(req)
    const job = await manager.getJob(id)
    if (job === undefined) throw notFound(id)
    res.json(presentJob(job))
  })

  const assertMutation = (req: Request, action: string): string => {
    if (!allowMutations) {
      throw new AdminMutationsDisabledError(
        `Cannot ${action} jobs: the background-jobs admin is read-only. Create it with backgroundJobsAdminRouter(container, { allowMutations: true, authorize }) to enable cancel, retry and delete.`,
      )
    }
    const site = req.get('sec-fetch-site')
    if (site !== undefined && site !== 'same-origin') {
      throw new AdminAccessDeniedError(
        `Refused a ${site} browser request to ${action} a job: the admin API accepts changes only from its own page (same origin) or from non-browser clients.`,
      )
    }
    readQuery(req, [])
    return readJobId(req)
  }

  router.post(
    '/api/jobs/:id/cancel',
    async function backgroundJobsAdminCancel(req: Request, res: Response): Promise<void> {
      const id = assertMutation(req, 'cancel')
      await manager.cancel(id)
      // Gone only if the bounded history dropped it in between.
      const job = await manager.getJob(id)
      if (job === undefined) throw notFound(id)
      res.json(presentJob(job))
    },
  )

  router.post(
    '/api/jobs/:id/retry',
    async function backgroundJobsAdminRetry(req: Request, res: Response): Promise<void> {
      const id = assertMutation(req, 'retry')
      res.json(presentJob(await manager.retry(id)))
    },
  )

  router.delete('/api/jobs/:id', async function backgroundJobsAdminDelete(req: Request, res: Response): Promise<void> {
    const id = assertMutation(req, 'delete')
    await manager.deleteJob(id)
    res.status(204).end()
  })

  router.all(['/', '/api/counts', '/api/jobs', '/api/schedules'], methodNotAllowed('GET, HEAD'))
  router.all('/api/jobs/:id', methodNotAllowed('GET, HEAD, DELETE'))
  router.all(['/api/jobs/:id/cancel', '/api/jobs/:id/retry'], methodNotAllowed('POST'))
  router.all(['/api', '/api/{*rest}'], function backgroundJobsAdminNotFound(req: Request): never {
    throw new AdminRouteNotFoundError(
      `No background-jobs admin API route matches ${req.method} ${describeValue(req.path)}. The routes are GET api/counts, api/jobs, api/jobs/:id, api/schedules; POST api/jobs/:id/cancel, api/jobs/:id/retry; DELETE api/jobs/:id.`,
    )
  })

  router.use(function backgroundJobsAdminErrors(error: unknown, req: Request, res: Response, next: NextFunction): void {
    if (res.headersSent) {
      next(error)
      return
    }
    const [status, name, message] = describeError(error)
    if (status >= 500) {
      log('error', 'The background-jobs admin failed to answer a request', {
        method: req.method,
        path: req.originalUrl,
        error: toErrorInfo(error).stack ?? describeThrown(error),
      })
    }
    res.status(status).json({ error: { name, message } })
  })

  return router
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
  checkBoolean('allowMutations', resolved.allowMutations)
  if (typeof resolved.redactArgs !== 'boolean') {
    checkFunction('redactArgs', resolved.redactArgs, 'a boolean or a function (job) => shownArgs')
  }
  checkName('title', resolved.title, MAX_NAME_LENGTH)
  return resolved
}

function notFound(id: string): JobNotFoundError {
  return new JobNotFoundError(id)
}

function methodNotAllowed(allow: string): (req: Request, res: Response) => never {
  return function backgroundJobsAdminMethodNotAllowed(req: Request, res: Response): never {
    res.set('Allow', allow)
    throw new AdminMethodNotAllowedError(`${req.method} is not allowed on ${describeValue(req.path)}; use ${allow}.`)
  }
}

/** Status, name and message of the JSON error answered for `error`. */
function describeError(error: unknown): [number, string, string] {
  if (error instanceof InvalidOptionError || error instanceof InvalidArgumentError)
    return [400, error.name, error.message]
  if (error instanceof AdminAccessDeniedError || error instanceof AdminMutationsDisabledError)
    return [403, error.name, error.message]
  if (error instanceof JobNotFoundError || error instanceof AdminRouteNotFoundError)
    return [404, error.name, error.message]
  if (error instanceof AdminMethodNotAllowedError) return [405, error.name, error.message]
  if (error instanceof JobStateError) return [409, error.name, error.message]
  if (error instanceof ManagerStoppedError) return [503, error.name, error.message]
  // Express's router fails to decode a path parameter such as %E0%A4%A with a URIError.
  if (error instanceof URIError)
    return [400, 'InvalidOptionError', 'Expected the URL path to be valid percent-encoded UTF-8.']
  return [
    500,
    'InternalServerError',
    'The background-jobs admin failed to answer this request; the error was logged on the server.',
  ]
}
