import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import type { AwilixContainer } from 'awilix'
import type { Application } from 'express'
import request from 'supertest'
import type { BackgroundJobManager } from '../src/background-job-manager'
import { BackgroundJobs } from '../src/background-jobs'
import { ManualClock } from '../src/clock'
import { createApp as createControllerApp } from '../examples/express-controller/app'
import { createApp as createMinimalApiApp } from '../examples/minimal-api/app'
import type { ExampleOptions } from '../examples/shared/register-user'
import { CapturingLogger } from './support/harness'
import { REDIS_URL, deleteKeys, redisUnavailable, uniquePrefix } from './support/redis'
import { requireService } from './support/services'

interface ExampleCase {
  name: string
  createApp: (options: ExampleOptions) => { app: Application; container: AwilixContainer }
  route: string
  status: number
  main: string
}

const examples: ExampleCase[] = [
  {
    name: 'express-controller',
    createApp: createControllerApp,
    route: '/user/add',
    status: 202,
    main: 'examples/express-controller/main.ts',
  },
  {
    name: 'minimal-api',
    createApp: createMinimalApiApp,
    route: '/api/v1/users',
    status: 200,
    main: 'examples/minimal-api/main.ts',
  },
]

for (const example of examples) {
  describe(`the ${example.name} example`, () => {
    let container: AwilixContainer | undefined

    afterEach(async () => {
      await container?.dispose()
      BackgroundJobs.reset()
    })

    it(`enqueues RegisterUserDto { name: "masa" } on POST ${example.route}, shows it pending, then completed 3 s later with the log line`, async () => {
      const clock = new ManualClock()
      const logger = new CapturingLogger()
      const built = example.createApp({ logger, store: { clock } })
      container = built.container
      const { app } = built
      const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')

      const created = await request(app).post(example.route).send({}).expect(example.status)
      const { jobId } = created.body as { jobId: string }
      assert.match(jobId, /^[1-9][0-9]*$/)

      const pending = await request(app).get('/admin/jobs/api/jobs').query({ state: 'pending' }).expect(200)
      assert.deepEqual(
        (pending.body as { items: { id: string; name: string; args: unknown }[] }).items.map((job) => [
          job.id,
          job.name,
          job.args,
        ]),
        [[jobId, 'RegisterUserBackgroundJob', { name: 'masa' }]],
      )

      clock.advance(2999)
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal((await manager.getJob(jobId))?.state, 'pending', 'not before 3 s')
      clock.advance(1)
      await manager.onSettled(jobId)

      const completed = await request(app).get('/admin/jobs/api/jobs').query({ state: 'completed' }).expect(200)
      assert.deepEqual(
        (completed.body as { items: { id: string }[] }).items.map((job) => job.id),
        [jobId],
      )
      assert.ok(logger.messages('info').includes('Execute registered account: masa'), JSON.stringify(logger.entries))
    })

    it('shuts down cleanly on SIGTERM', async function () {
      this.timeout(30_000)
      const child = spawn(process.execPath, ['--import', 'tsx', example.main], {
        cwd: path.resolve(__dirname, '..'),
        // In memory: without REDIS_URL, whatever the environment running the tests has.
        env: { ...withoutRedisUrl(process.env), PORT: '0', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const output = collectOutput(child)
      const port = await listeningPort(child, output)
      const res = await fetch(`http://127.0.0.1:${port}${example.route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      assert.equal(res.status, example.status)
      child.kill('SIGTERM')
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
      assert.equal(signal, null, output.text)
      assert.equal(code, 0, output.text)
      assert.match(output.text, /SIGTERM received: shutting down/)
      assert.match(output.text, /Background jobs stopped \(1 pending lost, 0 still running\)/)
    })

    describe('with REDIS_URL set', () => {
      let prefix = ''

      before(async function () {
        requireService(this, 'REDIS', await redisUnavailable())
      })

      afterEach(async () => {
        if (prefix !== '') await deleteKeys(prefix)
      })

      it(`runs MASA's scenario on BullMQ: POST ${example.route}, the job pending in Redis, logged 3 s later, then a clean SIGTERM`, async function () {
        this.timeout(30_000)
        prefix = uniquePrefix()
        const child = spawn(process.execPath, ['--import', 'tsx', example.main], {
          cwd: path.resolve(__dirname, '..'),
          env: { ...process.env, REDIS_URL, BULLMQ_PREFIX: prefix, PORT: '0', LOG_LEVEL: 'info' },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        const output = collectOutput(child)
        try {
          const base = `http://127.0.0.1:${await listeningPort(child, output)}`
          const res = await fetch(`${base}${example.route}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: 'masa' }),
          })
          assert.equal(res.status, example.status, output.text)
          const { jobId } = (await res.json()) as { jobId: string }
          const pending = (await (await fetch(`${base}/admin/jobs/api/jobs/${jobId}`)).json()) as {
            state: string
            name: string
            args: unknown
            createdAt: string
          }
          assert.deepEqual(
            [pending.state, pending.name, pending.args],
            ['pending', 'RegisterUserBackgroundJob', { name: 'masa' }],
          )

          await output.waitFor(/Execute registered account: masa/, 15_000)
          const completed = (await (await fetch(`${base}/admin/jobs/api/jobs/${jobId}`)).json()) as {
            state: string
            lastRunAt?: string
          }
          assert.equal(completed.state, 'completed')
          // Measured from the enqueue itself, as the server recorded it (createdAt), to the start of
          // the attempt that logged: the test's own clock would start late, once the response came.
          const ranAfterMs = Date.parse(completed.lastRunAt ?? '') - Date.parse(pending.createdAt)
          assert.ok(ranAfterMs >= 3000, `ran ${ranAfterMs} ms after the enqueue, not 3 s`)

          const signalledAt = performance.now()
          child.kill('SIGTERM')
          const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
          const exitedAfterMs = performance.now() - signalledAt
          assert.equal(signal, null, output.text)
          assert.equal(code, 0, output.text)
          assert.match(output.text, /Background jobs stopped \(0 pending left in Redis, 0 still running\)/)
          // Nothing was running: the process ends once stopped, not when the stop's 10 s drain timeout fires.
          assert.ok(exitedAfterMs < 8000, `exited ${exitedAfterMs.toFixed(0)} ms after SIGTERM`)
        } finally {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
        }
      })
    })
  })
}

/** A copy of `env` without REDIS_URL, so an example started with it runs in memory. */
function withoutRedisUrl(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env }
  delete copy.REDIS_URL
  return copy
}

/** What a child prints (stdout and stderr together), and a wait for a line matching a pattern. */
interface Output {
  readonly text: string
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>
}

function collectOutput(child: ChildProcess): Output {
  let text = ''
  const waiters = new Set<() => void>()
  const append = (chunk: Buffer): void => {
    text += chunk.toString()
    for (const waiter of [...waiters]) waiter()
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  return {
    get text() {
      return text
    },
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(text)
          if (match === null) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(match)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${text}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
  }
}

/** The port an example prints once it listens; rejects if it exits first. */
async function listeningPort(child: ChildProcess, output: Output): Promise<number> {
  let onExit: () => void = () => {}
  const exited = new Promise<never>((_resolve, reject) => {
    onExit = () => reject(new Error(`example exited before listening:\n${output.text}`))
    child.once('exit', onExit)
  })
  try {
    const match = await Promise.race([output.waitFor(/listening on http:\/\/localhost:(\d+)/, 20_000), exited])
    return Number(match[1])
  } finally {
    child.off('exit', onExit)
  }
}
