import { asFunction, asValue, type AwilixContainer } from 'awilix'
import type { JobClass, ValidJobClass } from './background-job-base'
import type { BackgroundJobEngine, EngineFactory } from './background-job-engine'
import { BackgroundJobManager } from './background-job-manager'
import { BackgroundJobs } from './background-jobs'
import { systemClock } from './clock'
import { InvalidArgumentError } from './errors'
import { JobRegistry } from './job-registry'
import { createDefaultLogger, safeLog, type JobLogger } from './logger'
import { memoryEngine } from './memory/memory-engine'
import type { MemoryStoreOptions } from './memory/memory-options'
import { resolveJobPolicy } from './policy/job-policy'
import { REGISTRATIONS } from './registrations'
import { checkClock, checkContainer, checkFunction } from './validation'

/** What the `addBackgroundJobs` configure callback receives (MASA's `options`). */
export class BackgroundJobsBuilder {
  #engine: EngineFactory | undefined
  #ignoredEngines = 0
  readonly #jobs: JobClass[] = []

  /**
   * Keeps jobs in this process's memory (MASA's `UseInMemoryDatabase`): they are lost on restart.
   * The same as `o.useEngine(memoryEngine(options))`. As with `useEngine`, the first engine chosen
   * wins; a later choice is still validated, then ignored with a warning.
   * @throws InvalidOptionError for an unknown option or an invalid value
   */
  useInMemoryStore(options?: MemoryStoreOptions): this {
    return this.useEngine(memoryEngine(options))
  }

