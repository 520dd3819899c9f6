import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import {
  PACKAGE_NAME as NAME,
  ROOT,
  createConsumerProject,
  packOnce,
  readmeAdminScript,
  readmeBlock,
  removeProject,
  runScript,
  typeCheck,
  type ConsumerProject,
} from './support/consumer-project'

const run = promisify(execFile)

/** The runtime values of `express-background-jobs/engine`; everything else it exports is a type. */
const ENGINE_VALUES = [
  'CronSchedule',
  'DEFAULT_RETRY',
  'JobEventHub',
  'MEMORY_CAPABILITIES',
  'ManualClock',
  'backoffDelay',
  'describeThrown',
  'systemClock',
  'toErrorInfo',
]

/** What both consumer scripts print: the types of a few exports, and the refusal of a deep import. */
const LOADED = {
  addBackgroundJobs: 'function',
  BackgroundJobBase: 'function',
  backgroundJobsAdminRouter: 'function',
  engineValues: ENGINE_VALUES,
  ManualClock: 'function',
  sameManualClock: true,
  now: 1234,
  systemClock: 'function',
  deepImport: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
}

/** A plain node, without whatever loader the test runner was started with. */
function node(script: string, cwd: string): Promise<{ stdout: string; stderr: string }> {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  return run(process.execPath, [script], { cwd, env, timeout: 20_000 })
}

/** The `.ts` files under `dir`, recursively. */
async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name))
}

/** A member tagged `@internal` in a source file. */
interface InternalMember {
  /** The source file, relative to `src/`. */
  file: string
  name: string
}

const MODIFIERS = String.raw`(?:(?:public|protected|private|readonly|static|abstract|override|declare|async|get|set)\s+)*`

/**
 * The members tagged `@internal` in `src`: the name declared right after each TSDoc block that
 * carries the tag. Throws on a tag it cannot pair with a declaration, so a layout this reader does
 * not know makes the test fail instead of checking nothing.
 */
async function internalMembers(): Promise<InternalMember[]> {
  const members: InternalMember[] = []
  for (const file of await sourceFiles(path.join(ROOT, 'src'))) {
    const text = await readFile(file, 'utf8')
    for (const match of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\//g)) {
      if (!/@internal\b/.test(match[1] ?? '')) continue
      const after = text.slice((match.index ?? 0) + match[0].length)
      const declared = new RegExp(
        String.raw`^\s*(?:export\s+)?${MODIFIERS}(?:function\s+|class\s+|const\s+|let\s+|interface\s+|type\s+)?#?([A-Za-z_$][\w$]*)`,
      ).exec(after)
      const relative = path.relative(path.join(ROOT, 'src'), file)
      const line = text.slice(0, match.index).split('\n').length
      assert.ok(declared?.[1], `cannot tell which declaration the @internal tag at src/${relative}:${line} belongs to`)
      members.push({ file: relative, name: declared[1] })
    }
  }
  return members
}

