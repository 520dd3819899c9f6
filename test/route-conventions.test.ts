/* eslint-disable @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call -- these tests build methods from
   generated parameter lists with `new Function`, which is the input under test */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { InvalidOptionError, RouteConventionError } from '../src/errors'
import {
  DEFAULT_HTTP_METHOD_PREFIXES,
  ROUTE_CONVENTION_DEFAULTS,
  combineUris,
  getBaseUri,
  getMethodPrefix,
  getServiceName,
  getServiceRoutes,
  parseMethodName,
  resolveRouteConventionOptions,
  toExpress4Path,
  trimAsyncSuffix,
  type RouteMethod,
  type RouteOverrides,
  type ServiceRoute,
} from '../src/express/route-conventions'
import { parseParameters } from '../src/express/method-parameters'
import request from 'supertest'
import { describeEachExpress } from './support/express-versions'

// Test services modelled on MASA's test services (MinimalAPIs.Tests/Services/*.cs).
class CustomService {}
class UserService {}
class GoodsService {
  static routeOptions = { prefix: 'api', version: 'v2' }
}
class CatalogService {
  static routeOptions = { serviceName: 'catalog' }
}
class CatalogAtBaseUriService {
  static routeOptions = { baseUri: '/api/catalog' }
}

function summary(routes: readonly ServiceRoute[]): string[] {
  return routes.map((route) => `${route.method} ${route.path} <- ${route.methodName}`)
}

