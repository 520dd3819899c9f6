import type { AwilixContainer } from 'awilix'
import type { Application } from 'express'
import type { BackgroundJobManager, JobLogger } from 'express-background-jobs'

/**
 * Starts `app` on PORT (default 3000) and shuts down cleanly on SIGTERM or SIGINT: stop taking
 * requests, let running jobs finish (up to 10 s), dispose the container, then let the process end.
 * `pendingFate` says what becomes of jobs still pending: `lost` in memory, `left in Redis` on BullMQ.
 */
export function serve(app: Application, container: AwilixContainer, name: string, pendingFate = 'lost'): void {
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
    container
      .resolve<BackgroundJobManager>('backgroundJobManager')
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
