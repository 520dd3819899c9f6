import { safeLog, type JobLogger } from '../logger'
import { describeThrown } from '../policy/error-info'

/**
 * Logs the connection errors of the engine's parts (queue, worker, waiters) once per outage: the
 * same message from the same part is not logged again until that part is ready again.
 */
export class ConnectionErrorReporter {
  readonly #logger: JobLogger
  /** The last connection error reported per part. */
  readonly #reported = new Map<string, string>()

  constructor(logger: JobLogger) {
    this.#logger = logger
  }

  /** Logs `error` of `part`, unless it is the one last logged for it. */
  report(part: string, error: unknown): void {
    const message = describeThrown(error)
    if (this.#reported.get(part) === message) return
    this.#reported.set(part, message)
    safeLog(this.#logger, 'warn', `BullMQ ${part}: ${message} (the engine reconnects by itself)`, {
      error: message,
    })
  }

  /** `part` is connected again: its next error is logged. */
  recovered(part: string): void {
    this.#reported.delete(part)
  }
}
