import { managerForServiceClass } from '../background-jobs'
import type { BackgroundJobManager } from '../background-job-manager'
import type { ServiceRouteOptions } from './route-conventions'

/**
 * The base class of minimal-API services, like MASA's `ServiceBase`: `mapServices` maps each own
 * prototype method of a subclass to a route by the conventions in `route-conventions.ts`
 * (`class UserService extends ServiceBase { getListAsync() {} }` -> `GET /api/v1/users/List`).
 *
 * The constructor receives what `container.build(UserService)` passes (the awilix cradle in the
 * default PROXY mode), so dependencies are destructured from the first argument.
 *
 * @example
 * ```ts
 * class OrderService extends ServiceBase {
 *   static override routeOptions = { version: 'v2' }
 *   readonly #orders: OrderRepository
 *   constructor({ orderRepository }: { orderRepository: OrderRepository }) {
 *     super()
 *     this.#orders = orderRepository
 *   }
 *   // POST /api/v2/orders, bound to the JSON body (the app must use express.json()).
 *   async addAsync(order: Order) {
 *     const saved = await this.#orders.save(order)
 *     // OrderService.backgroundJobManager is the app's manager, e.g. to enqueue a follow-up job.
 *     return saved
 *   }
 * }
 * ```
 */
export abstract class ServiceBase {
  /**
   * Route overrides for this service: every field of `mapServices`' route options (`baseUri`,
   * `serviceName`, `version`, `prefix`, `pluralizeServiceName`, `autoAppendId`,
   * `disableTrimMethodPrefix`, the verb prefix lists, `mapHttpMethodsForUnmatched`,
   * `enableProperty`, `disableAutoMapRoute`); fields left out use the `mapServices` options. A
   * single method's route is overridden with `static routes`.
   * @default undefined
   */
  static routeOptions?: ServiceRouteOptions

  /**
   * The singleton manager of the container this service class was mapped with by `mapServices`
   * (MASA's static `BackgroundJobManager`): the same instance as `req.backgroundJobs` and
   * `container.resolve('backgroundJobManager')` there. With two apps in one process, each class
   * reaches its own app's manager. On `ServiceBase` itself, or a class no `mapServices` mapped,
   * it is `BackgroundJobs.manager`.
   * @throws BackgroundJobsNotBuiltError before `BackgroundJobs.build(container)`, which
   * `mapServices` calls for you.
   * @throws BackgroundJobsRootConflictError when the class was mapped with several containers.
   */
  static get backgroundJobManager(): BackgroundJobManager {
    return managerForServiceClass(this)
  }
}
