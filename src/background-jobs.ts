import type { AwilixContainer } from 'awilix'
import type { BackgroundJobManager } from './background-job-manager'
import { BackgroundJobsNotBuiltError } from './errors'
import { REGISTRATIONS } from './registrations'
import { checkContainer } from './validation'

let root: AwilixContainer | undefined

/**
 * The manager registered in `container`; `argument` names the container in messages.
 * @throws InvalidArgumentError when `container` is not an awilix container
 * @throws BackgroundJobsNotBuiltError when `addBackgroundJobs` was not called on it
 */
export function resolveManager(container: unknown, argument: string): BackgroundJobManager {
  const checked = checkContainer(container, argument)
  if (!checked.hasRegistration(REGISTRATIONS.manager)) {
    throw new BackgroundJobsNotBuiltError(
      'The container has no background-job service. Call addBackgroundJobs(container, o => o.useInMemoryStore()) on it first.',
    )
  }
  return checked.resolve<BackgroundJobManager>(REGISTRATIONS.manager)
}

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
    resolveManager(container, 'the container given to BackgroundJobs.build')
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
    return root.resolve<BackgroundJobManager>(REGISTRATIONS.manager)
  },

  /** Clears the root container if it is `container` (or unconditionally when none is given). */
  reset(container?: AwilixContainer): void {
    if (container === undefined || root === container) root = undefined
  },
}
