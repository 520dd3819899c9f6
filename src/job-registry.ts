import { inspect } from 'node:util'
import { InjectionMode, Lifetime, asClass, type AwilixContainer, type BuildResolver } from 'awilix'
import type { JobHandler, JobHandlerSource } from './background-job-engine'
import { BackgroundJobBase, type JobClass } from './background-job-base'
import { DuplicateJobError, InvalidJobClassError, JobNotRegisteredError, describeValue } from './errors'
import { safeLog, type JobLogger } from './logger'
import { assertInteger, resolveRetryOptions, type ResolvedMemoryStoreOptions } from './options'

/** A registered job: its class, name, container registration and run policy. */
export interface RegisteredJob extends JobHandler {
  readonly name: string
  readonly jobClass: JobClass
}

/**
 * The awilix scope of one attempt, created the first time the attempt needs it. Creating and
 * disposing a scope costs several times what running a no-op job does, and most jobs only read
 * singletons (the logger, their services). So the job is constructed with a cradle that answers a
 * singleton the root container already holds straight from it, which is what the scope would
 * answer, and creates the real scope on the first other lookup; everything else about the cradle
 * (`in`, `Object.keys`, setting, inspecting) goes to the real scope's cradle too.
 */
class AttemptScope {
  readonly #root: AwilixContainer
  #scope: AwilixContainer | undefined = undefined
  readonly cradle: object

  constructor(root: AwilixContainer) {
    this.#root = root
    this.cradle = new Proxy(new CradleTarget(this), LAZY_CRADLE)
  }

  /** The real scope, created now if it was not yet. */
  get scope(): AwilixContainer {
    return (this.#scope ??= this.#root.createScope())
  }

  /** The scope if it was created, to dispose it. */
  get created(): AwilixContainer | undefined {
    return this.#scope
  }

  /** `cradle[name]`: a cached singleton of the root, or the real scope's answer. */
  resolve(name: string | symbol): unknown {
    // The names awilix answers before looking at registrations.
    if (typeof name === 'string' && name !== 'toJSON' && name !== 'constructor') {
      const root = this.#root
      const resolver = root.getRegistration(name)
      if (resolver !== null && resolver.lifetime === Lifetime.SINGLETON) {
        const cached = root.cache.get(name)
        if (cached) return cached.value
      }
    }
    return Reflect.get(this.scope.cradle, name)
  }
}

/** The target of a lazy cradle. */
class CradleTarget {
  constructor(readonly attempt: AttemptScope) {}
  /** util.inspect reads this from the target and calls it on the proxy, as it does for awilix's cradle. */
  [inspect.custom](this: object): string {
    return Object.prototype.toString.call(this)
  }
}

const LAZY_CRADLE: ProxyHandler<CradleTarget> = {
  get: (target, name) => target.attempt.resolve(name),
  set: (target, name, value) => Reflect.set(target.attempt.scope.cradle, name, value),
  has: (target, name) => Reflect.has(target.attempt.scope.cradle, name),
  ownKeys: (target) => Reflect.ownKeys(target.attempt.scope.cradle),
  getOwnPropertyDescriptor: (target, name) => Reflect.getOwnPropertyDescriptor(target.attempt.scope.cradle, name),
  defineProperty: (target, name, descriptor) => Reflect.defineProperty(target.attempt.scope.cradle, name, descriptor),
  deleteProperty: (target, name) => Reflect.deleteProperty(target.attempt.scope.cradle, name),
  getPrototypeOf: (target) => Reflect.getPrototypeOf(target.attempt.scope.cradle),
}

/**
 * Knows every registered job by name, by class and by args class, and runs an attempt by resolving
 * the job from a fresh awilix scope (disposed afterwards; made only when the job needs more than
 * the root's singletons, see {@link AttemptScope}). Engines look handlers up by name.
 */
export class JobRegistry implements JobHandlerSource {
  readonly #container: AwilixContainer
  readonly #options: ResolvedMemoryStoreOptions
  readonly #logger: () => JobLogger
  readonly #byName = new Map<string, RegisteredJob>()
  readonly #byClass = new Map<Function, RegisteredJob>()
  readonly #byArgsType = new Map<Function, RegisteredJob>()

  constructor(container: AwilixContainer, options: ResolvedMemoryStoreOptions, logger: () => JobLogger) {
    this.#container = container
    this.#options = options
    this.#logger = logger
  }

