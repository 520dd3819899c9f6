// Type tests of the route options and `static routes` of services, checked by
// `tsc -p test/types/tsconfig.json` (run by test/types.test.ts) and by `npm run lint`. Each
// `@ts-expect-error` line must fail to compile. Nothing here runs.
import type { Application } from 'express'
import { ServiceBase, mapServices, type RouteOverrides, type ServiceRouteOptions } from 'express-background-jobs'
import type { AwilixContainer } from 'awilix'

declare const app: Application
declare const container: AwilixContainer

class ReportService extends ServiceBase {
  static routes = {
    monthly: { pattern: '/reports/:year/:month?', method: 'GET' },
    getListAsync: { pattern: '/All/:page?', startWithBaseUri: true },
  } as const
  monthly(year: string, month?: string): string {
    return year + (month ?? '')
  }
}

class SatisfiedService extends ServiceBase {
  static override routeOptions = { mapHttpMethodsForUnmatched: ['GET', 'POST'] } satisfies ServiceRouteOptions
  static routes = { sendAsync: { method: 'PUT' } } satisfies RouteOverrides
  sendAsync(): void {}
}

class WidenedService {
  // Without `as const`, 'GET' widens to string: refused where the class is used as a service.
  static routes = { listAsync: { method: 'GET' } }
  listAsync(): void {}
}

mapServices(app, [ReportService, SatisfiedService], {
  container,
  mapHttpMethodsForUnmatched: ['POST'],
  getPrefixes: ['Get', 'Fetch'],
  disableTrimMethodPrefix: true,
  enableProperty: true,
  disableAutoMapRoute: false,
})
// @ts-expect-error not an HTTP method of a route
mapServices(app, [], { container, mapHttpMethodsForUnmatched: ['PATCH'] })
// @ts-expect-error a prefix list, not one prefix
mapServices(app, [], { container, getPrefixes: 'Get' })
// @ts-expect-error the widened `method: string` of WidenedService.routes
mapServices(app, [WidenedService], { container })

class BadMethodService extends ServiceBase {
  // @ts-expect-error not an HTTP method of a route
  static routes = { sendAsync: { method: 'PATCH' } } satisfies RouteOverrides
  sendAsync(): void {}
}
export { BadMethodService }
