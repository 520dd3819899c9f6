import type { AwilixContainer } from 'awilix'
import type { Application } from 'express'
import type { BackgroundJobManager, JobLogger } from 'express-background-jobs'

/**
 * Starts `app` on PORT (default 3000) and shuts down cleanly on SIGTERM or SIGINT: stop taking
 * requests, let running jobs finish (up to 10 s), dispose the container, then let the process end.
 * The stop line says what becomes of jobs still pending, from the engine's `capabilities.durable`:
 * left in the store (Redis, on BullMQ) or lost with the process (in memory).
 */
export function serve(app: Application, container: AwilixContainer, name: string): void {
  const logger = container.resolve<JobLogger>('logger')
  const port = Number(process.env.PORT ?? 3000)
  const server = app.listen(port, () => {
    const address = server.address()
    const actual = typeof address === 'object' && address !== null ? address.port : port
    logger.info(`${name} listening on http://localhost:${actual} (admin: /admin/jobs)`)
  })
  let isClosing = false
  const shutdown = (signal: string): void => {
    if (isClosing) return
    isClosing = true
    logger.info(`${signal} received: shutting down`)
    server.close()
    server.closeIdleConnections()
    const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
    const pendingFate = manager.capabilities.durable ? 'left in Redis' : 'lost'
    manager
      .stop({ drain: true, timeoutMs: 10_000 })
      .then(({ pending, running }) => {
        logger.info(`Background jobs stopped (${pending} pending ${pendingFate}, ${running} still running)`)
        return container.dispose()
      })
      .catch((error: unknown) => {
        logger.error(`Shutdown failed: ${String(error)}`)
        process.exitCode = 1
      })
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}
