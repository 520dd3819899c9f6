import { InjectionMode, asClass, type AwilixContainer, type BuildResolver } from 'awilix'
import { AttemptScope } from './attempt-scope'
import type { BegunAttempt, JobHandler, JobHandlerSource } from './background-job-engine'
import { BackgroundJobBase, type JobClass } from './background-job-base'
import {
  DuplicateJobError,
  InvalidJobClassError,
  JobArgsTypeError,
  JobNotRegisteredError,
  describeValue,
} from './errors'
import { MAX_NAME_LENGTH, MAX_TIMER_MS } from './limits'
import type { JobLogger } from './logger'
import { executeJob } from './job-execution'
import type { JobPolicy } from './policy/job-policy'
import { resolveRetryOptions } from './policy/retry-policy'
import { jobRegistration } from './registrations'
import type { JobContext } from './types'
import { checkInteger } from './validation'

/** A registered job: its class, name, container registration and run policy. */
export interface RegisteredJob extends JobHandler {
  readonly name: string
  readonly jobClass: JobClass
  begin(args: unknown, context: JobContext): BegunAttempt
}

/**
 * Knows every registered job by name, by class and by args class, and runs an attempt by resolving
 * the job from a fresh awilix scope (disposed afterwards; made only when the job needs more than
 * the root's singletons, see {@link AttemptScope}). Engines look handlers up by name.
 */
export class JobRegistry implements JobHandlerSource {
  readonly #container: AwilixContainer
  readonly #policy: JobPolicy
  readonly #logger: () => JobLogger
  readonly #byName = new Map<string, RegisteredJob>()
  readonly #byClass = new Map<object, RegisteredJob>()
  readonly #byArgsType = new Map<object, RegisteredJob>()

  /**
   * @param policy the defaults of jobs whose class sets no `timeoutMs` or `retry` of its own
   * @param logger the container's logger, resolved when first needed
   */
  constructor(container: AwilixContainer, policy: JobPolicy, logger: () => JobLogger) {
    this.#container = container
    this.#policy = policy
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
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_LENGTH) {
      throw new InvalidJobClassError(
        `Expected the job name (static \`jobName\` or the class name) to be a non-empty string of at most ${MAX_NAME_LENGTH} characters, got ${describeValue(name)}.`,
      )
    }
    const other = this.#byName.get(name)
    if (other !== undefined) {
      throw new DuplicateJobError(
        `Two job classes are named "${name}". Give one of them a distinct static \`jobName\`.`,
      )
    }
    const { argsType } = jobClass
    if (argsType !== undefined && typeof argsType !== 'function') {
      throw new InvalidJobClassError(
        `Expected static \`argsType\` of job "${name}" to be a class, got ${describeValue(argsType)}.`,
      )
    }
    if (argsType !== undefined && this.#byArgsType.has(argsType)) {
      throw new DuplicateJobError(
        `Args class ${argsType.name} is used by jobs "${this.#byArgsType.get(argsType)?.name}" and "${name}", so enqueue(new ${argsType.name}(...)) cannot tell which to run. Enqueue with the job class instead: enqueue(${jobClass.name}, args).`,
      )
    }
    const timeoutMs = checkInteger(`${name}.timeoutMs`, jobClass.timeoutMs ?? this.#policy.timeoutMs, 0, MAX_TIMER_MS)
    const retry = resolveRetryOptions(jobClass.retry, this.#policy.retry, `${name}.retry`)
    const registration = jobRegistration(name)
    const resolver = asClass(jobClass as unknown as new (...args: unknown[]) => BackgroundJobBase<unknown>).scoped()
    this.#container.register(registration, resolver)
    const job: RegisteredJob = {
      name,
      jobClass,
      maxAttempts: retry.maxRetries + 1,
      timeoutMs,
      retry,
      begin: (args, context) => {
        const jobArgs = argsType === undefined ? args : argsInstance(name, argsType, args)
        const scope = new AttemptScope(this.#container, this.#logger, context)
        try {
          scope.body = executeJob(this.#resolveJob(scope, jobClass, registration, resolver), jobArgs, context)
        } catch (error) {
          scope.body = Promise.reject(error)
        }
        return scope
      },
      run: (args, context) => {
        // The obvious version, for engines that do not call `begin` themselves.
        const attempt = job.begin(args, context)
        return attempt.body.then(
          () => attempt.end(),
          (error: unknown) => {
            const ending = attempt.end()
            if (ending === undefined) throw error
            return ending.then(() => {
              throw error
            })
          },
        )
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
  #resolveJob(
    scope: AttemptScope,
    jobClass: JobClass,
    registration: string,
    resolver: BuildResolver<BackgroundJobBase<unknown>>,
  ): BackgroundJobBase<unknown> {
    const container = this.#container
    const { options } = container
    if (
      options.strict !== true &&
      resolver.injector === undefined &&
      (resolver.injectionMode ?? options.injectionMode ?? InjectionMode.PROXY) === InjectionMode.PROXY &&
      container.getRegistration(registration) === resolver
    ) {
      // What awilix's class resolver does in PROXY mode: construct with the cradle (`new`, not
      // `Reflect.construct`, which takes an array made per attempt: workload W1).
      return new (jobClass as unknown as new (cradle: object) => BackgroundJobBase<unknown>)(scope.cradle)
    }
    return scope.scope.resolve<BackgroundJobBase<unknown>>(registration)
  }

  handler(name: string): RegisteredJob | undefined {
    return this.#byName.get(name)
  }

  /** The registered job of `jobClass`. @throws JobNotRegisteredError */
  byClass(jobClass: JobClass): RegisteredJob {
    const job = this.#byClass.get(jobClass)
    if (job === undefined) throw new JobNotRegisteredError({ jobClass: jobClass.name || 'MyJob' })
    return job
  }

  /** The job whose static `argsType` is the class of `args` (or one of its base classes). @throws JobNotRegisteredError */
  byArgs(args: object): RegisteredJob {
    for (
      let proto: unknown = Object.getPrototypeOf(args);
      proto !== null && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      const job = this.#byArgsType.get((proto as { constructor: object }).constructor)
      if (job !== undefined) return job
    }
    const named: unknown = (args as { constructor?: { name?: unknown } }).constructor?.name
    const type = typeof named === 'string' ? named : 'Object'
    throw new JobNotRegisteredError(type === 'Object' ? { plainObject: true } : { argsType: type })
  }
}

/**
 * What a job with `static argsType` receives for one attempt: a new instance of that class holding
 * the stored data, made as class-transformer's `plainToInstance` makes one: the prototype is the
 * class's, the stored object's own properties are assigned (`Object.assign`, so the class's setters
 * run), and the constructor is not run (it may take other parameters, or have side effects meant
 * for the caller's side of enqueue).
 * @throws JobArgsTypeError when the stored data is not a JSON object
 */
function argsInstance(jobName: string, argsType: abstract new (...args: never[]) => unknown, args: unknown): unknown {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new JobArgsTypeError(jobName, argsType.name, args)
  }
  const prototype = argsType.prototype as object
  const instance = Object.assign(Object.create(prototype) as object, args)
  // Object.assign calls the `__proto__` setter for a stored `__proto__` key (JSON can hold one),
  // which would replace the instance's prototype: keep the class's, and the key as plain data.
  const ownProto = Object.getOwnPropertyDescriptor(args, '__proto__')
  if (ownProto !== undefined) {
    Object.setPrototypeOf(instance, prototype)
    Object.defineProperty(instance, '__proto__', ownProto)
  }
  return instance
}
