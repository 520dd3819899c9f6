import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const INDEX = path.resolve(__dirname, '../../src/index.ts')

/** A plain script on the public API: `body` runs after a manager with `DelayedJob` is built. */
function script(storeOptions: string, body: string): string {
  return `
import { createContainer } from 'awilix'
import { BackgroundJobBase, addBackgroundJobs, type BackgroundJobManager } from ${JSON.stringify(INDEX)}
class DelayedJob extends BackgroundJobBase<{ n: number }> {
  protected override async executing(args: { n: number }): Promise<void> {
    console.log('ran ' + args.n)
  }
}
const container = createContainer()
addBackgroundJobs(container, (o) => o.useInMemoryStore(${storeOptions}).addJob(DelayedJob))
const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
${body}
`
}

describe('a plain script that enqueues work and ends', function () {
  this.timeout(60_000)
  let dir: string

  before(async () => {
    // Inside the repository, so the scripts resolve awilix and tsx from its node_modules.
    dir = await mkdtemp(path.join(path.resolve(__dirname, '../../node_modules'), '.script-exit-'))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** Runs `source` with tsx in a child process; its output and how long it lived. */
  async function runScript(name: string, source: string): Promise<{ stdout: string; ms: number }> {
    const file = path.join(dir, `${name}.ts`)
    await writeFile(file, source)
    const started = performance.now()
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, LOG_LEVEL: 'warn' },
      timeout: 30_000,
    })
    return { stdout, ms: performance.now() - started }
  }

  it('stays alive for a delayed job by default, as a setTimeout would, and runs it', async () => {
    const { stdout } = await runScript(
      'delayed',
      script('', `void manager.enqueue(DelayedJob, { n: 1 }, { delay: 300 })`),
    )
    assert.match(stdout, /ran 1/)
    assert.doesNotMatch(stdout, /lost/)
  })

  it('gets past await manager.onIdle() once the delayed job has run', async () => {
    const { stdout } = await runScript(
      'idle',
      script(
        '',
        `void manager.enqueue(DelayedJob, { n: 2 }, { delay: 300 }).then(() => manager.onIdle()).then(() => console.log('idle'))`,
      ),
    )
    assert.match(stdout, /ran 2\s+idle/)
  })

  it('with unref: true, exits without running it and says how many jobs it lost', async () => {
    const { stdout } = await runScript(
      'unref',
      script('{ unref: true }', `void manager.enqueue(DelayedJob, { n: 3 }, { delay: 60_000 })`),
    )
    assert.doesNotMatch(stdout, /ran 3/)
    assert.match(stdout, /exiting with 1 pending and 0 running background jobs, which are lost/)
  })
})
