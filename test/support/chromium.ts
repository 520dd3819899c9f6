import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Readable, Writable } from 'node:stream'

/** Where the tests expect Chromium. */
export const CHROMIUM = '/usr/bin/chromium'

/** Why Chromium cannot be used, or undefined when it can (for `requireService`). */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`
}

interface Pending {
  resolve(value: Record<string, unknown>): void
  reject(error: Error): void
}

/**
 * Headless Chromium driven over the DevTools protocol through `--remote-debugging-pipe` (file
 * descriptors 3 and 4, NUL-separated JSON), so no WebSocket client is needed.
 */
export class Chromium {
  readonly #child: ChildProcess
  readonly #profile: string
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #buffer = ''

  private constructor(child: ChildProcess, profile: string) {
    this.#child = child
    this.#profile = profile
    const output = child.stdio[4] as Readable
    output.setEncoding('utf8')
    output.on('data', (chunk: string) => this.#receive(chunk))
    child.once('exit', () => {
      for (const pending of this.#pending.values()) pending.reject(new Error('Chromium exited'))
      this.#pending.clear()
    })
  }

  /** Starts Chromium with a fresh profile. */
  static launch(): Chromium {
    const profile = mkdtempSync(path.join(tmpdir(), 'chromium-'))
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    )
    return new Chromium(child, profile)
  }

  /** Sends one protocol command (to a page when `sessionId` is given) and resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.#nextId++
    const message = JSON.stringify({ id, method, params, ...(sessionId !== undefined && { sessionId }) })
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      ;(this.#child.stdio[3] as Writable).write(`${message}\0`)
    })
  }

  /**
   * Opens `url` in a new tab, waits until it has loaded (unless `waitForLoad` is false: a page
   * that navigates away at once never settles on `url`), and returns the session to talk to it.
   */
  async open(url: string, waitForLoad = true): Promise<string> {
    const { targetId } = (await this.send('Target.createTarget', { url })) as { targetId: string }
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string
    }
    for (let i = 0; waitForLoad && i < 500; i++) {
      // Until the navigation commits, the tab is still about:blank (or its context is being replaced).
      const state = await this.evaluate(sessionId, 'location.href + " " + document.readyState').catch(() => '')
      if (state === `${url} complete`) return sessionId
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    if (!waitForLoad) return sessionId
    throw new Error(`${url} did not load`)
  }

  /** Evaluates `expression` (awaiting a promise) in the page of `sessionId` and returns its JSON value. */
  async evaluate(sessionId: string, expression: string): Promise<unknown> {
    const result = (await this.send(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      sessionId,
    )) as { result?: { value?: unknown }; exceptionDetails?: { text?: string; exception?: { description?: string } } }
    if (result.exceptionDetails !== undefined) {
      throw new Error(
        result.exceptionDetails.exception?.description ?? result.exceptionDetails.text ?? 'evaluate failed',
      )
    }
    return result.result?.value
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    if (this.#child.exitCode === null) {
      this.send('Browser.close').catch(() => {})
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    rmSync(this.#profile, { recursive: true, force: true })
  }

  #receive(chunk: string): void {
    this.#buffer += chunk
    let end: number
    while ((end = this.#buffer.indexOf('\0')) !== -1) {
      const message = JSON.parse(this.#buffer.slice(0, end)) as {
        id?: number
        result?: Record<string, unknown>
        error?: { message: string }
      }
      this.#buffer = this.#buffer.slice(end + 1)
      if (message.id === undefined) continue
      const pending = this.#pending.get(message.id)
      if (pending === undefined) continue
      this.#pending.delete(message.id)
      if (message.error !== undefined) pending.reject(new Error(message.error.message))
      else pending.resolve(message.result ?? {})
    }
  }
}
