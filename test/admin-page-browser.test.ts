import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { BackgroundJobBase } from '../src/background-job-base'
import type { JobContext } from '../src/types'
import { backgroundJobsAdminRouter, type AdminRouterOptions } from '../src/express/admin-router'
import { chromiumMissing, launchChromium } from './support/chromium'
import { deferred, type Deferred } from './support/deferred'
import { createHarness, type Harness } from './support/harness'
import { closeServer } from './support/proxy'
import { requireService } from './support/services'

const PAYLOAD = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`

class HostileJob extends BackgroundJobBase<{ text: string }> {
  static override jobName = `evil${PAYLOAD}`
  protected override async executing(): Promise<void> {}
}

class SendMailJob extends BackgroundJobBase<{ to: string; subject: string }> {
  protected override async executing(): Promise<void> {}
}

class ResizeImageJob extends BackgroundJobBase<{ file: string; sizes: number[] }> {
  static fail = true
  protected override async executing(args: { file: string; sizes: number[] }): Promise<void> {
    if (ResizeImageJob.fail) throw new Error(`cannot resize ${args.file}: the file is not a PNG image`)
  }
}

class ImportJob extends BackgroundJobBase<{ rows: number }> {
  static step: Deferred = deferred()
  static finish: Deferred = deferred()
  protected override async executing(args: { rows: number }, ctx: JobContext): Promise<void> {
    await ImportJob.step.promise
    ctx.log(`imported 40 of ${args.rows} rows <b>so far</b>`)
    ctx.updateProgress(40)
    await ImportJob.finish.promise
  }
}

/** Where screenshots go when SCREENSHOTS is set (they are not committed). */
const SCREENS = process.env['SCREENSHOTS']

describe('the admin page in headless Chromium', function () {
  this.timeout(60_000)
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  let h: Harness | undefined
  let server: Server | undefined
  let evil: Server | undefined
  let posts: Array<Record<string, unknown>> = []

  before(async function () {
    requireService(this, 'BROWSER', chromiumMissing())
    // One browser for the whole file: a launch costs about a second.
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
  })

  afterEach(async () => {
    await context?.close()
    context = undefined
    if (server !== undefined) await closeServer(server)
    server = undefined
    if (evil !== undefined) await closeServer(evil)
    evil = undefined
    await h?.container.dispose()
    h = undefined
    posts = []
    ResizeImageJob.fail = true
  })

  /** The admin on 127.0.0.1 (a real clock: the page polls), recording what each mutation carried. */
  async function serve(options: AdminRouterOptions = { allowMutations: true }): Promise<{ h: Harness; url: string }> {
    h = createHarness((o) => o.addJob(HostileJob, SendMailJob, ResizeImageJob, ImportJob), { retry: { maxRetries: 0 } })
    const app = express()
    app.use((req, _res, next) => {
      if (req.method === 'POST' || req.method === 'DELETE') {
        posts.push({
          csrf: req.get('x-background-jobs-csrf'),
          origin: req.get('origin'),
          site: req.get('sec-fetch-site'),
        })
      }
      next()
    })
    app.use('/admin/jobs', backgroundJobsAdminRouter(h.container, { clock: h.clock, ...options }))
    server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server?.once('listening', resolve))
    return { h, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/jobs/` }
  }

  async function open(url: string, width = 1280, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    await context?.close()
    context = await browser?.newContext({ viewport: { width, height: 900 }, colorScheme })
    const page = await context?.newPage()
    assert.ok(page)
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    await page.goto(url)
    ;(page as Page & { errors?: string[] }).errors = errors
    return page
  }

  function pageErrors(page: Page): string[] {
    return (page as Page & { errors?: string[] }).errors ?? []
  }

  /** Some failed, completed and pending jobs, with long args and a schedule. */
  async function seed(harness: Harness): Promise<{ failed: string[]; done: string[]; pending: string[] }> {
    const failed: string[] = []
    const done: string[] = []
    const pending: string[] = []
    for (let i = 0; i < 3; i++) {
      failed.push(
        await harness.manager.enqueue(ResizeImageJob, {
          file: `uploads/2026/12/photo-${i}-${'x'.repeat(40)}.png`,
          sizes: [64, 128, 256],
        }),
      )
      done.push(
        await harness.manager.enqueue(SendMailJob, { to: `user${i}@example.com`, subject: 'Your weekly digest' }),
      )
    }
    for (const id of [...failed, ...done]) await harness.manager.onSettled(id)
    await harness.tick(90_000)
    for (let i = 0; i < 2; i++) {
      pending.push(
        await harness.manager.enqueue(
          SendMailJob,
          { to: `later${i}@example.com`, subject: 'Reminder' },
          { delay: 3_600_000 },
        ),
      )
    }
    await harness.manager.addOrUpdateSchedule({
      id: 'nightly-digest',
      cron: '0 3 * * *',
      job: SendMailJob,
      args: { to: 'team@example.com', subject: 'Digest' },
    })
    return { failed, done, pending }
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    if (SCREENS === undefined) return
    mkdirSync(SCREENS, { recursive: true })
    await page.screenshot({ path: `${SCREENS}/${name}.png`, fullPage: true })
  }

  it('shows a job whose name and args hold markup as text, and runs none of it', async () => {
    const { h, url } = await serve({})
    const id = await h.manager.enqueue(HostileJob, { text: PAYLOAD }, { delay: 60_000 })
    const page = await open(`${url}?state=pending`)
    await page.locator(`a[data-id="${id}"]`).waitFor()
    assert.equal(await page.title(), 'Background jobs')
    assert.equal(await page.locator('img').count(), 0, 'no injected element exists')
    assert.ok((await page.locator('#rows').innerText()).includes(`evil<script>document.title='pwned'</script>`))
    const jobPage = await open(`${url}?job=${id}`)
    assert.ok((await jobPage.locator('#job-title').innerText()).includes('<img src=x'))
    assert.equal(await jobPage.locator('img').count(), 0)
    assert.ok((await jobPage.locator('pre.json').innerText()).includes('"text": "<script>'))
    await jobPage.locator('#refresh').click()
    await jobPage.locator('#status:has-text("Updated")').waitFor()
    assert.equal(await jobPage.locator('img').count(), 0, 'a live update swaps in escaped markup too')
    assert.notEqual(await jobPage.title(), 'pwned')
    assert.deepEqual([...pageErrors(page), ...pageErrors(jobPage)], [])
  })

  it('searches by id, filters by name, and opens a job view with readable args and the stack as lines', async () => {
    const { h, url } = await serve()
    const { failed, pending } = await seed(h)
    const page = await open(`${url}?state=failed`)
    await screenshot(page, 'failed-1280')
    assert.equal(await page.locator('#rows tr').count(), 3)
    assert.match(
      (await page.locator('#rows tr').first().locator('time').getAttribute('title')) ?? '',
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    )
    assert.match(await page.locator('#rows tr').first().innerText(), /1 min 30 s ago/)
    assert.match(await page.locator('#rows tr').first().innerText(), /total \d+ ms · ran \d+ ms/)

    await page.locator('input[name=q]').fill(pending[0] ?? '')
    await page.locator('input[name=q]').press('Enter')
    await page.locator('#exact-match').waitFor()
    assert.match(
      await page.locator('#exact-match').innerText(),
      new RegExp(`#${pending[0]} \\(SendMailJob\\) is pending`),
    )
    await page.locator('#exact-match a').click()
    await page.locator('#job-view').waitFor()
    assert.equal(await page.locator('#job-state').innerText(), 'pending')

    await page.goto(`${url}?state=completed`)
    await page.locator('select[name=name]').selectOption('SendMailJob')
    await page.locator('#filter button[type=submit]').click()
    await page.waitForURL(/name=SendMailJob/)
    assert.equal(await page.locator('#rows tr').count(), 3)
    await page.locator('select[name=name]').selectOption('ResizeImageJob')
    await page.locator('#filter button[type=submit]').click()
    await page.waitForURL(/name=ResizeImageJob/)
    assert.equal(await page.locator('#rows tr').count(), 0)
    assert.equal(await page.locator('#empty').innerText(), 'No completed jobs match.')

    await page.goto(`${url}?state=failed`)
    await page.locator(`a[data-id="${failed[0]}"]`).click()
    await page.locator('#job-view').waitFor()
    await screenshot(page, 'job-1280')
    assert.equal(await page.locator('#job-state').innerText(), 'failed')
    assert.match(await page.locator('pre.json').innerText(), /^\{\n {2}"file": "uploads/)
    assert.ok((await page.locator('.stack li').count()) > 2, 'the stack is shown as lines')
    assert.match(await page.locator('.stack li').first().innerText(), /^Error: cannot resize/)
    assert.deepEqual(pageErrors(page), [])
  })

  it('retries a failed job from its view and shows its new state without a reload', async () => {
    const { h, url } = await serve()
    const { failed } = await seed(h)
    ResizeImageJob.fail = false
    const page = await open(`${url}?job=${failed[0]}`)
    await page.locator('#job-actions button[data-action=retry]').click()
    await page.locator('#job-state:has-text("completed")').waitFor()
    assert.equal((await h.manager.getJob(failed[0] ?? ''))?.state, 'completed')
    assert.equal(await page.locator('#job-actions button[data-action=retry]').count(), 0, 'retry is gone')
    assert.equal(await page.locator('#job-actions button[data-action=delete]').count(), 1)
    assert.deepEqual(posts, [{ csrf: '1', origin: new URL(url).origin, site: 'same-origin' }])
  })

  it('bulk-retries every failed job after a confirmation, and does nothing when it is dismissed', async () => {
    const { h, url } = await serve()
    const { failed } = await seed(h)
    ResizeImageJob.fail = false
    const page = await open(`${url}?state=failed`)
    const questions: string[] = []
    page.once('dialog', (dialog) => {
      questions.push(dialog.message())
      void dialog.dismiss()
    })
    await page.locator('button[data-bulk=retry]').click()
    assert.deepEqual(questions, ['Retry every failed job?'])
    assert.equal((await h.manager.counts()).failed, 3)
    page.once('dialog', (dialog) => void dialog.accept())
    await page.locator('button[data-bulk=retry]').click()
    await page.locator('#status:has-text("3 jobs: retry done.")').waitFor()
    for (const id of failed) await h.manager.onSettled(id)
    assert.equal((await h.manager.counts()).failed, 0)
    await page.locator('#refresh').click()
    await page.locator('#empty:visible').waitFor()
    assert.equal(await page.locator('#tabs a[data-state=failed] .count').innerText(), '0')
  })

  it('shows progress and a log line appear live on the view of a running job', async () => {
    const { h, url } = await serve()
    ImportJob.step = deferred()
    ImportJob.finish = deferred()
    const id = await h.manager.enqueue(ImportJob, { rows: 100 })
    const page = await open(`${url}?job=${id}`)
    await page.locator('#job-state:has-text("running")').waitFor()
    assert.equal(await page.locator('#job-progress').count(), 0)
    ImportJob.step.resolve()
    await page.locator('#job-log li:has-text("imported 40 of 100 rows <b>so far</b>")').waitFor()
    assert.equal(await page.locator('#job-progress').getAttribute('value'), '40')
    assert.equal(await page.locator('#job-log b').count(), 0, 'the logged markup stays text')
    await screenshot(page, 'running-1280')
    ImportJob.finish.resolve()
    await page.locator('#job-state:has-text("completed")').waitFor()
    assert.deepEqual(pageErrors(page), [])
  })

  it('polls while the tab is visible, stops while it is hidden, and refreshes at once when it shows again', async () => {
    const { h, url } = await serve()
    ImportJob.step = deferred()
    ImportJob.finish = deferred()
    const id = await h.manager.enqueue(ImportJob, { rows: 1 })
    const page = await open(`${url}?job=${id}`)
    let loads = 0
    page.on('request', (sent) => {
      if (sent.resourceType() === 'fetch' && sent.url().includes(`?job=${id}`)) loads += 1
    })
    // The view of a running job polls every second.
    await page.waitForTimeout(1300)
    assert.ok(loads >= 1, `polled ${loads} times in 1.3 s`)
    await page.evaluate(`Object.defineProperty(document, 'hidden', { value: true, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'))`)
    await page.waitForTimeout(200)
    const whileHidden = loads
    await page.waitForTimeout(1600)
    assert.equal(loads, whileHidden, 'no request while hidden')
    await page.evaluate(`Object.defineProperty(document, 'hidden', { value: false, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'))`)
    await page.waitForTimeout(300)
    assert.ok(loads > whileHidden, 'a refresh as soon as it shows')
    ImportJob.step.resolve()
    ImportJob.finish.resolve()
    await h.manager.onSettled(id)
  })

  it('triggers a schedule now from its row', async () => {
    const { h, url } = await serve()
    await seed(h)
    const page = await open(`${url}?state=pending`)
    await page.locator('button[data-schedule-action=trigger]').click()
    await page.locator('#status:has-text("Schedule nightly-digest enqueued job")').waitFor()
    const jobs = await h.manager.listJobs({ state: 'completed', limit: 100 })
    assert.ok(jobs.items.some((job) => job.scheduleId === 'nightly-digest'))
  })

  it('fits a 390 px wide screen: no horizontal overflow of the page or the tables', async () => {
    const { h, url } = await serve()
    const { failed } = await seed(h)
    for (const [name, path] of [
      ['pending-390', '?state=pending'],
      ['failed-390', '?state=failed'],
      ['job-390', `?job=${failed[0]}`],
    ] as const) {
      const page = await open(`${url}${path}`, 390)
      await screenshot(page, name)
      // A string: the test's tsconfig has no DOM types.
      const widths = await page.evaluate<{ page: [number, number]; wraps: Array<[number, number]> }>(`(() => {
        const doc = document.documentElement;
        const wraps = [...document.querySelectorAll('.table-wrap, #job-view')].map((e) => [e.scrollWidth, e.clientWidth]);
        return { page: [doc.scrollWidth, doc.clientWidth], wraps };
      })()`)
      assert.ok(widths.page[0] === widths.page[1], `${name}: the page scrolls sideways: ${JSON.stringify(widths)}`)
      for (const [scroll, client] of widths.wraps) assert.ok(scroll === client, `${name}: ${JSON.stringify(widths)}`)
    }
    if (SCREENS !== undefined) {
      await screenshot(await open(`${url}?state=pending`), 'pending-1280')
      await screenshot(await open(`${url}?job=${failed[0]}`, 1280, 'dark'), 'job-1280-dark')
    }
  })

  it("wraps a list's args between JSON members on a 390 px screen, not inside a key or a value", async () => {
    const { h, url } = await serve()
    // Each token fits on one line of the cell; the whole does not.
    const args = { to: 'ada.lovelace@example.com', subject: 'WeeklyDigest2026' }
    await h.manager.enqueue(SendMailJob, args, { delay: 3_600_000 })
    const page = await open(`${url}?state=pending`, 390)
    await screenshot(page, 'args-390')
    // For each JSON token of the cell (a key or a value, quotes included): how many lines it spans.
    const { total, tokens } = await page.evaluate<{ total: number; tokens: Array<[string, number]> }>(`(() => {
      const code = document.querySelector('td.args code');
      const text = code.textContent;
      const lines = (start, end) => {
        const range = document.createRange();
        const at = (offset) => {
          const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (offset <= node.data.length) return [node, offset];
            offset -= node.data.length;
          }
        };
        range.setStart(...at(start));
        range.setEnd(...at(end));
        return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
      };
      const tokens = [...text.matchAll(/"[^"]*"/g)].map((m) => [m[0], lines(m.index, m.index + m[0].length)]);
      return { total: lines(0, text.length), tokens };
    })()`)
    assert.equal(tokens.length, 4, JSON.stringify(tokens))
    assert.ok(total >= 2, `the args wrap at 390 px (${total} lines), else this test shows nothing`)
    for (const [token, lines] of tokens) assert.equal(lines, 1, `${token} is split across ${lines} lines`)
  })

  it('can be used with the keyboard alone: tab to a job, open it, retry it', async () => {
    const { h, url } = await serve()
    const { failed } = await seed(h)
    ResizeImageJob.fail = false
    const page = await open(`${url}?state=failed`)
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab')
      if ((await page.evaluate(`document.activeElement?.getAttribute('data-id')`)) === failed[0]) break
    }
    await page.keyboard.press('Enter')
    await page.locator('#job-view').waitFor()
    await page.locator('#job-actions button[data-action=retry]').focus()
    await page.keyboard.press('Enter')
    await page.locator('#job-state:has-text("completed")').waitFor()
  })

  it("cancels a job through the page's own script under its strict CSP, which sends the CSRF header", async () => {
    const { h, url } = await serve()
    const id = await h.manager.enqueue(HostileJob, { text: 'cancel me' }, { delay: 60_000 })
    const page = await open(`${url}?job=${id}`)
    await page.locator('#job-actions button[data-action=cancel]').click()
    await page.locator('#job-state:has-text("cancelled")').waitFor()
    assert.equal((await h.manager.getJob(id))?.state, 'cancelled')
    assert.deepEqual(posts, [{ csrf: '1', origin: new URL(url).origin, site: 'same-origin' }])
    assert.deepEqual(pageErrors(page), [])
  })

  it("does not let another site's auto-submitted form cancel a job", async () => {
    const { h, url } = await serve()
    const id = await h.manager.enqueue(HostileJob, { text: 'cancel me' }, { delay: 60_000 })
    const attacker = express()
    attacker.get('/', (_req, res) => {
      res
        .type('html')
        .send(
          `<form method="POST" enctype="text/plain" action="${url}api/jobs/${id}/cancel"><input name="x" value="y"></form><script>document.forms[0].submit()</script>`,
        )
    })
    evil = attacker.listen(0, '127.0.0.1')
    await new Promise((resolve) => evil?.once('listening', resolve))
    context = await browser?.newContext()
    const page = await context?.newPage()
    // localhost and 127.0.0.1 are different sites to the browser.
    await page?.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`)
    for (let i = 0; i < 500 && posts.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(posts.length, 1, 'the browser sent the forged POST')
    assert.equal(posts[0]?.['csrf'], undefined)
    assert.equal((await h.manager.getJob(id))?.state, 'pending')
  })
})
