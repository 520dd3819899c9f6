import type { JobsOptions, Queue } from 'bullmq'
import { Redis } from 'ioredis'
import type { BenchArgs } from './support'

/** The Redis the BullMQ workloads use: `REDIS_URL`, else the machine's on 127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Every key a BullMQ workload writes starts with this, followed by the run's own part. */
export const BENCH_PREFIX_ROOT = 'ebj-bench'

/** The queue every BullMQ workload uses, inside its run's prefix. */
export const BENCH_QUEUE = 'bench'

/**
 * A key prefix of its own for one workload run (`ebj-bench-<runner pid>-<pid>-<ms>`), so runs never
 * see each other's jobs, {@link deleteKeys} removes only what the run wrote, and the runner can
 * sweep what a crashed run of its own left ({@link deleteLeftovers}).
 */
export function benchPrefix(): string {
  return `${BENCH_PREFIX_ROOT}-${process.ppid}-${process.pid}-${Date.now()}`
}

/** Deletes the keys of this runner's workload runs (its children's prefixes) still in Redis; how many. */
export async function deleteLeftovers(redis: Redis): Promise<number> {
  return deleteMatching(redis, `${BENCH_PREFIX_ROOT}-${process.pid}-*`)
}

/** Connection options for BullMQ (`Queue`, `Worker`) and the kit's engine alike. */
export function benchConnection(): { url: string; maxRetriesPerRequest: null } {
  // Workers need maxRetriesPerRequest: null (BullMQ warns otherwise); producers are not hurt by it.
  return { url: REDIS_URL, maxRetriesPerRequest: null }
}

/** A plain ioredis client for the bench's own reads and cleanup. */
export function benchRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true })
}

/** Deletes every key under `prefix:` (SCAN + UNLINK, never FLUSHDB: the Redis may be shared); how many. */
export function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  return deleteMatching(redis, `${prefix}:*`)
}

async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) deleted += await redis.unlink(...keys)
  } while (cursor !== '0')
  return deleted
}

/** Redis's version and `hz` (how often it handles timeouts, which bounds delayed-job precision). */
export async function redisFacts(redis: Redis): Promise<{ version: string; hz: number }> {
  const info = await redis.info('server')
  const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
  return { version: field('redis_version') ?? 'unknown', hz: Number(field('hz') ?? NaN) }
}

/**
 * Why the BullMQ workloads cannot run (no Redis answering at {@link REDIS_URL} within a second),
 * or undefined when they can.
 */
export async function redisMissing(): Promise<string | undefined> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
    return undefined
  } catch (error) {
    return `no Redis answers at ${REDIS_URL} (${error instanceof Error ? error.message : 'unknown error'})`
  } finally {
    redis.disconnect()
  }
}

/** Resolves once `done()` is true, checking every `everyMs`; rejects after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs: number, what: string, everyMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/**
 * How many completed jobs the raw-BullMQ baselines keep (`removeOnComplete: { count }`): the
 * kit's default `keepCompleted`, so both variants trim the completed set alike.
 */
export const RAW_KEEP_COMPLETED = 1000

/**
 * The options of every raw-baseline job: those the kit's engine gives each job by default, in
 * BullMQ's own terms, so both variants store, send and parse the same job: 11 attempts (the
 * kit's 10 retries), an exponential backoff from 60 s (the kit's default policy; the kit's is a
 * custom strategy of the same shape), and the kit's keep bounds (`keepCompleted` 1000,
 * `keepFailed` 10,000). No bench job fails, so the retry policy is stored, never used.
 */
export function rawJobOptions(): JobsOptions {
  return {
    attempts: 11,
    backoff: { type: 'exponential', delay: 60_000 },
    removeOnComplete: { count: RAW_KEEP_COMPLETED },
    removeOnFail: { count: 10_000 },
  }
}

/**
 * The raw baselines' enqueue of no-op job `i`: one `Queue.add`, as the kit's `enqueue` is one
 * call per job (as an application serving requests enqueues; `addBulk` and `enqueueMany` would time a different producer).
 */
export function rawAdd(queue: Queue<BenchArgs>, i: number): Promise<unknown> {
  return queue.add('NoopJob', { i }, rawJobOptions())
}

/** CPU time (user + system) this process spent since `since` (a `process.cpuUsage()`), in µs. */
export function cpuSince(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since)
  return user + system
}
