import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { asClass } from 'awilix'
import { BackgroundJobBase } from '../../src/background-job-base'
import { createHarness, type Harness } from '../support/harness'

class Connection {
  readonly opened = true
}

class UsesConnection extends BackgroundJobBase<null> {
  readonly #connection: Connection
  constructor(deps: { connection: Connection }) {
    super()
    this.#connection = deps.connection
  }
  protected override async executing(): Promise<void> {
    assert.equal(this.#connection.opened, true)
  }
}

describe('hostile values thrown by user code', function () {
  this.timeout(60_000)
  let h: Harness | undefined

  afterEach(async () => {
    await h?.container.dispose()
    h = undefined
  })

  it('keeps a job completed when a scoped dependency’s disposer rejects with a null-prototype object, and logs it', async () => {
    h = createHarness((o) => o.addJob(UsesConnection))
    h.container.register(
      'connection',
      asClass(Connection)
        .scoped()
        .disposer(() => Promise.reject(Object.create(null) as object)),
    )
    const id = await h.manager.enqueue(UsesConnection, null)
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'completed', JSON.stringify(job.lastError))
    const logged = h.logger.entries.find((entry) =>
      /Disposing the scope of job UsesConnection failed/.test(entry.message),
    )
    assert.match(String(logged?.meta?.['error']), /Non-error value thrown: \{\}/)
  })

  it('cannot catch a job’s own abort listener that throws: Node reports it as an uncaught exception (README)', async () => {
    const dir = await mkdtemp(path.join(path.resolve(__dirname, '../../node_modules'), '.hostile-'))
    try {
      const file = path.join(dir, 'abort-listener.ts')
      await writeFile(
        file,
        `
import { createContainer } from 'awilix'
import { BackgroundJobBase, addBackgroundJobs, type BackgroundJobManager, type JobContext } from ${JSON.stringify(path.resolve(__dirname, '../../src/index.ts'))}
class ListenerJob extends BackgroundJobBase<null> {
  protected override async executing(_args: null, { signal }: JobContext): Promise<void> {
    signal.addEventListener('abort', () => {
      throw new Error('abort listener boom')
    })
    await new Promise((resolve) => setTimeout(resolve, 2000))
  }
}
const container = createContainer()
addBackgroundJobs(container, (o) => o.useInMemoryStore({ timeoutMs: 50, retry: { maxRetries: 0 } }).addJob(ListenerJob))
void container.resolve<BackgroundJobManager>('backgroundJobManager').enqueue(ListenerJob, null)
`,
      )
      const outcome = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
        cwd: path.resolve(__dirname, '../..'),
        env: { ...process.env, LOG_LEVEL: 'error' },
        timeout: 30_000,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code?: number; stderr?: string }) => ({ code: error.code ?? -1, stderr: error.stderr ?? '' }),
      )
      assert.notEqual(outcome.code, 0, 'the process dies of the uncaught exception')
      assert.match(outcome.stderr, /abort listener boom/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
