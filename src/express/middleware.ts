import type { Server } from 'node:http'
import { asValue, type AwilixContainer } from 'awilix'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { BackgroundJobManager } from '../background-job-manager'
import { resolveManager } from '../background-jobs'
import { InvalidArgumentError } from '../errors'
import type { StopOptions } from '../types'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request's awilix scope (with `req` and `res` registered); disposed when the response ends. */
      container: AwilixContainer
      /** The application's background-job manager (the root container's singleton). */
      backgroundJobs: BackgroundJobManager
    }
  }
}

/**
 * Express middleware that opens an awilix scope per request (`req.container`, with `req` and `res`
 * registered in it), attaches the manager as `req.backgroundJobs`, and disposes the scope when the
 * response finishes or the connection closes. To stop the manager with the HTTP server, call
 * {@link stopWithServer}.
 */
export function backgroundJobsMiddleware(container: AwilixContainer): RequestHandler {
  const manager = resolveManager(container, 'the container given to backgroundJobsMiddleware')

  return function backgroundJobsMiddleware(req: Request, res: Response, next: NextFunction): void {
    const scope = container.createScope()
    scope.register({ req: asValue(req), res: asValue(res) })
    req.container = scope
    req.backgroundJobs = manager
    let isDisposed = false
    const dispose = (): void => {
      if (isDisposed) return
      isDisposed = true
      // A failing disposer belongs to the app's services; it must not crash the server.
      scope.dispose().catch(() => {})
    }
    res.once('finish', dispose)
    res.once('close', dispose)
    next()
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
