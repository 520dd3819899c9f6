import { InvalidOptionError } from '../errors'
import { checkBoolean, readOptions } from '../validation'
import type { ParameterInfo } from './method-parameters'

/** The HTTP method of a mapped route; `ALL` matches every method (MASA's `App.Map`). */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'ALL'

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

/** Route conventions shared by all services; each service may override them with {@link ServiceRouteOptions}. */
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
   * (`{/:id}`, optional, when the parameter has a default value).
   * @default true
   */
  autoAppendId?: boolean
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

/** The defaults of {@link RouteConventionOptions}, MASA's `ServiceGlobalRouteOptions`. */
export const ROUTE_CONVENTION_DEFAULTS: Readonly<Required<RouteConventionOptions>> = Object.freeze({
  prefix: 'api',
  version: 'v1',
  pluralizeServiceName: true,
  autoAppendId: true,
})

/**
 * A class whose own prototype methods are mapped to routes. Usually it extends `ServiceBase`, but
 * any class works; its static `routeOptions`, if any, override the conventions for it.
 */
export type ServiceClass = (new (...args: never) => object) & { readonly routeOptions?: ServiceRouteOptions }

/** The route one service method maps to, as computed by {@link getServiceRoutes}. */
export interface ServiceRoute {
  readonly method: RouteMethod
  /** The Express 5 path, e.g. `/api/v1/users/List` or `/api/v1/users/:id`. */
  readonly path: string
  /** The service class's name. */
  readonly serviceName: string
  /** The name of the prototype method the route calls. */
  readonly methodName: string
  /** The method's parameters, in order. */
  readonly parameters: readonly ParameterInfo[]
  /** Whether the path ends with the `:id` parameter that the method's `id` parameter receives. */
  readonly hasIdSegment: boolean
}

const ROUTE_CONVENTION_KEYS = ['prefix', 'version', 'pluralizeServiceName', 'autoAppendId'] as const
const SERVICE_ROUTE_KEYS = [...ROUTE_CONVENTION_KEYS, 'baseUri', 'serviceName'] as const
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
  checkPath(resolved.prefix, `${where}.prefix`, 'segment')
  checkPath(resolved.version, `${where}.version`, 'segment')
  checkBoolean(`${where}.pluralizeServiceName`, resolved.pluralizeServiceName)
  checkBoolean(`${where}.autoAppendId`, resolved.autoAppendId)
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
  if (overrides.prefix !== undefined) checkPath(overrides.prefix, `${where}.prefix`, 'segment')
  if (overrides.version !== undefined) checkPath(overrides.version, `${where}.version`, 'segment')
  if (overrides.serviceName !== undefined) checkPath(overrides.serviceName, `${where}.serviceName`, 'serviceName')
  if (overrides.baseUri !== undefined) checkPath(overrides.baseUri, `${where}.baseUri`, 'baseUri')
  if (overrides.pluralizeServiceName !== undefined)
    checkBoolean(`${where}.pluralizeServiceName`, overrides.pluralizeServiceName)
  if (overrides.autoAppendId !== undefined) checkBoolean(`${where}.autoAppendId`, overrides.autoAppendId)
  return overrides
}

type PathKind = 'segment' | 'serviceName' | 'baseUri'

const PATH_SHAPES: Record<PathKind, string> = {
  segment: "path segments of letters, digits and `_$.~-` (or `''` to leave it out)",
  serviceName: 'a non-empty path segment of letters, digits and `_$.~-`',
  baseUri: "a path of such segments and `:param` segments, such as `'/api/catalog'` (or `'/'` for the root)",
}

/** A `:param` segment, allowed in `baseUri` only. */
const PARAM_SEGMENT = /^:[A-Za-z_$][\w$]*$/

// Only characters Express's route patterns take literally, so no option can smuggle in a
// wildcard, a group or an unbalanced brace that would fail (or match more) at registration.
function checkPath(value: unknown, where: string, kind: PathKind): void {
  const segments = typeof value === 'string' ? value.split('/').filter((segment) => segment !== '') : undefined
  const valid =
    segments !== undefined &&
    segments.every((segment) => ACTION_SEGMENT.test(segment) || (kind === 'baseUri' && PARAM_SEGMENT.test(segment))) &&
    (kind === 'segment' || segments.length > 0 || (kind === 'baseUri' && value !== ''))
  if (!valid) throw new InvalidOptionError({ option: where, value, expected: PATH_SHAPES[kind] })
}

function definedFields<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {}
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key]
  return picked
}
