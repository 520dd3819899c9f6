import assert from 'node:assert/strict'
import type { AwilixContainer } from 'awilix'
import express, { type Application } from 'express'
import request from 'supertest'
import { BackgroundJobBase } from '../src/background-job-base'
import { ScheduleNotFoundError } from '../src/errors'
import { backgroundJobsAdminRouter, type AdminRouterOptions } from '../src/express/admin-router'
import { runBulkAction } from '../src/express/admin-bulk'
import { JobMetricsRing, escapeLabelValue } from '../src/express/admin-metrics'
import { MAX_SCANNED_JOBS, scanJobs } from '../src/express/admin-search'
import { JobRecord } from '../src/memory/job-record'
import { readLogMessage, readProgress } from '../src/policy/job-progress'
import type { JobContext, JobInfo, JobPage, ListJobsQuery } from '../src/types'
import { createHarness, type Harness } from './support/harness'

const CSRF = { 'X-Background-Jobs-Csrf': '1' }

class SendMailJob extends BackgroundJobBase<{ to: string }> {
  protected async executing(): Promise<void> {}
}

class ResizeImageJob extends BackgroundJobBase<{ file: string }> {
  static fail = true
  protected async executing(args: { file: string }): Promise<void> {
    if (ResizeImageJob.fail) throw new Error(`cannot resize ${args.file}`)
  }
}

class QuoteJob extends BackgroundJobBase<{ n: number }> {
  static override jobName = 'Quote"\\\nJob'
  protected async executing(): Promise<void> {}
}

class ReportingJob extends BackgroundJobBase<{ file: string }> {
  static override retry = { maxRetries: 1, initialDelayMs: 0 }
  protected async executing(args: { file: string }, ctx: JobContext): Promise<void> {
    ctx.log(`attempt ${ctx.attempt}: reading ${args.file}`)
    ctx.updateProgress(ctx.attempt === 1 ? 30 : 100)
    if (ctx.attempt === 1) throw new Error(`${args.file} is locked`)
    ctx.log('done')
  }
}

interface Page {
  items: JobInfo[]
  total: number
  offset: number
  limit: number
  isComplete: boolean
}

let containers: AwilixContainer[] = []

function setup(options: AdminRouterOptions = { allowMutations: true }): { h: Harness; app: Application } {
  const h = createHarness((o) => o.addJob(SendMailJob, ResizeImageJob, QuoteJob, ReportingJob), {
    retry: { maxRetries: 0 },
  })
  containers.push(h.container)
  const app = express()
  app.use('/admin', backgroundJobsAdminRouter(h.container, { clock: h.clock, ...options }))
  return { h, app }
}

/** Enqueues `n` jobs of each kind due now and lets them all end: SendMail completes, ResizeImage fails. */
async function runSome(h: Harness, n: number): Promise<{ mails: string[]; images: string[] }> {
  const mails: string[] = []
  const images: string[] = []
  for (let i = 0; i < n; i++) {
    mails.push(await h.manager.enqueue(SendMailJob, { to: `user${i}@example.com` }))
    images.push(await h.manager.enqueue(ResizeImageJob, { file: `photo${i}.png` }))
  }
  for (const id of [...mails, ...images]) await h.manager.onSettled(id)
  return { mails, images }
}

afterEach(async () => {
  for (const container of containers) await container.dispose()
  containers = []
  ResizeImageJob.fail = true
})

