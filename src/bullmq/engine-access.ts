import type { ResolvedBullmqEngineOptions } from './bullmq-options'
import type { CancelledStore } from './cancelled-store'
import { JobReader, type KitQueue, type QueueAccess } from './job-reader'
import type { BullmqModules } from './peer-dependencies'
import { RedisConnections } from './redis-connections'
import { kitRepeatStrategy } from './schedules'

/** What {@link EngineAccess} is built with. */
export interface EngineAccessParts {
  readonly modules: BullmqModules
  readonly options: ResolvedBullmqEngineOptions
  readonly cancelled: CancelledStore
  /** Whether stop has begun: calls from then on open a connection of their own. */
  readonly isStopped: () => boolean
  /** Told the queue's connection errors. */
  readonly onQueueError: (error: unknown) => void
}

/**
 * The engine's way to Redis: its connections, its queue and stores, its reader, and
 * {@link EngineAccess.run}, which every inspection and control goes through.
 */
export class EngineAccess {
  readonly #parts: EngineAccessParts
  readonly connections: RedisConnections
  readonly access: QueueAccess
  readonly reader: JobReader

  constructor(parts: EngineAccessParts) {
    this.#parts = parts
    this.connections = new RedisConnections(parts.modules, parts.options.connection)
    this.access = this.#open(this.connections)
    this.reader = new JobReader(this.access)
  }

  /**
   * Runs `call` on Redis. Before stop, on the engine's connection; after stop (which closed it),
   * on a connection opened for this call and closed after it, so that a stopped engine can still
   * be inspected and controlled, and leaves nothing open that would keep the process alive.
   * @throws BackendUnavailableError when Redis cannot be reached
   */
  async run<T>(operation: string, call: (reader: JobReader, access: QueueAccess) => Promise<T>): Promise<T> {
    if (!this.#parts.isStopped()) return this.connections.run(operation, () => call(this.reader, this.access))
    const connections = new RedisConnections(this.#parts.modules, this.#parts.options.connection)
    const access = this.#open(connections)
    try {
      return await connections.run(operation, () => call(new JobReader(access), access))
    } finally {
      await access.queue.close().catch(() => {})
      await connections.close()
    }
  }

  /** The queue and stores over `connections`. */
  #open(connections: RedisConnections): QueueAccess {
    const { modules, options, cancelled, onQueueError } = this.#parts
    const queue: KitQueue = new modules.bullmq.Queue<unknown, unknown, string>(options.queueName, {
      connection: connections.producer,
      prefix: options.prefix,
      settings: { repeatStrategy: kitRepeatStrategy },
    })
    queue.on('error', onQueueError)
    return { queue, client: connections.producer, cancelled }
  }
}