describe('route conventions', () => {
  describe('ROUTE_CONVENTION_DEFAULTS and DEFAULT_HTTP_METHOD_PREFIXES', () => {
    it('match MASA ServiceGlobalRouteOptions', () => {
      assert.deepEqual(
        { ...ROUTE_CONVENTION_DEFAULTS },
        {
          prefix: 'api',
          version: 'v1',
          pluralizeServiceName: true,
          autoAppendId: true,
          disableTrimMethodPrefix: false,
          getPrefixes: ['Get', 'Select', 'Find'],
          postPrefixes: ['Post', 'Add', 'Upsert', 'Create', 'Insert'],
          putPrefixes: ['Put', 'Update', 'Modify'],
          deletePrefixes: ['Delete', 'Remove'],
          // The one deliberate difference: MASA maps a method with no verb prefix to every method.
          mapHttpMethodsForUnmatched: ['POST'],
          enableProperty: false,
          disableAutoMapRoute: false,
        },
      )
      assert.deepEqual(DEFAULT_HTTP_METHOD_PREFIXES, {
        GET: ['Get', 'Select', 'Find'],
        POST: ['Post', 'Add', 'Upsert', 'Create', 'Insert'],
        PUT: ['Put', 'Update', 'Modify'],
        DELETE: ['Delete', 'Remove'],
      })
    })

    it('cannot be changed by a caller', () => {
      assert.throws(() => {
        ;(ROUTE_CONVENTION_DEFAULTS as { prefix: string }).prefix = 'x'
      }, TypeError)
      assert.throws(() => (DEFAULT_HTTP_METHOD_PREFIXES.GET as string[]).push('Fetch'), TypeError)
    })
  })

  describe('trimAsyncSuffix', () => {
    // MASA ServiceBaseTest.TestFormatMethods
    for (const [name, expected] of [
      ['GetAsync', 'Get'],
      ['Get', 'Get'],
      ['Order/Get', 'Order/Get'],
      ['getListAsync', 'getList'],
      ['getListASYNC', 'getList'],
      ['Async', ''],
    ] as const) {
      it(`turns ${JSON.stringify(name)} into ${JSON.stringify(expected)}`, () => {
        assert.equal(trimAsyncSuffix(name), expected)
      })
    }
  })

  describe('getMethodPrefix', () => {
    // MASA ServiceBaseTest.TestTryParseHttpMethod, with its comma-separated lists split the same way.
    it('returns an empty string when no prefix matches', () => {
      assert.equal(getMethodPrefix('Update,Modify,Put'.split(','), 'AddGoods'), '')
    })

    it('returns the first matching prefix, ignoring surrounding spaces', () => {
      assert.equal(getMethodPrefix('Add, Upsert, Create, AddGoods'.split(','), 'AddGoods'), 'Add')
    })

    it('compares case-insensitively so camelCase method names match', () => {
      assert.equal(getMethodPrefix(['Get'], 'getListAsync'), 'Get')
    })
  })

  describe('parseMethodName', () => {
    // MASA ServiceBaseTest.TestParseMethod (prefix trimming enabled, its default).
    const cases: ReadonlyArray<readonly [string, string | undefined, string]> = [
      ['AddUser', 'POST', 'User'],
      ['PostUser', 'POST', 'User'],
      ['DeleteUser', 'DELETE', 'User'],
      ['PutUser', 'PUT', 'User'],
      ['GetUser', 'GET', 'User'],
      ['AuditState', undefined, 'AuditState'],
      ['addUser', 'POST', 'User'],
      ['postUser', 'POST', 'User'],
      ['deleteUser', 'DELETE', 'User'],
      ['putUser', 'PUT', 'User'],
      ['getUser', 'GET', 'User'],
      ['auditState', undefined, 'auditState'],
      ['selectUsers', 'GET', 'Users'],
      ['findByNameAsync', 'GET', 'ByName'],
      ['upsertAsync', 'POST', ''],
      ['createOrder', 'POST', 'Order'],
      ['insertMany', 'POST', 'Many'],
      ['updateAsync', 'PUT', ''],
      ['modifyName', 'PUT', 'Name'],
      ['removeAsync', 'DELETE', ''],
      ['addAsync', 'POST', ''],
      ['getListAsync', 'GET', 'List'],
      ['AuditStateAsync', undefined, 'AuditState'],
    ]
    for (const [name, method, action] of cases) {
      it(`maps ${name} to ${method ?? 'no method'} with the action ${JSON.stringify(action)}`, () => {
        const parsed = parseMethodName(name)
        assert.equal(parsed.method, method)
        assert.equal(parsed.action, action)
      })
    }

    it('matches a verb prefix with no word boundary, as MASA does', () => {
      assert.deepEqual(parseMethodName('address'), { method: 'POST', prefix: 'Add', action: 'ress' })
    })

    it('uses the given prefix table', () => {
      const prefixes = { GET: ['Fetch'], POST: [], PUT: [], DELETE: [] }
      assert.deepEqual(parseMethodName('fetchAllAsync', prefixes), { method: 'GET', prefix: 'Fetch', action: 'All' })
      assert.equal(parseMethodName('getAll', prefixes).method, undefined)
    })
  })

  describe('getServiceName', () => {
    // MASA ServiceBaseTest.TestGetServiceName (CatalogService), lower-cased.
    it('removes the Service suffix and pluralises only when asked', () => {
      assert.equal(getServiceName('CatalogService', { pluralize: false }), 'catalog')
      assert.equal(getServiceName('CatalogService', { pluralize: true }), 'catalogs')
    })

    it('uses English plurals and lower-cases the result', () => {
      assert.equal(getServiceName('UserService', { pluralize: true }), 'users')
      assert.equal(getServiceName('GoodsService', { pluralize: true }), 'goods')
      assert.equal(getServiceName('PersonService', { pluralize: true }), 'people')
      assert.equal(getServiceName('OrderItemService', { pluralize: true }), 'orderitems')
    })

    it('removes only a trailing Service, in any case', () => {
      assert.equal(getServiceName('Userservice', { pluralize: false }), 'user')
      assert.equal(getServiceName('ServiceDesk', { pluralize: false }), 'servicedesk')
      assert.equal(getServiceName('Service', { pluralize: true }), '')
    })
  })

  describe('combineUris', () => {
    // MASA ServiceBaseTest.TestCombineUris, with the leading slash Express needs.
    it('joins parts with single slashes', () => {
      assert.equal(combineUris('api', 'v1', 'order'), '/api/v1/order')
      assert.equal(combineUris('/api/', '', 'v1//', '/order'), '/api/v1/order')
    })

    it('returns the root for no parts', () => {
      assert.equal(combineUris(), '/')
      assert.equal(combineUris('', '/'), '/')
    })
  })

  describe('getBaseUri', () => {
    // MASA ServiceBaseTest.TestGetBaseUri, lower-cased and with a leading slash.
    it('builds prefix, version and the pluralised service name', () => {
      assert.equal(getBaseUri(CustomService), '/api/v1/customs')
      assert.equal(getBaseUri(UserService), '/api/v1/users')
    })

    it('applies per-service version and service name overrides', () => {
      assert.equal(getBaseUri(GoodsService), '/api/v2/goods')
      assert.equal(getBaseUri(CatalogService), '/api/v1/catalog')
    })

    it('uses baseUri in place of the whole prefix/version/serviceName part', () => {
      assert.equal(getBaseUri(CatalogAtBaseUriService, { prefix: 'ignored', version: 'v9' }), '/api/catalog')
    })

    it('leaves out empty segments and applies global options', () => {
      assert.equal(getBaseUri(UserService, { prefix: '', version: '' }), '/users')
      assert.equal(
        getBaseUri(UserService, { prefix: 'svc', version: 'v3', pluralizeServiceName: false }),
        '/svc/v3/user',
      )
    })

    it('lets a per-service option win over the global one', () => {
      class AccountService {
        static routeOptions = { prefix: 'internal', pluralizeServiceName: false }
      }
      assert.equal(getBaseUri(AccountService, { prefix: 'api', pluralizeServiceName: true }), '/internal/v1/account')
    })
  })

  describe('getServiceRoutes', () => {
    it('maps verbs, trims Async and appends :id (MASA TestGetMethodName and TestParseMethod)', () => {
      class UserService {
        test(id: number): number {
          return id
        }
        test2(id: number | undefined = undefined): number | undefined {
          return id
        }
        addAsync(): void {}
        getListAsync(): void {}
        getAsync(id: string): string {
          return id
        }
        deleteAsync(id: string): string {
          return id
        }
        updateAsync(id: string, user: object): object {
          return { id, user }
        }
        auditState(): void {}
      }
      assert.deepEqual(summary(getServiceRoutes(UserService)), [
        'POST /api/v1/users <- addAsync',
        'GET /api/v1/users/List <- getListAsync',
        'POST /api/v1/users/auditState <- auditState',
        'POST /api/v1/users/test/:id <- test',
        'POST /api/v1/users/test2{/:id} <- test2',
        'GET /api/v1/users/:id <- getAsync',
        'DELETE /api/v1/users/:id <- deleteAsync',
        'PUT /api/v1/users/:id <- updateAsync',
      ])
    })

    it('does not append :id when autoAppendId is off', () => {
      class UserService {
        getAsync(id: string): string {
          return id
        }
      }
      const [route] = getServiceRoutes(UserService, { autoAppendId: false })
      assert.equal(route?.path, '/api/v1/users')
      assert.equal(route?.hasIdSegment, false)
      class OrderService {
        static routeOptions = { autoAppendId: false }
        getAsync(id: string): string {
          return id
        }
      }
      assert.equal(getServiceRoutes(OrderService)[0]?.path, '/api/v1/orders')
    })

    it('maps only own prototype methods (MASA TestGetMethodsByAutoMapRoute)', () => {
      class BaseOrderService {
        inheritedAsync(): void {}
      }
      class OrderService extends BaseOrderService {
        static getConnectionString(): string {
          return 'connection string'
        }
        #secret = 1
        get connectionString(): string {
          return String(this.#secret)
        }
        set name(_value: string) {}
        _helper(): void {}
        getName(): string {
          return 'name'
        }
        [Symbol.iterator](): void {}
      }
      assert.deepEqual(summary(getServiceRoutes(OrderService)), ['GET /api/v1/orders/Name <- getName'])
    })

    it('maps the optional id at the root for baseUri "/"', () => {
      class RootService {
        static routeOptions = { baseUri: '/' }
        getAsync(id = ''): string {
          return id
        }
        getListAsync(): void {}
      }
      assert.deepEqual(summary(getServiceRoutes(RootService)), ['GET /List <- getListAsync', 'GET /{:id} <- getAsync'])
    })

    it('reports the parameters and whether the id is in the path', () => {
      class UserService {
        updateAsync(id: string, user: object, req: unknown): unknown {
          return [id, user, req]
        }
      }
      const [route] = getServiceRoutes(UserService)
      assert.deepEqual(
        route?.parameters.map((parameter) => parameter.name),
        ['id', 'user', 'req'],
      )
      assert.equal(route?.hasIdSegment, true)
      assert.equal(route?.serviceName, 'UserService')
    })

    it('throws RouteConventionError when two methods map to the same method and path', () => {
      class UserService {
        getAsync(): void {}
        get(): void {}
      }
      assert.throws(
        () => getServiceRoutes(UserService),
        (error: unknown) => {
          assert.ok(error instanceof RouteConventionError)
          assert.match(
            error.message,
            /`UserService.getAsync` \(GET\) and `UserService.get` \(GET\) both map to \/api\/v1\/users/,
          )
          assert.match(error.message, /start its name with `_`/)
          return true
        },
      )
    })

    it('treats an ALL route as clashing with any method on the same path', () => {
      class UserService {
        list(): void {}
        getList(): void {}
      }
      assert.deepEqual(summary(getServiceRoutes(UserService)), [
        'POST /api/v1/users/list <- list',
        'GET /api/v1/users/List <- getList',
      ])
      assert.throws(() => getServiceRoutes(UserService, { mapHttpMethodsForUnmatched: ['ALL'] }), RouteConventionError)
    })

    it('throws RouteConventionError for a rest parameter', () => {
      class UserService {
        addAsync(...users: object[]): object[] {
          return users
        }
      }
      assert.throws(
        () => getServiceRoutes(UserService),
        /`UserService.addAsync`: a rest parameter \(`...users`\) cannot be bound/,
      )
    })

    it('throws RouteConventionError for a method name that is not a path segment', () => {
      class UserService {
        ['get list'](): void {}
      }
      assert.throws(
        () => getServiceRoutes(UserService),
        (error: unknown) =>
          error instanceof RouteConventionError &&
          /`UserService.get list`: its action segment `" list"` \(string\)/.test(error.message),
      )
    })

    it('throws RouteConventionError for a value that is not a class', () => {
      const notAClass: unknown = () => undefined
      assert.throws(
        () => getServiceRoutes(notAClass as typeof UserService),
        /Expected `serviceClass` to be a class, got `\[function notAClass\]` \(function\)/,
      )
      assert.throws(() => getServiceRoutes(new UserService() as unknown as typeof UserService), RouteConventionError)
    })

    it('throws RouteConventionError when no service name can be derived', () => {
      class Service {
        getAsync(): void {}
      }
      assert.throws(
        () => getServiceRoutes(Service),
        (error: unknown) => {
          assert.ok(error instanceof RouteConventionError)
          assert.match(error.message, /class name `"Service"` \(string\)/)
          assert.match(error.message, /static routeOptions = \{ serviceName: 'users' \}/)
          return true
        },
      )
      class NamedService {
        static routeOptions = { serviceName: 'misc' }
        getAsync(): void {}
      }
      Object.defineProperty(NamedService, 'name', { value: 'Service' })
      assert.equal(getServiceRoutes(NamedService)[0]?.path, '/api/v1/misc')
    })

    it('throws InvalidOptionError for invalid route options', () => {
      const invalid: ReadonlyArray<readonly [object, RegExp]> = [
        [
          { prefix: 0 },
          /Expected `options.prefix` to be path segments of letters, digits and `_\$.~-` \(or `''` to leave it out\), got `0` \(number\)/,
        ],
        [{ version: 'v 1' }, /Expected `options.version` .* got `"v 1"` \(string\)/],
        [
          { pluralizeServiceName: 'yes' },
          /Expected `options.pluralizeServiceName` to be a boolean, got `"yes"` \(string\)/,
        ],
        [{ autoAppendId: null }, /Expected `options.autoAppendId` to be a boolean, got `null` \(null\)/],
      ]
      for (const [options, message] of invalid) {
        assert.throws(
          () => getServiceRoutes(UserService, options),
          (error: unknown) => error instanceof InvalidOptionError && message.test(error.message),
        )
      }
    })

    it('throws InvalidOptionError for invalid static routeOptions, naming the class', () => {
      const invalid: ReadonlyArray<readonly [unknown, RegExp]> = [
        ['v2', /Expected `BadService.routeOptions` to be an object, got `"v2"` \(string\)/],
        [
          { versoin: 'v2' },
          /Unknown option `versoin` in `BadService.routeOptions`. Known options: prefix, version, pluralizeServiceName, autoAppendId, disableTrimMethodPrefix, enableProperty, disableAutoMapRoute, getPrefixes, postPrefixes, putPrefixes, deletePrefixes, mapHttpMethodsForUnmatched, baseUri, serviceName./,
        ],
        [{ serviceName: '' }, /Expected `BadService.routeOptions.serviceName` to be a non-empty path segment/],
        [{ serviceName: '/' }, /Expected `BadService.routeOptions.serviceName`/],
        [{ baseUri: '' }, /Expected `BadService.routeOptions.baseUri` to be a path .* got `""` \(string\)/],
        [{ baseUri: '/api?x=1' }, /Expected `BadService.routeOptions.baseUri`/],
        [
          { baseUri: '/api/(v1)' },
          /Expected `BadService.routeOptions.baseUri` to be a path of such segments and `:param` segments/,
        ],
        [{ serviceName: 'users*' }, /Expected `BadService.routeOptions.serviceName`/],
        [{ autoAppendId: 1 }, /Expected `BadService.routeOptions.autoAppendId` to be a boolean, got `1` \(number\)/],
      ]
      for (const [routeOptions, message] of invalid) {
        class BadService {
          static routeOptions = routeOptions as object
          getAsync(): void {}
        }
        assert.throws(
          () => getServiceRoutes(BadService),
          (error: unknown) => error instanceof InvalidOptionError && message.test(error.message),
        )
      }
    })
  })

  describe("MASA's route options (ServiceBaseTest, RoutePatternTest, MinimalAPITest)", () => {
    const paths = (routes: readonly ServiceRoute[]): string[] => routes.map((route) => `${route.method} ${route.path}`)

    describe('disableTrimMethodPrefix (TestDisableTrimMethodPrefix)', () => {
      // [the service's option, the global option, the action segment of AddAsync]
      const rows: ReadonlyArray<readonly [boolean | undefined, boolean | undefined, string]> = [
        [undefined, undefined, ''],
        [undefined, false, ''],
        [undefined, true, 'Add'],
        [false, undefined, ''],
        [false, false, ''],
        [false, true, ''],
        [true, undefined, 'Add'],
        [true, true, 'Add'],
        [true, false, 'Add'],
      ]
      for (const [own, global, action] of rows) {
        it(`gives AddAsync the action ${JSON.stringify(action)} with the service's ${String(own)} and the global ${String(global)}`, () => {
          class UserService {
            static routeOptions = own === undefined ? undefined : { disableTrimMethodPrefix: own }
            AddAsync(): void {}
          }
          const options = global === undefined ? {} : { disableTrimMethodPrefix: global }
          assert.deepEqual(paths(getServiceRoutes(UserService, options)), [
            `POST ${combineUris('/api/v1/users', action)}`,
          ])
        })
      }

      it('keeps the whole name, minus Async, while the prefix still picks the method (TestParseMethod)', () => {
        const rows: ReadonlyArray<readonly [string, string | undefined, string]> = [
          ['AddUser', 'POST', 'AddUser'],
          ['PostUser', 'POST', 'PostUser'],
          ['DeleteUser', 'DELETE', 'DeleteUser'],
          ['PutUser', 'PUT', 'PutUser'],
          ['GetUser', 'GET', 'GetUser'],
          ['AuditState', undefined, 'AuditState'],
          ['getUserAsync', 'GET', 'getUser'],
        ]
        for (const [name, method, action] of rows) {
          const parsed = parseMethodName(name, DEFAULT_HTTP_METHOD_PREFIXES, { disableTrimMethodPrefix: true })
          assert.deepEqual([parsed.method, parsed.action], [method, action], name)
        }
      })
    })

    describe('getPrefixes, postPrefixes, putPrefixes and deletePrefixes', () => {
      class UserService {
        fetchUser(): void {}
        getUser(): void {}
        saveUser(): void {}
        eraseUser(): void {}
        changeUser(): void {}
      }
      const custom = {
        getPrefixes: ['Fetch'],
        postPrefixes: ['Save'],
        putPrefixes: ['Change'],
        deletePrefixes: ['Erase'],
      }

      it('replace the default lists when given globally: a default prefix no longer matches', () => {
        assert.deepEqual(paths(getServiceRoutes(UserService, custom)), [
          'GET /api/v1/users/User',
          'POST /api/v1/users/getUser',
          'POST /api/v1/users/User',
          'DELETE /api/v1/users/User',
          'PUT /api/v1/users/User',
        ])
      })

      it('replace the global lists when given on the service', () => {
        class OrderService {
          static routeOptions = { getPrefixes: ['Get', 'Fetch'] }
          fetchOrder(): void {}
          findOrder(): void {}
        }
        assert.deepEqual(paths(getServiceRoutes(OrderService, { getPrefixes: ['Find'] })), [
          'GET /api/v1/orders/Order',
          'POST /api/v1/orders/findOrder',
        ])
      })

      it('map nothing to a verb given an empty list', () => {
        assert.deepEqual(paths(getServiceRoutes(UserService, { ...custom, deletePrefixes: [] })).slice(3, 4), [
          'POST /api/v1/users/eraseUser',
        ])
      })
    })

    describe('mapHttpMethodsForUnmatched (TestGetDefaultHttpMethods)', () => {
      // [the service's option, the global option, the methods of a method with no verb prefix]
      const rows: ReadonlyArray<readonly [RouteMethod[] | undefined, RouteMethod[] | undefined, RouteMethod[]]> = [
        // MASA's default here is every method; ours is POST only (a deliberate difference).
        [undefined, undefined, ['POST']],
        [['POST', 'PUT'], undefined, ['POST', 'PUT']],
        [
          ['POST', 'DELETE'],
          ['POST', 'PUT'],
          ['POST', 'DELETE'],
        ],
        [undefined, ['POST', 'PUT'], ['POST', 'PUT']],
        [undefined, ['ALL'], ['ALL']],
        [['GET'], ['ALL'], ['GET']],
      ]
      for (const [own, global, methods] of rows) {
        it(`maps auditState to ${methods.join(', ')} with the service's ${String(own)} and the global ${String(global)}`, () => {
          class UserService {
            static routeOptions = own === undefined ? undefined : { mapHttpMethodsForUnmatched: own }
            auditState(): void {}
            getUser(): void {}
          }
          const options = global === undefined ? {} : { mapHttpMethodsForUnmatched: global }
          const routes = getServiceRoutes(UserService, options)
          assert.deepEqual(
            routes.filter((route) => route.methodName === 'auditState').map((route) => route.method),
            methods,
          )
          // A method with a verb prefix keeps its own verb.
          assert.deepEqual(
            routes.filter((route) => route.methodName === 'getUser').map((route) => route.method),
            ['GET'],
          )
        })
      }
    })

    describe('enableProperty (TestParseMethod, TestGetMethodsByAutoMapRoute)', () => {
      // [the global option, the service's option, how many routes OrderService has]
      const rows: ReadonlyArray<readonly [boolean | undefined, boolean | undefined, number]> = [
        [true, true, 2],
        [true, false, 1],
        [true, undefined, 2],
        [undefined, true, 2],
        [undefined, false, 1],
        [undefined, undefined, 1],
        [false, true, 2],
        [false, false, 1],
        [false, undefined, 1],
      ]
      for (const [global, own, count] of rows) {
        it(`maps ${count} route(s) with the global ${String(global)} and the service's ${String(own)}`, () => {
          class OrderService {
            static routeOptions = own === undefined ? undefined : { enableProperty: own }
            get connectionString(): string {
              return 'connection string'
            }
            getName(): string {
              return 'name'
            }
          }
          const routes = getServiceRoutes(OrderService, global === undefined ? {} : { enableProperty: global })
          assert.equal(routes.length, count)
        })
      }

      it('maps a getter to GET at its name and never a setter (get_Name and set_Name)', () => {
        class UserService {
          static routeOptions = { enableProperty: true }
          #name = 'masa'
          get name(): string {
            return this.#name
          }
          set name(value: string) {
            this.#name = value
          }
          set secret(_value: string) {}
        }
        const routes = getServiceRoutes(UserService)
        assert.deepEqual(paths(routes), ['GET /api/v1/users/name'])
        assert.equal(routes[0]?.isProperty, true)
      })
    })

    describe('disableAutoMapRoute', () => {
      it('leaves a service with the option unmapped, and every service with the global option', () => {
        class HiddenService {
          static routeOptions = { disableAutoMapRoute: true }
          getListAsync(): void {}
        }
        class VisibleService {
          static routeOptions = { disableAutoMapRoute: false }
          getListAsync(): void {}
        }
        assert.deepEqual(getServiceRoutes(HiddenService), [])
        assert.deepEqual(getServiceRoutes(UserService, { disableAutoMapRoute: true }), [])
        assert.deepEqual(paths(getServiceRoutes(VisibleService, { disableAutoMapRoute: true })), [
          'GET /api/v1/visibles/List',
        ])
      })
    })

    describe('static routes (TestRoutePattern: [RoutePattern(pattern, startWithBaseUri) { HttpMethod }])', () => {
      it('follows the conventions for a method without an entry', () => {
        class CatalogService {
          static routes = {}
          getListAsync(): void {}
        }
        assert.deepEqual(paths(getServiceRoutes(CatalogService)), ['GET /api/v1/catalogs/List'])
      })

      it('takes a pattern as the whole path, the method still from the name', () => {
        class CatalogService {
          static routes = { getListAsync: { pattern: '/api/v1/catalog' } }
          getListAsync(): void {}
        }
        assert.deepEqual(paths(getServiceRoutes(CatalogService)), ['GET /api/v1/catalog'])
      })

      it('puts a pattern after the base path with startWithBaseUri, with the given method', () => {
        class CatalogService {
          static routes = { listAsync: { pattern: '/api/v1/catalog', startWithBaseUri: true, method: 'GET' } } as const
          listAsync(): void {}
        }
        assert.deepEqual(paths(getServiceRoutes(CatalogService)), ['GET /api/v1/catalogs/api/v1/catalog'])
      })

      it('gives the route parameters of a pattern, optional ones as optional groups, and maps a listed _ or inherited method', () => {
        class BaseService {
          exportAsync(): void {}
        }
        class ReportService extends BaseService {
          static routes = {
            _monthly: { pattern: '/reports/:year/:month?', method: 'GET' },
            exportAsync: { pattern: '/export/:format?' },
          } as const
          _monthly(year: string, month: string): string {
            return year + month
          }
        }
        const routes = getServiceRoutes(ReportService)
        assert.deepEqual(paths(routes), ['GET /reports/:year{/:month}', 'POST /export{/:format}'])
        assert.deepEqual(
          routes.map((route) => route.pathParameters),
          [['year', 'month'], ['format']],
        )
      })

      it('refuses an entry that names no method, or one of the wrong shape', () => {
        class MissingService {
          static routes = { getAsync: { pattern: '/x' } }
        }
        assert.throws(
          () => getServiceRoutes(MissingService),
          (error: unknown) =>
            error instanceof RouteConventionError &&
            /`MissingService.routes` names `getAsync`, which is not a method of MissingService/.test(error.message),
        )
        class ConstructorService {
          static routes = { constructor: { pattern: '/x' } }
        }
        assert.throws(
          () => getServiceRoutes(ConstructorService),
          /`ConstructorService.routes` names `constructor`, which is not a method of ConstructorService/,
        )
        const invalid: ReadonlyArray<readonly [unknown, RegExp]> = [
          [[], /Expected `BadService.routes` to be an object/],
          [{ getAsync: { pattern: '/a/*' } }, /Expected `BadService.routes.getAsync.pattern` to be a path of segments/],
          [
            { getAsync: { method: 'PATCH' } },
            /Expected `BadService.routes.getAsync.method` to be one of 'GET', 'POST'/,
          ],
          [
            { getAsync: { path: '/a' } },
            /Unknown option `path` in `BadService.routes.getAsync`. Known options: pattern, startWithBaseUri, method./,
          ],
          [
            { getAsync: { startWithBaseUri: 'yes' } },
            /Expected `BadService.routes.getAsync.startWithBaseUri` to be a boolean/,
          ],
        ]
        for (const [routes, message] of invalid) {
          class BadService {
            static routes = routes as RouteOverrides
            getAsync(): void {}
          }
          assert.throws(
            () => getServiceRoutes(BadService),
            (error: unknown) => error instanceof InvalidOptionError && message.test(error.message),
            String(message),
          )
        }
      })
    })

    describe('an optional id (TestGetMethodName: Test2/{id?})', () => {
      it('maps an id with a default value, undefined included, to an optional segment', () => {
        class UserService {
          test2(id: number | undefined = undefined): number | undefined {
            return id
          }
        }
        assert.deepEqual(paths(getServiceRoutes(UserService)), ['POST /api/v1/users/test2{/:id}'])
      })

      it("cannot see TypeScript's `id?`, which is erased before run time: such an id stays required", () => {
        class UserService {
          getAsync(id?: string): string | undefined {
            return id
          }
        }
        assert.deepEqual(paths(getServiceRoutes(UserService)), ['GET /api/v1/users/:id'])
      })
    })

    describe('option checks', () => {
      it('refuses invalid values for the new options, naming each', () => {
        const invalid: ReadonlyArray<readonly [object, RegExp]> = [
          [{ mapHttpMethodsForUnmatched: [] }, /Expected `options.mapHttpMethodsForUnmatched` to be a non-empty array/],
          [{ mapHttpMethodsForUnmatched: 'POST' }, /`options.mapHttpMethodsForUnmatched`.*got `"POST"` \(string\)/],
          [{ mapHttpMethodsForUnmatched: ['GET', 'GET'] }, /`options.mapHttpMethodsForUnmatched`/],
          [{ mapHttpMethodsForUnmatched: ['ALL', 'GET'] }, /\['ALL'\] alone for every method/],
          [{ mapHttpMethodsForUnmatched: ['post'] }, /`options.mapHttpMethodsForUnmatched`/],
          [{ getPrefixes: 'Get' }, /Expected `options.getPrefixes` to be an array of non-empty prefixes/],
          [{ deletePrefixes: [''] }, /`options.deletePrefixes`/],
          [{ putPrefixes: ['Up date'] }, /`options.putPrefixes`/],
          [{ disableTrimMethodPrefix: 1 }, /Expected `options.disableTrimMethodPrefix` to be a boolean/],
          [{ enableProperty: 'no' }, /Expected `options.enableProperty` to be a boolean/],
          [{ disableAutoMapRoute: null }, /Expected `options.disableAutoMapRoute` to be a boolean/],
        ]
        for (const [options, message] of invalid) {
          assert.throws(
            () => getServiceRoutes(UserService, options),
            (error: unknown) => error instanceof InvalidOptionError && message.test(error.message),
            String(message),
          )
        }
      })
    })
  })

  describe('resolveRouteConventionOptions', () => {
    it('fills in the defaults and keeps given values', () => {
      assert.deepEqual(resolveRouteConventionOptions({ version: 'v2', prefix: undefined, getPrefixes: ['Fetch'] }), {
        ...ROUTE_CONVENTION_DEFAULTS,
        version: 'v2',
        getPrefixes: ['Fetch'],
      })
    })

    it('throws InvalidOptionError for options that are not an object', () => {
      assert.throws(
        () => resolveRouteConventionOptions(null as unknown as object),
        /Expected `options` to be an object, got `null` \(null\)/,
      )
    })
  })

  describe('parseParameters', () => {
    it('reads plain, async and generator function parameters', () => {
      function plain(a: number, b: number): number {
        return a + b
      }
      async function asynchronous(first: string, second: string): Promise<string> {
        return first + second
      }
      function* generator(x: number): Generator<number> {
        yield x
      }
      assert.deepEqual(
        parseParameters(plain).map((p) => p.name),
        ['a', 'b'],
      )
      assert.deepEqual(
        parseParameters(asynchronous).map((p) => p.name),
        ['first', 'second'],
      )
      assert.deepEqual(
        parseParameters(generator).map((p) => p.name),
        ['x'],
      )
    })

    it('reads class method parameters, including async and computed names', () => {
      class Example {
        async getAsync(id: string, page = 1): Promise<string> {
          return `${id}${page}`
        }
        ['weird(name'](a: string): string {
          return a
        }
      }
      // eslint-disable-next-line @typescript-eslint/unbound-method -- only the method's source text is read
      assert.deepEqual(parseParameters(Example.prototype.getAsync), [
        { name: 'id', hasDefault: false, isRest: false },
        { name: 'page', hasDefault: true, isRest: false },
      ])
      // eslint-disable-next-line @typescript-eslint/unbound-method -- only the method's source text is read
      const weird = Example.prototype['weird(name']
      assert.deepEqual(
        parseParameters(weird).map((p) => p.name),
        ['a'],
      )
    })

    it('reads arrow functions with and without parentheses', () => {
      assert.deepEqual(
        parseParameters((value: number) => value).map((p) => p.name),
        ['value'],
      )
      const single = new Function('return x => x')() as (x: unknown) => unknown
      const asyncSingle = new Function('return async x => x')() as (x: unknown) => unknown
      const namedAsync = new Function('return async => async')() as (x: unknown) => unknown
      assert.deepEqual(
        parseParameters(single).map((p) => p.name),
        ['x'],
      )
      assert.deepEqual(
        parseParameters(asyncSingle).map((p) => p.name),
        ['x'],
      )
      assert.deepEqual(
        parseParameters(namedAsync).map((p) => p.name),
        ['async'],
      )
      assert.deepEqual(
        parseParameters(async () => undefined),
        [],
      )
    })

    it('detects default values without being confused by commas, brackets or strings in them', () => {
      const fn = new Function(
        'return function (a = [1, 2], b = { c: (3, 4) }, s = "x, )", t = `y(${1}`, last) {}',
      )() as (...args: never) => unknown
      assert.deepEqual(parseParameters(fn), [
        { name: 'a', hasDefault: true, isRest: false },
        { name: 'b', hasDefault: true, isRest: false },
        { name: 's', hasDefault: true, isRest: false },
        { name: 't', hasDefault: true, isRest: false },
        { name: 'last', hasDefault: false, isRest: false },
      ])
    })

    it('gives destructuring patterns no name and notes their defaults', () => {
      const fn = new Function('return function ({ a, b: [c] } = {}, [d, e], id) {}')() as (...args: never) => unknown
      assert.deepEqual(parseParameters(fn), [
        { name: undefined, hasDefault: true, isRest: false },
        { name: undefined, hasDefault: false, isRest: false },
        { name: 'id', hasDefault: false, isRest: false },
      ])
    })

    it('ignores comments, including ones holding commas, parentheses and quotes', () => {
      const fn = new Function(
        "return function /* (x, y) */ (a /* it's, a */, // b, c)\n b = 1 /* ) */, /* trailing */) {}",
      )() as (...args: never) => unknown
      assert.deepEqual(parseParameters(fn), [
        { name: 'a', hasDefault: false, isRest: false },
        { name: 'b', hasDefault: true, isRest: false },
      ])
    })

    it('marks rest parameters', () => {
      const fn = new Function('return function (first, ...others) {}')() as (...args: never) => unknown
      assert.deepEqual(parseParameters(fn)[1], { name: 'others', hasDefault: false, isRest: true })
    })

    it('reports no parameters for native and bound functions', () => {
      assert.deepEqual(parseParameters(Math.max), [])
      assert.deepEqual(
        parseParameters(
          function bound(a: number) {
            return a
          }.bind(null),
        ),
        [],
      )
    })

    it('reads the names back from any generated parameter list', () => {
      const identifier = fc.stringMatching(/^[a-z_$][a-zA-Z0-9_$]{0,8}$/).filter((name) => !RESERVED.has(name))
      const parameter = fc.record({
        name: identifier,
        value: fc.option(fc.constantFrom('1', '"a,b"', '[1, 2]', '{ x: (1) }', '`t`', 'null'), { nil: undefined }),
        comment: fc.option(fc.constantFrom('/* , ) */', '// x, y\n'), { nil: undefined }),
      })
      fc.assert(
        fc.property(
          fc.uniqueArray(parameter, { selector: (p) => p.name, maxLength: 6 }),
          fc.boolean(),
          (parameters, isAsync) => {
            const list = parameters
              .map((p) => `${p.comment ?? ''}${p.name}${p.value === undefined ? '' : ` = ${p.value}`}`)
              .join(', ')
            const fn = new Function(`return ${isAsync ? 'async ' : ''}function (${list}) {}`)() as (
              ...args: never
            ) => unknown
            assert.deepEqual(
              parseParameters(fn),
              parameters.map((p) => ({ name: p.name, hasDefault: p.value !== undefined, isRest: false })),
            )
          },
        ),
      )
    })
  })
})

const RESERVED = new Set([
  'do',
  'if',
  'in',
  'for',
  'let',
  'new',
  'try',
  'var',
  'case',
  'else',
  'enum',
  'eval',
  'null',
  'this',
  'true',
  'void',
  'with',
  'await',
  'break',
  'catch',
  'class',
  'const',
  'false',
  'super',
  'throw',
  'while',
  'yield',
  'delete',
  'export',
  'import',
  'public',
  'return',
  'static',
  'switch',
  'typeof',
  'default',
  'extends',
  'finally',
  'package',
  'private',
  'continue',
  'debugger',
  'function',
  'arguments',
  'interface',
  'protected',
  'implements',
  'instanceof',
])

describeEachExpress('route conventions served', ({ major, express }) => {
  it('registers the optional segments of Express 5 in the syntax of this major, and they match', async () => {
    class ItemService {
      static routes = { getPageAsync: { pattern: '/pages/:page?' } }
      getAsync(id: string | undefined = undefined): { id: string | undefined } {
        return { id }
      }
      getPageAsync(page: string | undefined): { page: string | undefined } {
        return { page }
      }
    }
    class RootService {
      static routeOptions = { baseUri: '/' }
      getAsync(id = 'root'): { id: string } {
        return { id }
      }
    }
    const app = express()
    for (const route of [...getServiceRoutes(ItemService), ...getServiceRoutes(RootService, { prefix: 'x' })]) {
      const path = major === 4 ? toExpress4Path(route.path) : route.path
      const handler: (
        req: { params: Record<string, string | undefined> },
        res: { json(body: unknown): void },
      ) => void = (req, res) => res.json(req.params)
      app.get(path, handler)
    }
    assert.equal(toExpress4Path('/api/v1/items{/:id}'), '/api/v1/items/:id?')
    assert.equal(toExpress4Path('/{:id}'), '/:id?')
    assert.equal(toExpress4Path('/reports/:year{/:month}'), '/reports/:year/:month?')
    await request(app).get('/api/v1/items/7').expect(200, { id: '7' })
    await request(app).get('/api/v1/items').expect(200, {})
    await request(app).get('/pages/2').expect(200, { page: '2' })
    await request(app).get('/pages').expect(200, {})
    await request(app).get('/5').expect(200, { id: '5' })
    await request(app).get('/').expect(200, {})
  })
})
