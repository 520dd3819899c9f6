/**
 * Limits the kit enforces in more than one place, named once. Each says why it is what it is.
 */

/** The longest delay Node's `setTimeout` honours (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** The largest time a `Date` can hold, in ms since the epoch: no job can be due later. */
export const MAX_TIME_MS = 8.64e15

/** The longest job name, schedule id or page title accepted. */
export const MAX_NAME_LENGTH = 200

/**
 * The longest job id accepted. Ids are opaque strings an engine makes; the longest the kit's
 * engines make is a BullMQ schedule run's, `repeat:<schedule id>:<13-digit time>`: 221 characters
 * for a schedule id of {@link MAX_NAME_LENGTH}.
 */
export const MAX_ID_LENGTH = 256

/** The most jobs one page of a listing may hold. */
export const MAX_PAGE_SIZE = 1000

/**
 * The deepest `offset` the admin API lists from. An engine finds a page by walking past the jobs
 * before it (the memory engine's pending jobs are not indexed by position), so a deeper page of a
 * million pending jobs would block the event loop for tens of milliseconds per request.
 */
export const MAX_LIST_OFFSET = 10_000

/**
 * Listeners of one job event past which the manager warns, once per event, as EventEmitter does
 * past its `maxListeners`: a listener added per request or per job is a leak, and every listener
 * runs for every job.
 */
export const MAX_LISTENERS_PER_EVENT = 100

/** The most retries a retry policy may allow. */
export const MAX_RETRIES = 1000
