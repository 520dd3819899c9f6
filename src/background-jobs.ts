import type { AwilixContainer } from 'awilix'
import type { BackgroundJobManager } from './background-job-manager'
import { BackgroundJobsNotBuiltError, BackgroundJobsRootConflictError } from './errors'
import { REGISTRATIONS } from './registrations'
import { checkBoolean, checkContainer, readOptions } from './validation'

/** Options of {@link BackgroundJobs.build}. */
export interface BuildOptions {
  /**
   * Replace a root container that is already set (and still in use) with this one.
   * @default false: a second, different container is refused
   */
  readonly replace?: boolean
}

let root: AwilixContainer | undefined
/** Whether `root` was set by `BackgroundJobs.build` rather than by the first `mapServices`. */
let isRootChosen = false
/** Every container `mapServices` mapped services with, and the containers of each service class. */
const mappedContainers = new Set<AwilixContainer>()
const serviceContainers = new Map<object, Set<AwilixContainer>>()

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
 * @internal What `mapServices` calls: ties each service class to `container`, so that
 * `ServiceClass.backgroundJobManager` reaches that container's manager, and makes `container` the
 * root of the static facade when none is set.
 * @throws BackgroundJobsNotBuiltError when the container has no background-job service
 */
export function bindServiceClasses(serviceClasses: readonly object[], container: AwilixContainer): void {
  resolveManager(container, 'the container given to mapServices')
  if (root === undefined) {
    root = container
    isRootChosen = false
  }
  mappedContainers.add(container)
  for (const serviceClass of serviceClasses) {
    let containers = serviceContainers.get(serviceClass)
    if (containers === undefined) serviceContainers.set(serviceClass, (containers = new Set()))
    containers.add(container)
  }
}

/**
 * @internal The manager a service class reaches: that of the container `mapServices` mapped it
 * (or its nearest mapped base class) with, else the static facade's.
 */
export function managerForServiceClass(serviceClass: object): BackgroundJobManager {
  for (let current: unknown = serviceClass; typeof current === 'function'; current = Object.getPrototypeOf(current)) {
    const containers = serviceContainers.get(current)
    if (containers === undefined) continue
    if (containers.size > 1) {
      throw new BackgroundJobsRootConflictError({
        situation: 'class-in-several',
        serviceClass: (serviceClass as { name?: string }).name ?? 'The service class',
      })
    }
    for (const container of containers) return container.resolve<BackgroundJobManager>(REGISTRATIONS.manager)
  }
  return BackgroundJobs.manager
}

/**
 * The static facade over the root container's manager: MASA's `MasaApp.Build(app.Services)`.
 * Call {@link BackgroundJobs.build} once at start-up (`mapServices` does it for you); after that
 * `BackgroundJobs.manager` and `ServiceBase.backgroundJobManager` reach the same singleton manager
 * as `req.backgroundJobs` and `container.resolve('backgroundJobManager')`. With several
 * containers in one process (two apps), each mapped service class reaches the manager of the
 * container it was mapped with.
 */
export const BackgroundJobs = {
  /**
   * Sets the root container whose manager the static facade returns. Disposing the container
   * clears it.
   * @throws BackgroundJobsRootConflictError when another root container is set and still in use,
   *   unless `options.replace` is true: a silent switch would send one app's jobs to another
   * @throws BackgroundJobsNotBuiltError when the container has no background-job service
   */
  build(container: AwilixContainer, options?: BuildOptions): void {
    const { replace = false } = readOptions(options, ['replace'], 'the BackgroundJobs.build options')
    checkBoolean('replace', replace, 'the BackgroundJobs.build options')
    resolveManager(container, 'the container given to BackgroundJobs.build')
    if (root !== undefined && root !== container && !replace) {
      throw new BackgroundJobsRootConflictError({ situation: 'second-build' })
    }
    root = container
    isRootChosen = true
  },

  /** Whether `build` (or `mapServices`) has set a root container. */
  get isBuilt(): boolean {
    return root !== undefined
  },

  /**
   * The root container's manager.
   * @throws BackgroundJobsNotBuiltError when `build` was not called. It never builds a container
   * of its own: a second container would hold a second store whose jobs nobody runs or sees.
   * @throws BackgroundJobsRootConflictError when `mapServices` mapped services of several
   * containers and none was chosen with `build`.
   */
  get manager(): BackgroundJobManager {
    if (root === undefined) {
      throw new BackgroundJobsNotBuiltError(
        'The static background-job manager was used before the root container was set. Call BackgroundJobs.build(container) once at start-up, after addBackgroundJobs(container, ...) and before serving requests (mapServices(app, services, { container }) does it for you).',
      )
    }
    if (!isRootChosen && [...mappedContainers].some((container) => container !== root)) {
      throw new BackgroundJobsRootConflictError({ situation: 'several-containers' })
    }
    return root.resolve<BackgroundJobManager>(REGISTRATIONS.manager)
  },

  /**
   * Forgets `container` (called when it is disposed): clears the root if it is `container`, and
   * unties the service classes mapped with it. Without an argument, forgets every container.
   */
  reset(container?: AwilixContainer): void {
    if (container === undefined) {
      root = undefined
      isRootChosen = false
      mappedContainers.clear()
      serviceContainers.clear()
      return
    }
    if (root === container) {
      root = undefined
      isRootChosen = false
    }
    mappedContainers.delete(container)
    for (const [serviceClass, containers] of serviceContainers) {
      containers.delete(container)
      if (containers.size === 0) serviceContainers.delete(serviceClass)
    }
  },
}
