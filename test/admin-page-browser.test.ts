import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import express from 'express'
import { BackgroundJobBase } from '../src/background-job-base'
import { backgroundJobsAdminRouter } from '../src/express/admin-router'
import { createHarness, type Harness } from './support/harness'
import { requireService } from './support/services'

const CHROMIUM = '/usr/bin/chromium'
const PAYLOAD = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`

class HostileJob extends BackgroundJobBase<{ text: string }> {
  static override jobName = `evil${PAYLOAD}`
  protected override async executing(): Promise<void> {}
}

/** Loads `url` in headless Chromium and returns the DOM after its scripts ran. */
async function dumpDom(url: string): Promise<string> {
  const profile = mkdtempSync(path.join(tmpdir(), 'admin-page-'))
  try {
    const { stdout } = await promisify(execFile)(
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
        '--virtual-time-budget=5000',
        '--dump-dom',
        url,
      ],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    )
    return stdout
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}

describe('the admin page in headless Chromium', function () {
  this.timeout(90_000)
  let h: Harness
  let server: Server

  before(function () {
    requireService(
      this,
      'BROWSER',
      existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`,
    )
  })

  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await h?.container.dispose()
  })

  it('shows a job whose name and args hold markup as text, and runs none of it', async () => {
    h = createHarness((o) => o.addJob(HostileJob))
    const id = await h.manager.enqueue(HostileJob, { text: PAYLOAD }, { delay: 60_000 })
    const app = express()
    app.use('/admin/jobs', backgroundJobsAdminRouter(h.container))
    server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const { port } = server.address() as AddressInfo

    const dom = await dumpDom(`http://127.0.0.1:${port}/admin/jobs/?state=pending`)

    assert.ok(dom.includes(`data-id="${id}"`), 'the pending job is listed')
    assert.doesNotMatch(dom, /<title>[^<]*pwned/, 'no injected script ran')
    assert.ok(!dom.includes('<img src="x"'), 'no injected element exists')
    assert.ok(dom.includes('&lt;script&gt;document.title'), 'the markup is shown as text')
  })
})
