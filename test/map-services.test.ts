import assert from 'node:assert/strict'
import { asValue, createContainer, type AwilixContainer } from 'awilix'
import type { Express, NextFunction, Request, Response, Router } from 'express'
import request from 'supertest'
import { BackgroundJobs } from '../src/background-jobs'
import {
  BackgroundJobsNotBuiltError,
  InvalidArgumentError,
  InvalidOptionError,
  RouteConventionError,
} from '../src/errors'
import { mapServices, type MapServicesOptions } from '../src/express/map-services'
import { ServiceBase } from '../src/express/service-base'
import { describeEachExpress } from './support/express-versions'

interface User {
  id: string
  name: string
}

/** A stand-in for the manager until the real one is wired: only what the test service calls. */
interface FakeManager {
  enqueued: unknown[]
  enqueue(job: string, args: unknown): Promise<string>
}

function createFakeManager(): FakeManager {
  const enqueued: unknown[] = []
  return {
    enqueued,
    async enqueue(job: string, args: unknown): Promise<string> {
      enqueued.push({ job, args })
      return `job-${enqueued.length}`
    },
  }
}

class UserRepository {
  readonly #users = new Map<string, User>([['1', { id: '1', name: 'masa' }]])
  list(): User[] {
    return [...this.#users.values()]
  }
  get(id: string): User | undefined {
    return this.#users.get(id)
  }
  save(user: User): User {
    this.#users.set(user.id, user)
    return user
  }
  delete(id: string): boolean {
    return this.#users.delete(id)
  }
}

let constructed = 0

class UserService extends ServiceBase {
  readonly #users: UserRepository

  constructor({ userRepository }: { userRepository: UserRepository }) {
    super()
    constructed++
    this.#users = userRepository
  }

