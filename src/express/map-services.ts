import type { AwilixContainer } from 'awilix'
import type { Application, IRouter, NextFunction, Request, RequestHandler, Response, Router } from 'express'
import { bindServiceClasses } from '../background-jobs'
import { InvalidArgumentError, RouteConventionError, describeValue } from '../errors'
import { checkContainer, readOptions } from '../validation'
import { getExpressMajor } from './express-compat'
import {
  ROUTE_CONVENTION_KEYS,
  endsWithParameter,
  getServiceRoutes,
  resolveRouteConventionOptions,
  routesClash,
  toExpress4Path,
  type RouteConventionOptions,
  type RouteMethod,
  type ServiceClass,
  type ServiceRoute,
} from './route-conventions'
import { holdRequestScope } from './middleware'

/** Options of {@link mapServices}: the root container plus the route conventions shared by all services. */
export interface MapServicesOptions extends RouteConventionOptions {
  /**
   * The root container, on which `addBackgroundJobs(container, ...)` registered the manager. The
   * mapped service classes reach its manager, and it builds each service once.
   * @default none (required)
   */
  container: AwilixContainer
}

/** One route registered by {@link mapServices}, for logs and tests. */
export interface MappedRoute {
  /** The HTTP method, or `ALL` for every method. */
  readonly method: RouteMethod
  /** The path as registered with the app's Express major, e.g. `/api/v1/users/:id` (`{/:id}` in 5, `/:id?` in 4). */
  readonly path: string
  /** The service class's name, e.g. `UserService`. */
  readonly service: string
  /** The name of the service method the route calls, e.g. `getAsync`. */
  readonly handler: string
}

const MAP_SERVICES_KEYS = ['container', ...ROUTE_CONVENTION_KEYS] as const

/** A service already mapped on an app: with which container and conventions, and its routes. */
interface MappedService {
  readonly container: AwilixContainer
  readonly conventions: string
  readonly routes: readonly (MappedRoute & { readonly expressPath: string })[]
}

// Per app (or router): the services mapped on it, so that mapping them again is a no-op (MASA's AddServices).
const mappedServices = new WeakMap<object, Map<ServiceClass, MappedService>>()
const QUERY_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS'])

type Binder = (req: Request, res: Response) => unknown

/**
 * Maps each service's own prototype methods to Express routes by MASA's minimal-API conventions
 * (see `route-conventions.ts`), like MASA's `app.MapMasaMinimalAPIs()`:
 * `UserService.getListAsync()` -> `GET /api/v1/users/List`, `addAsync(user)` -> `POST /api/v1/users`,
 * `deleteAsync(id)` -> `DELETE /api/v1/users/:id`.
 *
 * It first ties each service class to `options.container`, so `ServiceClass.backgroundJobManager`
 * reaches that container's manager (also with several apps in one process), and sets the
 * container as the static facade's root when none is set (`BackgroundJobs.build`); then builds
 * each service once with `options.container.build(ServiceClass)` (the services are singletons;
 * per-request state comes from the `req` parameter).
 *
 * Arguments are bound by parameter name: `id` <- `req.params.id` (when the route has `:id`);
 * `req` and `res` <- the Express objects. The other parameters come from `req.query[name]` for GET
 * and DELETE routes, and from the body for POST and PUT: the whole `req.body` when there is exactly
 * one such parameter, else `req.body[name]`. A destructuring parameter receives the whole query or
 * body. An `ALL` route reads the query for GET, HEAD, DELETE and OPTIONS requests and the body
 * otherwise. Query values are strings (or arrays of strings): convert them in the method. A
 * parameter named as a route parameter of the path (`:id`, or one of a `static routes` pattern)
 * receives `req.params[name]`.
 *
 * Works with Express 4.21+ and 5, told apart from `app` itself: paths are registered in that major's
 * syntax (Express 5's optional group `{/:id}` is `/:id?` in 4), and a handler never leaves a
 * rejected promise to Express 4, which would not catch it.
 *
 * Idempotent, as MASA's `AddServices` is: a service already mapped on this `app` with the same
 * container and options is not built or registered again (its routes are returned again); with
 * another container or other options it is refused.
 *
 * Parsing the body is the app's job: call `app.use(express.json())` before `mapServices`, or
 * `req.body` is `undefined` and body parameters are `undefined`.
 *
 * The return value (awaited) is sent with `res.json` (status 200 unless the method set another);
 * `undefined` sends 204 with no body; nothing is sent if the method already responded through
 * `res`. A thrown or rejected error is passed to `next(err)`, for the app's error handler: mount
 * `backgroundJobsErrorHandler()` after the routes to answer the kit's errors with their status
 * (`InvalidJobArgsError` 400, `PendingJobsLimitError` 503, ...) as JSON, and others as a bare 500.
 *
 * With `backgroundJobsMiddleware` mounted before, each call holds the request scope
 * (`req.container`) open until the method has settled (see `holdRequestScope`), so a method that
 * answers early through `res`, or whose client goes away, keeps using live scoped instances.
 *
 * Nothing is registered unless every service maps cleanly and builds (the routes are checked first,
 * then the root is set, then every service is built, then the routes are registered), and routes
 * without `:id` are registered before routes with it, so `/users/List` is not captured by `/users/:id`.
 *
 * @returns The registered routes, in registration order.
 * @throws InvalidOptionError for invalid options.
 * @throws RouteConventionError for a value that is not a class, a method that cannot be mapped,
 * two methods (of any services mapped on this app) that map to the same method and path, or a
 * service mapped on this app before with another container or options.
 * @throws BackgroundJobsNotBuiltError when the container has no background-job service.
 */
