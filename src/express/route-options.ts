import { InvalidOptionError } from '../errors'
import { checkBoolean, readOptions } from '../validation'
import type { ParameterInfo } from './method-parameters'

/** An HTTP method a service method can be mapped to. */
export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** The HTTP method of a mapped route; `ALL` matches every method (MASA's `App.Map`). */
export type RouteMethod = HttpVerb | 'ALL'

/** The route methods as a const object, for code that prefers names to string literals. */
export const RouteMethods = {
  Get: 'GET',
  Post: 'POST',
  Put: 'PUT',
  Delete: 'DELETE',
  All: 'ALL',
} as const satisfies Record<string, RouteMethod>

/** Method-name prefixes that select an HTTP method, checked in the order GET, POST, PUT, DELETE. */
export interface HttpMethodPrefixes {
  readonly GET: readonly string[]
  readonly POST: readonly string[]
  readonly PUT: readonly string[]
  readonly DELETE: readonly string[]
}

/** MASA's default verb prefixes (`ServiceGlobalRouteOptions`). */
export const DEFAULT_HTTP_METHOD_PREFIXES: HttpMethodPrefixes = Object.freeze({
  GET: Object.freeze(['Get', 'Select', 'Find']),
  POST: Object.freeze(['Post', 'Add', 'Upsert', 'Create', 'Insert']),
  PUT: Object.freeze(['Put', 'Update', 'Modify']),
  DELETE: Object.freeze(['Delete', 'Remove']),
})

/**
 * Route conventions shared by all services (MASA's `ServiceGlobalRouteOptions`, under MASA's names
 * in camelCase); each service may override any of them with {@link ServiceRouteOptions}.
 */
export interface RouteConventionOptions {
  /**
   * The first path segment. An empty string leaves it out.
   * @default 'api'
   */
  prefix?: string
  /**
   * The segment after the prefix. An empty string leaves it out.
   * @default 'v1'
   */
  version?: string
  /**
   * Whether the service name derived from the class name is pluralised (`UserService` -> `users`).
   * An explicit `serviceName` is never pluralised.
   * @default true
   */
  pluralizeServiceName?: boolean
  /**
   * Whether a method with a parameter named `id` gets a trailing `:id` route parameter
   * (optional, `{/:id}`, when the parameter has a default value).
   * @default true
   */
  autoAppendId?: boolean
  /**
   * Keep the verb prefix in the action segment (`getUserAsync` -> `GET .../getUser` instead of
   * `GET .../User`; `addAsync` -> `POST .../add` instead of `POST ...`).
   * @default false
   */
  disableTrimMethodPrefix?: boolean
  /**
   * The method-name prefixes that make a GET route. A list given replaces the default one.
   * @default ['Get', 'Select', 'Find']
   */
  getPrefixes?: readonly string[]
  /**
   * The method-name prefixes that make a POST route. A list given replaces the default one.
   * @default ['Post', 'Add', 'Upsert', 'Create', 'Insert']
   */
  postPrefixes?: readonly string[]
  /**
   * The method-name prefixes that make a PUT route. A list given replaces the default one.
   * @default ['Put', 'Update', 'Modify']
   */
  putPrefixes?: readonly string[]
  /**
   * The method-name prefixes that make a DELETE route. A list given replaces the default one.
   * @default ['Delete', 'Remove']
   */
  deletePrefixes?: readonly string[]
  /**
   * The HTTP methods of a method whose name has no verb prefix (`sendWelcomeAsync`): one route per
   * method listed, or `['ALL']` for every method, MASA's default. Deliberately POST only here, so
   * that a state-changing method is not reachable by a cross-site `<img>` or link (a GET).
   * @default ['POST']
   */
  mapHttpMethodsForUnmatched?: readonly RouteMethod[]
  /**
   * Whether accessor properties (`get name()`) of a service are mapped, each to a GET route at the
   * property's name that answers with its value. Setters are never mapped.
   * @default false
   */
  enableProperty?: boolean
  /**
   * Leave the service (or, globally, every service) unmapped: `mapServices` still builds it, so
   * its constructor runs and `ServiceBase.backgroundJobManager` works, but registers no route.
   * @default false
   */
  disableAutoMapRoute?: boolean
}

/**
 * Per-service route overrides, read from a service class's static `routeOptions`. Fields left out
 * fall back to the {@link RouteConventionOptions} given to `mapServices`.
 */
export interface ServiceRouteOptions extends RouteConventionOptions {
  /**
   * The whole base path, replacing `/prefix/version/serviceName` (e.g. `'/api/catalog'`). It may hold
   * Express route parameters (`'/tenants/:tenant/users'`); `'/'` maps the methods at the root.
   * @default undefined (the base path is built from prefix, version and service name)
   */
  baseUri?: string
  /**
   * The service segment, used as given (not pluralised, not lower-cased).
   * @default undefined (the class name minus a trailing `Service`, pluralised, lower-cased)
   */
  serviceName?: string
}

/**
 * One method's route, set in a service class's static `routes` table (MASA's
 * `[RoutePattern(pattern, startWithBaseUri) { HttpMethod }]`). Fields left out follow the conventions.
 */
export interface RouteOverride {
  /**
   * The path: segments of letters, digits and `_$.~-`, `:name` parameters and optional `:name?`
   * parameters (`'/api/v1/reports/:year/:month?'`). Parameters are bound to the method's parameters
   * of the same name.
   * @default undefined (the path the conventions give)
   */
  readonly pattern?: string
  /**
   * Whether `pattern` follows the service's base path (`'/List/:page?'` under `/api/v1/users`) instead
   * of being the whole path.
   * @default false
   */
  readonly startWithBaseUri?: boolean
  /**
   * The HTTP method, or `'ALL'` for every method.
   * @default undefined (from the method name's verb prefix, else `mapHttpMethodsForUnmatched`)
   */
  readonly method?: RouteMethod
}

/** A service class's static `routes` table: method name -> {@link RouteOverride}. */
export type RouteOverrides = Readonly<Record<string, RouteOverride>>

/** The defaults of {@link RouteConventionOptions}, MASA's `ServiceGlobalRouteOptions` except where noted. */
export const ROUTE_CONVENTION_DEFAULTS: Readonly<Required<RouteConventionOptions>> = Object.freeze({
  prefix: 'api',
  version: 'v1',
  pluralizeServiceName: true,
  autoAppendId: true,
  disableTrimMethodPrefix: false,
  getPrefixes: DEFAULT_HTTP_METHOD_PREFIXES.GET,
  postPrefixes: DEFAULT_HTTP_METHOD_PREFIXES.POST,
  putPrefixes: DEFAULT_HTTP_METHOD_PREFIXES.PUT,
  deletePrefixes: DEFAULT_HTTP_METHOD_PREFIXES.DELETE,
  mapHttpMethodsForUnmatched: Object.freeze(['POST'] as const),
  enableProperty: false,
  disableAutoMapRoute: false,
})

/**
 * A class whose own prototype methods are mapped to routes. Usually it extends `ServiceBase`, but
 * any class works; its static `routeOptions`, if any, override the conventions for it, and its
 * static `routes`, if any, set single methods' paths and HTTP methods.
 */
export type ServiceClass = (new (...args: never) => object) & {
  readonly routeOptions?: ServiceRouteOptions
  readonly routes?: RouteOverrides
}

/** The route one service method maps to, as computed by {@link getServiceRoutes}. */
export interface ServiceRoute {
  readonly method: RouteMethod
  /** The Express 5 path, e.g. `/api/v1/users/List` or `/api/v1/users/:id` (`mapServices` rewrites it for Express 4). */
  readonly path: string
  /** The service class's name. */
  readonly serviceName: string
  /** The name of the prototype method (or, with `enableProperty`, the accessor property) the route calls. */
  readonly methodName: string
  /** Whether the route reads an accessor property (`enableProperty`) instead of calling a method. */
  readonly isProperty: boolean
  /** The method's parameters, in order. */
  readonly parameters: readonly ParameterInfo[]
  /** The route parameters in the path (`['id']`), each bound to the method parameter of that name. */
  readonly pathParameters: readonly string[]
  /** Whether the path ends with the `:id` parameter that the method's `id` parameter receives. */
  readonly hasIdSegment: boolean
}

const PREFIX_KEYS = ['getPrefixes', 'postPrefixes', 'putPrefixes', 'deletePrefixes'] as const
const BOOLEAN_KEYS = [
  'pluralizeServiceName',
  'autoAppendId',
  'disableTrimMethodPrefix',
  'enableProperty',
  'disableAutoMapRoute',
] as const
/** The keys of {@link RouteConventionOptions}, for option checks that accept them beside their own. */
export const ROUTE_CONVENTION_KEYS = [
  'prefix',
  'version',
  ...BOOLEAN_KEYS,
  ...PREFIX_KEYS,
  'mapHttpMethodsForUnmatched',
] as const
const SERVICE_ROUTE_KEYS = [...ROUTE_CONVENTION_KEYS, 'baseUri', 'serviceName'] as const
const ROUTE_OVERRIDE_KEYS = ['pattern', 'startWithBaseUri', 'method'] as const
const ROUTE_METHODS: readonly string[] = Object.values(RouteMethods)
/** The characters a literal path segment may hold: only what Express's route patterns take literally. */
export const ACTION_SEGMENT = /^[\p{L}\p{N}_$.~-]*$/u

/**
 * Resolves convention options against {@link ROUTE_CONVENTION_DEFAULTS} and validates each field.
 * @throws InvalidOptionError naming the option, the value and its type.
 */
export function resolveRouteConventionOptions(
  options: RouteConventionOptions = {},
  where = 'options',
): Required<RouteConventionOptions> {
  readOptions(options, ROUTE_CONVENTION_KEYS, `\`${where}\``)
  const resolved = { ...ROUTE_CONVENTION_DEFAULTS, ...definedFields(options, ROUTE_CONVENTION_KEYS) }
  checkConventions(resolved, where)
  return resolved
}

/**
 * Validates a service's static `routeOptions` (`undefined` means no overrides).
 * @throws InvalidOptionError naming the option, the value and its type.
 */
export function validateServiceRouteOptions(options: unknown, where: string): ServiceRouteOptions {
  if (options === undefined) return {}
  const overrides = definedFields(
    readOptions(options as ServiceRouteOptions, SERVICE_ROUTE_KEYS, `\`${where}\``),
    SERVICE_ROUTE_KEYS,
  )
  checkConventions(overrides, where)
  if (overrides.serviceName !== undefined) checkPath(overrides.serviceName, `${where}.serviceName`, 'serviceName')
  if (overrides.baseUri !== undefined) checkPath(overrides.baseUri, `${where}.baseUri`, 'baseUri')
  return overrides
}

/**
 * Validates a service's static `routes` table against the names it may map (`undefined` means none).
 * @throws InvalidOptionError for an entry of the wrong shape, naming the class and the method.
 */
export function validateRouteOverrides(routes: unknown, where: string): RouteOverrides {
  if (routes === undefined) return {}
  if (routes === null || typeof routes !== 'object' || Array.isArray(routes)) {
    throw new InvalidOptionError({ option: `\`${where}\``, value: routes, expected: 'an object', isWhole: true })
  }
  const table = routes as RouteOverrides
  for (const [name, entry] of Object.entries(table)) {
    const at = `${where}.${name}`
    const override = readOptions(entry, ROUTE_OVERRIDE_KEYS, `\`${at}\``)
    if (override.pattern !== undefined) checkPath(override.pattern, `${at}.pattern`, 'pattern')
    if (override.startWithBaseUri !== undefined) checkBoolean(`${at}.startWithBaseUri`, override.startWithBaseUri)
    if (override.method !== undefined && !ROUTE_METHODS.includes(override.method)) {
      throw new InvalidOptionError({ option: `${at}.method`, value: override.method, expected: METHOD_SHAPE })
    }
  }
  return table
}

const METHOD_SHAPE = "one of 'GET', 'POST', 'PUT', 'DELETE' or 'ALL'"

function checkConventions(options: RouteConventionOptions, where: string): void {
  if (options.prefix !== undefined) checkPath(options.prefix, `${where}.prefix`, 'segment')
  if (options.version !== undefined) checkPath(options.version, `${where}.version`, 'segment')
  for (const key of BOOLEAN_KEYS) if (options[key] !== undefined) checkBoolean(`${where}.${key}`, options[key])
  for (const key of PREFIX_KEYS) {
    const list: unknown = options[key]
    if (list === undefined) continue
    const valid =
      Array.isArray(list) &&
      list.every((prefix) => typeof prefix === 'string' && prefix.trim() !== '' && ACTION_SEGMENT.test(prefix.trim()))
    if (!valid) {
      throw new InvalidOptionError({
        option: `${where}.${key}`,
        value: list,
        expected: "an array of non-empty prefixes of letters, digits and `_$.~-` (e.g. ['Get', 'Find']; [] maps none)",
      })
    }
  }
  const methods: unknown = options.mapHttpMethodsForUnmatched
  if (methods === undefined) return
  const valid =
    Array.isArray(methods) &&
    methods.length > 0 &&
    methods.every((method) => typeof method === 'string' && ROUTE_METHODS.includes(method)) &&
    new Set(methods).size === methods.length &&
    (!methods.includes('ALL') || methods.length === 1)
  if (!valid) {
    throw new InvalidOptionError({
      option: `${where}.mapHttpMethodsForUnmatched`,
      value: methods,
      expected: `a non-empty array of distinct methods, each ${METHOD_SHAPE} (['ALL'] alone for every method, MASA's default)`,
    })
  }
}

type PathKind = 'segment' | 'serviceName' | 'baseUri' | 'pattern'

const PATH_SHAPES: Record<PathKind, string> = {
  segment: "path segments of letters, digits and `_$.~-` (or `''` to leave it out)",
  serviceName: 'a non-empty path segment of letters, digits and `_$.~-`',
  baseUri: "a path of such segments and `:param` segments, such as `'/api/catalog'` (or `'/'` for the root)",
  pattern:
    "a path of segments of letters, digits and `_$.~-`, `:param` and optional `:param?` segments, such as `'/api/v1/reports/:year/:month?'`",
}

/** A `:param` segment, allowed in `baseUri` and route patterns. */
const PARAM_SEGMENT = /^:[A-Za-z_$][\w$]*$/
/** An optional `:param?` segment, allowed in route patterns. */
const OPTIONAL_PARAM_SEGMENT = /^:[A-Za-z_$][\w$]*\?$/

// Only characters Express's route patterns take literally, so no option can smuggle in a
// wildcard, a group or an unbalanced brace that would fail (or match more) at registration.
function checkPath(value: unknown, where: string, kind: PathKind): void {
  const segments = typeof value === 'string' ? value.split('/').filter((segment) => segment !== '') : undefined
  const isAllowed = (segment: string): boolean =>
    ACTION_SEGMENT.test(segment) ||
    ((kind === 'baseUri' || kind === 'pattern') && PARAM_SEGMENT.test(segment)) ||
    (kind === 'pattern' && OPTIONAL_PARAM_SEGMENT.test(segment))
  const valid =
    segments !== undefined &&
    segments.every(isAllowed) &&
    (kind === 'segment' || segments.length > 0 || ((kind === 'baseUri' || kind === 'pattern') && value !== ''))
  if (!valid) throw new InvalidOptionError({ option: where, value, expected: PATH_SHAPES[kind] })
}

function definedFields<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {}
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key]
  return picked
}
