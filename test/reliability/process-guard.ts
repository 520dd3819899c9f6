import assert from 'node:assert/strict'
import { flush, type Harness } from '../support/harness'

/** Re-exported for the reliability tests; the helper lives once, in test/support. */
export { deferred } from '../support/deferred'

const EVENTS = ['unhandledRejection', 'uncaughtException'] as const

/** What escaped to the process while a guard was installed. */
export interface EscapedError {
  readonly event: (typeof EVENTS)[number]
  readonly reason: unknown
}

/**
 * Catches what escapes to the process (an unhandled rejection or an uncaught exception) while a
 * test runs. Mocha's own listeners are taken off meanwhile: its `unhandledRejection` listener
 * forwards rejections from user code to other listeners only, so with none the failure would pass
 * unnoticed; and an escape must fail the test that caused it, not whichever test runs next.
 */
export class ProcessGuard {
  readonly escaped: EscapedError[] = []
  #saved: Map<string, ((...args: unknown[]) => void)[]> | undefined
  readonly #listeners = new Map<string, (reason: unknown) => void>()

  /** Takes mocha's listeners off and puts the guard's on. */
  install(): void {
    assert.equal(this.#saved, undefined, 'the guard is already installed')
    this.#saved = new Map()
    for (const event of EVENTS) {
      // Typed per event by @types/node; the guard treats both alike.
      this.#saved.set(event, process.listeners(event as 'uncaughtException') as ((...args: unknown[]) => void)[])
      process.removeAllListeners(event)
      const listener = (reason: unknown): void => {
        this.escaped.push({ event, reason })
      }
      this.#listeners.set(event, listener)
      process.on(event, listener)
    }
  }

  /** Puts mocha's listeners back. Safe to call when not installed. */
  restore(): void {
    if (this.#saved === undefined) return
    for (const event of EVENTS) {
      const listener = this.#listeners.get(event)
      if (listener !== undefined) process.removeListener(event, listener)
      for (const saved of this.#saved.get(event) ?? []) process.on(event, saved)
    }
    this.#listeners.clear()
    this.#saved = undefined
  }

  /** Lets pending rejections be detected (Node reports them after the microtask queue drains), then asserts none escaped. */
  async assertNothingEscaped(): Promise<void> {
    await flush()
    await flush()
    assert.deepEqual(
      this.escaped.map(({ event, reason }) => `${event}: ${safeString(reason)}`),
      [],
      'nothing may escape to the process',
    )
  }
}

/** `String(value)` for values whose conversion may itself throw. */
export function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    return `[unprintable ${typeof value}]`
  }
}

/** Stops the harness's manager without draining, disposes its container, then restores the guard. */
export async function stopAndRestore(h: Harness, guard: ProcessGuard): Promise<void> {
  try {
    await h.manager.stop({ drain: false })
    await h.container.dispose()
  } finally {
    guard.restore()
  }
}
