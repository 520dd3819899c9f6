import type { RedisOptions as BullmqRedisOptions } from 'bullmq'
import type { Redis, RedisOptions } from 'ioredis'
import { BackendUnavailableError } from '../errors'
import type { BullmqModules } from './peer-dependencies'

/** How long the first command waits for the producer's first connection, in ms. */
const FIRST_CONNECT_WAIT_MS = 1000

/**
 * The wait before the n-th reconnection attempt, in ms: growing from 500 ms to 2 s. Short, so a
 * worker is back soon after Redis, and a stop while Redis is down ends soon.
 */
function reconnectDelay(times: number): number {
  return Math.max(Math.min(Math.exp(times), 2000), 500)
}

/** Messages and codes of ioredis errors that mean "Redis cannot be reached now". */
const UNAVAILABLE =
  /Stream isn't writeable|enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|Reached the max retries|LOADING|MASTERDOWN/

/**
 * The connections of one engine to Redis, and the mapping of connection failures to
 * {@link BackendUnavailableError}. The producer connection (enqueue, inspection, control) has
 * `enableOfflineQueue: false`, so a command while Redis is unreachable fails at once instead of
 * waiting in ioredis's queue; the worker's and the event reader's connections are BullMQ's own,
 * with `maxRetriesPerRequest: null`, and wait and reconnect.
 */
export class RedisConnections {
  /** The producer's client: enqueue, the admin's reads and the control operations. */
  readonly producer: Redis
  /** What BullMQ's worker and event reader connect with. */
  readonly blockingOptions: BullmqRedisOptions
  /** Where Redis is, for messages: `Redis at 127.0.0.1:6379` (never the password). */
  readonly description: string
  #wasReady = false
  /** Whether one wait for the first connection already ran out: later calls fail at once. */
  #hasWaitedInVain = false
  /** The wait for the first connection under way, shared by every caller ({@link #firstConnection}). */
  #firstWait: Promise<boolean> | undefined
  #isClosing = false

  constructor(modules: BullmqModules, connection: RedisOptions | string) {
    const given: RedisOptions = typeof connection === 'string' ? {} : { ...connection }
    const ownStrategy = given.retryStrategy
    // Reconnects until stop; then a connection still trying ends, so closing it does not wait forever.
    const retryStrategy = (times: number): number | null => {
      if (this.#isClosing) return null
      if (typeof ownStrategy !== 'function') return reconnectDelay(times)
      const delay = ownStrategy(times)
      return typeof delay === 'number' ? delay : null
    }
    const options: RedisOptions = { ...given, retryStrategy }
    // ioredis's options as BullMQ's looser type (its `retryStrategy` may return void, ioredis's not).
    this.blockingOptions = {
      ...(typeof connection === 'string' ? { url: connection } : {}),
      ...options,
      maxRetriesPerRequest: null,
    } as BullmqRedisOptions
    const producerOptions: RedisOptions = { ...options, enableOfflineQueue: false, maxRetriesPerRequest: 1 }
    this.producer =
      typeof connection === 'string'
        ? new modules.Redis(connection, producerOptions)
        : new modules.Redis(producerOptions)
    const { host, port, path } = this.producer.options
    this.description = path !== undefined && path !== '' ? `Redis at ${path}` : `Redis at ${host}:${port}`
    this.producer.on('ready', () => {
      this.#wasReady = true
    })
    // ioredis logs unhandled connection errors itself; the engine reports them per call instead.
    this.producer.on('error', () => {})
  }

  /**
   * Resolves when the producer can send a command. The first connection is waited for briefly;
   * after that, a connection that is down fails at once, so a caller is told within a second.
   * @throws BackendUnavailableError naming `operation`
   */
  async ready(operation: string): Promise<void> {
    const client = this.producer
    if (client.status === 'ready') return
    if (this.#wasReady || this.#hasWaitedInVain || client.status === 'end' || client.status === 'close') {
      throw this.unavailable(operation, `the connection is ${client.status}`)
    }
    if (!(await this.#firstConnection())) {
      throw this.unavailable(operation, `no connection within ${FIRST_CONNECT_WAIT_MS} ms`)
    }
  }

  /**
   * Runs `call` once the producer is ready; a connection failure during it becomes a
   * {@link BackendUnavailableError}, any other error is thrown as it is.
   */
  run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    // Not `async`, and no wait when the connection is up: every enqueue comes through here (B2).
    if (this.producer.status !== 'ready') return this.ready(operation).then(() => this.run(operation, call))
    let running: Promise<T>
    try {
      running = call()
    } catch (error) {
      return Promise.reject(this.#failure(operation, error))
    }
    return running.then(undefined, (error: unknown) => {
      throw this.#failure(operation, error)
    })
  }

  /** Whether `error` says that Redis could not be reached. */
  isUnavailable(error: unknown): boolean {
    if (error instanceof BackendUnavailableError) return true
    const { name, message, code } = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown }
    return (
      name === 'MaxRetriesPerRequestError' ||
      (typeof message === 'string' && UNAVAILABLE.test(message)) ||
      (typeof code === 'string' && UNAVAILABLE.test(code))
    )
  }

  /** What `operation` rejects with after `error`: the named error when Redis could not be reached. */
  #failure(operation: string, error: unknown): unknown {
    return this.isUnavailable(error) ? this.unavailable(operation, reasonOf(error), error) : error
  }

  /**
   * One wait for the first connection, whoever asks meanwhile: true once it is ready, false after
   * {@link FIRST_CONNECT_WAIT_MS}. Shared, so that a burst of enqueues at start-up adds one
   * listener to the client, not one each (Node warns past ten).
   */
  #firstConnection(): Promise<boolean> {
    this.#firstWait ??= new Promise<boolean>((resolve) => {
      const client = this.producer
      const done = (isReady: boolean): void => {
        clearTimeout(timer)
        client.off('ready', onReady)
        this.#firstWait = undefined
        if (!isReady) this.#hasWaitedInVain = true
        resolve(isReady)
      }
      const onReady = (): void => done(true)
      const timer = setTimeout(() => done(false), FIRST_CONNECT_WAIT_MS)
      client.on('ready', onReady)
    })
    return this.#firstWait
  }

  /** The error for `operation` failing because Redis is unavailable. */
  unavailable(operation: string, reason: string, cause?: unknown): BackendUnavailableError {
    return new BackendUnavailableError({ operation, backend: this.description, reason, cause })
  }

  /** Stop has begun: connections still trying to connect give up at their next attempt. */
  closing(): void {
    this.#isClosing = true
  }

  /** Closes the producer's connection (waiting for replies to commands already sent). */
  async close(): Promise<void> {
    this.#isClosing = true
    if (this.producer.status === 'end') return
    if (this.producer.status === 'ready') {
      try {
        await this.producer.quit()
        return
      } catch {
        // Fall through to a hard disconnect.
      }
    }
    this.producer.disconnect()
  }
}

function reasonOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message
  return typeof message === 'string' ? message : 'the connection failed'
}
