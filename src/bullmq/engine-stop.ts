import { afterAtLeast, systemClock } from '../clock'
import { ManagerStoppedError } from '../errors'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown } from '../policy/error-info'
import type { StopOptions, StopResult } from '../types'
import type { AttemptRunner } from './attempt-runner'
import type { JobReader, KitQueue } from './job-reader'
import type { QueueScopeEvents } from './queue-events'
import type { RedisConnections } from './redis-connections'
import type { EngineWaiters } from './waiters'
import type { KitWorker } from './worker-wiring'

/** How long stop waits, after aborting, for the attempts that honour their signal to end, in ms. */
const ABORT_GRACE_MS = 200

/** The longest stop waits for one closing step (a connection that never came up may never close). */
const STEP_TIMEOUT_MS = 5000

/** What stop closes, in order. */
export interface EngineStopParts {
  readonly logger: JobLogger
  readonly runner: AttemptRunner
  readonly worker: KitWorker | undefined
  readonly connections: RedisConnections
  readonly reader: JobReader
  readonly queue: KitQueue
  readonly waiters: EngineWaiters
  readonly queueEvents: QueueScopeEvents
  /** Called once the waiters are rejected, before the connections close. */
  readonly done: () => void
}

/** The error of a wait that stop ended with the job (or the queue) still pending. */
export function leftPending(): ManagerStoppedError {
  return new ManagerStoppedError('left-pending')
}

/**
 * The BullMQ engine's stop: the worker paused, running attempts drained (up to the timeout) or
 * aborted, the waiters rejected, then the worker, event reader, queue and connection closed. Each
 * step runs in its own try and within {@link STEP_TIMEOUT_MS}: a failure in one must not leave the
 * others undone.
 */
export class EngineStop {
  readonly #parts: EngineStopParts
  #endDrain: (() => void) | undefined

  constructor(parts: EngineStopParts) {
    this.#parts = parts
  }

  /** Ends the drain's wait now, if one is under way (a second Ctrl-C). */
  endDrain(): void {
    this.#endDrain?.()
  }

  /** Runs the stop once; resolves with what it left behind. */
  async run({ drain = true, timeoutMs = 30_000 }: StopOptions): Promise<StopResult> {
    const { runner, worker, connections, reader, queue, waiters, queueEvents, logger } = this.#parts
    runner.halt()
    connections.closing()
    let running = 0
    if (worker !== undefined) {
      await this.#step('pausing the worker', () => worker.pause(true))
      if (drain && runner.active > 0) {
        await new Promise<void>((resolve) => {
          // Never early: the attempts get the whole timeoutMs, as on the memory engine's clock.
          const cancel = afterAtLeast(systemClock, timeoutMs, resolve)
          this.#endDrain = () => {
            cancel()
            resolve()
          }
          void runner.whenIdle().then(this.#endDrain)
        })
        this.#endDrain = undefined
      }
      if (runner.active > 0) {
        runner.abortAll(() => new ManagerStoppedError('interrupted'))
        await Promise.race([runner.whenIdle(), sleep(ABORT_GRACE_MS)])
      }
      running = runner.active
      // Forced when attempts ignore their signal: their jobs stay active in Redis until their lock
      // expires, then another worker runs them again (at-least-once).
      await this.#step('closing the worker', () => worker.close(running > 0))
    }
    let pending = 0
    await this.#step('counting the jobs left pending', async () => {
      pending = (await reader.counts()).pending
    })
    waiters.rejectAll(leftPending)
    this.#parts.done()
    await this.#step('closing the queue events', () => queueEvents.close())
    await this.#step('closing the queue', () => queue.close())
    await this.#step('closing the connection', () => connections.close())
    const interrupted = runner.interrupted
    if (running > 0) {
      safeLog(
        logger,
        'warn',
        `Background jobs stopped with ${running} attempts still running (they ignored their signal); their jobs stay running in Redis until their lock expires, then a worker runs them again`,
        { pending, running, interrupted },
      )
    }
    return { pending, running, interrupted }
  }

  /** Runs one closing step, logging (not throwing) its failure, and going on after STEP_TIMEOUT_MS. */
  async #step(what: string, step: () => Promise<unknown>): Promise<void> {
    const logger = this.#parts.logger
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STEP_TIMEOUT_MS)
    })
    try {
      const result = await Promise.race([step().then(() => 'done' as const), late])
      if (result === 'late') {
        safeLog(logger, 'warn', `Stopping the BullMQ engine: ${what} took over ${STEP_TIMEOUT_MS} ms; going on`)
      }
    } catch (error) {
      safeLog(logger, 'error', `Stopping the BullMQ engine: ${what} failed`, { error: describeThrown(error) })
    } finally {
      clearTimeout(timer)
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