  /**
   * Runs jobs on the engine `factory` builds: `memoryEngine(options)`, another engine's factory, or
   * your own (`{ create: (context) => engine }`). The job classes, the manager, the middleware,
   * `ServiceBase` and the admin router stay the same whichever engine runs the jobs.
   *
   * The first engine chosen wins, here as across `addBackgroundJobs` calls (MASA's rule: its
   * registrations are `TryAdd`s). A second `useEngine` or `useInMemoryStore`, in this callback or
   * in a later `addBackgroundJobs`, is ignored and `addBackgroundJobs` logs a warning saying so.
   * @throws InvalidArgumentError when `factory` has no `create` function
   */
  useEngine(factory: EngineFactory): this {
    if (factory === null || typeof factory !== 'object' || typeof factory.create !== 'function') {
      throw new InvalidArgumentError({
        argument: 'the engine factory given to useEngine',
        value: factory,
        expected: 'an object with a create(context) function',
        hint: "Pass memoryEngine(options), an engine package's factory, or { create: (context) => engine }.",
      })
    }
    if (this.#engine === undefined) this.#engine = factory
    else this.#ignoredEngines++
    return this
  }

  /** Registers job classes (one or a list: `o.addJob(A, B)` or `o.addJob(...jobs)`). */
  addJob<Js extends readonly JobClass[]>(...jobClasses: { readonly [K in keyof Js]: ValidJobClass<Js[K]> }): this {
    this.#jobs.push(...(jobClasses as readonly JobClass[]))
    return this
  }

  /** @internal The engine factory chosen, if any. */
  get engine(): EngineFactory | undefined {
    return this.#engine
  }

  /** @internal How many engine choices after the first were ignored. */
  get ignoredEngines(): number {
    return this.#ignoredEngines
  }

  /** @internal */
  get jobs(): readonly JobClass[] {
    return this.#jobs
  }
}

/**
 * Registers the background-job service in an awilix container, MASA's `AddBackgroundJob`: the job
 * registry, the engine the builder chose (with its parts; the memory engine's are its job store and
 * timer wheel) and the manager, all singletons, plus a winston `logger` when the container has
 * none. The manager is registered with a disposer, so `container.dispose()` stops it.
 *
 * The first engine chosen wins: a second call keeps the first call's engine (the new one is
 * ignored, with a warning) but registers the job classes it adds, so modules can each add their
 * own jobs; two engine choices in one callback follow the same rule (the first, with a warning).
 *
 * @example
 * addBackgroundJobs(container, o => o.useInMemoryStore({ concurrency: 5 }).addJob(RegisterUserBackgroundJob))
 */
export function addBackgroundJobs(
  container: AwilixContainer,
  configure: (builder: BackgroundJobsBuilder) => void,
): AwilixContainer {
  checkContainer(container, 'the first argument of addBackgroundJobs')
  checkFunction('configure', configure, 'a configure function such as o => o.useInMemoryStore()', 'addBackgroundJobs')
  const builder = new BackgroundJobsBuilder()
  configure(builder)

  if (container.hasRegistration(REGISTRATIONS.manager)) {
    const registry = container.resolve<JobRegistry>(REGISTRATIONS.registry)
    if (builder.engine !== undefined) {
      safeLog(
        container.resolve<JobLogger>(REGISTRATIONS.logger),
        'warn',
        "addBackgroundJobs was called again: the first call's engine and options stay in force; only the new job classes are registered",
      )
    }
    for (const jobClass of builder.jobs) registry.add(jobClass)
    return container
  }
  const factory = builder.engine
  if (factory === undefined) {
    throw new InvalidArgumentError({
      argument: 'the engine',
      value: undefined,
      expected: 'chosen in the configure function',
      hint: 'Call o.useInMemoryStore() (or o.useEngine(...)) in addBackgroundJobs(container, o => o.useInMemoryStore()).',
    })
  }
  const policy = resolveJobPolicy(factory.policy, 'the engine policy')
  const clock = factory.clock === undefined ? systemClock : checkClock(factory.clock)

  if (!container.hasRegistration(REGISTRATIONS.logger)) {
    container.register(REGISTRATIONS.logger, asFunction(createDefaultLogger).singleton())
  }
  const logger = (): JobLogger => container.resolve<JobLogger>(REGISTRATIONS.logger)
  if (builder.ignoredEngines > 0) {
    safeLog(
      logger(),
      'warn',
      `addBackgroundJobs: ${builder.ignoredEngines + 1} engines were chosen in one configure function (useInMemoryStore/useEngine); the first one is in force and the later ones are ignored`,
    )
  }
  const registry = new JobRegistry(container, policy, logger)
  for (const jobClass of builder.jobs) registry.add(jobClass)

  container.register({
    [REGISTRATIONS.policy]: asValue(policy),
    [REGISTRATIONS.registry]: asValue(registry),
    [REGISTRATIONS.engine]: asFunction(() =>
      checkEngine(factory.create({ handlers: registry, logger: logger(), clock, policy, container })),
    ).singleton(),
    [REGISTRATIONS.manager]: asFunction(
      () =>
        new BackgroundJobManager({
          engine: container.resolve<BackgroundJobEngine>(REGISTRATIONS.engine),
          registry,
          clock,
          maxArgsBytes: policy.maxArgsBytes,
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

const ENGINE_METHODS = [
  'enqueue',
  'getJob',
  'listJobs',
  'counts',
  'cancel',
  'retry',
  'deleteJob',
  'upsertSchedule',
  'removeSchedule',
  'listSchedules',
  'on',
  'off',
  'onIdle',
  'onSettled',
  'stop',
  'enqueueMany',
  'cancelMany',
] as const satisfies readonly (keyof BackgroundJobEngine)[]

/** Checks that an engine factory built something with every method of {@link BackgroundJobEngine}. */
function checkEngine(engine: unknown): BackgroundJobEngine {
  const candidate = engine as Partial<Record<string, unknown>> | null
  const missing =
    candidate === null || typeof candidate !== 'object'
      ? ENGINE_METHODS
      : ENGINE_METHODS.filter((method) => typeof candidate[method] !== 'function')
  if (missing.length > 0) {
    throw new InvalidArgumentError({
      argument: "what the engine factory's create(context) returned",
      value: engine,
      expected: 'a BackgroundJobEngine',
      hint: `It lacks ${missing.join(', ')}.`,
    })
  }
  return engine as BackgroundJobEngine
}
