import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
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
        env: { ...process.env, PORT: '0', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`example did not start:\n${output}`)), 20_000)
        child.stdout.on('data', () => {
          const match = /listening on http:\/\/localhost:(\d+)/.exec(output)
          if (match) {
            clearTimeout(timer)
            resolve(Number(match[1]))
          }
        })
      })
      const res = await fetch(`http://127.0.0.1:${port}${example.route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      assert.equal(res.status, example.status)
      child.kill('SIGTERM')
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
      assert.equal(signal, null, output)
      assert.equal(code, 0, output)
      assert.match(output, /SIGTERM received: shutting down/)
      assert.match(output, /Background jobs stopped \(1 pending lost, 0 still running\)/)
    })
  })
}
