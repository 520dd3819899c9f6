import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { OutgoingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type Request } from 'express'
import { BackgroundJobBase } from '../src/background-job-base'
import { isDirectLoopbackRequest, parseHostHeader, PROXY_HEADERS } from '../src/express/admin-access'
import { backgroundJobsAdminRouter, LIST_PREVIEW_CHARS, type AdminRouterOptions } from '../src/express/admin-router'
import type { JobInfo } from '../src/types'
import { createHarness, type Harness } from './support/harness'
import { closeServer, send, startProxy, type RawAnswer, type TestProxy } from './support/proxy'

class WaitJob extends BackgroundJobBase<{ text: string }> {
  protected async executing(): Promise<void> {}
}

class MailJob extends BackgroundJobBase<{ to: string }> {
  protected async executing(args: { to: string }): Promise<void> {
    throw new Error(`mailbox ${args.to} is full`)
  }
}

const EVIL = 'https://evil.example'
const CSRF = 'x-background-jobs-csrf'

interface Stack {
  h: Harness
  server: Server
  port: number
  proxy: TestProxy
}

let stacks: Stack[] = []
let savedNodeEnv: string | undefined

beforeEach(() => {
  savedNodeEnv = process.env.NODE_ENV
})

afterEach(async () => {
  if (savedNodeEnv === undefined) delete process.env.NODE_ENV
  else process.env.NODE_ENV = savedNodeEnv
  for (const { h, server, proxy } of stacks) {
    await proxy.close()
    await closeServer(server)
    await h.container.dispose()
  }
  stacks = []
})

/** The admin on 127.0.0.1 behind a real loopback proxy hop (by default nginx's bare `proxy_pass`). */
async function start(options?: AdminRouterOptions, proxyOptions?: Parameters<typeof startProxy>[1]): Promise<Stack> {
  const h = createHarness((o) => o.addJob(WaitJob, MailJob), { retry: { maxRetries: 0 } })
  const app = express()
  app.use('/admin/jobs', backgroundJobsAdminRouter(h.container, options))
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const proxy = await startProxy(port, proxyOptions)
  const stack = { h, server, port, proxy }
  stacks.push(stack)
  return stack
}

function errorName(answer: RawAnswer): string | undefined {
  try {
    return (JSON.parse(answer.text) as { error?: { name?: string } }).error?.name
  } catch {
    return undefined
  }
}

function assertDenied(answer: RawAnswer, name: string, context: string): string {
  assert.equal(answer.status, 403, `${context}: ${answer.status} ${answer.text.slice(0, 300)}`)
  assert.equal(errorName(answer), name, context)
  return (JSON.parse(answer.text) as { error: { message: string } }).error.message
}