describe('the admin API of the dashboard', () => {
  describe('progress, logs and the attempt history (memory engine)', () => {
    it('GET api/jobs/:id of a job that logged, reported progress and failed once shows all three', async () => {
      const { h, app } = setup()
      const id = await h.manager.enqueue(ReportingJob, { file: 'secret.csv' })
      assert.equal((await h.manager.onSettled(id)).state, 'completed')
      const job = (await request(app).get(`/admin/api/jobs/${id}`).expect(200)).body as {
        progress: unknown
        logs: { at: string; message: string }[]
        history: {
          attempt: number
          outcome: string
          startedAt: string
          finishedAt: string
          error?: { message: string }
        }[]
      }
      assert.equal(job.progress, 100)
      assert.deepEqual(
        job.logs.map((line) => line.message),
        ['attempt 1: reading secret.csv', 'attempt 2: reading secret.csv', 'done'],
      )
      assert.ok(job.logs.every((line) => !Number.isNaN(Date.parse(line.at))))
      assert.deepEqual(
        job.history.map((entry) => [entry.attempt, entry.outcome, entry.error?.message]),
        [
          [1, 'failed', 'secret.csv is locked'],
          [2, 'completed', undefined],
        ],
      )
      assert.ok(
        job.history.every((entry) => typeof entry.startedAt === 'string' && typeof entry.finishedAt === 'string'),
      )
      const list = (await request(app).get('/admin/api/jobs?state=completed').expect(200)).body as Page
      const item = list.items[0] as unknown as Record<string, unknown>
      assert.equal(item['logs'], undefined, 'lists carry no logs')
      assert.equal(item['history'], undefined, 'lists carry no history')
      assert.equal(item['progress'], 100)
      const html = (await request(app).get(`/admin/?job=${id}`).expect(200)).text
      assert.ok(html.includes('<progress id="job-progress" max="100" value="100">'))
      assert.match(html, /<ol class="attempts"><li><strong>#1<\/strong> <span class="outcome-failed">failed<\/span>/)
      assert.ok(html.includes('<code>attempt 2: reading secret.csv</code>'))
    })

    it('redacts log lines and the errors of past attempts with the rest', async () => {
      const { h, app } = setup({ redactArgs: true })
      const id = await h.manager.enqueue(ReportingJob, { file: 'secret.csv' })
      await h.manager.onSettled(id)
      const res = await request(app).get(`/admin/api/jobs/${id}`).expect(200)
      assert.ok(!res.text.includes('secret.csv'), res.text)
      const html = (await request(app).get(`/admin/?job=${id}`).expect(200)).text
      assert.ok(!html.includes('secret.csv'))
    })

    it('keeps the last 100 log lines, cuts long ones, and refuses bad progress and messages', async () => {
      const { h } = setup()
      assert.throws(() => readProgress(101), /a number from 0 to 100 or a JSON object/)
      assert.throws(() => readProgress(Number.NaN), /InvalidArgumentError|from 0 to 100/)
      assert.throws(() => readProgress({ big: 'x'.repeat(2000) }), /1024 characters/)
      assert.throws(() => readProgress([1]), /JSON object/)
      assert.deepEqual(readProgress({ done: 4, of: 10 }), { done: 4, of: 10 })
      assert.throws(() => readLogMessage(42), /a string/)
      assert.equal(readLogMessage('y'.repeat(3000)).length, 2000)
      class ChattyJob extends BackgroundJobBase<null> {
        protected async executing(_args: null, ctx: JobContext): Promise<void> {
          for (let i = 1; i <= 150; i++) ctx.log(`line ${i}`)
          ctx.updateProgress({ done: 150, of: 150 })
        }
      }
      const other = createHarness((o) => o.addJob(ChattyJob))
      containers.push(other.container)
      const id = await other.manager.enqueue(ChattyJob, null)
      const job = await other.manager.onSettled(id)
      assert.equal(job.logs.length, 100)
      assert.equal(job.logs[0]?.message, 'line 51')
      assert.deepEqual(job.progress, { done: 150, of: 150 })
      assert.equal(job.history.length, 1)
      assert.equal((await h.manager.counts()).failed, 0)
    })

    it('stores nothing for a job that neither logs nor reports progress', async () => {
      const { h } = setup()
      const id = await h.manager.enqueue(SendMailJob, { to: 'a' })
      const job = await h.manager.onSettled(id)
      assert.deepEqual(job.logs, [])
      assert.equal(job.progress, undefined)
      assert.deepEqual(
        job.history.map((entry) => entry.outcome),
        ['completed'],
      )
    })
  })

  describe('GET api/jobs with name and q', () => {
    it('filters a state by exact job name and keeps paging over the matches', async () => {
      const { h, app } = setup()
      const mails: string[] = []
      for (let i = 0; i < 3; i++) {
        mails.push(await h.manager.enqueue(SendMailJob, { to: `u${i}` }, { delay: 60_000 }))
        await h.manager.enqueue(ResizeImageJob, { file: `f${i}` }, { delay: 60_000 })
      }
      const page = (await request(app).get('/admin/api/jobs?state=pending&name=SendMailJob&limit=2').expect(200))
        .body as Page
      assert.deepEqual(
        page.items.map((job) => job.id),
        mails.slice(0, 2),
      )
      assert.equal(page.total, 3)
      assert.equal(page.isComplete, true)
      const next = (
        await request(app).get('/admin/api/jobs?state=pending&name=SendMailJob&offset=2&limit=2').expect(200)
      ).body as Page
      assert.deepEqual(
        next.items.map((job) => job.id),
        mails.slice(2),
      )
      const none = (await request(app).get('/admin/api/jobs?state=pending&name=SendMail').expect(200)).body as Page
      assert.equal(none.total, 0, 'name is an exact match, not a substring')
    })

    it('finds a job by its exact id and jobs by a case-insensitive substring of the name', async () => {
      const { h, app } = setup()
      const mail = await h.manager.enqueue(SendMailJob, { to: 'a' }, { delay: 60_000 })
      const image = await h.manager.enqueue(ResizeImageJob, { file: 'b' }, { delay: 60_000 })
      const byId = (await request(app).get(`/admin/api/jobs?state=pending&q=${image}`).expect(200)).body as Page
      assert.deepEqual(
        byId.items.map((job) => job.id),
        [image],
      )
      const byText = (await request(app).get('/admin/api/jobs?state=pending&q=sendmail').expect(200)).body as Page
      assert.deepEqual(
        byText.items.map((job) => job.id),
        [mail],
      )
      const wrongState = (await request(app).get(`/admin/api/jobs?state=failed&q=${image}`).expect(200)).body as Page
      assert.equal(wrongState.total, 0)
      const empty = (await request(app).get('/admin/api/jobs?state=pending&q=&name=').expect(200)).body as Page
      assert.equal(empty.total, 2, 'empty filters filter nothing')
    })

    it('refuses a name or q longer than 200 characters with 400', async () => {
      const { app } = setup()
      const res = await request(app)
        .get(`/admin/api/jobs?state=pending&q=${'x'.repeat(201)}`)
        .expect(400)
      assert.equal((res.body as { error: { name: string } }).error.name, 'InvalidOptionError')
      assert.match((res.body as { error: { message: string } }).error.message, /q/)
    })

    it('keeps the list previews and redaction on filtered lists', async () => {
      const { h, app } = setup({ redactArgs: true })
      await h.manager.enqueue(SendMailJob, { to: 'secret@example.com' }, { delay: 60_000 })
      const page = (await request(app).get('/admin/api/jobs?state=pending&name=SendMailJob').expect(200)).body as Page
      assert.equal(page.items[0]?.args, '[redacted]')
    })
  })

  describe('scanJobs', () => {
    it('stops after the bound and says that it did not see every job', async () => {
      let calls = 0
      const fake = {
        async listJobs(query: ListJobsQuery): Promise<JobPage> {
          calls += 1
          const total = MAX_SCANNED_JOBS + 5
          const offset = query.offset ?? 0
          const count = Math.max(0, Math.min(query.limit ?? 50, total - offset))
          const items = Array.from({ length: count }, (_, i) => ({ id: String(offset + i) }) as JobInfo)
          return { items, total, offset, limit: query.limit ?? 50 }
        },
      }
      let seen = 0
      const isComplete = await scanJobs(fake, 'pending', MAX_SCANNED_JOBS, () => {
        seen += 1
      })
      assert.equal(isComplete, false)
      assert.equal(seen, MAX_SCANNED_JOBS)
      assert.equal(calls, MAX_SCANNED_JOBS / 1000 + 1)
    })
  })

  describe('GET api/names', () => {
    it('lists the job names held, with counts per state, and the names of schedules', async () => {
      const { h, app } = setup()
      await runSome(h, 2)
      await h.manager.enqueue(SendMailJob, { to: 'later' }, { delay: 60_000 })
      await h.manager.addOrUpdateSchedule({ id: 'nightly', cron: '0 3 * * *', job: QuoteJob, args: { n: 1 } })
      const body = (await request(app).get('/admin/api/names').expect(200)).body as {
        items: { name: string; counts: Record<string, number> }[]
        isComplete: boolean
      }
      assert.equal(body.isComplete, true)
      assert.deepEqual(
        body.items.map((item) => item.name),
        [QuoteJob.jobName, 'ResizeImageJob', 'SendMailJob'].sort(),
      )
      const mail = body.items.find((item) => item.name === 'SendMailJob')
      assert.deepEqual(mail?.counts, { pending: 1, running: 0, completed: 2, failed: 0, cancelled: 0 })
      const image = body.items.find((item) => item.name === 'ResizeImageJob')
      assert.equal(image?.counts['failed'], 2)
    })
  })

  describe('bulk actions', () => {
    it('retries every failed job and reports how many it touched', async () => {
      const { h, app } = setup()
      const { images } = await runSome(h, 3)
      ResizeImageJob.fail = false
      const res = await request(app).post('/admin/api/bulk/retry').set(CSRF).expect(200)
      assert.deepEqual(res.body, { action: 'retry', state: 'failed', touched: 3, skipped: 0, isComplete: true })
      for (const id of images) assert.equal((await h.manager.onSettled(id)).state, 'completed')
    })

    it('retries only the failed jobs of one name when given', async () => {
      const { h, app } = setup()
      const { images } = await runSome(h, 1)
      const unknown = await h.manager.enqueue('NoSuchJob', {})
      await h.manager.onSettled(unknown)
      const image = await h.manager.getJob(images[0] ?? '')
      const res = await request(app).post('/admin/api/bulk/retry?name=NoSuchJob').set(CSRF).expect(200)
      assert.equal((res.body as { touched: number }).touched, 1)
      assert.deepEqual(await h.manager.getJob(images[0] ?? ''), image, 'the ResizeImageJob failure is left alone')
      const retried = await h.manager.onSettled(unknown)
      assert.equal(retried.attempts, 1, 'the retried job ran again (and failed again: no such job)')
      assert.ok((retried.finishedAt?.getTime() ?? 0) >= (image?.finishedAt?.getTime() ?? Infinity))
    })

    it('deletes every job of a finished state, optionally of one name', async () => {
      const { h, app } = setup()
      await runSome(h, 2)
      const some = await request(app).post('/admin/api/bulk/delete?state=completed&name=Nope').set(CSRF).expect(200)
      assert.equal((some.body as { touched: number }).touched, 0)
      const res = await request(app).post('/admin/api/bulk/delete?state=completed').set(CSRF).expect(200)
      assert.deepEqual(res.body, { action: 'delete', state: 'completed', touched: 2, skipped: 0, isComplete: true })
      assert.deepEqual((await h.manager.counts()).completed, 0)
      assert.equal((await h.manager.counts()).failed, 2)
      await request(app).post('/admin/api/bulk/delete?state=pending').set(CSRF).expect(400)
      await request(app).post('/admin/api/bulk/delete').set(CSRF).expect(400)
    })

    it('cancels every pending job of a name and requires the name', async () => {
      const { h, app } = setup()
      for (let i = 0; i < 3; i++) await h.manager.enqueue(SendMailJob, { to: `u${i}` }, { delay: 60_000 })
      const image = await h.manager.enqueue(ResizeImageJob, { file: 'x' }, { delay: 60_000 })
      const refused = await request(app).post('/admin/api/bulk/cancel').set(CSRF).expect(400)
      assert.match((refused.body as { error: { message: string } }).error.message, /name/)
      const res = await request(app).post('/admin/api/bulk/cancel?name=SendMailJob').set(CSRF).expect(200)
      assert.equal((res.body as { touched: number }).touched, 3)
      const counts = await h.manager.counts()
      assert.deepEqual([counts.pending, counts.cancelled], [1, 3])
      assert.equal((await h.manager.getJob(image))?.state, 'pending')
    })

    it('counts jobs that left the state before their turn as skipped', async () => {
      const { h } = setup()
      const ids = [
        await h.manager.enqueue(SendMailJob, { to: 'a' }, { delay: 60_000 }),
        await h.manager.enqueue(SendMailJob, { to: 'b' }, { delay: 60_000 }),
      ]
      const racing = {
        listJobs: h.manager.listJobs.bind(h.manager),
        retry: h.manager.retry.bind(h.manager),
        deleteJob: h.manager.deleteJob.bind(h.manager),
        async cancelMany(batch: readonly string[]) {
          // Another operator cancels the second job first.
          await h.manager.cancel(ids[1] ?? '')
          return h.manager.cancelMany(batch)
        },
      }
      const result = await runBulkAction(racing, 'cancel', 'pending', 'SendMailJob')
      assert.deepEqual([result.touched, result.skipped], [1, 1])
    })

    it('goes through the same guards as the single-job actions', async () => {
      const { h, app } = setup()
      await runSome(h, 1)
      for (const path of ['/admin/api/bulk/retry', '/admin/api/bulk/delete?state=failed']) {
        await request(app).post(path).expect(403)
        await request(app).post(path).set(CSRF).set('Origin', 'https://evil.example').expect(403)
        await request(app).post(path).set(CSRF).set('Sec-Fetch-Site', 'cross-site').expect(403)
        await request(app).get(path).expect(405)
      }
      const readOnly = setup({ allowMutations: false })
      await runSome(readOnly.h, 1)
      const res = await request(readOnly.app).post('/admin/api/bulk/retry').set(CSRF).expect(403)
      assert.equal((res.body as { error: { name: string } }).error.name, 'AdminMutationsDisabledError')
      await request(readOnly.app).post('/admin/api/schedules/x/trigger').set(CSRF).expect(403)
      await request(readOnly.app).delete('/admin/api/schedules/x').set(CSRF).expect(403)
      assert.equal((await h.manager.counts()).failed, 1)
    })
  })

  describe('schedule actions', () => {
    it('triggers a schedule now: its job, its args and its scheduleId, the cron left as it was', async () => {
      const { h, app } = setup()
      const before = await h.manager.addOrUpdateSchedule({
        id: 'digest',
        cron: '0 3 * * *',
        job: SendMailJob,
        args: { to: 'team@example.com' },
      })
      const res = await request(app).post('/admin/api/schedules/digest/trigger').set(CSRF).expect(201)
      const job = res.body as JobInfo
      assert.equal(job.name, 'SendMailJob')
      assert.equal(job.scheduleId, 'digest')
      assert.deepEqual(job.args, { to: 'team@example.com' })
      assert.equal((await h.manager.onSettled(job.id)).state, 'completed')
      const [after] = await h.manager.listSchedules()
      assert.equal(after?.nextRunAt?.getTime(), before.nextRunAt?.getTime())
    })

    it('redacts the triggered job as every other job', async () => {
      const { h, app } = setup({ allowMutations: true, redactArgs: true })
      await h.manager.addOrUpdateSchedule({ id: 'd', cron: '0 3 * * *', job: SendMailJob, args: { to: 'x' } })
      const res = await request(app).post('/admin/api/schedules/d/trigger').set(CSRF).expect(201)
      assert.equal((res.body as JobInfo).args, '[redacted]')
    })

    it('removes a schedule, and answers 404 for one that does not exist', async () => {
      const { h, app } = setup()
      await h.manager.addOrUpdateSchedule({ id: 'digest', cron: '0 3 * * *', job: SendMailJob, args: { to: 'x' } })
      await request(app).delete('/admin/api/schedules/digest').set(CSRF).expect(204)
      assert.deepEqual(await h.manager.listSchedules(), [])
      const gone = await request(app).delete('/admin/api/schedules/digest').set(CSRF).expect(404)
      assert.equal((gone.body as { error: { name: string } }).error.name, 'ScheduleNotFoundError')
      await request(app).post('/admin/api/schedules/nope/trigger').set(CSRF).expect(404)
      await request(app).post('/admin/api/schedules/digest/trigger').expect(403)
    })

    it('triggerSchedule of the manager throws ScheduleNotFoundError for an unknown id', async () => {
      const { h } = setup()
      await assert.rejects(h.manager.triggerSchedule('missing'), ScheduleNotFoundError)
    })
  })

  describe('metrics', () => {
    it('counts completed and failed jobs per minute over the last hour, with the current counts', async () => {
      const { h, app } = setup()
      await runSome(h, 2)
      await h.tick(60_000)
      await runSome(h, 1)
      await h.manager.enqueue(SendMailJob, { to: 'later' }, { delay: 3 * 3600_000 })
      const body = (await request(app).get('/admin/api/metrics').expect(200)).body as {
        minutes: { at: string; completed: number; failed: number }[]
        counts: Record<string, number>
        totals: { completed: number; failed: number }
      }
      assert.equal(body.minutes.length, 60)
      const last = body.minutes.at(-1)
      const previous = body.minutes.at(-2)
      assert.deepEqual([previous?.completed, previous?.failed], [2, 2])
      assert.deepEqual([last?.completed, last?.failed], [1, 1])
      assert.equal(new Date(last?.at ?? '').getTime() % 60_000, 0)
      assert.deepEqual(body.totals, { completed: 3, failed: 3 })
      assert.equal(body.counts['pending'], 1)

      await h.tick(60 * 60_000)
      const later = (await request(app).get('/admin/api/metrics').expect(200)).body as typeof body
      assert.equal(
        later.minutes.reduce((sum, minute) => sum + minute.completed + minute.failed, 0),
        0,
        'an hour later the ring is empty',
      )
      assert.deepEqual(later.totals, { completed: 3, failed: 3 })
    })

    it('builds no job snapshot for its counters on the memory engine', async () => {
      const { h, app } = setup()
      const toInfo = Reflect.get<JobRecord, 'toInfo'>(JobRecord.prototype, 'toInfo')
      let snapshots = 0
      JobRecord.prototype.toInfo = function (this: JobRecord) {
        snapshots++
        return toInfo.call(this)
      }
      try {
        for (let i = 0; i < 5; i++) await h.manager.enqueue(SendMailJob, { to: `user${i}@example.com` })
        for (let i = 0; i < 3; i++) await h.manager.enqueue(ResizeImageJob, { file: `photo${i}.png` })
        await h.manager.onIdle()
      } finally {
        JobRecord.prototype.toInfo = toInfo
      }
      assert.equal(snapshots, 0)
      const body = (await request(app).get('/admin/api/metrics').expect(200)).body as {
        minutes: { completed: number; failed: number }[]
        totals: { completed: number; failed: number }
      }
      assert.deepEqual(body.totals, { completed: 5, failed: 3 })
      assert.deepEqual([body.minutes.at(-1)?.completed, body.minutes.at(-1)?.failed], [5, 3])
    })

    it('reuses a bucket when its minute comes round again', () => {
      const clock = { now: () => 0, monotonicNow: () => 0, setTimeout: () => 0, clearTimeout: () => {} }
      let now = 0
      clock.now = () => now
      const ring = new JobMetricsRing(clock as never)
      ring.record('completed', { name: 'A', finishedAt: new Date(0) })
      now = 60 * 60_000
      ring.record('completed', { name: 'A', finishedAt: new Date(now) })
      ring.record('failed', { name: 'A', finishedAt: new Date(0) })
      const minutes = ring.snapshot({ pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }).minutes
      assert.deepEqual([minutes.at(-1)?.completed, minutes.at(-1)?.failed], [1, 0])
    })

    it('serves the counters in the Prometheus text format, label values escaped', async () => {
      const { h, app } = setup()
      await runSome(h, 2)
      const quote = await h.manager.enqueue(QuoteJob, { n: 1 })
      await h.manager.onSettled(quote)
      const res = await request(app).get('/admin/api/metrics/prometheus').expect(200)
      assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
      const lines = res.text.split('\n')
      assert.ok(lines.includes('# TYPE background_jobs_completed_total counter'))
      assert.ok(lines.includes('background_jobs_completed_total{name="SendMailJob"} 2'))
      assert.ok(lines.includes('background_jobs_failed_total{name="ResizeImageJob"} 2'))
      assert.ok(lines.includes('background_jobs_completed_total{name="Quote\\"\\\\\\nJob"} 1'), res.text)
      assert.ok(lines.includes('# TYPE background_jobs gauge'))
      assert.ok(lines.includes('background_jobs{state="failed"} 2'))
      assert.ok(res.text.endsWith('\n'))
      for (const line of lines.filter((l) => l !== '' && !l.startsWith('#'))) {
        assert.match(line, /^[a-z_]+\{[a-z]+="(?:[^"\\\n]|\\["\\n])*"\} \d+$/)
      }
      assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd')
    })

    it('answers the metrics routes only through the access guard', async () => {
      const { app } = setup({ authorize: () => false })
      await request(app).get('/admin/api/metrics').expect(403)
      await request(app).get('/admin/api/metrics/prometheus').expect(403)
      await request(app).get('/admin/api/names').expect(403)
    })
  })
})