  async getListAsync(page?: string, size?: string): Promise<{ users: User[]; page?: string; size?: string }> {
    return { users: this.#users.list(), page, size }
  }

  async getAsync(id: string): Promise<User | undefined> {
    return this.#users.get(id)
  }

  async addAsync(user: User): Promise<User> {
    return this.#users.save(user)
  }

  async updateAsync(id: string, user: Omit<User, 'id'>): Promise<User> {
    return this.#users.save({ ...user, id })
  }

  async deleteAsync(id: string): Promise<void> {
    this.#users.delete(id)
  }

  async createBatchAsync(names: string[], prefix: string): Promise<string[]> {
    return names.map((name) => `${prefix}${name}`)
  }

  findByName({ name }: { name?: string }): User[] {
    return this.#users.list().filter((user) => user.name === name)
  }

  auditState(state: string, reason: string): { state: string; reason: string } {
    return { state, reason }
  }

  whoAmI(req: Request): { method: string; header: string | undefined } {
    return { method: req.method, header: req.get('x-user') }
  }

  postAccepted(res: Response, user: User): User {
    res.status(202)
    return user
  }

  getRaw(res: Response): void {
    res.type('text/plain').send('raw')
  }

  async postWelcomeAsync(user: User): Promise<{ jobId: string }> {
    const manager = UserService.backgroundJobManager as unknown as FakeManager
    return { jobId: await manager.enqueue('welcome', { userId: user.id }) }
  }

  async getFailureAsync(): Promise<never> {
    throw new Error('boom (async)')
  }

  getSyncFailure(): never {
    throw new TypeError('boom (sync)')
  }

  getNull(): null {
    return null
  }

  _notMapped(): string {
    return 'hidden'
  }
}

function errorHandler(error: Error, _req: Request, res: Response, _next: NextFunction): void {
  res.status(500).json({ error: { name: error.name, message: error.message } })
}

describeEachExpress('mapServices', ({ major, express }) => {
  /** A path as registered with this major: Express 5's optional group `{/:id}` is `/:id?` in 4. */
  const optional = (path: string): string => (major === 4 ? path.replace('{/:id}', '/:id?') : path)

  let container: AwilixContainer
  let manager: FakeManager

  beforeEach(() => {
    constructed = 0
    manager = createFakeManager()
    container = createContainer()
    container.register({ backgroundJobManager: asValue(manager), userRepository: asValue(new UserRepository()) })
  })

  afterEach(async () => {
    BackgroundJobs.reset()
    await container.dispose()
  })

  function createApp(options: Partial<MapServicesOptions> = {}): {
    app: Express
    routes: ReturnType<typeof mapServices>
  } {
    const app = express()
    app.use(express.json())
    const routes = mapServices(app, [UserService], { container, ...options })
    app.use(errorHandler)
    return { app, routes }
  }

  it('returns the mapped routes, literal paths before :id paths', () => {
    const { routes } = createApp()
    assert.deepEqual(
      routes.map((route) => `${route.method} ${route.path} ${route.service}.${route.handler}`),
      [
        'GET /api/v1/users/List UserService.getListAsync',
        'POST /api/v1/users UserService.addAsync',
        'POST /api/v1/users/Batch UserService.createBatchAsync',
        'GET /api/v1/users/ByName UserService.findByName',
        'POST /api/v1/users/auditState UserService.auditState',
        'POST /api/v1/users/whoAmI UserService.whoAmI',
        'POST /api/v1/users/Accepted UserService.postAccepted',
        'GET /api/v1/users/Raw UserService.getRaw',
        'POST /api/v1/users/Welcome UserService.postWelcomeAsync',
        'GET /api/v1/users/Failure UserService.getFailureAsync',
        'GET /api/v1/users/SyncFailure UserService.getSyncFailure',
        'GET /api/v1/users/Null UserService.getNull',
        'GET /api/v1/users/:id UserService.getAsync',
        'PUT /api/v1/users/:id UserService.updateAsync',
        'DELETE /api/v1/users/:id UserService.deleteAsync',
      ],
    )
  })

  it('binds GET parameters from the query by name, matching the path case-insensitively', async () => {
    const { app } = createApp()
    const response = await request(app).get('/api/v1/users/list?page=2&size=10').expect(200)
    assert.deepEqual(response.body, { users: [{ id: '1', name: 'masa' }], page: '2', size: '10' })
  })

  it('matches a literal segment before the :id route would capture it', async () => {
    const { app } = createApp()
    const response = await request(app).get('/api/v1/users/List').expect(200)
    assert.ok(Array.isArray((response.body as { users: unknown }).users))
  })

  it('binds id from the path', async () => {
    const { app } = createApp()
    const response = await request(app).get('/api/v1/users/1').expect(200)
    assert.deepEqual(response.body, { id: '1', name: 'masa' })
  })

  it('binds the whole body to the only body parameter of a POST', async () => {
    const { app } = createApp()
    const response = await request(app).post('/api/v1/users').send({ id: '2', name: 'stack' }).expect(200)
    assert.deepEqual(response.body, { id: '2', name: 'stack' })
    await request(app).get('/api/v1/users/2').expect(200, { id: '2', name: 'stack' })
  })

  it('binds id from the path and the whole body to the other parameter of a PUT', async () => {
    const { app } = createApp()
    const response = await request(app).put('/api/v1/users/1').send({ name: 'renamed' }).expect(200)
    assert.deepEqual(response.body, { id: '1', name: 'renamed' })
  })

  it('binds body fields by name when a POST has several body parameters', async () => {
    const { app } = createApp()
    const response = await request(app)
      .post('/api/v1/users/batch')
      .send({ names: ['a', 'b'], prefix: 'user-' })
      .expect(200)
    assert.deepEqual(response.body, ['user-a', 'user-b'])
  })

  it('binds the whole query to a destructuring parameter of a GET', async () => {
    const { app } = createApp()
    const response = await request(app).get('/api/v1/users/byName?name=masa').expect(200)
    assert.deepEqual(response.body, [{ id: '1', name: 'masa' }])
  })

  it('sends 204 with no body when the method returns undefined', async () => {
    const { app } = createApp()
    const response = await request(app).delete('/api/v1/users/1').expect(204)
    assert.equal(response.text, '')
    await request(app).get('/api/v1/users/1').expect(204)
  })

  it('sends null as JSON with status 200', async () => {
    const { app } = createApp()
    const response = await request(app).get('/api/v1/users/null').expect(200)
    assert.equal(response.text, 'null')
  })

  it('serves a method with no verb prefix on POST only by default: a GET or HEAD reaches no such method', async () => {
    const { app } = createApp()
    await request(app)
      .post('/api/v1/users/auditState')
      .send({ state: 'a', reason: 'post' })
      .expect(200, { state: 'a', reason: 'post' })
    // GET and PUT fall through to the `:id` routes, HEAD too: none of them calls auditState.
    await request(app).get('/api/v1/users/auditState?state=c&reason=get').expect(204)
    await request(app).head('/api/v1/users/auditState?state=c&reason=get').expect(204)
    await request(app).put('/api/v1/users/auditState').send({ name: 'x' }).expect(200, { id: 'auditState', name: 'x' })
    const welcome = express()
    welcome.use(express.json())
    class MailService extends ServiceBase {
      sendWelcomeAsync({ to }: { to: string }): { to: string } {
        return { to }
      }
    }
    mapServices(welcome, [MailService], { container })
    await request(welcome).get('/api/v1/mail/sendWelcome?to=a@example.com').expect(404)
    await request(welcome).head('/api/v1/mail/sendWelcome?to=a@example.com').expect(404)
    await request(welcome)
      .post('/api/v1/mail/sendWelcome')
      .send({ to: 'b@example.com' })
      .expect(200, { to: 'b@example.com' })
  })

  it("serves a method with no verb prefix on every method with mapHttpMethodsForUnmatched: ['ALL'], from the body or else the query", async () => {
    const { app } = createApp({ mapHttpMethodsForUnmatched: ['ALL'] })
    await request(app)
      .post('/api/v1/users/auditState')
      .send({ state: 'a', reason: 'post' })
      .expect(200, { state: 'a', reason: 'post' })
    await request(app)
      .put('/api/v1/users/auditState')
      .send({ state: 'b', reason: 'put' })
      .expect(200, { state: 'b', reason: 'put' })
    await request(app).get('/api/v1/users/auditState?state=c&reason=get').expect(200, { state: 'c', reason: 'get' })
    await request(app)
      .delete('/api/v1/users/auditState?state=d&reason=delete')
      .expect(200, { state: 'd', reason: 'delete' })
  })

  it('passes the Express request and response to parameters named req and res', async () => {
    const { app } = createApp({ mapHttpMethodsForUnmatched: ['GET', 'POST'] })
    await request(app).get('/api/v1/users/whoAmI').set('x-user', 'masa').expect(200, { method: 'GET', header: 'masa' })
    await request(app)
      .post('/api/v1/users/whoAmI')
      .set('x-user', 'masa')
      .expect(200, { method: 'POST', header: 'masa' })
    await request(app).post('/api/v1/users/accepted').send({ id: '3', name: 'x' }).expect(202, { id: '3', name: 'x' })
    const raw = await request(app).get('/api/v1/users/raw').expect(200)
    assert.equal(raw.text, 'raw')
  })

  it('passes a rejected or thrown error to next(err)', async () => {
    const { app } = createApp()
    await request(app)
      .get('/api/v1/users/failure')
      .expect(500, { error: { name: 'Error', message: 'boom (async)' } })
    await request(app)
      .get('/api/v1/users/syncFailure')
      .expect(500, { error: { name: 'TypeError', message: 'boom (sync)' } })
  })

  it('does not map methods whose names start with _', async () => {
    const { app, routes } = createApp()
    assert.ok(routes.every((route) => route.handler !== '_notMapped'))
    await request(app).post('/api/v1/users/_notMapped').expect(404)
  })

  it('leaves body parameters undefined when the app parses no body', async () => {
    const app = express()
    mapServices(app, [UserService], { container })
    await request(app)
      .post('/api/v1/users/batch')
      .send({ names: ['a'], prefix: 'p' })
      .expect(500)
    await request(app).post('/api/v1/users/auditState').send({ state: 'x', reason: 'y' }).expect(200, {})
  })

  it('builds each service once through the container, with the cradle', async () => {
    const { app } = createApp()
    assert.equal(constructed, 1)
    await request(app).post('/api/v1/users').send({ id: '9', name: 'nine' }).expect(200)
    await request(app).get('/api/v1/users/9').expect(200)
    assert.equal(constructed, 1)
    assert.deepEqual(container.resolve<UserRepository>('userRepository').get('9'), { id: '9', name: 'nine' })
  })

  it('applies the global prefix, version and autoAppendId options', async () => {
    const { app, routes } = createApp({ prefix: 'svc', version: '', autoAppendId: false })
    assert.ok(routes.some((route) => route.method === 'GET' && route.path === '/svc/users/List'))
    assert.ok(routes.every((route) => !route.path.includes(':id')))
    await request(app).get('/svc/users/list').expect(200)
  })

  it('applies per-service routeOptions overrides', async () => {
    class OrderService extends ServiceBase {
      static override routeOptions = { version: 'v2' }
      getAsync(id: string): { id: string } {
        return { id }
      }
    }
    class CatalogService extends ServiceBase {
      static override routeOptions = { baseUri: '/catalog' }
      getListAsync(): string[] {
        return ['book']
      }
    }
    class ReportService extends ServiceBase {
      static override routeOptions = { serviceName: 'stats', prefix: 'internal' }
      getAsync(): string {
        return 'ok'
      }
    }
    const app = express()
    const routes = mapServices(app, [OrderService, CatalogService, ReportService], { container })
    assert.deepEqual(
      routes.map((route) => `${route.method} ${route.path}`),
      ['GET /catalog/List', 'GET /internal/v1/stats', 'GET /api/v2/orders/:id'],
    )
    await request(app).get('/api/v2/orders/7').expect(200, { id: '7' })
    await request(app).get('/catalog/list').expect(200, ['book'])
    await request(app).get('/internal/v1/stats').expect(200, '"ok"')
  })

  it('maps onto an Express router mounted under a path', async () => {
    const app = express()
    const router = express.Router()
    mapServices(router, [UserService], { container, prefix: '', version: '' })
    app.use('/mounted', router)
    await request(app).get('/mounted/users/1').expect(200, { id: '1', name: 'masa' })
  })

  it('maps an optional id as an optional path segment', async () => {
    class ItemService extends ServiceBase {
      getAsync(id = 'none'): { id: string } {
        return { id }
      }
    }
    const app = express()
    const routes = mapServices(app, [ItemService], { container })
    assert.deepEqual(
      routes.map((route) => route.path),
      [optional('/api/v1/items{/:id}')],
    )
    await request(app).get('/api/v1/items').expect(200, { id: 'none' })
    await request(app).get('/api/v1/items/5').expect(200, { id: '5' })
  })

  describe('MASA route options', () => {
    it('is idempotent for the same services, container and options (MASA TestAddMultiServices)', async () => {
      const app = express()
      app.use(express.json())
      const first = mapServices(app, [UserService], { container })
      const second = mapServices(app, [UserService], { container })
      assert.deepEqual(second, first)
      assert.equal(constructed, 1)
      // Registered once: one handler per route in the app's stack, not two.
      await request(app).post('/api/v1/users').send({ id: '5', name: 'five' }).expect(200)
      assert.equal(constructed, 1)
    })

    it('maps only the services not mapped yet when a later call adds some', () => {
      class OrderService extends ServiceBase {
        getListAsync(): string[] {
          return []
        }
      }
      const app = express()
      mapServices(app, [UserService], { container })
      const routes = mapServices(app, [UserService, OrderService], { container })
      assert.equal(constructed, 1)
      assert.ok(routes.some((route) => route.service === 'OrderService'))
      assert.ok(routes.some((route) => route.service === 'UserService'))
    })

    it('refuses to map a service again with another container or other options', () => {
      const app = express()
      mapServices(app, [UserService], { container })
      const other = createContainer()
      other.register({
        backgroundJobManager: asValue(createFakeManager()),
        userRepository: asValue(new UserRepository()),
      })
      assert.throws(
        () => mapServices(app, [UserService], { container: other }),
        (error: unknown) =>
          error instanceof RouteConventionError &&
          /`UserService` is already mapped on this app, with another container/.test(error.message),
      )
      assert.throws(
        () => mapServices(app, [UserService], { container, version: 'v2' }),
        /`UserService` is already mapped on this app, with other route options/,
      )
    })

    it('builds a service with disableAutoMapRoute but maps none of its methods', async () => {
      let built = 0
      class HiddenService extends ServiceBase {
        static override routeOptions = { disableAutoMapRoute: true }
        constructor() {
          super()
          built++
        }
        getListAsync(): string[] {
          return ['secret']
        }
      }
      const app = express()
      const routes = mapServices(app, [HiddenService], { container })
      assert.deepEqual(routes, [])
      assert.equal(built, 1)
      assert.equal(HiddenService.backgroundJobManager, manager)
      await request(app).get('/api/v1/hiddens/list').expect(404)
      assert.deepEqual(mapServices(express(), [UserService], { container, disableAutoMapRoute: true }), [])
    })

    it('serves an accessor property on GET with enableProperty, and no setter', async () => {
      class SettingService extends ServiceBase {
        #theme = 'dark'
        get theme(): string {
          return this.#theme
        }
        set theme(value: string) {
          this.#theme = value
        }
      }
      const app = express()
      assert.deepEqual(mapServices(app, [SettingService], { container }), [])
      const enabled = express()
      const routes = mapServices(enabled, [SettingService], { container, enableProperty: true })
      assert.deepEqual(
        routes.map((route) => `${route.method} ${route.path}`),
        ['GET /api/v1/settings/theme'],
      )
      await request(enabled).get('/api/v1/settings/theme').expect(200, '"dark"')
      await request(enabled).post('/api/v1/settings/theme').send({ value: 'light' }).expect(404)
    })

    it('takes the path and method of static routes, binding route parameters by name (MASA RoutePattern)', async () => {
      class ReportService extends ServiceBase {
        static routes = {
          monthly: { pattern: '/reports/:year/:month?', method: 'GET' },
          getListAsync: { pattern: '/All/:page?', startWithBaseUri: true },
        } as const
        monthly(year: string, month?: string): { year: string; month: string | undefined } {
          return { year, month }
        }
        getListAsync(page: string | undefined): { page: string | undefined } {
          return { page }
        }
      }
      const app = express()
      const routes = mapServices(app, [ReportService], { container })
      const optionalGroup = (path: string): string => (major === 4 ? path.replace(/\{\/(:\w+)\}/g, '/$1?') : path)
      assert.deepEqual(
        routes.map((route) => `${route.method} ${route.path}`),
        [`GET ${optionalGroup('/reports/:year{/:month}')}`, `GET ${optionalGroup('/api/v1/reports/All{/:page}')}`],
      )
      await request(app).get('/reports/2026/12').expect(200, { year: '2026', month: '12' })
      await request(app).get('/reports/2026').expect(200, { year: '2026' })
      await request(app).get('/api/v1/reports/all/3').expect(200, { page: '3' })
      await request(app).get('/api/v1/reports/all').expect(200, {})
    })

    it('binds a route parameter of baseUri to the method parameter of that name', async () => {
      class TenantUserService extends ServiceBase {
        static override routeOptions = { baseUri: '/tenants/:tenant/users' }
        getListAsync(tenant: string, page: string): { tenant: string; page: string } {
          return { tenant, page }
        }
      }
      const app = express()
      mapServices(app, [TenantUserService], { container })
      await request(app).get('/tenants/acme/users/list?page=2').expect(200, { tenant: 'acme', page: '2' })
    })

    it('passes a rejection to the error handler on this major, with no unhandled rejection', async () => {
      const unhandled: unknown[] = []
      const onUnhandled = (reason: unknown): void => {
        unhandled.push(reason)
      }
      process.on('unhandledRejection', onUnhandled)
      try {
        const { app } = createApp()
        await request(app)
          .get('/api/v1/users/failure')
          .expect(500, { error: { name: 'Error', message: 'boom (async)' } })
        await new Promise((resolve) => setImmediate(resolve))
      } finally {
        process.off('unhandledRejection', onUnhandled)
      }
      assert.deepEqual(unhandled, [])
    })
  })

  describe('the static facade', () => {
    it('throws BackgroundJobsNotBuiltError naming BackgroundJobs.build(container) before mapServices', () => {
      assert.throws(
        () => ServiceBase.backgroundJobManager,
        (error: unknown) => {
          assert.ok(error instanceof BackgroundJobsNotBuiltError)
          assert.match(error.message, /BackgroundJobs\.build\(container\)/)
          return true
        },
      )
      assert.throws(() => UserService.backgroundJobManager, BackgroundJobsNotBuiltError)
    })

    it('returns the container manager after mapServices, also inside a route', async () => {
      const { app } = createApp()
      assert.equal(ServiceBase.backgroundJobManager, manager)
      assert.equal(UserService.backgroundJobManager, manager)
      await request(app).post('/api/v1/users/welcome').send({ id: '1', name: 'masa' }).expect(200, { jobId: 'job-1' })
      assert.deepEqual(manager.enqueued, [{ job: 'welcome', args: { userId: '1' } }])
    })

    it('throws again after BackgroundJobs.reset()', () => {
      createApp()
      BackgroundJobs.reset()
      assert.throws(() => ServiceBase.backgroundJobManager, BackgroundJobsNotBuiltError)
    })
  })

  describe('invalid input', () => {
    it('throws BackgroundJobsNotBuiltError, registering nothing, for a container without the background-job service', async () => {
      const bare = createContainer()
      bare.register({ userRepository: asValue(new UserRepository()) })
      const app = express()
      assert.throws(
        () => mapServices(app, [UserService], { container: bare }),
        (error: unknown) =>
          error instanceof BackgroundJobsNotBuiltError && /addBackgroundJobs\(container/.test(error.message),
      )
      assert.equal(constructed, 0)
      await request(app).get('/api/v1/users/1').expect(404)
      await bare.dispose()
    })

    it('throws InvalidArgumentError for a missing or invalid container', () => {
      const app = express()
      assert.throws(
        () => mapServices(app, [UserService], {} as MapServicesOptions),
        /Expected the `container` option of mapServices to be an awilix container, got `undefined` \(undefined\)/,
      )
      assert.throws(
        () => mapServices(app, [UserService], undefined as unknown as MapServicesOptions),
        InvalidArgumentError,
      )
    })

    it('throws InvalidOptionError for an unknown or invalid option', () => {
      const app = express()
      const misspelt = { container, verison: 'v2' } as unknown as MapServicesOptions
      assert.throws(
        () => mapServices(app, [UserService], misspelt),
        /Unknown option `verison` in the mapServices options. Known options: container, prefix, version/,
      )
      assert.throws(
        () => mapServices(app, [UserService], { container, prefix: 'a b' }),
        (error: unknown) =>
          error instanceof InvalidOptionError && /`options.prefix`.*got `"a b"` \(string\)/.test(error.message),
      )
    })

    it('throws InvalidArgumentError when app is not an Express app or router', () => {
      assert.throws(
        () => mapServices({} as Router, [UserService], { container }),
        /Expected the first argument of mapServices to be an Express application or router, got `\[object Object\]` \(object\)/,
      )
    })

    it('throws InvalidArgumentError when services is not an array', () => {
      assert.throws(
        () => mapServices(express(), UserService as unknown as [], { container }),
        /Expected the services given to mapServices to be an array of service classes/,
      )
    })

    it('throws RouteConventionError for an instance given in place of a class', () => {
      const instance = { getAsync: () => 1 }
      assert.throws(
        () => mapServices(express(), [UserService, instance as unknown as typeof UserService], { container }),
        (error: unknown) =>
          error instanceof RouteConventionError &&
          /Expected `services\[1\]` to be a class, got `\[object Object\]` \(object\)/.test(error.message),
      )
    })

    it('throws RouteConventionError, registering nothing, when two services map to the same route', async () => {
      class PeopleService extends ServiceBase {
        getListAsync(): string[] {
          return []
        }
      }
      class PersonService extends ServiceBase {
        getListAsync(): string[] {
          return []
        }
      }
      const app = express()
      assert.throws(
        () => mapServices(app, [UserService, PeopleService, PersonService], { container }),
        (error: unknown) =>
          error instanceof RouteConventionError &&
          /`PeopleService.getListAsync` \(GET\) and `PersonService.getListAsync` \(GET\) both map to \/api\/v1\/people/.test(
            error.message,
          ),
      )
      assert.equal(constructed, 0)
      assert.equal(BackgroundJobs.isBuilt, false)
      await request(app).get('/api/v1/users/1').expect(404)
    })

    it('throws RouteConventionError when a service is listed twice', () => {
      assert.throws(
        () => mapServices(express(), [UserService, UserService], { container }),
        /lists `UserService` twice/,
      )
    })
  })
})