  /**
   * Registers a job class. Registering the same class twice is a no-op.
   * @throws InvalidJobClassError when it is not a subclass of BackgroundJobBase
   * @throws DuplicateJobError when another class has the same name or args class
   */
  add(jobClass: JobClass): RegisteredJob {
    if (typeof jobClass !== 'function' || !(jobClass.prototype instanceof BackgroundJobBase)) {
      throw new InvalidJobClassError(
        `Expected a job class extending BackgroundJobBase, got ${describeValue(jobClass)}. Declare \`class MyJob extends BackgroundJobBase<MyArgs> { protected async executing(args) {...} }\` and pass the class itself.`,
      )
    }
    const existing = this.#byClass.get(jobClass)
    if (existing !== undefined) return existing
    const name = jobClass.jobName ?? jobClass.name
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
      throw new InvalidJobClassError(`Expected the job name (static \`jobName\` or the class name) to be a non-empty string of at most 200 characters, got ${describeValue(name)}.`)
    }
    const other = this.#byName.get(name)
    if (other !== undefined) {
      throw new DuplicateJobError(`Two job classes are named "${name}". Give one of them a distinct static \`jobName\`.`)
    }
    const { argsType } = jobClass
    if (argsType !== undefined && typeof argsType !== 'function') {
      throw new InvalidJobClassError(`Expected static \`argsType\` of job "${name}" to be a class, got ${describeValue(argsType)}.`)
    }
    if (argsType !== undefined && this.#byArgsType.has(argsType)) {
      throw new DuplicateJobError(
        `Args class ${argsType.name} is used by jobs "${this.#byArgsType.get(argsType)?.name}" and "${name}", so enqueue(new ${argsType.name}(...)) cannot tell which to run. Enqueue with the job class instead: enqueue(${jobClass.name}, args).`,
      )
    }
    const timeoutMs = jobClass.timeoutMs ?? this.#options.timeoutMs
    assertInteger(`${name}.timeoutMs`, timeoutMs, 0, 2 ** 31 - 1)
    const retry = resolveRetryOptions(jobClass.retry, this.#options.retry, `${name}.retry`)
    const registration = `backgroundJob:${name}`
    const resolver = asClass(jobClass as unknown as new (...args: unknown[]) => BackgroundJobBase<unknown>).scoped()
    this.#container.register(registration, resolver)
    const job: RegisteredJob = {
      name,
      jobClass,
      maxAttempts: retry.maxRetries + 1,
      timeoutMs,
      retry,
      run: async (args, context) => {
        const scope = new AttemptScope(this.#container)
        try {
          await this.#resolveJob(scope, jobClass, registration, resolver).execute(args, context)
        } finally {
          const created = scope.created
          if (created !== undefined) {
            try {
              await created.dispose()
            } catch (error) {
              safeLog(this.#logger(), 'error', `Disposing the scope of job ${name} failed`, { jobId: context.jobId, error: String(error) })
            }
          }
        }
      },
    }
    this.#byName.set(name, job)
    this.#byClass.set(jobClass, job)
    if (argsType !== undefined) this.#byArgsType.set(argsType, job)
    return job
  }

  /**
   * The job instance for one attempt. Constructed with the lazy cradle when awilix would do just
   * that: our own registration, PROXY injection, no injector, not strict (whose lifetime checks
   * need the resolution inside the scope). Otherwise resolved from the real scope.
   */
  #resolveJob(scope: AttemptScope, jobClass: JobClass, registration: string, resolver: BuildResolver<BackgroundJobBase<unknown>>): BackgroundJobBase<unknown> {
    const container = this.#container
    const { options } = container
    if (
      options.strict !== true &&
      resolver.injector === undefined &&
      (resolver.injectionMode ?? options.injectionMode ?? InjectionMode.PROXY) === InjectionMode.PROXY &&
      container.getRegistration(registration) === resolver
    ) {
      // What awilix's class resolver does in PROXY mode: construct with the cradle.
      return Reflect.construct(jobClass, [scope.cradle]) as BackgroundJobBase<unknown>
    }
    return scope.scope.resolve<BackgroundJobBase<unknown>>(registration)
  }

  handler(name: string): RegisteredJob | undefined {
    return this.#byName.get(name)
  }

  /** The registered job of `jobClass`. @throws JobNotRegisteredError */
  byClass(jobClass: JobClass): RegisteredJob {
    const job = this.#byClass.get(jobClass)
    if (job === undefined) {
      throw new JobNotRegisteredError(`Job class ${describeValue(jobClass)} is not registered. Add it with addBackgroundJobs(container, o => o.useInMemoryStore().addJob(${jobClass?.name || 'MyJob'})).`)
    }
    return job
  }

  /** The job whose static `argsType` is the class of `args` (or one of its base classes). @throws JobNotRegisteredError */
  byArgs(args: object): RegisteredJob {
    for (let proto: unknown = Object.getPrototypeOf(args); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      const job = this.#byArgsType.get((proto as { constructor: Function }).constructor)
      if (job !== undefined) return job
    }
    const type = (args as { constructor?: Function }).constructor?.name ?? 'Object'
    throw new JobNotRegisteredError(
      type === 'Object'
        ? 'Cannot tell which job to run from a plain object. Enqueue with the job class, enqueue(MyJob, args), or pass an instance of an args class that a registered job names as its static `argsType`.'
        : `No registered job has \`static argsType = ${type}\`. Set it on the job class and register the job with o.addJob(...), or enqueue with the job class: enqueue(MyJob, args).`,
    )
  }
}
