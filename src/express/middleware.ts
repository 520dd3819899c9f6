import type { Server } from 'node:http'
import { asValue, type AwilixContainer, type Resolver } from 'awilix'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { BackgroundJobManager } from '../background-job-manager'
import { resolveManager } from '../background-jobs'
import { InvalidArgumentError, RequestScopeDisposedError } from '../errors'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown, toErrorInfo } from '../policy/error-info'
import { REGISTRATIONS } from '../registrations'
import type { StopOptions } from '../types'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The request's awilix scope (with `req` and `res` registered); disposed once the response
       * has ended and no handler holds it (`holdRequestScope`).
       */
      container: AwilixContainer
      /** The application's background-job manager (the root container's singleton). */
      backgroundJobs: BackgroundJobManager
    }
  }
}

/**
 * The request scope of one request and its life: created the first time something reads
 * `req.container` (or the scope would be used), open while the response runs or a handler holds
 * it, then disposed and closed.
 *
 * Speed trick (workload W4, HTTP): most requests never read `req.container` (a route that only
 * enqueues uses `req.backgroundJobs`), and an awilix scope costs a request several times what
 * enqueueing a job does: made, disposed and closed on every request. So the scope is made on the
 * first read of `req.container`; a request that never reads it pays for this small object and
 * two listeners instead. The obvious version creates the scope in the middleware, for every request.
 */
class RequestScope {
  readonly #root: AwilixContainer
  readonly #req: Request
  readonly #res: Response
  #scope: AwilixContainer | undefined = undefined
  holds = 0
  hasEnded = false
  /** Disposed (or, with no scope made yet, over): a scope made from now on is closed at once. */
  isDisposed = false

  /**
   * @param previous the scope of a `backgroundJobsMiddleware` that ran before on the same request
   *   (of another container, say): `req.container` is this one now, and both end with the response
   */
  constructor(
    root: AwilixContainer,
    req: Request,
    res: Response,
    readonly previous: RequestScope | undefined,
  ) {
    this.#root = root
    this.#req = req
    this.#res = res
  }

