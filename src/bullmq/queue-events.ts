import type { QueueEvents } from 'bullmq'
import { JobEventHub, type JobEventListener } from '../job-events'
import { safeLog, type JobLogger } from '../logger'
import { describeThrown } from '../policy/error-info'
import type { JobEventName, JobInfo } from '../types'

/** What the queue-scope events are built with. */
export interface QueueScopeParts {
  readonly logger: JobLogger
  /** Opens BullMQ's event reader (one blocking connection), when the first listener is added. */
  readonly open: () => QueueEvents
  /** The job's snapshot now; undefined when it is gone. */
  readonly snapshot: (id: string) => Promise<JobInfo | undefined>
  /** Whether job `id` is kept as cancelled (BullMQ only saw it removed). */
  readonly isCancelled: (id: string) => Promise<boolean>
}

/**
 * The `{ scope: 'queue' }` events: every process's transitions on the queue, read from BullMQ's
 * event stream (`QueueEvents`) and told with the job's snapshot read when the event arrives.
 * Best-effort, as the stream is: trimmed to BullMQ's `maxLenEvents`, and blind while it connects.
 * Events are told in the order they arrive, one snapshot read at a time.
 */
export class QueueScopeEvents {
  readonly #parts: QueueScopeParts
  readonly #hub: JobEventHub
  #reader: QueueEvents | undefined
  #chain: Promise<void> = Promise.resolve()
  #isClosed = false

  constructor(parts: QueueScopeParts) {
    this.#parts = parts
    this.#hub = new JobEventHub(parts.logger)
  }

  on<E extends JobEventName>(event: E, listener: JobEventListener<E>): () => void {
    if (!this.#isClosed) this.#reader ??= this.#open()
    return this.#hub.on(event, listener)
  }

  off<E extends JobEventName>(event: E, listener: JobEventListener<E>): void {
    this.#hub.off(event, listener)
  }

  /** Stops reading the stream and closes its connection. */
  async close(): Promise<void> {
    this.#isClosed = true
    const reader = this.#reader
    this.#reader = undefined
    await reader?.close()
    await this.#chain
  }

  #open(): QueueEvents {
    const reader = this.#parts.open()
    reader.on('error', (error: unknown) =>
      safeLog(this.#parts.logger, 'warn', `BullMQ queue events: ${describeThrown(error)} (it reconnects by itself)`),
    )
    reader.on('added', ({ jobId }) => this.#tell('enqueued', jobId))
    reader.on('active', ({ jobId }) => this.#tell('started', jobId))
    reader.on('completed', ({ jobId }) => this.#tell('completed', jobId))
    // BullMQ's stream says `failed` only when a job failed for good; a retry shows as delayed, or
    // as waiting again straight from failed.
    reader.on('failed', ({ jobId }) => this.#tell('failed', jobId))
    reader.on('delayed', ({ jobId }) => this.#tell('retrying', jobId, (job) => job.attempts > 0))
    reader.on('waiting', ({ jobId, prev }) => {
      if (prev === 'failed') this.#tell('retrying', jobId, (job) => job.attempts > 0)
    })
    reader.on('removed', ({ jobId }) => this.#tell('cancelled', jobId, undefined, true))
    return reader
  }

  /** Tells the listeners of `event` about job `id`, once its snapshot is read (and passes `when`). */
  #tell(event: JobEventName, id: string, when?: (job: JobInfo) => boolean, isRemoval = false): void {
    if (!this.#hub.has(event)) return
    this.#chain = this.#chain.then(async () => {
      try {
        if (isRemoval && !(await this.#parts.isCancelled(id))) return
        const job = await this.#parts.snapshot(id)
        if (job === undefined || (when !== undefined && !when(job))) return
        this.#hub.emit(event, () => job)
      } catch (error) {
        safeLog(this.#parts.logger, 'warn', `Reading job ${id} for a queue "${event}" event failed`, {
          error: describeThrown(error),
        })
      }
    })
  }
}
