import type { Redis } from 'ioredis'
import type { JobErrorInfo, JobInfo, JobProgress } from '../types'
import { reviveAttempt } from './job-reports'

/**
 * The cancelled jobs, which BullMQ has no state for: the engine removes a cancelled job from
 * BullMQ and keeps its last snapshot here, in two keys of its own beside the queue's
 * (`<prefix>:<queue>:ebj:cancelled`, a sorted set of ids by cancel time, and `...:data`, a hash of
 * their snapshots as JSON), trimmed to `keepCancelled`, oldest first.
 */
export class CancelledStore {
  readonly #order: string
  readonly #data: string
  readonly #keep: number

  /** @param keyBase `<prefix>:<queueName>`, the start of every key of the queue */
  constructor(keyBase: string, keep: number) {
    this.#order = `${keyBase}:ebj:cancelled`
    this.#data = `${keyBase}:ebj:cancelled:data`
    this.#keep = keep
  }

  /** Keeps `info` (a cancelled job's snapshot) and forgets the oldest past `keepCancelled`. */
  async add(client: Redis, info: JobInfo): Promise<void> {
    const at = info.finishedAt?.getTime() ?? Date.now()
    if (this.#keep === 0) return
    await client.multi().zadd(this.#order, at, info.id).hset(this.#data, info.id, JSON.stringify(info)).exec()
    const stale = await client.zrange(this.#order, 0, -(this.#keep + 1))
    if (stale.length > 0) {
      await client
        .multi()
        .zrem(this.#order, ...stale)
        .hdel(this.#data, ...stale)
        .exec()
    }
  }

  /** The snapshot of cancelled job `id`, or undefined when none is kept. */
  async get(client: Redis, id: string): Promise<JobInfo | undefined> {
    const text = await client.hget(this.#data, id)
    return text === null ? undefined : revive(text)
  }

  /** Forgets cancelled job `id`; false when it was not kept. */
  async delete(client: Redis, id: string): Promise<boolean> {
    const [removed] = ((await client.multi().zrem(this.#order, id).hdel(this.#data, id).exec()) ?? []) as [
      [Error | null, number] | undefined,
    ]
    return (removed?.[1] ?? 0) > 0
  }

  /** How many cancelled jobs are kept. */
  count(client: Redis): Promise<number> {
    return client.zcard(this.#order)
  }

  /** One page of the cancelled jobs, newest first. */
  async list(client: Redis, offset: number, limit: number): Promise<JobInfo[]> {
    const ids = await client.zrevrange(this.#order, offset, offset + limit - 1)
    if (ids.length === 0) return []
    const texts = await client.hmget(this.#data, ...ids)
    return texts.filter((text): text is string => text !== null).map(revive)
  }

  /** Which of `ids` are kept as cancelled (one round trip). */
  async which(client: Redis, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const scores = await client.zmscore(this.#order, ...ids)
    return new Set(ids.filter((_id, i) => scores[i] !== null))
  }
}

/** The snapshot `JSON.stringify` stored, with its dates back as dates. */
function revive(text: string): JobInfo {
  const raw = JSON.parse(text) as Record<string, unknown>
  const date = (value: unknown): Date => new Date(value as string)
  return {
    id: raw.id as string,
    name: raw.name as string,
    args: raw.args,
    state: 'cancelled',
    attempts: raw.attempts as number,
    maxAttempts: raw.maxAttempts as number,
    createdAt: date(raw.createdAt),
    runAt: date(raw.runAt),
    ...(raw.lastRunAt !== undefined && { lastRunAt: date(raw.lastRunAt) }),
    ...(raw.finishedAt !== undefined && { finishedAt: date(raw.finishedAt) }),
    ...(raw.lastError !== undefined && { lastError: raw.lastError as JobErrorInfo }),
    ...(raw.scheduleId !== undefined && { scheduleId: raw.scheduleId as string }),
    ...(raw.progress !== undefined && { progress: raw.progress as JobProgress }),
    // Kept by versions that stored neither: read as none.
    logs: ((raw.logs ?? []) as { at: string; message: string }[]).map((line) => ({
      at: date(line.at),
      message: line.message,
    })),
    history: ((raw.history ?? []) as Record<string, unknown>[]).map(reviveAttempt),
  }
}
