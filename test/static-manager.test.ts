import assert from 'node:assert/strict'
import express from 'express'
import request from 'supertest'
import { BackgroundJobBase } from '../src/background-job-base'
import { BackgroundJobs } from '../src/background-jobs'
import { BackgroundJobsNotBuiltError, BackgroundJobsRootConflictError, InvalidOptionError } from '../src/errors'
import { mapServices } from '../src/express/map-services'
import { ServiceBase } from '../src/express/service-base'
import { createHarness, type Harness } from './support/harness'

class WelcomeJob extends BackgroundJobBase<{ to: string }> {
  protected async executing(): Promise<void> {}
}

class AccountService extends ServiceBase {
  async postWelcomeAsync(body: { to: string }): Promise<{ jobId: string }> {
    return { jobId: await AccountService.backgroundJobManager.enqueue(WelcomeJob, body, { delay: 60_000 }) }
  }
}

class BillingService extends ServiceBase {
  async postInvoiceAsync(body: { to: string }): Promise<{ jobId: string }> {
    return { jobId: await BillingService.backgroundJobManager.enqueue(WelcomeJob, body, { delay: 60_000 }) }
  }
}

describe('the static manager with several containers', () => {
  let harnesses: Harness[] = []

  function harness(): Harness {
    const h = createHarness((o) => o.addJob(WelcomeJob))
    harnesses.push(h)
    return h
  }

  function app(h: Harness, services: Array<typeof ServiceBase>): express.Express {
    const built = express()
    built.use(express.json())
    mapServices(built, services as never, { container: h.container })
    return built
  }

  afterEach(async () => {
    for (const h of harnesses) await h.container.dispose()
    harnesses = []
    BackgroundJobs.reset()
  })

  async function pendingTexts(h: Harness): Promise<string[]> {
    const page = await h.manager.listJobs({ state: 'pending' })
    return page.items.map((job) => (job.args as { to: string }).to)
  }

  it('sends each mapped service’s jobs to the container it was mapped with, in two apps', async () => {
    const a = harness()
    const b = harness()
    const appA = app(a, [AccountService])
    const appB = app(b, [BillingService])

    await request(appA).post('/api/v1/accounts/Welcome').send({ to: 'a@example.com' }).expect(200)
    await request(appB).post('/api/v1/billings/Invoice').send({ to: 'b@example.com' }).expect(200)

    assert.deepEqual(await pendingTexts(a), ['a@example.com'])
    assert.deepEqual(await pendingTexts(b), ['b@example.com'])
    assert.equal(AccountService.backgroundJobManager, a.manager)
    assert.equal(BillingService.backgroundJobManager, b.manager)
  })

  it('refuses BackgroundJobs.manager when several containers were mapped and none chosen, instead of picking one', () => {
    const a = harness()
    const b = harness()
    app(a, [AccountService])
    app(b, [BillingService])
    assert.throws(
      () => BackgroundJobs.manager,
      (error: unknown) =>
        error instanceof BackgroundJobsRootConflictError &&
        error.situation === 'several-containers' &&
        /YourService\.backgroundJobManager/.test(error.message),
    )
    BackgroundJobs.build(b.container, { replace: true })
    assert.equal(BackgroundJobs.manager, b.manager)
    assert.equal(AccountService.backgroundJobManager, a.manager)
  })

  it('refuses a service class mapped with two containers when it reaches for its manager', () => {
    const a = harness()
    const b = harness()
    app(a, [AccountService])
    app(b, [AccountService])
    assert.throws(
      () => AccountService.backgroundJobManager,
      (error: unknown) =>
        error instanceof BackgroundJobsRootConflictError &&
        error.situation === 'class-in-several' &&
        error.serviceClass === 'AccountService',
    )
  })

  it('refuses BackgroundJobs.build with a second, different container unless replace is asked for', () => {
    const a = harness()
    const b = harness()
    BackgroundJobs.build(a.container)
    BackgroundJobs.build(a.container)
    assert.throws(
      () => BackgroundJobs.build(b.container),
      (error: unknown) => error instanceof BackgroundJobsRootConflictError && /\{ replace: true \}/.test(error.message),
    )
    assert.equal(BackgroundJobs.manager, a.manager)
    BackgroundJobs.build(b.container, { replace: true })
    assert.equal(BackgroundJobs.manager, b.manager)
    assert.throws(() => BackgroundJobs.build(a.container, { replace: 'yes' } as never), InvalidOptionError)
    assert.throws(() => BackgroundJobs.build(a.container, { force: true } as never), InvalidOptionError)
  })

  it('forgets a disposed container: its classes no longer reach it, and another may become the root', async () => {
    const a = harness()
    const b = harness()
    app(a, [AccountService])
    app(b, [BillingService])
    await a.container.dispose()
    assert.throws(() => AccountService.backgroundJobManager, BackgroundJobsNotBuiltError)
    assert.equal(BillingService.backgroundJobManager, b.manager)
    BackgroundJobs.build(b.container)
    assert.equal(BackgroundJobs.manager, b.manager)
  })
})
