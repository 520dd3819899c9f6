/** Settled once: `then` on it runs its callback at the next microtask checkpoint. */
const SETTLED: Promise<void> = Promise.resolve()

/**
 * Calls `callback` at the next microtask checkpoint, once the code running now gives way: what
 * the caches that hold for one run of code (TurnClock's reading, the job registry's container
 * checks) use to expire.
 *
 * A promise reaction, not `queueMicrotask`: Node's queueMicrotask makes an async resource per
 * call, which cost more than the work these caches save for a caller awaiting each call.
 */
export function atNextCheckpoint(callback: () => void): void {
  void SETTLED.then(callback)
}
