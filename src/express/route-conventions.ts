import pluralize from 'pluralize'
import { RouteConventionError, describeValue } from '../errors'
import { parseParameters } from './method-parameters'
import {
  ACTION_SEGMENT,
  DEFAULT_HTTP_METHOD_PREFIXES,
  resolveRouteConventionOptions,
  validateServiceRouteOptions,
  validateRouteOverrides,
  type HttpMethodPrefixes,
  type HttpVerb,
  type RouteConventionOptions,
  type RouteMethod,
  type ServiceClass,
  type ServiceRoute,
  type ServiceRouteOptions,
} from './route-options'

// The option types and defaults live in route-options.ts; they are part of this module's surface.
export {
  DEFAULT_HTTP_METHOD_PREFIXES,
  ROUTE_CONVENTION_DEFAULTS,
  ROUTE_CONVENTION_KEYS,
  RouteMethods,
  resolveRouteConventionOptions,
  validateRouteOverrides,
  validateServiceRouteOptions,
} from './route-options'
export type {
  HttpMethodPrefixes,
  HttpVerb,
  RouteOverride,
  RouteOverrides,
  RouteConventionOptions,
  RouteMethod,
  ServiceClass,
  ServiceRoute,
  ServiceRouteOptions,
} from './route-options'

/**
 * @packageDocumentation
 * The route conventions of MASA Framework's minimal APIs (`Masa.Contrib.Service.MinimalAPIs`),
 * as pure functions: a service class and its method names and parameter names give each method's
 * HTTP method and Express 5 path. `mapServices` registers the routes; these functions only compute
 * them, so they can be tested and printed without an app.
 *
 * Decisions where JavaScript differs from C#, or where this port departs from MASA:
 * - Verb prefixes match case-insensitively and with no word boundary, as in MASA, so both
 *   `getListAsync` and `GetListAsync` are GET, and also `address()` is POST (prefix `Add`) with the
 *   action `ress`. Rename such a method, or start its name with `_` to leave it unmapped.
 * - The service name is lower-cased after pluralising (`OrderItemService` -> `orderitems`); MASA
 *   keeps the class name's casing (`Users`).
 * - The action segment keeps the method name's casing after the verb prefix and the `Async` suffix
 *   are trimmed, as MASA's tests show (`AuditState` stays `AuditState`, `GetUser` gives `User`), so
 *   `getListAsync` gives `List`. Express routers match paths case-insensitively by default (as
 *   ASP.NET Core does), so `/api/v1/users/list` reaches it; with `caseSensitive: true` use the
 *   segment exactly as {@link getServiceRoutes} reports it.
 * - MASA's `{id?}` (a nullable `id`, or one with a default value) becomes Express 5's optional
 *   group `{/:id}` for an `id` parameter with a default value (`getAsync(id: string | undefined =
 *   undefined)`). TypeScript erases the `?` of `getAsync(id?: string)` before the code runs, so such
 *   an `id` is required: give it a default value, or an optional `:id?` in `static routes`.
 * - A method with no verb prefix maps to POST only (`mapHttpMethodsForUnmatched: ['POST']`);
 *   MASA maps it to every method. A state-changing method such as `sendWelcomeAsync(to)` must not
 *   answer a GET that a cross-site `<img>` can send.
 */

/**
 * Returns the `Async` suffix trimmed from a method name, matched case-insensitively as MASA does
 * (`GetAsync` -> `Get`, `getListAsync` -> `getList`). Other names are returned unchanged.
 */
export function trimAsyncSuffix(methodName: string): string {
  return methodName.toLowerCase().endsWith('async') ? methodName.slice(0, -'async'.length) : methodName
}

/**
 * Returns the first of `prefixes` that `methodName` starts with, compared case-insensitively, or
 * `''` when none does (MASA's `ParseMethodPrefix`). Surrounding spaces in a prefix are ignored.
 */
export function getMethodPrefix(prefixes: readonly string[], methodName: string): string {
  const lower = methodName.toLowerCase()
  for (const raw of prefixes) {
    const prefix = raw.trim()
    if (prefix !== '' && lower.startsWith(prefix.toLowerCase())) return prefix
  }
  return ''
}

