import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The repository root: the package that is packed. */
export const ROOT = path.resolve(__dirname, '..', '..')
export const PACKAGE_NAME = 'express-background-jobs'

/** What `npm pack` made: the tarball, the files it lists, and a temporary folder for projects. */
export interface PackedPackage {
  readonly tarball: string
  readonly files: readonly string[]
  readonly tmp: string
}

let packing: Promise<PackedPackage> | undefined

/**
 * Packs the repository once per test run (`npm pack`, which runs the `prepare` build) into a
 * temporary folder removed when the process exits. Every consumer test shares the one tarball.
 */
export function packOnce(): Promise<PackedPackage> {
  packing ??= (async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'ebj-consumer-'))
    process.once('exit', () => rmSync(tmp, { recursive: true, force: true }))
    const packed = await run('npm', ['pack', '--json', '--pack-destination', tmp], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    })
    const [result] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]
    assert.ok(result, `npm pack reported no tarball: ${packed.stdout}`)
    return { tarball: path.join(tmp, result.filename), files: result.files.map((file) => file.path), tmp }
  })()
  return packing
}

/** A temporary app that installed the tarball: its folder and the Express major it uses. */
export interface ConsumerProject {
  readonly dir: string
  readonly express: 4 | 5
  readonly type: 'commonjs' | 'module'
}

let projects = 0

/**
 * Makes an app in a temporary folder that has installed the packed package without the network:
 * the tarball is extracted into its `node_modules`, and the package's dependencies and peers, the
 * type declarations, and `tsx` are linked from this repository's `node_modules`. `express` and
 * `@types/express` are those of the major asked for (Express 4 is the `express4` alias here).
 */
export async function createConsumerProject(options: {
  readonly type: 'commonjs' | 'module'
  readonly express: 4 | 5
  readonly files?: Readonly<Record<string, string>>
}): Promise<ConsumerProject> {
  const packed = await packOnce()
  const dir = path.join(packed.tmp, `app-${++projects}-${options.type}-express${options.express}`)
  const modules = path.join(dir, 'node_modules')
  const installed = path.join(modules, PACKAGE_NAME)
  await mkdir(installed, { recursive: true })
  await run('tar', ['-xzf', packed.tarball, '-C', installed, '--strip-components=1'])

  const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
    peerDependencies?: Record<string, string>
  }
  const link = async (name: string, from: string): Promise<void> => {
    const at = path.join(modules, name)
    await mkdir(path.dirname(at), { recursive: true })
    await symlink(path.join(ROOT, 'node_modules', from), at, 'junction')
  }
  for (const name of [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]) {
    await link(name, name === 'express' && options.express === 4 ? 'express4' : name)
  }
  await link('tsx', 'tsx')
  for (const name of await readdir(path.join(ROOT, 'node_modules', '@types'))) {
    if (name === 'express4') continue
    await link(`@types/${name}`, options.express === 4 && name === 'express' ? '@types/express4' : `@types/${name}`)
  }

  const isModule = options.type === 'module'
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: options.type }, null, 2),
  )
  await writeFile(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'es2022',
          module: isModule ? 'nodenext' : 'commonjs',
          moduleResolution: isModule ? 'nodenext' : 'node10',
          esModuleInterop: true,
          strict: true,
          skipLibCheck: true,
          types: ['node'],
          noEmit: true,
        },
      },
      null,
      2,
    ),
  )
  for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(path.join(dir, name), text)
  return { dir, express: options.express, type: options.type }
}

/** Type-checks a project's files with the repository's TypeScript; fails with tsc's output. */
export async function typeCheck(project: ConsumerProject): Promise<void> {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  try {
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project.dir, timeout: 120_000 })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    assert.fail(`tsc failed in the ${project.type} app on Express ${project.express}:\n${stdout ?? ''}${stderr ?? ''}`)
  }
}