describe('the admin router under attack, through a real proxy hop', () => {
  describe('a same-host reverse proxy (item 1)', () => {
    it('serves nothing through a proxy that adds no header when NODE_ENV is production and there is no authorize, and logs once how to set it', async () => {
      process.env.NODE_ENV = 'production'
      const { h, proxy, port } = await start()
      await h.manager.enqueue(WaitJob, { text: 'secret args' }, { delay: 60_000 })

      for (const path of ['/admin/jobs/', '/admin/jobs/api/jobs?state=pending', '/admin/jobs/api/counts']) {
        const answer = await send(proxy.port, { path })
        assert.match(
          assertDenied(answer, 'AdminAccessDeniedError', path),
          /authorize.*production|production.*authorize/,
        )
        assert.ok(!answer.text.includes('secret args'))
      }
      // Not even a direct local request: the router cannot tell it from the proxied one.
      assertDenied(await send(port, { path: '/admin/jobs/api/counts' }), 'AdminAccessDeniedError', 'direct')
      const warnings = h.logger.entries.filter((entry) => entry.level === 'warn')
      assert.equal(warnings.length, 1)
      assert.match(warnings[0]?.message ?? '', /authorize: \(req\) =>/)
    })

    it('lets authorize decide in production, through the proxy', async () => {
      process.env.NODE_ENV = 'production'
      const { proxy } = await start({ authorize: (req) => req.get('authorization') === 'Bearer ops' })
      assert.equal((await send(proxy.port, { path: '/admin/jobs/api/counts' })).status, 403)
      const allowed = await send(proxy.port, {
        path: '/admin/jobs/api/counts',
        headers: { authorization: 'Bearer ops' },
      })
      assert.equal(allowed.status, 200, allowed.text)
    })

    it('keeps the loopback rule in production when authorize is isDirectLoopbackRequest, refusing the proxy that adds Via', async () => {
      process.env.NODE_ENV = 'production'
      const { proxy, port } = await start({ authorize: isDirectLoopbackRequest }, { addHeaders: { via: '1.1 nginx' } })
      assert.equal((await send(port, { path: '/admin/jobs/api/counts' })).status, 200)
      assert.equal((await send(proxy.port, { path: '/admin/jobs/api/counts' })).status, 403)
    })

    it('refuses a request carrying any proxy-only header, naming it, without authorize', async () => {
      const { proxy } = await start()
      // The bare proxy hop itself is indistinguishable from a local client outside production.
      assert.equal((await send(proxy.port, { path: '/admin/jobs/api/counts' })).status, 200)
      for (const header of PROXY_HEADERS) {
        const answer = await send(proxy.port, { path: '/admin/jobs/api/counts', headers: { [header]: '203.0.113.9' } })
        assert.ok(assertDenied(answer, 'AdminAccessDeniedError', header).includes(header), header)
      }
    })

    it('refuses the ten proxy headers that got in before: Via, X-Forwarded-Proto/-Port/-Server, X-Client-IP, CF-Connecting-IP, True-Client-IP, Fastly-Client-IP, X-Cluster-Client-IP, X-Original-Forwarded-For', async () => {
      for (const header of [
        'Via',
        'X-Forwarded-Proto',
        'X-Forwarded-Port',
        'X-Forwarded-Server',
        'X-Client-IP',
        'CF-Connecting-IP',
        'True-Client-IP',
        'Fastly-Client-IP',
        'X-Cluster-Client-IP',
        'X-Original-Forwarded-For',
      ]) {
        const { proxy } = await start(undefined, { addHeaders: { [header]: header === 'Via' ? '1.1 proxy' : 'https' } })
        assertDenied(await send(proxy.port, { path: '/admin/jobs/api/jobs' }), 'AdminAccessDeniedError', header)
      }
    })
  })

  describe('cross-site request forgery (item 2)', () => {
    /** An admin whose authorize trusts a session cookie, behind a proxy whose public origin is allowed. */
    async function cookieAdmin(): Promise<Stack & { pending: string }> {
      const stack = await start({
        allowMutations: true,
        authorize: (req: Request) => req.get('cookie') === 'session=admin',
        allowedOrigins: ['https://jobs.example.com'],
      })
      const pending = await stack.h.manager.enqueue(WaitJob, { text: 'p' }, { delay: 60_000 })
      return { ...stack, pending }
    }

    const forgeries: Array<[string, { method?: string; headers: OutgoingHttpHeaders; body?: string }]> = [
      [
        'a cross-site HTML form POST',
        {
          headers: { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded', referer: `${EVIL}/form` },
          body: 'x=1',
        },
      ],
      ['a text/plain POST', { headers: { origin: EVIL, 'content-type': 'text/plain' }, body: '{}' }],
      ['Origin: null (a sandboxed frame or a redirect)', { headers: { origin: 'null' } }],
      ['a Referer-only request (no Origin)', { headers: { referer: `${EVIL}/page` } }],
      [
        'a form POST with no Origin or Referer at all',
        { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      ],
      ['a request with the header but a foreign Origin', { headers: { origin: EVIL, [CSRF]: '1' } }],
      ['a request with the header and Origin: null', { headers: { origin: 'null', [CSRF]: '1' } }],
      [
        'a request whose Origin only shares a prefix with the admin',
        { headers: { origin: 'https://jobs.example.com.evil.example', [CSRF]: '1' } },
      ],
      ['a cross-site DELETE', { method: 'DELETE', headers: { origin: EVIL } }],
    ]

    for (const [label, forged] of forgeries) {
      it(`refuses ${label} that carries the session cookie and no Sec-Fetch-Site, and the job stays pending`, async () => {
        const { h, proxy, pending } = await cookieAdmin()
        const path =
          forged.method === 'DELETE' ? `/admin/jobs/api/jobs/${pending}` : `/admin/jobs/api/jobs/${pending}/cancel`
        const answer = await send(proxy.port, {
          method: forged.method ?? 'POST',
          path,
          headers: { cookie: 'session=admin', ...forged.headers },
          ...(forged.body !== undefined && { body: forged.body }),
        })
        assertDenied(answer, 'AdminCrossSiteRequestError', label)
        assert.equal((await h.manager.getJob(pending))?.state, 'pending')
      })
    }

    it('refuses the same forgeries against the loopback default, through the bare proxy', async () => {
      const { h, proxy } = await start({ allowMutations: true })
      for (const [label, forged] of forgeries) {
        const pending = await h.manager.enqueue(WaitJob, { text: label }, { delay: 60_000 })
        const answer = await send(proxy.port, {
          method: forged.method ?? 'POST',
          path:
            forged.method === 'DELETE' ? `/admin/jobs/api/jobs/${pending}` : `/admin/jobs/api/jobs/${pending}/cancel`,
          headers: forged.headers,
          ...(forged.body !== undefined && { body: forged.body }),
        })
        assertDenied(answer, 'AdminCrossSiteRequestError', label)
        assert.equal((await h.manager.getJob(pending))?.state, 'pending', label)
      }
    })

    it('accepts the page script’s request: the header, and an Origin that is the public one or the Host’s own', async () => {
      const { h, proxy, port, pending } = await cookieAdmin()
      const viaProxy = await send(proxy.port, {
        method: 'POST',
        path: `/admin/jobs/api/jobs/${pending}/cancel`,
        headers: { cookie: 'session=admin', origin: 'https://jobs.example.com', [CSRF]: '1' },
      })
      assert.equal(viaProxy.status, 200, viaProxy.text)
      assert.equal((JSON.parse(viaProxy.text) as JobInfo).state, 'cancelled')

      const other = await h.manager.enqueue(WaitJob, { text: 'q' }, { delay: 60_000 })
      const direct = await send(port, {
        method: 'POST',
        path: `/admin/jobs/api/jobs/${other}/cancel`,
        headers: {
          cookie: 'session=admin',
          origin: `http://localhost:${port}`,
          host: `localhost:${port}`,
          [CSRF]: '1',
        },
      })
      assert.equal(direct.status, 200, direct.text)
    })

    it('accepts a non-browser client that sends the header and no Origin', async () => {
      const { h, proxy, pending } = await cookieAdmin()
      const answer = await send(proxy.port, {
        method: 'POST',
        path: `/admin/jobs/api/jobs/${pending}/cancel`,
        headers: { cookie: 'session=admin', [CSRF]: '1' },
      })
      assert.equal(answer.status, 200, answer.text)
      assert.equal((await h.manager.getJob(pending))?.state, 'cancelled')
    })

    it('never answers a CORS preflight with permission', async () => {
      const { proxy, pending } = await cookieAdmin()
      const answer = await send(proxy.port, {
        method: 'OPTIONS',
        path: `/admin/jobs/api/jobs/${pending}/cancel`,
        headers: {
          origin: EVIL,
          'access-control-request-method': 'POST',
          'access-control-request-headers': CSRF,
          cookie: 'session=admin',
        },
      })
      assert.notEqual(answer.status, 204)
      assert.equal(answer.headers['access-control-allow-origin'], undefined)
      assert.equal(answer.headers['access-control-allow-headers'], undefined)
    })

    it('refuses allowedOrigins entries that are not bare origins', () => {
      const h = createHarness()
      try {
        for (const bad of ['https://jobs.example.com/', 'jobs.example.com', '*', 'https://a.example/path', 42]) {
          assert.throws(
            () => backgroundJobsAdminRouter(h.container, { allowedOrigins: [bad as string] }),
            /allowedOrigins\[0\]/,
          )
        }
      } finally {
        void h.container.dispose()
      }
    })
  })

  describe('Host values (item 3)', () => {
    const malformed = [
      'localhost:PORT@evil.com',
      'localhost:80@evil.com',
      'localhost:evil',
      'evil.com#.localhost',
      'evil.com/.localhost',
      'evil.com?.localhost',
      'localhost:99999',
      'localhost:',
      'localhost:-1',
      '[::1',
      '[::1]x',
      '[::1]:80:80',
      'localhost..',
      '.localhost',
      '',
      'user@localhost',
      'evil.com\\.localhost',
      'evil.com%2f.localhost',
    ]

    it('refuses every malformed Host, through a proxy that keeps the client’s Host', async () => {
      const { proxy, port } = await start(undefined, { preserveHost: true })
      for (const host of malformed) {
        // Each is sent directly too; an empty Host only directly, as Node's client replaces it with its own.
        for (const [hop, target] of [
          ['proxy', proxy.port],
          ['direct', port],
        ] as const) {
          if (host === '' && hop === 'proxy') continue
          const answer = await send(target, { path: '/admin/jobs/api/counts', headers: { host } })
          // Node's own parser may refuse a few before the router sees them; none may get in.
          assert.notEqual(answer.status, 200, `${hop} ${JSON.stringify(host)}: ${answer.text}`)
          if (answer.status === 403) assertDenied(answer, 'AdminAccessDeniedError', host)
        }
      }
    })

    it('lets well-formed loopback Host values in', async () => {
      const { proxy } = await start(undefined, { preserveHost: true })
      for (const host of [
        'localhost',
        'LOCALHOST.:8080',
        'app.localhost:1',
        '127.0.0.1:65535',
        '[::1]:3000',
        '[::1]',
      ]) {
        const answer = await send(proxy.port, { path: '/admin/jobs/api/counts', headers: { host } })
        assert.equal(answer.status, 200, `${host}: ${answer.text}`)
      }
    })

    it('parses host[:port] strictly', () => {
      assert.deepEqual(parseHostHeader('Example.COM.:8080'), { name: 'example.com', port: 8080 })
      assert.deepEqual(parseHostHeader('[::1]'), { name: '::1', port: undefined })
      for (const host of malformed) assert.equal(parseHostHeader(host), undefined, host)
      assert.equal(parseHostHeader(undefined), undefined)
      assert.equal(parseHostHeader('[localhost]'), undefined)
    })
  })

  describe('an authorize that misbehaves (item 4)', () => {
    it('denies with 403 and logs when authorize throws or rejects with anything, Error or not', async () => {
      const revoked = Proxy.revocable({}, {})
      revoked.revoke()
      const thrown: unknown[] = [
        'a string',
        null,
        undefined,
        42,
        Symbol('s'),
        Object.create(null),
        revoked.proxy,
        {
          get message(): never {
            throw new Error('getter')
          },
        },
      ]
      let next = 0
      const { h, proxy } = await start({
        authorize: (req) => {
          const value = thrown[next++ % thrown.length]
          if (req.get('x-mode') === 'reject') return Promise.reject(value)
          throw value
        },
      })
      for (const mode of ['throw', 'reject']) {
        for (let i = 0; i < thrown.length; i++) {
          const answer = await send(proxy.port, { path: '/admin/jobs/api/counts', headers: { 'x-mode': mode } })
          assertDenied(answer, 'AdminAccessDeniedError', `${mode} ${i}`)
        }
      }
      assert.equal(h.logger.messages('warn').length, thrown.length * 2)
    })

    it('denies with 403 after authorizeTimeoutMs when authorize never settles, and a late answer changes nothing', async () => {
      let settle: ((allowed: boolean) => void) | undefined
      const { h, proxy } = await start({
        authorizeTimeoutMs: 50,
        authorize: () =>
          new Promise<boolean>((resolve) => {
            settle = resolve
          }),
      })
      const answer = await send(proxy.port, { path: '/admin/jobs/api/counts' })
      assert.match(assertDenied(answer, 'AdminAccessDeniedError', 'hang'), /did not answer within 50 ms/)
      settle?.(true)
      assert.equal(h.logger.messages('warn').length, 1)
    })

    it('lets no late rejection of a timed-out authorize escape as an unhandled rejection', async () => {
      const unhandled: unknown[] = []
      const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
      process.on('unhandledRejection', onUnhandled)
      try {
        let fail: ((reason: unknown) => void) | undefined
        const { proxy } = await start({
          authorizeTimeoutMs: 20,
          authorize: () =>
            new Promise<boolean>((_resolve, reject) => {
              fail = reject
            }),
        })
        assert.equal((await send(proxy.port, { path: '/admin/jobs/api/counts' })).status, 403)
        fail?.(new Error('too late'))
        await new Promise((resolve) => setTimeout(resolve, 10))
        assert.deepEqual(unhandled, [])
      } finally {
        process.off('unhandledRejection', onUnhandled)
      }
    })
  })

  describe('large lists (item 5)', () => {
    it('answers a list of 1,000 jobs with args just under 1 MiB with bounded previews, the page too, and the job view whole', async function () {
      this.timeout(60_000)
      const { h, proxy } = await start(undefined, { preserveHost: false })
      const text = 'x'.repeat(1_048_576 - 20)
      const ids: string[] = []
      for (let i = 0; i < 1000; i++) ids.push(await h.manager.enqueue(WaitJob, { text }, { delay: 60_000 }))

      const list = await send(proxy.port, { path: '/admin/jobs/api/jobs?state=pending&limit=1000' })
      assert.equal(list.status, 200, list.text.slice(0, 300))
      const body = JSON.parse(list.text) as { items: Array<{ args?: unknown; argsPreview?: string }>; total: number }
      assert.equal(body.items.length, 1000)
      for (const item of body.items) {
        assert.equal(item.args, undefined)
        assert.ok(item.argsPreview !== undefined && item.argsPreview.length <= LIST_PREVIEW_CHARS + 1)
        assert.ok(item.argsPreview.startsWith('{"text":"xxx'))
        assert.ok(item.argsPreview.endsWith('\u2026'))
      }
      assert.ok(list.text.length < 4 * 1024 * 1024, `${list.text.length} characters`)

      const page = await send(proxy.port, { path: '/admin/jobs/?state=pending&limit=1000' })
      assert.equal(page.status, 200)
      assert.ok(page.text.length < 4 * 1024 * 1024, `${page.text.length} characters`)

      const one = await send(proxy.port, { path: `/admin/jobs/api/jobs/${ids[999]}` })
      assert.equal(one.status, 200)
      assert.deepEqual((JSON.parse(one.text) as JobInfo).args, { text })
    })

    it('keeps small args whole in lists', async () => {
      const { h, proxy } = await start()
      await h.manager.enqueue(WaitJob, { text: 'small' }, { delay: 60_000 })
      const body = JSON.parse((await send(proxy.port, { path: '/admin/jobs/api/jobs?state=pending' })).text) as {
        items: Array<{ args?: unknown; argsPreview?: string }>
      }
      assert.deepEqual(body.items[0]?.args, { text: 'small' })
      assert.equal(body.items[0]?.argsPreview, undefined)
    })
  })

  describe('redaction of error text (item 6)', () => {
    async function failedMail(options: AdminRouterOptions): Promise<Stack & { id: string }> {
      const stack = await start(options)
      const id = await stack.h.manager.enqueue(MailJob, { to: 'alice@example.com' })
      await stack.h.manager.onSettled(id)
      return { ...stack, id }
    }

    it('keeps an address quoted in a failure out of the list, the job view and the page when redactArgs is true', async () => {
      const { proxy, id } = await failedMail({ redactArgs: true })
      const answers = [
        await send(proxy.port, { path: '/admin/jobs/api/jobs?state=failed' }),
        await send(proxy.port, { path: `/admin/jobs/api/jobs/${id}` }),
        await send(proxy.port, { path: '/admin/jobs/?state=failed' }),
      ]
      for (const answer of answers) {
        assert.equal(answer.status, 200)
        assert.ok(!answer.text.includes('alice@example.com'), answer.text.slice(0, 500))
      }
      const job = JSON.parse(answers[1]?.text ?? '') as JobInfo
      assert.deepEqual(job.lastError, { name: 'Error', message: '[redacted]' })
    })

    it('shows what a redactErrors function returns, never the stack, and can be turned off', async () => {
      const masked = await failedMail({
        redactArgs: true,
        redactErrors: (error) => error.message.replace(/\S+@\S+/g, '***'),
      })
      const job = JSON.parse(
        (await send(masked.proxy.port, { path: `/admin/jobs/api/jobs/${masked.id}` })).text,
      ) as JobInfo
      assert.deepEqual(job.lastError, { name: 'Error', message: 'mailbox *** is full' })

      const open = await failedMail({ redactArgs: true, redactErrors: false })
      const shown = JSON.parse(
        (await send(open.proxy.port, { path: `/admin/jobs/api/jobs/${open.id}` })).text,
      ) as JobInfo
      assert.equal(shown.lastError?.message, 'mailbox alice@example.com is full')
      assert.equal(shown.args, '[redacted]')
    })

    it('shows "[redacted]" and logs when the redactErrors function throws', async () => {
      const { h, proxy, id } = await failedMail({
        redactErrors: () => {
          throw new Error('redactor broke')
        },
      })
      const job = JSON.parse((await send(proxy.port, { path: `/admin/jobs/api/jobs/${id}` })).text) as JobInfo
      assert.equal(job.lastError?.message, '[redacted]')
      assert.equal(h.logger.messages('error').filter((message) => message.includes('redactErrors')).length, 1)
    })
  })

  describe('deep paging (item 7)', () => {
    it('refuses an offset past 10000 with 400, saying why and what to do instead, and lists up to it', async () => {
      const { proxy } = await start()
      const deep = await send(proxy.port, { path: '/admin/jobs/api/jobs?state=pending&offset=10001' })
      assert.equal(deep.status, 400)
      assert.match(deep.text, /`offset`.*from 0 to 10000.*walking past every job before them/)
      const page = await send(proxy.port, { path: '/admin/jobs/?state=pending&offset=1000000' })
      assert.equal(page.status, 400)
      assert.equal((await send(proxy.port, { path: '/admin/jobs/api/jobs?state=pending&offset=10000' })).status, 200)
    })

    it('hides the page’s Next link where it would pass the cap', async () => {
      const { h, proxy } = await start()
      for (let i = 0; i < 10_005; i++) await h.manager.enqueue(WaitJob, { text: `${i}` }, { delay: 60_000 })
      const below = await send(proxy.port, { path: '/admin/jobs/?state=pending&offset=9999&limit=1' })
      assert.match(below.text, /id="next"[^>]*data-offset="10000">Next/)
      const atCap = await send(proxy.port, { path: '/admin/jobs/?state=pending&offset=10000&limit=1' })
      assert.match(atCap.text, /id="next"[^>]* hidden>Next/)
    })
  })
})