/**
 * Splits a method name into its HTTP method, the verb prefix that selected it, and the action
 * segment: the name minus that prefix (kept with `disableTrimMethodPrefix`) and an `Async` suffix.
 * A name with no verb prefix has no method (`undefined`, MASA's `null`: `mapHttpMethodsForUnmatched`
 * decides) and keeps its whole name (minus `Async`) as the action.
 *
 * `addAsync` -> `POST` + `''`; `getListAsync` -> `GET` + `List`; `auditState` -> `undefined` + `auditState`.
 */
export function parseMethodName(
  methodName: string,
  prefixes: HttpMethodPrefixes = DEFAULT_HTTP_METHOD_PREFIXES,
  options: { readonly disableTrimMethodPrefix?: boolean } = {},
): { method: HttpVerb | undefined; prefix: string; action: string } {
  for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
    const prefix = getMethodPrefix(prefixes[method], methodName)
    if (prefix === '') continue
    const rest = options.disableTrimMethodPrefix === true ? methodName : methodName.slice(prefix.length)
    return { method, prefix, action: trimAsyncSuffix(rest) }
  }
  return { method: undefined, prefix: '', action: trimAsyncSuffix(methodName) }
}

/**
 * Derives the service segment from a class name: a trailing `Service` (any case) is removed, the
 * rest is pluralised with `pluralize` when asked and lower-cased. `UserService` -> `users`,
 * `GoodsService` -> `goods`, `PersonService` -> `people`; `''` when nothing is left.
 */
export function getServiceName(className: string, options: { pluralize: boolean }): string {
  const base = className.toLowerCase().endsWith('service') ? className.slice(0, -'service'.length) : className
  if (base === '') return ''
  return (options.pluralize ? pluralize(base) : base).toLowerCase()
}

/**
 * Joins path parts with single slashes, dropping empty parts and the slashes around each part, and
 * starts the result with `/`: `('api', '/v1/', 'order')` -> `/api/v1/order`; no parts -> `/`.
 */
export function combineUris(...parts: readonly string[]): string {
  const kept = parts.map((part) => part.replace(/^\/+|\/+$/g, '')).filter((part) => part !== '')
  return `/${kept.join('/')}`
}

/**
 * Returns the base path of a service: its `routeOptions.baseUri` if set, else
 * `/prefix/version/serviceName` with empty parts left out (`/api/v1/users`).
 * @throws RouteConventionError when no service name can be derived (an anonymous class, or one
 * named just `Service`) and none is given.
 */
export function getBaseUri(serviceClass: ServiceClass, options: RouteConventionOptions = {}): string {
  return resolveService(serviceClass, options).baseUri
}

/**
 * Computes the routes of a service class: one per own prototype method, skipping the constructor,
 * symbol keys and names starting with `_` or `#` (inherited methods are not mapped, like MASA's
 * `DeclaredOnly`, unless the class's static `routes` names them). Accessor properties are mapped
 * to GET routes with `enableProperty`, setters never. A method with no verb prefix gets one route
 * per method in `mapHttpMethodsForUnmatched` (POST by default). With `disableAutoMapRoute` there are
 * none. Routes whose path ends with a parameter come last, so a literal segment (`/users/List`) is
 * matched before `/users/:id` would capture it.
 * @throws RouteConventionError for a value that is not a class, a service name that cannot be
 * derived, a method name that is not a valid path segment, a rest parameter, a `routes` entry that
 * names no method, or two methods that map to the same method and path.
 * @throws InvalidOptionError for invalid `options`, `routeOptions` or `routes`.
 */
