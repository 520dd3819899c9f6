import { asFunction, asValue, type AwilixContainer } from 'awilix'
import type { JobClass } from './background-job-base'
import { BackgroundJobManager } from './background-job-manager'
import { BackgroundJobs, MANAGER_REGISTRATION } from './background-jobs'
import { JobStore } from './engine/job-store'
import { MemoryJobEngine } from './engine/memory-engine'
import { TimerWheel } from './engine/timer-wheel'
import { InvalidOptionError, describeValue } from './errors'
import { JobRegistry } from './job-registry'
import { LOGGER_REGISTRATION, createDefaultLogger, safeLog, type JobLogger } from './logger'
import { resolveMemoryStoreOptions, type MemoryStoreOptions, type ResolvedMemoryStoreOptions } from './options'

/** Container registration names of the background-job service's singletons. */
export const REGISTRATIONS = {
  options: 'backgroundJobOptions',
  store: 'jobStore',
  timerWheel: 'timerWheel',
  registry: 'jobRegistry',
  engine: 'backgroundJobEngine',
  manager: MANAGER_REGISTRATION,
  logger: LOGGER_REGISTRATION,
} as const

/** What the `addBackgroundJobs` configure callback receives (MASA's `options`). */
export class BackgroundJobsBuilder {
  #store: ResolvedMemoryStoreOptions | undefined
  readonly #jobs: JobClass[] = []

  /** Keeps jobs in this process's memory (MASA's `UseInMemoryDatabase`): they are lost on restart. */
  useInMemoryStore(options?: MemoryStoreOptions): this {
    this.#store = resolveMemoryStoreOptions(options)
    return this
  }

  /** Registers job classes (one or a list: `o.addJob(A, B)` or `o.addJob(...jobs)`). */
  addJob(...jobClasses: JobClass[]): this {
    this.#jobs.push(...jobClasses)
    return this
  }

  /** @internal */
  get storeOptions(): ResolvedMemoryStoreOptions | undefined {
    return this.#store
  }

  /** @internal */
  get jobs(): readonly JobClass[] {
    return this.#jobs
  }
}

/**
 * Registers the background-job service in an awilix container, MASA's `AddBackgroundJob`: the
 * options, the job store, the timer wheel, the job registry, the engine and the manager, all
 * singletons, plus a winston `logger` when the container has none. The manager is registered with
 * a disposer, so `container.dispose()` stops it.
 *
 * A second call keeps the first call's options (they are ignored, with a warning) but registers
 * the job classes it adds, so modules can each add their own jobs.
 *
 * @example
 * addBackgroundJobs(container, o => o.useInMemoryStore({ concurrency: 5 }).addJob(RegisterUserBackgroundJob))
 */
export function addBackgroundJobs(container: AwilixContainer, configure: (builder: BackgroundJobsBuilder) => void): AwilixContainer {
  if (container === null || typeof container !== 'object' || typeof container.register !== 'function' || typeof container.createScope !== 'function') {
    throw new InvalidOptionError(`Expected an awilix container as the first argument of addBackgroundJobs, got ${describeValue(container)}. Create one with createContainer() from 'awilix'.`)
  }
  if (typeof configure !== 'function') {
    throw new InvalidOptionError(`Expected a configure function as the second argument of addBackgroundJobs, such as o => o.useInMemoryStore(), got ${describeValue(configure)}.`)
  }
  const builder = new BackgroundJobsBuilder()
  configure(builder)

  if (container.hasRegistration(REGISTRATIONS.manager)) {
    const registry = container.resolve<JobRegistry>(REGISTRATIONS.registry)
    if (builder.storeOptions !== undefined) {
      safeLog(container.resolve<JobLogger>(REGISTRATIONS.logger), 'warn', 'addBackgroundJobs was called again: the first call\'s options stay in force; only the new job classes are registered')
    }
    for (const jobClass of builder.jobs) registry.add(jobClass)
    return container
  }
  const options = builder.storeOptions
  if (options === undefined) {
    throw new InvalidOptionError('No job store was chosen. Call o.useInMemoryStore() in addBackgroundJobs(container, o => o.useInMemoryStore()).')
  }

  if (!container.hasRegistration(REGISTRATIONS.logger)) {
    container.register(REGISTRATIONS.logger, asFunction(createDefaultLogger).singleton())
  }
  const logger = (): JobLogger => container.resolve<JobLogger>(REGISTRATIONS.logger)
  const registry = new JobRegistry(container, options, logger)
  for (const jobClass of builder.jobs) registry.add(jobClass)

  container.register({
    [REGISTRATIONS.options]: asValue(options),
    [REGISTRATIONS.registry]: asValue(registry),
    [REGISTRATIONS.store]: asFunction(() => new JobStore(options)).singleton(),
    [REGISTRATIONS.timerWheel]: asFunction(
      () =>
        new TimerWheel({
          clock: options.clock,
          unref: options.unref,
          onError: (error) => safeLog(logger(), 'error', 'A timer callback threw', { error: String(error) }),
        }),
    ).singleton(),
    [REGISTRATIONS.engine]: asFunction(
      () =>
        new MemoryJobEngine({
          store: container.resolve<JobStore>(REGISTRATIONS.store),
          wheel: container.resolve<TimerWheel>(REGISTRATIONS.timerWheel),
          handlers: registry,
          options,
          logger: logger(),
        }),
    ).singleton(),
    [REGISTRATIONS.manager]: asFunction(
      () =>
        new BackgroundJobManager({
          engine: container.resolve<MemoryJobEngine>(REGISTRATIONS.engine),
          registry,
          clock: options.clock,
          maxArgsBytes: options.maxArgsBytes,
        }),
    )
      .singleton()
      .disposer(async (manager) => {
        BackgroundJobs.reset(container)
        await manager.stop()
      }),
  })
  return container
}
