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

/** The life of one request scope: open while the response runs or a handler holds it. */
interface ScopeLifetime {
  holds: number
  hasEnded: boolean
  isDisposed: boolean
  /** Disposes the scope if the response has ended and nothing holds it. */
  settle(): void
}

const lifetimes = new WeakMap<Request, ScopeLifetime>()

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
  const lifetime = lifetimes.get(req)
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
 * registered in it) and attaches the manager as `req.backgroundJobs`. The scope is disposed once
 * the response has ended (finished, or the connection closed) and no handler holds it
 * ({@link holdRequestScope}; `mapServices` routes hold it while their method runs). From then on
 * resolving anything through the scope, or its cradle, throws {@link RequestScopeDisposedError}
 * instead of making an instance nobody disposes. A disposer that fails is logged. To stop the
 * manager with the HTTP server, call {@link stopWithServer}.
 */
export function backgroundJobsMiddleware(container: AwilixContainer): RequestHandler {
  const manager = resolveManager(container, 'the container given to backgroundJobsMiddleware')

  return function backgroundJobsMiddleware(req: Request, res: Response, next: NextFunction): void {
    const scope = container.createScope()
    scope.register({ req: asValue(req), res: asValue(res) })
    req.container = scope
    req.backgroundJobs = manager
    const lifetime: ScopeLifetime = {
      holds: 0,
      hasEnded: false,
      isDisposed: false,
      settle() {
        if (!lifetime.hasEnded || lifetime.holds > 0 || lifetime.isDisposed) return
        lifetime.isDisposed = true
        scope
          .dispose()
          .catch((error: unknown) => {
            // A failing disposer belongs to the app's services; it must not crash the server.
            reportDisposeFailure(container, req, error)
          })
          // Closed once the disposers ran, since a disposer may still read its dependencies.
          .finally(() => closeScope(scope))
      },
    }
    lifetimes.set(req, lifetime)
    const ended = (): void => {
      lifetime.hasEnded = true
      lifetime.settle()
    }
    res.once('finish', ended)
    res.once('close', ended)
    next()
  }
}

/**
 * One resolver per registration name that throws {@link RequestScopeDisposedError}, shared by all
 * scopes: a plain `{ resolve }` object, since `asFunction` costs microseconds per call and a scope
 * is closed on every request.
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