export function getServiceRoutes(serviceClass: ServiceClass, options: RouteConventionOptions = {}): ServiceRoute[] {
  const { className, resolved, baseUri } = resolveService(serviceClass, options)
  const overrides = validateRouteOverrides(serviceClass.routes, `${className || 'serviceClass'}.routes`)
  if (resolved.disableAutoMapRoute) return []
  const prefixes: HttpMethodPrefixes = {
    GET: resolved.getPrefixes,
    POST: resolved.postPrefixes,
    PUT: resolved.putPrefixes,
    DELETE: resolved.deletePrefixes,
  }
  const prototype = serviceClass.prototype as object
  const names = new Set([...Object.getOwnPropertyNames(prototype), ...Object.keys(overrides)])
  const routes: ServiceRoute[] = []
  for (const methodName of names) {
    const override = Object.hasOwn(overrides, methodName) ? overrides[methodName] : undefined
    const isListed = override !== undefined
    if (!isListed && (methodName === 'constructor' || methodName.startsWith('_') || methodName.startsWith('#')))
      continue
    const where = `${className}.${methodName}`
    const member = methodName === 'constructor' ? undefined : findMember(prototype, methodName)
    const isProperty = member?.get !== undefined && resolved.enableProperty
    if (!isProperty && typeof member?.value !== 'function') {
      if (!isListed) continue
      throw new RouteConventionError(
        `\`${className}.routes\` names \`${methodName}\`, which is not a method of ${className}${member?.get === undefined ? '' : ' (it is an accessor property: set `enableProperty: true` to map it)'}. Name a method of the class, or remove the entry.`,
      )
    }
    const parsed = isProperty
      ? { method: 'GET' as const, action: methodName }
      : parseMethodName(methodName, prefixes, resolved)
    const action =
      override?.startWithBaseUri === true && override.pattern !== undefined ? override.pattern : parsed.action
    if (override?.pattern === undefined && !ACTION_SEGMENT.test(action)) {
      throw new RouteConventionError(
        `Cannot map \`${where}\`: its action segment ${describeValue(action)} is not a valid path segment. Rename the method, set its path in \`static routes\`, or start its name with \`_\` to leave it unmapped.`,
      )
    }
    const parameters = isProperty ? [] : parseParameters(member?.value as (...args: never) => unknown)
    const rest = parameters.find((parameter) => parameter.isRest)
    if (rest !== undefined) {
      throw new RouteConventionError(
        `Cannot map \`${where}\`: a rest parameter (\`...${rest.name ?? '[...]'}\`) cannot be bound from a request. Declare named parameters, or start the method name with \`_\` to leave it unmapped.`,
      )
    }
    const id =
      resolved.autoAppendId && override?.pattern === undefined
        ? parameters.find((parameter) => parameter.name?.toLowerCase() === 'id')
        : undefined
    let path =
      override?.pattern !== undefined && override.startWithBaseUri !== true
        ? toExpressPath(override.pattern)
        : toExpressPath(combineUris(baseUri, action))
    if (id !== undefined && id.hasDefault) path = path === '/' ? '/{:id}' : `${path}{/:id}`
    else if (id !== undefined) path = combineUris(path, ':id')
    const pathParameters = [...path.matchAll(/:([A-Za-z_$][\w$]*)/g)].map((match) => match[1] ?? '')
    const methods =
      override?.method !== undefined
        ? [override.method]
        : parsed.method !== undefined
          ? [parsed.method]
          : resolved.mapHttpMethodsForUnmatched
    for (const method of methods) {
      const duplicate = routes.find((route) => routesClash(route, { method, path }))
      if (duplicate !== undefined) {
        throw new RouteConventionError(
          `\`${className}.${duplicate.methodName}\` (${duplicate.method}) and \`${where}\` (${method}) both map to ${path}. Rename one of them, set one's path in \`static routes\`, or start its name with \`_\` to leave it unmapped.`,
        )
      }
      routes.push({
        method,
        path,
        serviceName: className,
        methodName,
        isProperty,
        parameters,
        pathParameters,
        hasIdSegment: id !== undefined,
      })
    }
  }
  // Express tries routes in registration order; ASP.NET Core prefers literal segments over parameters.
  return [...routes.filter((route) => !endsWithParameter(route)), ...routes.filter(endsWithParameter)]
}

/** Whether a route's last segment is a route parameter: such routes are registered after literal ones. */
export function endsWithParameter(route: { readonly path: string }): boolean {
  return /(?::[A-Za-z_$][\w$]*\}?)$/.test(route.path)
}