/** A free loopback port (a race is possible but unlikely: the port is only held for a moment). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** A running script of a consumer project. */
export interface RunningScript {
  readonly port: number
  /** Everything the script has printed so far (stdout and stderr). */
  output(): string
  /** Resolves once the output matches `pattern` `count` times; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, count?: number, timeoutMs?: number): Promise<void>
  /** Sends SIGTERM and resolves once the process has exited. */
  stop(): Promise<void>
}

/**
 * Runs `file` of a project as the README says (`tsx`, here `node --import tsx`), with `PORT` set to
 * a free port (and `extraEnv`, without `NODE_OPTIONS` or `NODE_ENV`), and waits until it prints `ready`.
 */
export async function runScript(
  project: ConsumerProject,
  file: string,
  ready: RegExp,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<RunningScript> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, PORT: String(port) }
  delete env.NODE_OPTIONS
  delete env.NODE_ENV
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: project.dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  let exited = false
  const changed = new Set<() => void>()
  const append = (chunk: Buffer): void => {
    text += chunk.toString('utf8')
    for (const listener of changed) listener()
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      for (const listener of changed) listener()
      resolve()
    }),
  )
  const waitFor = (pattern: RegExp, count = 1, timeoutMs = 30_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`)
      const check = (): void => {
        if ((text.match(global)?.length ?? 0) >= count) done(undefined)
        else if (exited) done(new Error(`the script exited before printing ${String(pattern)}:\n${text}`))
      }
      const timer = setTimeout(
        () => done(new Error(`no ${String(pattern)} (x${count}) within ${timeoutMs} ms:\n${text}`)),
        timeoutMs,
      )
      const done = (error: Error | undefined): void => {
        clearTimeout(timer)
        changed.delete(check)
        if (error === undefined) resolve()
        else reject(error)
      }
      changed.add(check)
      check()
    })
  const script: RunningScript = {
    port,
    output: () => text,
    waitFor,
    async stop() {
      if (!exited) child.kill('SIGTERM')
      await exit
    },
  }
  try {
    await waitFor(ready)
  } catch (error) {
    await script.stop()
    throw error
  }
  return script
}

/** Removes a project's folder. */
export async function removeProject(project: ConsumerProject): Promise<void> {
  await rm(project.dir, { recursive: true, force: true })
}

/**
 * The first fenced block of `language` after the heading `heading` (a whole line, such as
 * `## Quick start (MASA's steps)`) in README.md. Fails when there is none, so a renamed heading
 * fails the test instead of checking nothing.
 */
export async function readmeBlock(heading: string, language = 'ts', index = 0): Promise<string> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8')
  const at = readme.split('\n').findIndex((line) => line.trim() === heading)
  assert.ok(at >= 0, `README.md has no heading ${JSON.stringify(heading)}`)
  const rest = readme.split('\n').slice(at + 1)
  const blocks: string[] = []
  let current: string[] | undefined
  let isInOtherBlock = false
  for (const line of rest) {
    const fence = line.trim().startsWith('```')
    if (isInOtherBlock) {
      if (fence) isInOtherBlock = false
    } else if (current !== undefined) {
      if (fence) {
        blocks.push(current.join('\n'))
        current = undefined
      } else current.push(line)
    } else if (/^#{1,2} /.test(line)) break
    else if (line.trim() === '```' + language) current = []
    else if (fence) isInOtherBlock = true
  }
  const block = blocks[index]
  assert.ok(block !== undefined, `README.md has no ${language} block #${index} under ${JSON.stringify(heading)}`)
  return `${block}\n`
}

/**
 * The admin snippet of the README (its "## Admin router" block) in a file of its own: the few
 * lines it assumes (a container with the background-job service, an Express app) before it, and
 * a listen on `PORT` after it.
 */
export async function readmeAdminScript(): Promise<string> {
  const snippet = await readmeBlock('## Admin router')
  return `import { createContainer } from 'awilix'
import express from 'express'
import { addBackgroundJobs, backgroundJobsAdminRouter } from '${PACKAGE_NAME}'

const container = createContainer()
addBackgroundJobs(container, (o) => o.useInMemoryStore())
const app = express()

${snippet}
app.listen(Number(process.env.PORT), () => console.log('Listening'))
`
}
