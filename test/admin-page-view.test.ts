import assert from 'node:assert/strict'
import type { AwilixContainer } from 'awilix'
import express, { type Application } from 'express'
import request from 'supertest'
import { BackgroundJobBase } from '../src/background-job-base'
import { backgroundJobsAdminRouter, type AdminRouterOptions } from '../src/express/admin-router'
import { formatAbsolute, formatDuration, formatRelative } from '../src/express/admin-page-format'
import { renderJobView } from '../src/express/admin-page-jobs'
import type { JobContext, JobInfo } from '../src/types'
import { createHarness, type Harness } from './support/harness'

const XSS = '<script>alert(1)</script>'

class FailJob extends BackgroundJobBase<{ text: string }> {
  protected async executing(args: { text: string }): Promise<void> {
    throw new Error(`failed on ${args.text}`)
  }
}

let containers: AwilixContainer[] = []

function setup(options: AdminRouterOptions = {}): { h: Harness; app: Application } {
  const h = createHarness((o) => o.addJob(FailJob), { retry: { maxRetries: 0 } })
  containers.push(h.container)
  const app = express()
  app.use('/admin', backgroundJobsAdminRouter(h.container, { clock: h.clock, ...options }))
  return { h, app }
}

afterEach(async () => {
  for (const container of containers) await container.dispose()
  containers = []
})

describe('the admin page, as the server renders it', () => {
  it('renders a job view at ?job=ID with its state, the stack as lines, args as indented JSON, all escaped', async () => {
    const { h, app } = setup({ allowMutations: true })
    const id = await h.manager.enqueue(FailJob, { text: XSS })
    await h.manager.onSettled(id)
    await h.tick(125_000)
    const html = (await request(app).get(`/admin/?job=${id}`).expect(200)).text
    assert.ok(html.includes(`<span class="state state-failed" id="job-state">failed</span>`))
    assert.ok(html.includes('data-action="retry"') && html.includes('data-action="delete"'))
    assert.ok(!html.includes('data-action="cancel"'))
    assert.match(
      html,
      /<ol class="stack"><li><code>Error: failed on &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/code><\/li><li><code> {4}at /,
    )
    assert.ok(html.includes('{\n  &quot;text&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;\n}'))
    assert.match(html, /title="2030-01-01 00:00:00 UTC">2 min 5 s ago<\/time>/)
    assert.equal(html.split('<script').length - 1, 1, 'only the page script')
  })

  it('shows a failed job’s last error once on its view, in its attempt history, with the stack as lines', async () => {
    class TwiceFailJob extends BackgroundJobBase<null> {
      static override retry = { maxRetries: 1, initialDelayMs: 0 }
      protected async executing(_args: null, ctx: JobContext): Promise<void> {
        throw new RangeError(`attempt ${ctx.attempt} broke`)
      }
    }
    const h = createHarness((o) => o.addJob(TwiceFailJob))
    containers.push(h.container)
    const app = express().use('/admin', backgroundJobsAdminRouter(h.container, { clock: h.clock }))
    const id = await h.manager.enqueue(TwiceFailJob, null)
    await h.tick(10)
    assert.equal((await h.manager.onSettled(id)).state, 'failed')
    const html = (await request(app).get(`/admin/?job=${id}`).expect(200)).text
    const view = html.slice(html.indexOf('<section id="job-view"'))
    assert.equal(view.split('attempt 2 broke').length - 1, 1, 'the last error once')
    assert.equal(view.split('attempt 1 broke').length - 1, 1, 'the first attempt’s error once')
    assert.ok(!view.includes('<h3>Last error</h3>'))
    assert.match(
      view,
      /<ol class="attempts">.*<strong>#2<\/strong>.*<ol class="stack"><li><code>RangeError: attempt 2 broke<\/code><\/li><li><code> {4}at /s,
    )
  })

  it('keeps a "Last error" block for a job whose history does not hold its last error', () => {
    const job: JobInfo = {
      id: '7',
      name: 'OldJob',
      args: null,
      state: 'failed',
      attempts: 1,
      maxAttempts: 1,
      createdAt: new Date(0),
      runAt: new Date(0),
      lastError: { name: 'Error', message: 'lost <b>history</b>' },
      logs: [],
      history: [],
    }
    const view = renderJobView(job, 0, false, '?')
    assert.ok(view.includes('<h3>Last error</h3>'))
    assert.equal(view.split('lost &lt;b&gt;history&lt;/b&gt;').length - 1, 1)
  })

  it('answers 404 with a page that says so for an unknown ?job', async () => {
    const { app } = setup()
    const html = (await request(app).get('/admin/?job=404404').expect(404)).text
    assert.match(html, /No job has id &quot;404404&quot;/)
  })

  it('keeps redacted args and errors out of the job view', async () => {
    const { h, app } = setup({ redactArgs: true })
    const id = await h.manager.enqueue(FailJob, { text: 'secret@example.com' })
    await h.manager.onSettled(id)
    const html = (await request(app).get(`/admin/?job=${id}`).expect(200)).text
    assert.ok(!html.includes('secret@example.com'))
    assert.ok(!html.includes('class="stack"'))
    assert.ok(html.includes('&quot;[redacted]&quot;'))
  })

  it('links the exact id match of a search, and filters the list by name', async () => {
    const { h, app } = setup()
    const id = await h.manager.enqueue(FailJob, { text: 'x' })
    await h.manager.onSettled(id)
    const html = (await request(app).get(`/admin/?state=pending&q=${id}`).expect(200)).text
    assert.match(
      html,
      new RegExp(`<p id="exact-match">Job <a href="\\?job=${id}">#${id}</a> \\(FailJob\\) is failed\\.</p>`),
    )
    const named = (await request(app).get('/admin/?state=failed&name=FailJob').expect(200)).text
    assert.ok(named.includes(`data-id="${id}"`))
    assert.ok(named.includes('<option value="FailJob" selected>FailJob (1)</option>'))
    const other = (await request(app).get('/admin/?state=failed&name=Other').expect(200)).text
    assert.ok(!other.includes(`data-id="${id}"`))
  })

  it('renders the per-minute chart as inline SVG with a title per minute', async () => {
    const { h, app } = setup()
    const id = await h.manager.enqueue(FailJob, { text: 'x' })
    await h.manager.onSettled(id)
    const html = (await request(app).get('/admin/').expect(200)).text
    assert.equal(html.split('<g><title>').length - 1, 60)
    assert.ok(html.includes('<title>00:00 UTC: 0 completed, 1 failed</title>'))
    assert.ok(!/ style=/.test(html), 'no style attribute: the CSP would refuse it')
  })
})

describe('admin page formatting', () => {
  it('writes durations as people read them', () => {
    assert.deepEqual([0, 850, 1234, 12_345, 65_000, 3_600_000, 3_660_000, 90_000_000, Number.NaN].map(formatDuration), [
      '0 ms',
      '850 ms',
      '1.2 s',
      '12 s',
      '1 min 5 s',
      '1 h',
      '1 h 1 min',
      '1 d 1 h',
      '',
    ])
  })

  it('writes times relative to now, with the absolute time in UTC', () => {
    assert.equal(formatRelative(1000, 1500), 'just now')
    assert.equal(formatRelative(0, 3_400), '3 s ago')
    assert.equal(formatRelative(300_000, 0), 'in 5 min')
    assert.equal(formatAbsolute(Date.UTC(2030, 0, 2, 3, 4, 5)), '2030-01-02 03:04:05 UTC')
  })
})
