import { Redis } from 'ioredis'

/**
 * Redis for the tests: `REDIS_URL` when set, else the Redis the project's machines run on
 * 127.0.0.1:6379. Every test uses a key prefix of its own ({@link uniquePrefix}) and deletes
 * only keys under it ({@link deleteKeys}); never FLUSHDB or FLUSHALL, since the Redis may be shared.
 */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** How long the reachability check waits for a PONG, in ms. */
const PING_TIMEOUT_MS = 1500

let reachability: Promise<string | undefined> | undefined

/**
 * Why Redis cannot be used, or undefined when it answers PING: for `requireService(this,
 * 'REDIS', await redisUnavailable())`. Checked once per process.
 */
export function redisUnavailable(): Promise<string | undefined> {
  reachability ??= ping()
  return reachability
}

async function ping(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: PING_TIMEOUT_MS,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (error) {
    return `no Redis answers at ${shownUrl()} (${(error as Error).message}); set REDIS_URL or start redis-server`
  } finally {
    client.disconnect()
  }
}

/** The URL without its password, for messages. */
export function shownUrl(): string {
  try {
    const url = new URL(REDIS_URL)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    return '(an unparsable REDIS_URL)'
  }
}

let counter = 0

/**
 * A key prefix of its own for one test: `ebj-test-<pid>-<n>`, so tests of several processes and
 * runs on one Redis never see each other's keys.
 */
export function uniquePrefix(): string {
  counter += 1
  return `ebj-test-${process.pid}-${counter}`
}

/** A client for the tests' own reads and cleanup. Close it with `disconnect()`. */
export function testClient(): Redis {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  return client
}

/**
 * Deletes every key under `prefix` (`<prefix>:*`) with SCAN and DEL, and nothing else; resolves
 * with how many were deleted.
 */
export async function deleteKeys(prefix: string): Promise<number> {
  if (!/^ebj-test-[\w-]+$/.test(prefix)) throw new Error(`Refusing to delete keys under a non-test prefix: ${prefix}`)
  const client = testClient()
  let deleted = 0
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) deleted += await client.del(...keys)
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
  return deleted
}
