import type { Server } from 'node:http'
import { asValue, type AwilixContainer } from 'awilix'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { BackgroundJobManager } from '../background-job-manager'
import { MANAGER_REGISTRATION } from '../background-jobs'
import { BackgroundJobsNotBuiltError, InvalidOptionError, describeValue } from '../errors'

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
 * response finishes or the connection closes. It also stops the manager (draining running jobs)
 * when the HTTP server that served the request closes.
 */
export function backgroundJobsMiddleware(container: AwilixContainer): RequestHandler {
  if (container === null || typeof container !== 'object' || typeof container.createScope !== 'function') {
    throw new InvalidOptionError(`Expected an awilix container, got ${describeValue(container)}. Pass the container you called addBackgroundJobs(container, ...) on.`)
  }
  if (!container.hasRegistration(MANAGER_REGISTRATION)) {
    throw new BackgroundJobsNotBuiltError('backgroundJobsMiddleware(container) was given a container without the background-job service. Call addBackgroundJobs(container, o => o.useInMemoryStore()) first.')
  }
  const manager = container.resolve<BackgroundJobManager>(MANAGER_REGISTRATION)
  const hookedServers = new WeakSet<Server>()

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
    const server = (req.socket as { server?: Server }).server
    if (server !== undefined && !hookedServers.has(server)) {
      hookedServers.add(server)
      server.once('close', () => {
        manager.stop().catch(() => {})
      })
    }
    next()
  }
}
