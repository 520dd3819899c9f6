import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The repository root: the package this test packs. */
const ROOT = path.resolve(__dirname, '..')
const NAME = 'express-background-jobs'

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

/** What `npm pack --json` reports of one tarball (the fields read here). */
interface PackResult {
  filename: string
  files: { path: string }[]
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
  let tmp: string
  let app: string
  let installed: string
  let files: string[]

  before(async function () {
    // Packing runs the prepack build (tsc); the rest is local file work and short node runs.
    this.timeout(120_000)
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ebj-package-'))
    const packed = await run('npm', ['pack', '--json', '--pack-destination', tmp], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    })
    const [result] = JSON.parse(packed.stdout) as PackResult[]
    assert.ok(result, `npm pack reported no tarball: ${packed.stdout}`)
    files = result.files.map((f) => f.path)

    app = path.join(tmp, 'app')
    installed = path.join(app, 'node_modules', NAME)
    await mkdir(installed, { recursive: true })
    await run('tar', ['-xzf', path.join(tmp, result.filename), '-C', installed, '--strip-components=1'])

    // The package's runtime and peer dependencies, linked from this repository: no network.
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>
      peerDependencies?: Record<string, string>
    }
    const needed = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]
    // Type declarations too, for the TypeScript consumer below (an app using the package has them).
    for (const dependency of [...needed, '@types']) {
      const link = path.join(app, 'node_modules', dependency)
      await mkdir(path.dirname(link), { recursive: true })
      await symlink(path.join(ROOT, 'node_modules', dependency), link, 'junction')
    }

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
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true })
  })

  it('ships the compiled entry points and their declarations, and no sources, tests or examples', () => {
    for (const file of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/engine.js', 'dist/engine.d.ts']) {
      assert.ok(files.includes(file), `${file} is missing from the tarball`)
    }
    const unexpected = files.filter(
      (file) => !file.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE)$/.test(file),
    )
    assert.deepEqual(unexpected, [])
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