/** `text` without its comments (what a declaration file declares, not what its TSDoc mentions). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
}

describe('the published package', () => {
  let project: ConsumerProject
  let app: string
  let installed: string
  let files: string[]

  before(async function () {
    // Packing runs the prepare build (tsc), once for every consumer test; the rest is local file work.
    this.timeout(180_000)
    files = [...(await packOnce()).files]
    project = await createConsumerProject({ type: 'commonjs', express: 5 })
    app = project.dir
    installed = path.join(app, 'node_modules', NAME)

    await writeFile(
      path.join(app, 'main.cjs'),
      `const main = require('${NAME}')
const engine = require('${NAME}/engine')
let deepImport = 'loaded'
try {
  require('${NAME}/dist/index.js')
} catch (error) {
  deepImport = error.code
}
console.log(JSON.stringify({
  addBackgroundJobs: typeof main.addBackgroundJobs,
  BackgroundJobBase: typeof main.BackgroundJobBase,
  backgroundJobsAdminRouter: typeof main.backgroundJobsAdminRouter,
  engineValues: Object.keys(engine).sort(),
  ManualClock: typeof engine.ManualClock,
  sameManualClock: engine.ManualClock === main.ManualClock,
  now: new engine.ManualClock(1234).now(),
  systemClock: typeof engine.systemClock.now,
  version: require('${NAME}/package.json').version,
  deepImport,
}))
`,
    )
    await writeFile(
      path.join(app, 'main.mjs'),
      `import { addBackgroundJobs, BackgroundJobBase, backgroundJobsAdminRouter, ManualClock as MainClock } from '${NAME}'
import * as engine from '${NAME}/engine'
import { ManualClock, systemClock } from '${NAME}/engine'
const deepImport = await import('${NAME}/dist/index.js').then(() => 'loaded', (error) => error.code)
console.log(JSON.stringify({
  addBackgroundJobs: typeof addBackgroundJobs,
  BackgroundJobBase: typeof BackgroundJobBase,
  backgroundJobsAdminRouter: typeof backgroundJobsAdminRouter,
  engineValues: Object.keys(engine).filter((key) => !['default', 'module.exports', '__esModule'].includes(key)).sort(),
  ManualClock: typeof ManualClock,
  sameManualClock: ManualClock === MainClock,
  now: new ManualClock(1234).now(),
  systemClock: typeof systemClock.now,
  deepImport,
}))
`,
    )
    const consumer = `import { BackgroundJobBase, BackgroundJobsBuilder, addBackgroundJobs } from '${NAME}'
import { ManualClock, type BackgroundJobEngine, type JobInfo, type JobLogger, type NewJob } from '${NAME}/engine'

class Greet extends BackgroundJobBase<{ name: string }> {
  protected override async executing(args: { name: string }): Promise<void> {
    await Promise.resolve(args.name)
  }
}
export const register: typeof addBackgroundJobs = addBackgroundJobs
export const builder: BackgroundJobsBuilder = new BackgroundJobsBuilder().addJob(Greet)
export const clock: ManualClock = new ManualClock(0)
export const job: NewJob = { name: 'Greet', args: { name: 'a' }, runAt: 0, enqueuedAt: 0 }
export type Engine = BackgroundJobEngine
export type Info = JobInfo
export type Logger = JobLogger
// @ts-expect-error storeOptions is @internal, so the declarations do not have it.
export const hidden: unknown = builder.storeOptions
`
    await writeFile(path.join(app, 'consumer.cts'), consumer)
    await writeFile(path.join(app, 'consumer.mts'), consumer)
    await writeFile(path.join(app, 'consumer-node10.ts'), consumer)
  })

  after(async () => {
    if (project !== undefined) await removeProject(project)
  })

  it('ships the LICENSE, the compiled entry points and their declarations, and no sources, tests or examples', async () => {
    for (const file of [
      'package.json',
      'LICENSE',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/engine.js',
      'dist/engine.d.ts',
    ]) {
      assert.ok(files.includes(file), `${file} is missing from the tarball`)
    }
    const unexpected = files.filter(
      (file) => !file.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE)$/.test(file),
    )
    assert.deepEqual(unexpected, [])
    assert.match(await readFile(path.join(installed, 'LICENSE'), 'utf8'), /^MIT License/)
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as { license?: string }
    assert.equal(manifest.license, 'MIT')
  })

  it('ships source maps that resolve: each carries the text of every source it names', async () => {
    const maps = files.filter((file) => file.endsWith('.js.map'))
    assert.ok(maps.length > 0, 'the tarball has no source maps')
    const unresolved: string[] = []
    for (const file of maps) {
      const map = JSON.parse(await readFile(path.join(installed, file), 'utf8')) as {
        sources: string[]
        sourcesContent?: (string | null)[]
      }
      map.sources.forEach((source, index) => {
        const content = map.sourcesContent?.[index]
        if (typeof content !== 'string' || content === '') unresolved.push(`${file}: ${source}`)
      })
    }
    assert.deepEqual(unresolved, [])
  })

  it('has no @internal marker in any declaration file', async () => {
    const declarations = files.filter((file) => file.endsWith('.d.ts'))
    assert.ok(declarations.length > 0, 'the tarball has no declaration files')
    const marked: string[] = []
    for (const file of declarations) {
      if ((await readFile(path.join(installed, file), 'utf8')).includes('@internal')) marked.push(file)
    }
    assert.deepEqual(marked, [])
  })

  it('declares none of the members tagged @internal in src', async () => {
    const leaked: string[] = []
    for (const { file, name } of await internalMembers()) {
      const declaration = path.join(installed, 'dist', file.replace(/\.ts$/, '.d.ts'))
      const text = withoutComments(await readFile(declaration, 'utf8'))
      const declares = new RegExp(
        String.raw`^\s*(?:export\s+)?(?:declare\s+)?${MODIFIERS}${name.replace(/\$/g, '\\$')}\s*[?!]?\s*[:(<=;]`,
        'm',
      )
      if (declares.test(text)) leaked.push(`${file}: ${name}`)
    }
    assert.deepEqual(leaked, [])
  })

  it('loads both entry points with require from a CommonJS app, and refuses a deep import', async () => {
    const { stdout } = await node('main.cjs', app)
    assert.deepEqual(JSON.parse(stdout), {
      ...LOADED,
      version: (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    })
  })

  it('loads both entry points with named imports from an ES module app, and refuses a deep import', async () => {
    const { stdout } = await node('main.mjs', app)
    assert.deepEqual(JSON.parse(stdout), LOADED)
  })

  it('types both entry points for TypeScript apps, with node16 and with node10 module resolution', async function () {
    this.timeout(60_000)
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const check = async (resolution: 'node16' | 'node10', options: string[]): Promise<void> => {
      const moduleKind = resolution === 'node16' ? 'node16' : 'commonjs'
      const args = ['--noEmit', '--strict', '--types', 'node', '--target', 'es2022', '--module', moduleKind]
      try {
        await run(process.execPath, [tsc, ...args, '--moduleResolution', resolution, ...options], { cwd: app })
      } catch (error) {
        assert.fail(`tsc with ${resolution} resolution failed:\n${(error as { stdout?: string }).stdout ?? ''}`)
      }
    }
    await Promise.all([
      // With the declarations themselves checked: one naming something stripInternal removed fails here.
      check('node16', ['--skipLibCheck', 'false', 'consumer.cts', 'consumer.mts']),
      // Resolution without `exports`: typesVersions maps the engine entry. Declarations were checked above.
      check('node10', ['--skipLibCheck', 'true', '--esModuleInterop', 'consumer-node10.ts']),
    ])
  })
})

/** What one run of the README's quick start answered, from an app that installed the tarball. */
interface QuickStartRun {
  /** The majors of `express` and `@types/express` the app resolves. */
  readonly majors: readonly [string, string]
  readonly addedByService: unknown
  readonly addedByController: unknown
  readonly missingName: unknown
  readonly counts: unknown
  readonly executed: number
}

