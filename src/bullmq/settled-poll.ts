import type { JobReader, QueueAccess } from './job-reader'
import type { PollResult } from './waiters'

/** What the waiters find of `ids`: one state read per job, then snapshots of those settled. */
export async function pollSettled(
  access: QueueAccess,
  reader: JobReader,
  ids: readonly string[],
): Promise<Map<string, PollResult>> {
  const { queue, client, cancelled: store } = access
  const states = await Promise.all(ids.map((id) => queue.getJobState(id)))
  const unknown = ids.filter((_id, i) => states[i] === 'unknown')
  const cancelled = await store.which(client, unknown)
  const found = new Map<string, PollResult>()
  await Promise.all(
    ids.map(async (id, i) => {
      const state = states[i]
      if (state === 'completed' || state === 'failed' || cancelled.has(id)) {
        found.set(id, (await reader.get(id)) ?? 'missing')
      } else if (state === 'unknown') {
        found.set(id, 'missing')
      }
    }),
  )
  return found
}
