import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { freePort } from './support/consumer-project'

const ROOT = path.resolve(__dirname, '..')

/** What one example answered on Express 4, and the Express version it ran on. */
interface Express4Run {
  readonly expressVersion: string
  readonly status: number
  readonly pending: number
  readonly executed: boolean
}

/**
 * Starts an example's main.ts with `express` resolved to Express 4 for the whole process, sends
 * its POST, reads the admin counts, and waits for the job's log line (3 s later), then SIGTERM.
 */
async function runOnExpress4(main: string, route: string): Promise<Express4Run> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) }
  delete env.NODE_OPTIONS
  delete env.NODE_ENV
  // In memory: with REDIS_URL (as .ci/run exports it) both examples would share one BullMQ queue.
  delete env.REDIS_URL
  const child = spawn(
    process.execPath,
    [
      '--require',
      'tsx/cjs',
      '--require',
      './test/support/express4-preload.ts',
      '-e',
      `console.log('express ' + require('express/package.json').version); require('./${main}')`,
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const seen = (pattern: RegExp, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(output)) {
          clearTimeout(timer)
          child.stdout.off('data', check)
          resolve()
        }
      }
      const timer = setTimeout(
        () => reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      )
      child.stdout.on('data', check)
      check()
    })
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  try {
    await seen(/listening on http:\/\/localhost:\d+/, 30_000)
    const base = `http://127.0.0.1:${port}`
    const created = await fetch(`${base}${route}`, { method: 'POST' })
    const counts = (await (await fetch(`${base}/admin/jobs/api/counts`)).json()) as { pending: number }
    await seen(/Execute registered account: masa/, 20_000)
    return {
      expressVersion: /express (\d+)\./.exec(output)?.[1] ?? output,
      status: created.status,
      pending: counts.pending,
      executed: true,
    }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

describe('the examples on Express 4', () => {
  const examples = [
    ['express-controller', 'examples/express-controller/main.ts', '/user/add', 202],
    ['minimal-api', 'examples/minimal-api/main.ts', '/api/v1/users', 200],
  ] as const
  const runs = new Map<string, Promise<Express4Run>>()

  before(() => {
    // Both at once: each is mostly the example's 3 s job delay.
    for (const [name, main, route] of examples) {
      const running = runOnExpress4(main, route)
      running.catch(() => {}) // awaited (and reported) by its own test below
      runs.set(name, running)
    }
  })

  for (const [name, , route, status] of examples) {
    it(`runs the ${name} example unchanged: POST ${route} enqueues, the admin counts it, the job runs`, async function () {
      this.timeout(60_000)
      assert.deepEqual(await runs.get(name), { expressVersion: '4', status, pending: 1, executed: true })
    })
  }
})