  /** The scope, made now (with `req` and `res` registered) if it was not yet. */
  get scope(): AwilixContainer {
    let scope = this.#scope
    if (scope === undefined) {
      scope = this.#root.createScope()
      scope.register({ req: asValue(this.#req), res: asValue(this.#res) })
      this.#scope = scope
      // Read first after the response ended and every hold was released: as the scope made at
      // the start would be by now, it is closed; nothing was resolved from it, so nothing to dispose.
      if (this.isDisposed) closeScope(scope)
    }
    return scope
  }

  /** Disposes the scope if the response has ended and nothing holds it. */
  settle(): void {
    if (!this.hasEnded || this.holds > 0 || this.isDisposed) return
    this.isDisposed = true
    const scope = this.#scope
    if (scope === undefined) return
    const root = this.#root
    const req = this.#req
    scope
      .dispose()
      .catch((error: unknown) => {
        // A failing disposer belongs to the app's services; it must not crash the server.
        reportDisposeFailure(root, req, error)
      })
      // Closed once the disposers ran, since a disposer may still read its dependencies.
      .finally(() => closeScope(scope))
  }
}

/** Where a request (and its response) keep their {@link RequestScope}. */
const REQUEST_SCOPE = Symbol('backgroundJobs.requestScope')

interface WithRequestScope {
  [REQUEST_SCOPE]?: RequestScope
}

const requestScopeOf = (target: object): RequestScope | undefined => (target as WithRequestScope)[REQUEST_SCOPE]

/**
 * `req.container`, one accessor pair shared by every request: the getter makes the scope on first
 * read; the setter lets an app put a container of its own in its place, as a plain property.
 */
const CONTAINER_PROPERTY: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request): AwilixContainer | undefined {
    return requestScopeOf(this)?.scope
  },
  set(this: Request, value: unknown): void {
    Object.defineProperty(this, 'container', { configurable: true, enumerable: true, writable: true, value })
  },
}

/** The response's `finish` and `close` listener (either may come first; the second finds it done). */
function responseEnded(this: Response): void {
  for (
    let lifetime = requestScopeOf(this);
    lifetime !== undefined && !lifetime.hasEnded;
    lifetime = lifetime.previous
  ) {
    lifetime.hasEnded = true
    lifetime.settle()
  }
}

/**
 * Keeps the request scope of `req` (`req.container`) open until the returned function is called,
 * even after the response has ended or the client went away: for a handler that answers first
 * and works on, or that may outlive an aborted request. The scope is disposed once the response
 * has ended and every hold is released. `mapServices` routes hold it while their service method
 * runs. Calling the release again does nothing; without `backgroundJobsMiddleware` it is a no-op.
 *
 * @example
 * app.post('/import', (req, res) => {
 *   const release = holdRequestScope(req)
 *   res.status(202).end()
 *   runImport(req.container.resolve('importer')).finally(release)
 * })
 */
export function holdRequestScope(req: Request): () => void {
  const lifetime = requestScopeOf(req)
  if (lifetime === undefined || lifetime.isDisposed) return () => {}
  lifetime.holds++
  let isReleased = false
  return function releaseRequestScope(): void {
    if (isReleased) return
    isReleased = true
    lifetime.holds--
    lifetime.settle()
  }
}

/**
 * Express middleware that opens an awilix scope per request (`req.container`, with `req` and `res`
 * registered in it, made when first read) and attaches the manager as `req.backgroundJobs`. The
 * scope is disposed once the response has ended (finished, or the connection closed) and no
 * handler holds it ({@link holdRequestScope}; `mapServices` routes hold it while their method
 * runs). From then on resolving anything through the scope, or its cradle, throws
 * {@link RequestScopeDisposedError} instead of making an instance nobody disposes; so does a scope
 * first read only then. A disposer that fails is logged. To stop the manager with the HTTP server,
 * call {@link stopWithServer}.
 */
export function backgroundJobsMiddleware(container: AwilixContainer): RequestHandler {
  const manager = resolveManager(container, 'the container given to backgroundJobsMiddleware')

  return function backgroundJobsMiddleware(req: Request, res: Response, next: NextFunction): void {
    const previous = requestScopeOf(req)
    const lifetime = new RequestScope(container, req, res, previous)
    ;(req as WithRequestScope)[REQUEST_SCOPE] = lifetime
    ;(res as WithRequestScope)[REQUEST_SCOPE] = lifetime
    Object.defineProperty(req, 'container', CONTAINER_PROPERTY)
    req.backgroundJobs = manager
    if (previous === undefined) {
      res.on('finish', responseEnded)
      res.on('close', responseEnded)
    }
    next()
  }
}

/**
 * One resolver per registration name that throws {@link RequestScopeDisposedError}, shared by all
 * scopes: a plain `{ resolve }` object, since `asFunction` costs microseconds per call and a scope
 * is closed on every request that reads `req.container`.
 */
const closedResolvers = new Map<string | symbol, Resolver<never>>()

function closedResolver(name: string | symbol): Resolver<never> {
  let resolver = closedResolvers.get(name)
  if (resolver === undefined) {
    resolver = {
      resolve(): never {
        throw new RequestScopeDisposedError(String(name))
      },
    }
    closedResolvers.set(name, resolver)
  }
  return resolver
}

/** Makes every name resolved through `scope` (and its cradle) throw from now on. */
function closeScope(scope: AwilixContainer): void {
  try {
    const closed: Record<string | symbol, Resolver<never>> = {}
    for (const name of Reflect.ownKeys(scope.registrations)) closed[name] = closedResolver(name)
    scope.register(closed)
  } catch {
    // Runs in a promise callback: a throw here would be an unhandled rejection. The scope is disposed anyway.
  }
}

function reportDisposeFailure(container: AwilixContainer, req: Request, error: unknown): void {
  try {
    if (!container.hasRegistration(REGISTRATIONS.logger)) return
    safeLog(container.resolve<JobLogger>(REGISTRATIONS.logger), 'error', 'Disposing a request scope failed', {
      method: req.method,
      path: req.originalUrl,
      error: toErrorInfo(error).stack ?? describeThrown(error),
    })
  } catch {
    // No logger can be resolved (the container was disposed): there is nowhere to report.
  }
}

/**
 * Stops the container's manager (draining running jobs, as `stop()` does by default) when `server`
 * closes, so `server.close()` ends the background work too. Explicit rather than guessed from
 * requests: an app may run several servers, and test tools open and close one per request.
 * Returns `server`, so it can wrap `app.listen(...)`.
 */
export function stopWithServer<S extends Server>(server: S, container: AwilixContainer, options?: StopOptions): S {
  if (server === null || typeof server !== 'object' || typeof server.once !== 'function') {
    throw new InvalidArgumentError({
      argument: 'the server given to stopWithServer',
      value: server,
      expected: 'an HTTP server (what app.listen() returns)',
    })
  }
  const manager = resolveManager(container, 'the container given to stopWithServer')
  server.once('close', () => {
    manager.stop(options).catch(() => {})
  })
  return server
}
