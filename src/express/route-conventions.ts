import pluralize from 'pluralize'
import { RouteConventionError, describeValue } from '../errors'
import { parseParameters } from './method-parameters'
import {
  ACTION_SEGMENT,
  DEFAULT_HTTP_METHOD_PREFIXES,
  resolveRouteConventionOptions,
  validateServiceRouteOptions,
  type HttpMethodPrefixes,
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
  RouteMethods,
  resolveRouteConventionOptions,
  validateServiceRouteOptions,
} from './route-options'
export type {
  HttpMethodPrefixes,
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
 *   group `{/:id}` for an `id` parameter with a default value.
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
 * segment: the name minus that prefix and an `Async` suffix. A name with no verb prefix maps to
 * `ALL` and keeps its whole name (minus `Async`) as the action.
 *
 * `addAsync` -> `POST` + `''`; `getListAsync` -> `GET` + `List`; `auditState` -> `ALL` + `auditState`.
 */
export function parseMethodName(
  methodName: string,
  prefixes: HttpMethodPrefixes = DEFAULT_HTTP_METHOD_PREFIXES,
): { method: RouteMethod; prefix: string; action: string } {
  for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
    const prefix = getMethodPrefix(prefixes[method], methodName)
    if (prefix !== '') return { method, prefix, action: trimAsyncSuffix(methodName.slice(prefix.length)) }
  }
  return { method: 'ALL', prefix: '', action: trimAsyncSuffix(methodName) }
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
 * getters and setters, symbol keys and names starting with `_` or `#` (inherited methods are not
 * mapped, like MASA's `DeclaredOnly`). Routes without an `:id` come first, so a literal segment
 * (`/users/List`) is matched before `/users/:id` would capture it.
 * @throws RouteConventionError for a value that is not a class, a service name that cannot be
 * derived, a method name that is not a valid path segment, a rest parameter, or two methods that
 * map to the same method and path.
 * @throws InvalidOptionError for invalid `options` or `routeOptions`.
 */
export function getServiceRoutes(serviceClass: ServiceClass, options: RouteConventionOptions = {}): ServiceRoute[] {
  const { className, resolved, baseUri } = resolveService(serviceClass, options)
  const prototype = serviceClass.prototype as object
  const routes: ServiceRoute[] = []
  for (const methodName of Object.getOwnPropertyNames(prototype)) {
    if (methodName === 'constructor' || methodName.startsWith('_') || methodName.startsWith('#')) continue
    const descriptor = Object.getOwnPropertyDescriptor(prototype, methodName)
    if (descriptor === undefined || descriptor.get !== undefined || descriptor.set !== undefined) continue
    const value: unknown = descriptor.value
    if (typeof value !== 'function') continue
    const where = `${className}.${methodName}`
    const { method, action } = parseMethodName(methodName)
    if (!ACTION_SEGMENT.test(action)) {
      throw new RouteConventionError(
        `Cannot map \`${where}\`: its action segment ${describeValue(action)} is not a valid path segment. Rename the method, or start its name with \`_\` to leave it unmapped.`,
      )
    }
    const parameters = parseParameters(value as (...args: never) => unknown)
    const rest = parameters.find((parameter) => parameter.isRest)
    if (rest !== undefined) {
      throw new RouteConventionError(
        `Cannot map \`${where}\`: a rest parameter (\`...${rest.name ?? '[...]'}\`) cannot be bound from a request. Declare named parameters, or start the method name with \`_\` to leave it unmapped.`,
      )
    }
    const id = resolved.autoAppendId
      ? parameters.find((parameter) => parameter.name?.toLowerCase() === 'id')
      : undefined
    let path = combineUris(baseUri, action)
    if (id !== undefined && id.hasDefault) path = path === '/' ? '/{:id}' : `${path}{/:id}`
    else if (id !== undefined) path = combineUris(path, ':id')
    const duplicate = routes.find((route) => routesClash(route, { method, path }))
    if (duplicate !== undefined) {
      throw new RouteConventionError(
        `\`${className}.${duplicate.methodName}\` (${duplicate.method}) and \`${where}\` (${method}) both map to ${path}. Rename one of them, or start its name with \`_\` to leave it unmapped.`,
      )
    }
    routes.push({ method, path, serviceName: className, methodName, parameters, hasIdSegment: id !== undefined })
  }
  // Express tries routes in registration order; ASP.NET Core prefers literal segments over parameters.
  return [...routes.filter((route) => !route.hasIdSegment), ...routes.filter((route) => route.hasIdSegment)]
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