/**
 * Rewrites a path as Express 4 reads it: Express 5's optional group `{/:id}` (and `/{:id}` at the
 * root) becomes `/:id?`. Other paths are the same in both majors.
 */
export function toExpress4Path(path: string): string {
  return path.replace(/^\/\{:([A-Za-z_$][\w$]*)\}/, '/:$1?').replace(/\{\/:([A-Za-z_$][\w$]*)\}/g, '/:$1?')
}

/** A path of literal, `:param` and optional `:param?` segments in Express 5's syntax (`{/:param}`). */
function toExpressPath(path: string): string {
  let out = ''
  for (const segment of path.split('/')) {
    if (segment === '') continue
    out += segment.endsWith('?') ? `{/${segment.slice(0, -1)}}` : `/${segment}`
  }
  if (out === '') return '/'
  return out.startsWith('{/') ? `/{${out.slice(2)}` : out
}

/** The property descriptor of `name` on `prototype` or the classes it extends (not `Object.prototype`). */
function findMember(prototype: object, name: string): PropertyDescriptor | undefined {
  for (
    let at: object | null = prototype;
    at !== null && at !== Object.prototype;
    at = Object.getPrototypeOf(at) as object | null
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(at, name)
    if (descriptor !== undefined) return descriptor
  }
  return undefined
}

/**
 * Whether two routes would catch the same requests: the same path, compared case-insensitively as
 * Express routers match by default (`/users/list` and `/users/List` clash), and the same method or
 * either one `ALL`.
 */
export function routesClash(
  a: { readonly method: RouteMethod; readonly path: string },
  b: { readonly method: RouteMethod; readonly path: string },
): boolean {
  return (
    a.path.toLowerCase() === b.path.toLowerCase() && (a.method === b.method || a.method === 'ALL' || b.method === 'ALL')
  )
}

function resolveService(
  serviceClass: ServiceClass,
  options: RouteConventionOptions,
): { className: string; resolved: Required<RouteConventionOptions> & ServiceRouteOptions; baseUri: string } {
  const className = checkServiceClass(serviceClass, 'serviceClass')
  const globals = resolveRouteConventionOptions(options)
  const overrides = validateServiceRouteOptions(
    serviceClass.routeOptions,
    `${className || 'serviceClass'}.routeOptions`,
  )
  const resolved = { ...globals, ...overrides }
  return { className, resolved, baseUri: baseUriOf(className, resolved) }
}

function baseUriOf(className: string, options: Required<RouteConventionOptions> & ServiceRouteOptions): string {
  if (options.baseUri !== undefined) return combineUris(options.baseUri)
  const serviceName = options.serviceName ?? getServiceName(className, { pluralize: options.pluralizeServiceName })
  if (serviceName === '') {
    throw new RouteConventionError(
      `Cannot derive a service name from the class name ${describeValue(className)}: nothing is left once the \`Service\` suffix is removed. Set \`static routeOptions = { serviceName: 'users' }\` (or \`baseUri\`) on the class, or rename it (e.g. \`UserService\`).`,
    )
  }
  if (options.serviceName === undefined && !ACTION_SEGMENT.test(serviceName)) {
    // A class name is not always an identifier (a `name` can be defined); keep it out of the route pattern.
    throw new RouteConventionError(
      `Cannot derive a service name from the class name ${describeValue(className)}: ${describeValue(serviceName)} is not a valid path segment. Set \`static routeOptions = { serviceName: 'users' }\` (or \`baseUri\`) on the class, or rename it.`,
    )
  }
  return combineUris(options.prefix, options.version, serviceName)
}

function checkServiceClass(value: unknown, where: string): string {
  if (typeof value !== 'function' || value.prototype === undefined || value.prototype === null) {
    throw new RouteConventionError(
      `Expected \`${where}\` to be a class, got ${describeValue(value)}. Pass the service class itself (e.g. \`UserService\`), not an instance or an arrow function.`,
    )
  }
  return value.name
}