/**
 * Type-checks the README's quick start and admin snippet in a fresh app, runs the quick start as
 * the README says, sends its two POSTs, reads the admin counts, and waits for both jobs to run.
 */
async function runQuickStart(type: 'commonjs' | 'module', express: 4 | 5): Promise<QuickStartRun> {
  const project = await createConsumerProject({
    type,
    express,
    files: { 'main.ts': await readmeBlock("## Quick start (MASA's steps)"), 'admin.ts': await readmeAdminScript() },
  })
  try {
    const major = async (name: string): Promise<string> => {
      const manifest = path.join(project.dir, 'node_modules', name, 'package.json')
      return (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version.split('.')[0] ?? ''
    }
    const majors = [await major('express'), await major('@types/express')] as const
    await typeCheck(project)
    const script = await runScript(project, 'main.ts', /Listening on http:\/\/localhost:\d+/)
    try {
      const base = `http://127.0.0.1:${script.port}`
      const json = async (response: Promise<Response>, status: number): Promise<unknown> => {
        const answer = await response
        assert.equal(answer.status, status, `${answer.url}: ${await answer.clone().text()}`)
        return answer.json()
      }
      const addedByService = await json(fetch(`${base}/api/v1/users`, { method: 'POST' }), 200)
      const addedByController = await json(fetch(`${base}/user/add`, { method: 'POST' }), 202)
      // A handler that rejects (no such job): Express 4 does not catch a rejected promise itself.
      const missing = await json(fetch(`${base}/admin/jobs/api/jobs/999`), 404)
      const counts = await json(fetch(`${base}/admin/jobs/api/counts`), 200)
      await script.waitFor(/Execute registered account: masa/, 2, 20_000)
      const executed = script.output().match(/Execute registered account: masa/g)?.length ?? 0
      const missingName = (missing as { error?: { name?: unknown } }).error?.name
      return { majors, addedByService, addedByController, missingName, counts, executed }
    } finally {
      await script.stop()
    }
  } finally {
    await removeProject(project)
  }
}

describe('the README quick start, installed from the tarball', () => {
  const variants = [
    ['commonjs', 5],
    ['module', 5],
    ['commonjs', 4],
    ['module', 4],
  ] as const
  const runs = new Map<string, Promise<QuickStartRun>>()

  before(function () {
    this.timeout(180_000)
    // All four apps at once: each is mostly tsc and a 3 s job delay.
    for (const [type, express] of variants) {
      const running = packOnce().then(() => runQuickStart(type, express))
      running.catch(() => {}) // awaited (and reported) by its own test below
      runs.set(`${type} ${express}`, running)
    }
  })

  for (const [type, express] of variants) {
    it(`type-checks and runs in ${type === 'module' ? 'an ES module' : 'a CommonJS'} TypeScript app on Express ${express}`, async function () {
      this.timeout(180_000)
      const result = await runs.get(`${type} ${express}`)
      assert.deepEqual(result, {
        majors: [String(express), String(express)],
        addedByService: { jobId: '1' },
        addedByController: { jobId: '2' },
        missingName: 'JobNotFoundError',
        counts: { pending: 2, running: 0, completed: 0, failed: 0, cancelled: 0 },
        executed: 2,
      })
    })
  }
})