export function mapServices(
  app: Application | Router,
  services: readonly ServiceClass[],
  options: MapServicesOptions,
): MappedRoute[] {
  if (app === null || typeof app !== 'function' || typeof (app as Partial<IRouter>).all !== 'function') {
    throw new InvalidArgumentError({
      argument: 'the first argument of mapServices',
      value: app,
      expected: 'an Express application or router',
    })
  }
  if (options === undefined) {
    throw new InvalidArgumentError({
      argument: 'the options of mapServices',
      value: options,
      expected: 'an object with a `container`',
      hint: 'Call mapServices(app, services, { container }).',
    })
  }
  const { container: given, ...conventions } = readOptions(options, MAP_SERVICES_KEYS, 'the mapServices options')
  const container = checkContainer(given, 'the `container` option of mapServices')
  const resolved = resolveRouteConventionOptions(conventions)
  // Through `unknown`: Array.isArray narrows a readonly array to `any[]`.
  const list: unknown = services
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError({
      argument: 'the services given to mapServices',
      value: services,
      expected: 'an array of service classes',
    })
  }

  const conventionsKey = JSON.stringify(resolved)
  const already = mappedServices.get(app) ?? new Map<ServiceClass, MappedService>()
  const earlier = [...already.values()].flatMap((service) => service.routes)
  const kept: MappedRoute[] = []
  const fresh: ServiceClass[] = []
  const routes: Array<ServiceRoute & { readonly serviceClass: ServiceClass }> = []
  services.forEach((serviceClass, index) => {
    if (typeof serviceClass !== 'function' || serviceClass.prototype === undefined) {
      throw new RouteConventionError(
        `Expected \`services[${index}]\` to be a class, got ${describeValue(serviceClass)}. Pass the service class itself (e.g. \`UserService\`), not an instance.`,
      )
    }
    if (services.indexOf(serviceClass) !== index) {
      throw new RouteConventionError(
        `\`services\` lists \`${serviceClass.name}\` twice (at ${services.indexOf(serviceClass)} and ${index}). List each service once.`,
      )
    }
    const previous = already.get(serviceClass)
    if (previous !== undefined) {
      // Mapping the same service again is a no-op, as MASA's AddServices is; with another
      // container or other conventions it would be a second, different mapping, which is refused.
      if (previous.container !== container || previous.conventions !== conventionsKey) {
        const differs = previous.container !== container ? 'another container' : 'other route options'
        throw new RouteConventionError(
          `\`${serviceClass.name}\` is already mapped on this app, with ${differs}. Map each service once per app: call mapServices once with every service, or give the later call the same container and options.`,
        )
      }
      kept.push(...previous.routes.map(({ expressPath: _path, ...route }) => route))
      return
    }
    fresh.push(serviceClass)
    for (const route of getServiceRoutes(serviceClass, resolved)) {
      const clash =
        routes.find((other) => routesClash(other, route)) ??
        earlier.find((other) => routesClash({ method: other.method, path: other.expressPath }, route))
      if (clash !== undefined) {
        const name =
          'serviceName' in clash ? `${clash.serviceName}.${clash.methodName}` : `${clash.service}.${clash.handler}`
        throw new RouteConventionError(
          `\`${name}\` (${clash.method}) and \`${route.serviceName}.${route.methodName}\` (${route.method}) both map to ${route.path}. Give one service another \`routeOptions\` (serviceName, baseUri or version), or rename one method.`,
        )
      }
      routes.push({ ...route, serviceClass })
    }
  })

  bindServiceClasses(services, container)
  const instances = new Map<ServiceClass, object>()
  for (const serviceClass of fresh) {
    // awilix's types want `new (...args: any[])`; ServiceClass accepts any constructor signature.
    instances.set(serviceClass, container.build(serviceClass as unknown as new (...args: unknown[]) => object))
  }

  const router: IRouter = app
  const isExpress4 = getExpressMajor(app) === 4
  const ordered = [...routes.filter((route) => !endsWithParameter(route)), ...routes.filter(endsWithParameter)]
  const mapped: Array<MappedRoute & { readonly expressPath: string; readonly serviceClass: ServiceClass }> = []
  for (const route of ordered) {
    const handler = createRouteHandler(route, instances.get(route.serviceClass))
    const path = isExpress4 ? toExpress4Path(route.path) : route.path
    if (route.method === 'ALL') router.all(path, handler)
    else if (route.method === 'GET') router.get(path, handler)
    else if (route.method === 'POST') router.post(path, handler)
    else if (route.method === 'PUT') router.put(path, handler)
    else router.delete(path, handler)
    mapped.push({
      method: route.method,
      path,
      service: route.serviceName,
      handler: route.methodName,
      expressPath: route.path,
      serviceClass: route.serviceClass,
    })
  }
  for (const serviceClass of fresh) {
    const own = mapped.filter((route) => route.serviceClass === serviceClass)
    already.set(serviceClass, {
      container,
      conventions: conventionsKey,
      routes: own.map(({ serviceClass: _class, ...route }) => route),
    })
  }
  mappedServices.set(app, already)
  return [...kept, ...mapped.map(({ expressPath: _path, serviceClass: _class, ...route }) => route)]
}

