import { InjectionMode, Lifetime, asClass, type AwilixContainer, type BuildResolver } from 'awilix'
import { AttemptScope, ScopelessAttempt } from './attempt-scope'
import type { BegunAttempt, JobHandler, JobHandlerSource } from './background-job-engine'
import { BackgroundJobBase, type BackgroundJobDependencies, type JobClass } from './background-job-base'
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
import { REGISTRATIONS, jobRegistration } from './registrations'
import { atNextCheckpoint } from './next-checkpoint'
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
 * the root's singletons, see {@link AttemptScope}, and not at all for a job constructed by
 * {@link BackgroundJobBase}'s constructor alone, see {@link isConstructedByBaseOnly}). Engines
 * look handlers up by name.
 */
export class JobRegistry implements JobHandlerSource {
  readonly #container: AwilixContainer
  readonly #policy: JobPolicy
  readonly #logger: () => JobLogger
  readonly #byName = new Map<string, RegisteredJob>()
  readonly #byClass = new Map<object, RegisteredJob>()
  readonly #byArgsType = new Map<object, RegisteredJob>()
  /** What {@link JobRegistry.#baseDependencies} last gave, made again when the root's logger changes. */
  #baseDeps: BackgroundJobDependencies | undefined = undefined
  /** Counts the checks' lifetimes (see {@link JobRegistry.#checkEpoch}). */
  #epoch = 0
  #isEpochOpen = false
  readonly #closeEpoch = (): void => {
    this.#epoch++
    this.#isEpochOpen = false
  }

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
    const isBaseConstructed = isConstructedByBaseOnly(jobClass)
    // See LayoutKeeper: the last instance of this class made without a scope, and its attempt.
    const lastBaseConstructed = new LayoutKeeper<BackgroundJobBase<unknown>>()
    const lastScopeless = new LayoutKeeper<ScopelessAttempt>()
    // What the container checks found for this class, and in which epoch (see #checkEpoch).
    let checkedEpoch = -1
    let checkedDeps: BackgroundJobDependencies | undefined
    const job: RegisteredJob = {
      name,
      jobClass,
      maxAttempts: retry.maxRetries + 1,
      timeoutMs,
      retry,
      begin: (args, context) => {
        const jobArgs = argsType === undefined ? args : argsInstance(name, argsType, args)
        if (isBaseConstructed) {
          const epoch = this.#checkEpoch()
          if (epoch !== checkedEpoch) {
            const found = this.#baseDependencies()
            checkedDeps = found !== undefined && this.#isConstructedDirectly(registration, resolver) ? found : undefined
            checkedEpoch = epoch
          }
          const dependencies = checkedDeps
          if (dependencies !== undefined) {
            let body: Promise<unknown>
            try {
              const Job = jobClass as unknown as new (deps: BackgroundJobDependencies) => BackgroundJobBase<unknown>
              body = executeJob(lastBaseConstructed.keep(new Job(dependencies)), jobArgs, context)
            } catch (error) {
              body = Promise.reject(error)
            }
            return lastScopeless.keep(new ScopelessAttempt(body))
          }
        }
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
    if (this.#isConstructedDirectly(registration, resolver)) {
      // What awilix's class resolver does in PROXY mode: construct with the cradle (`new`, not
      // `Reflect.construct`, which takes an array made per attempt: workload W1).
      return new (jobClass as unknown as new (cradle: object) => BackgroundJobBase<unknown>)(scope.cradle)
    }
    return scope.scope.resolve<BackgroundJobBase<unknown>>(registration)
  }

  /**
   * Whether awilix would resolve the job by calling its constructor with the cradle and nothing
   * more: our own registration, PROXY injection, no injector, not strict.
   */
  #isConstructedDirectly(registration: string, resolver: BuildResolver<BackgroundJobBase<unknown>>): boolean {
    const container = this.#container
    const { options } = container
    return (
      options.strict !== true &&
      resolver.injector === undefined &&
      (resolver.injectionMode ?? options.injectionMode ?? InjectionMode.PROXY) === InjectionMode.PROXY &&
      container.getRegistration(registration) === resolver
    )
  }

  /**
   * The epoch the container checks of an attempt made now belong to: it ends at the next
   * microtask checkpoint after its first use.
   *
   * Speed trick (workload W1h): whether a job can be constructed without a scope depends on the
   * container's registrations and cache, which awilix offers no way to watch; asking it (two
   * registration lookups, a cache lookup and the options) cost 7% of a quick job. The answer is
   * kept for the attempts begun until the code running now gives way, as the attempts one
   * settling batch starts are, so a registration changed by a job's body or a listener is seen
   * by the attempts begun after the next checkpoint. The obvious version asks at every attempt.
   */
  #checkEpoch(): number {
    if (!this.#isEpochOpen) {
      this.#isEpochOpen = true
      atNextCheckpoint(this.#closeEpoch)
    }
    return this.#epoch
  }

  /**
   * What the cradle would answer {@link BackgroundJobBase}'s constructor, which reads only its
   * `logger`: that logger, when the root holds it as a built singleton (as the scope would answer
   * it, see {@link AttemptScope.resolve}); undefined otherwise. One object while the logger stays
   * the same: the constructor reads it and keeps nothing else of it.
   */
  #baseDependencies(): BackgroundJobDependencies | undefined {
    const root = this.#container
    const resolver = root.getRegistration(REGISTRATIONS.logger)
    if (resolver === null || resolver.lifetime !== Lifetime.SINGLETON) return undefined
    const cached = root.cache.get(REGISTRATIONS.logger)
    if (!cached) return undefined
    const logger = cached.value as JobLogger
    if (this.#baseDeps === undefined || this.#baseDeps.logger !== logger) this.#baseDeps = { logger }
    return this.#baseDeps
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
 * Speed trick (workload W1h steady round, and any burst of jobs after an idle spell): V8 drops an
 * object layout (hidden class) that no live object has any more, and with it every piece of
 * compiled code that checked for that layout. Between two bursts no attempt object is alive, so a
 * full collection there would throw away the compiled start path (the job's constructor, `begin`,
 * the processor's `#run`), and the next burst would run unoptimized until it warmed up again. This
 * holds the last object made of each such layout, so the layout outlives the idle spell: for each
 * job class constructed without a scope, its last instance and that attempt's
 * {@link ScopelessAttempt} (neither is used again; they hold what the job held and its body's
 * result until the class's next attempt replaces them). The obvious version keeps nothing.
 */
class LayoutKeeper<T> {
  #kept: T | undefined = undefined

  /** The object held now. */
  get kept(): T | undefined {
    return this.#kept
  }

  /** Holds `value` instead of the one held before, and returns it. */
  keep(value: T): T {
    this.#kept = value
    return value
  }
}

/**
 * Whether constructing `jobClass` runs no constructor but {@link BackgroundJobBase}'s, which
 * reads nothing of its cradle but `logger`: no class between the two declares one (a class
 * without one passes its arguments on to its base's, and field initializers cannot see them).
 *
 * Speed trick (workload W1): such a job is constructed with the root's logger alone, with no
 * attempt scope and no lazy cradle (a proxy) made for it: those two objects and the proxy's
 * lookup were a tenth of a quick job's run. A class is read as its source text, and any doubt
 * counts as a declared constructor: text not starting with `class`, or holding the word
 * `constructor` anywhere, or a backslash (an escape could spell the word). The obvious version
 * gives every job the lazy cradle ({@link AttemptScope}).
 */
export function isConstructedByBaseOnly(jobClass: JobClass): boolean {
  for (let type: unknown = jobClass; type !== BackgroundJobBase; type = Object.getPrototypeOf(type)) {
    if (typeof type !== 'function') return false
    let source: string
    try {
      source = Function.prototype.toString.call(type)
    } catch {
      return false
    }
    if (!/^class\b/.test(source) || source.includes('constructor') || source.includes('\\')) return false
  }
  return true
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
