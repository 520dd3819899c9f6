import assert from 'node:assert/strict'
import {
  createConsumerProject,
  readmeAdminScript,
  readmeBlock,
  removeProject,
  runScript,
  typeCheck,
  type ConsumerProject,
} from './support/consumer-project'

/** One `curl` line of the README: its method, URL, and the JSON fragment its comment promises. */
interface CurlLine {
  readonly method: string
  readonly url: string
  readonly promised: Record<string, unknown> | undefined
}

/** Reads `curl [-X METHOD] URL   # {"key":value,...} ...` lines; fails on a curl line it cannot read. */
function curlLines(block: string): CurlLine[] {
  return block
    .split('\n')
    .filter((line) => line.startsWith('curl '))
    .map((line) => {
      const match = /^curl (?:-X (\w+) )?(\S+)\s*(?:#\s*(.*))?$/.exec(line)
      assert.ok(match?.[2], `cannot read the README line ${JSON.stringify(line)}`)
      // `{"pending":2,...}` promises pending = 2: the fragment up to `...` is JSON once closed.
      const fragment = /^(\{[^}]*\})/.exec(match[3] ?? '')?.[1]?.replace(/,\s*\.\.\.\}$/, '}')
      return {
        method: match[1] ?? 'GET',
        url: match[2],
        promised: fragment === undefined ? undefined : (JSON.parse(fragment) as Record<string, unknown>),
      }
    })
}

describe('the README code blocks', () => {
  let project: ConsumerProject

  before(async function () {
    // The tarball is packed once for every consumer test (test/support/consumer-project.ts).
    this.timeout(180_000)
    project = await createConsumerProject({
      type: 'module',
      express: 5,
      files: { 'main.ts': await readmeBlock("## Quick start (MASA's steps)"), 'admin.ts': await readmeAdminScript() },
    })
  })

  after(async () => {
    if (project !== undefined) await removeProject(project)
  })

  it('type-check as written: the quick start and the admin snippet', async function () {
    this.timeout(120_000)
    await typeCheck(project)
  })

  it('run the quick start and answer its curl commands as the README says, then run its job', async function () {
    this.timeout(60_000)
    const commands = curlLines(await readmeBlock("## Quick start (MASA's steps)", 'sh'))
    assert.deepEqual(
      commands.map((command) => `${command.method} ${command.url}`),
      [
        'POST http://localhost:3000/api/v1/users',
        'POST http://localhost:3000/user/add',
        'GET http://localhost:3000/admin/jobs/api/counts',
      ],
    )
    const script = await runScript(project, 'main.ts', /Listening on http:\/\/localhost:\d+/)
    try {
      for (const command of commands) {
        // localhost resolves to ::1 or 127.0.0.1; the app listens on both.
        const url = command.url.replace('localhost:3000', `localhost:${script.port}`)
        const response = await fetch(url, { method: command.method })
        const text = await response.text()
        assert.ok(response.ok, `${command.method} ${url}: ${response.status} ${text}`)
        const body = JSON.parse(text) as Record<string, unknown>
        for (const [key, value] of Object.entries(command.promised ?? {})) {
          assert.deepEqual(body[key], value, `${command.method} ${command.url}: ${key} in ${text}`)
        }
      }
      await script.waitFor(/Execute registered account: masa/, 2, 20_000)
    } finally {
      await script.stop()
    }
  })

  it('run the admin snippet: its authorize lets in only a request with the token', async function () {
    this.timeout(60_000)
    const script = await runScript(project, 'admin.ts', /Listening/, { ADMIN_TOKEN: 'readme-secret' })
    try {
      const counts = `http://127.0.0.1:${script.port}/admin/jobs/api/counts`
      assert.equal((await fetch(counts)).status, 403)
      assert.equal((await fetch(counts, { headers: { 'x-admin-token': 'wrong' } })).status, 403)
      const allowed = await fetch(counts, { headers: { 'x-admin-token': 'readme-secret' } })
      assert.equal(allowed.status, 200)
      assert.equal(((await allowed.json()) as { pending: number }).pending, 0)
    } finally {
      await script.stop()
    }
  })
})
