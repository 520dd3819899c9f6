import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import express from 'express'
import { BackgroundJobBase } from '../src/background-job-base'
import { backgroundJobsAdminRouter } from '../src/express/admin-router'
import { CHROMIUM, Chromium, chromiumMissing } from './support/chromium'
import { createHarness, type Harness } from './support/harness'
import { closeServer } from './support/proxy'
import { requireService } from './support/services'

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
    requireService(this, 'BROWSER', chromiumMissing())
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

  describe('mutations from a real browser', () => {
    let chromium: Chromium | undefined
    let evil: Server | undefined

    afterEach(async () => {
      await chromium?.close()
      chromium = undefined
      if (evil !== undefined) await closeServer(evil)
      evil = undefined
    })

    /** The admin with mutations on 127.0.0.1, recording what each POST carried. */
    async function serveAdmin(): Promise<{ port: number; id: string; posts: Array<Record<string, unknown>> }> {
      h = createHarness((o) => o.addJob(HostileJob))
      const id = await h.manager.enqueue(HostileJob, { text: 'cancel me' }, { delay: 60_000 })
      const posts: Array<Record<string, unknown>> = []
      const app = express()
      app.use((req, _res, next) => {
        if (req.method === 'POST') {
          posts.push({
            csrf: req.get('x-background-jobs-csrf'),
            origin: req.get('origin'),
            site: req.get('sec-fetch-site'),
          })
        }
        next()
      })
      app.use('/admin/jobs', backgroundJobsAdminRouter(h.container, { allowMutations: true }))
      server = app.listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      return { port: (server.address() as AddressInfo).port, id, posts }
    }

    it("cancels a job through the page's own script under its strict CSP, which sends the CSRF header", async () => {
      const { port, id, posts } = await serveAdmin()
      chromium = Chromium.launch()
      const page = await chromium.open(`http://127.0.0.1:${port}/admin/jobs/?state=pending`)
      const title = await chromium.evaluate(
        page,
        `(async () => {
          const wait = async (check) => {
            for (let i = 0; i < 500; i++) {
              const value = check();
              if (value) return value;
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
            throw new Error('timed out: ' + document.getElementById('status')?.textContent);
          };
          const row = await wait(() => document.readyState === 'complete' && document.querySelector('button[data-id="${id}"]'));
          row.click();
          const cancel = await wait(() => document.querySelector('#actions button[data-action="cancel"]'));
          cancel.click();
          await wait(() => /[(]cancelled[)]/.test(document.getElementById('detail-title').textContent) || document.getElementById('status').className === 'error');
          return document.getElementById('detail-title').textContent + ' | ' + document.getElementById('status').textContent;
        })()`,
      )
      assert.match(String(title), /\(cancelled\)/)
      assert.equal((await h.manager.getJob(id))?.state, 'cancelled')
      assert.deepEqual(posts, [{ csrf: '1', origin: `http://127.0.0.1:${port}`, site: 'same-origin' }])
    })

    it("does not let another site's auto-submitted form cancel a job", async () => {
      const { port, id, posts } = await serveAdmin()
      const attacker = express()
      attacker.get('/', (_req, res) => {
        res
          .type('html')
          .send(
            `<form method="POST" enctype="text/plain" action="http://127.0.0.1:${port}/admin/jobs/api/jobs/${id}/cancel"><input name="x" value="y"></form><script>document.forms[0].submit()</script>`,
          )
      })
      evil = attacker.listen(0, '127.0.0.1')
      await new Promise((resolve) => evil?.once('listening', resolve))
      chromium = Chromium.launch()
      // localhost and 127.0.0.1 are different sites to the browser.
      await chromium.open(`http://localhost:${(evil.address() as AddressInfo).port}/`, false)
      for (let i = 0; i < 500 && posts.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(posts.length, 1, 'the browser sent the forged POST')
      assert.equal(posts[0]?.['csrf'], undefined)
      assert.equal((await h.manager.getJob(id))?.state, 'pending')
    })
  })
})