function createRouteHandler(route: ServiceRoute, instance: object | undefined): RequestHandler {
  // An accessor property (enableProperty) is read, through its getter, on each request.
  const method: unknown = route.isProperty
    ? function readProperty(this: object): unknown {
        return Reflect.get(this, route.methodName)
      }
    : instance === undefined
      ? undefined
      : Reflect.get(instance, route.methodName)
  if (typeof method !== 'function') {
    throw new RouteConventionError(
      `\`${route.serviceName}.${route.methodName}\` is not a function on the built service instance. Do not replace prototype methods in the constructor.`,
    )
  }
  const binders = createBinders(route)
  return async function serviceRouteHandler(req: Request, res: Response, next: NextFunction): Promise<void> {
    // The request scope (req.container) stays open until the method has settled, even when the
    // method answers early through `res` or the client goes away while it runs.
    const release = holdRequestScope(req)
    try {
      const result: unknown = await Reflect.apply(
        method,
        instance,
        binders.map((bind) => bind(req, res)),
      )
      if (res.headersSent) return
      if (result === undefined) {
        if (res.statusCode === 200) res.status(204)
        res.end()
      } else {
        res.json(result)
      }
    } catch (error) {
      next(error)
    } finally {
      release()
    }
  }
}

function createBinders(route: ServiceRoute): Binder[] {
  // A parameter named as a route parameter (`id` for `:id`, compared case-insensitively) reads req.params.
  const pathParameterOf = (name: string | undefined): string | undefined =>
    route.pathParameters.find((parameter) => parameter.toLowerCase() === name?.toLowerCase())
  const isFromRequest = (name: string | undefined): boolean =>
    name === 'req' || name === 'res' || pathParameterOf(name) !== undefined
  const valueParameters = route.parameters.filter((parameter) => !isFromRequest(parameter.name))
  const source = (req: Request): 'query' | 'body' => {
    if (route.method === 'GET' || route.method === 'DELETE') return 'query'
    if (route.method === 'ALL' && QUERY_METHODS.has(req.method)) return 'query'
    return 'body'
  }
  return route.parameters.map((parameter): Binder => {
    const { name } = parameter
    if (name === 'req') return (req) => req
    if (name === 'res') return (_req, res) => res
    const pathParameter = pathParameterOf(name)
    if (pathParameter !== undefined) return (req) => req.params[pathParameter]
    return (req) => {
      const from = source(req)
      const values: unknown = from === 'query' ? req.query : req.body
      const whole = name === undefined || (from === 'body' && valueParameters.length === 1)
      if (whole) return values
      return values !== null && typeof values === 'object' && Object.hasOwn(values, name)
        ? (Reflect.get(values, name) as unknown)
        : undefined
    }
  })
}
