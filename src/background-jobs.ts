import type { AwilixContainer } from 'awilix'
import { BackgroundJobsNotBuiltError, InvalidOptionError, describeValue } from './errors'
import type { BackgroundJobManager } from './background-job-manager'

/** The container registration name of the manager. */
export const MANAGER_REGISTRATION = 'backgroundJobManager'

let root: AwilixContainer | undefined

/**
 * The static facade over the root container's manager: MASA's `MasaApp.Build(app.Services)`.
 * Call {@link BackgroundJobs.build} once at start-up (`mapServices` calls it for you); after that
 * `BackgroundJobs.manager` and `ServiceBase.backgroundJobManager` reach the same singleton manager
 * as `req.backgroundJobs` and `container.resolve('backgroundJobManager')`.
 */
export const BackgroundJobs = {
  /**
   * Sets the root container whose manager the static facade returns. Calling it again with another
   * container replaces the root (as after a restart in tests); disposing the container clears it.
   */
  build(container: AwilixContainer): void {
    if (container === null || typeof container !== 'object' || typeof container.hasRegistration !== 'function') {
      throw new InvalidOptionError(
        `Expected \`container\` to be an awilix container, got ${describeValue(container)}. Pass the container you called addBackgroundJobs(container, ...) on.`,
      )
    }
    if (!container.hasRegistration(MANAGER_REGISTRATION)) {
      throw new BackgroundJobsNotBuiltError(
        'BackgroundJobs.build(container) was given a container without the background-job service. Call addBackgroundJobs(container, o => o.useInMemoryStore()) before BackgroundJobs.build(container).',
      )
    }
    root = container
  },

  /** Whether `build` has set a root container. */
  get isBuilt(): boolean {
    return root !== undefined
  },

  /**
   * The root container's manager.
   * @throws BackgroundJobsNotBuiltError when `build` was not called. It never builds a container
   * of its own: a second container would hold a second store whose jobs nobody runs or sees.
   */
  get manager(): BackgroundJobManager {
    if (root === undefined) {
      throw new BackgroundJobsNotBuiltError(
        'The static background-job manager was used before the root container was set. Call BackgroundJobs.build(container) once at start-up, after addBackgroundJobs(container, ...) and before serving requests (mapServices(app, services, { container }) does it for you).',
      )
    }
    return root.resolve<BackgroundJobManager>(MANAGER_REGISTRATION)
  },

  /** Clears the root container if it is `container` (or unconditionally when none is given). */
  reset(container?: AwilixContainer): void {
    if (container === undefined || root === container) root = undefined
  },
}
