import { inspect } from 'node:util'
import { Lifetime, type AwilixContainer } from 'awilix'
import type { BegunAttempt } from './background-job-engine'
import { safeLog, type JobLogger } from './logger'
import { describeThrown } from './policy/error-info'
import type { JobContext } from './types'

const SETTLED: Promise<unknown> = Promise.resolve()

/**
 * The awilix scope of one attempt, created the first time the attempt needs it. Creating and
 * disposing a scope costs several times what running a no-op job does, and most jobs only read
 * singletons (the logger, their services). So the job is constructed with a cradle that answers a
 * singleton the root container already holds straight from it, which is what the scope would
 * answer, and creates the real scope on the first other lookup; everything else about the cradle
 * (`in`, `Object.keys`, setting, inspecting) goes to the real scope's cradle too.
 */
export class AttemptScope implements BegunAttempt {
  readonly #root: AwilixContainer
  readonly #logger: () => JobLogger
  readonly #context: JobContext
  #scope: AwilixContainer | undefined = undefined
  /** The lazy cradle; this object is its proxy's target (one object less per attempt than a target of its own). */
  readonly cradle: object
  /** The attempt's body, once begun (the job's registry sets it). */
  body: Promise<unknown> = SETTLED

  /**
   * @param logger where a failed dispose is reported
   * @param context the attempt's, to name its job in that report
   */
  constructor(root: AwilixContainer, logger: () => JobLogger, context: JobContext) {
    this.#root = root
    this.#logger = logger
    this.#context = context
    this.cradle = new Proxy(this, LAZY_CRADLE)
  }

  /** The attempt ended: disposes the scope if one was created; a failure is logged, never thrown. */
  end(): Promise<void> | undefined {
    const scope = this.#scope
    if (scope === undefined) return undefined
    return scope.dispose().then(
      () => undefined,
      (error: unknown) =>
        safeLog(this.#logger(), 'error', `Disposing the scope of job ${this.#context.jobName} failed`, {
          jobId: this.#context.jobId,
          error: describeThrown(error),
        }),
    )
  }

  /** The real scope, created now if it was not yet. */
  get scope(): AwilixContainer {
    return (this.#scope ??= this.#root.createScope())
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

  /** util.inspect reads this from the target and calls it on the proxy, as it does for awilix's cradle. */
  [inspect.custom](this: object): string {
    return Object.prototype.toString.call(this)
  }
}

/**
 * An attempt that holds no scope: its job was constructed without one (see
 * `isConstructedByBaseOnly` in the job registry), so there is nothing to release when it ends.
 */
export class ScopelessAttempt implements BegunAttempt {
  constructor(readonly body: Promise<unknown>) {}

  end(): undefined {
    return undefined
  }
}

const LAZY_CRADLE: ProxyHandler<AttemptScope> = {
  get: (attempt, name) => attempt.resolve(name),
  set: (attempt, name, value) => Reflect.set(attempt.scope.cradle, name, value),
  has: (attempt, name) => Reflect.has(attempt.scope.cradle, name),
  ownKeys: (attempt) => Reflect.ownKeys(attempt.scope.cradle),
  getOwnPropertyDescriptor: (attempt, name) => Reflect.getOwnPropertyDescriptor(attempt.scope.cradle, name),
  defineProperty: (attempt, name, descriptor) => Reflect.defineProperty(attempt.scope.cradle, name, descriptor),
  deleteProperty: (attempt, name) => Reflect.deleteProperty(attempt.scope.cradle, name),
  getPrototypeOf: (attempt) => Reflect.getPrototypeOf(attempt.scope.cradle),
}
