import { inspect } from 'node:util'
import { Lifetime, type AwilixContainer } from 'awilix'

/**
 * The awilix scope of one attempt, created the first time the attempt needs it. Creating and
 * disposing a scope costs several times what running a no-op job does, and most jobs only read
 * singletons (the logger, their services). So the job is constructed with a cradle that answers a
 * singleton the root container already holds straight from it, which is what the scope would
 * answer, and creates the real scope on the first other lookup; everything else about the cradle
 * (`in`, `Object.keys`, setting, inspecting) goes to the real scope's cradle too.
 */
export class AttemptScope {
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
