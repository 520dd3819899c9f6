import type { JobLogger } from './logger'
import type { JobContext, RetryOptions } from './types'

/** What a job's constructor receives from the container (awilix PROXY injection: the cradle). */
export interface BackgroundJobDependencies {
  /** The container's `logger` (a winston logger unless the application registered its own). */
  readonly logger?: JobLogger
}

const silentLogger: JobLogger = { error() {}, warn() {}, info() {}, debug() {} }

/**
 * The base class of a job, MASA's `BackgroundJobBase<TArgs>`. Subclass it, override
 * {@link BackgroundJobBase.executing}, and register the class with `o.addJob(MyJob)`.
 * A fresh instance is resolved from a new awilix scope for every attempt, so constructor injection
 * works (`constructor(deps: { logger: JobLogger; mailer: Mailer }) { super(deps) }`) and scoped
 * services are disposed after the attempt.
 *
 * What `executing` receives as `args`: arguments are stored as JSON data (copied at enqueue), and
 * - with `static argsType` set, each attempt receives a new instance of that class:
 *   `Object.create(argsType.prototype)` with the stored data assigned (`Object.assign`), the
 *   constructor not run, as class-transformer's `plainToInstance` does. So `args instanceof
 *   RegisterUserDto` holds and its methods work. The copy is shallow: each attempt has its own
 *   instance, but nested objects are the stored plain data, not class instances. Args stored
 *   by name that are not a JSON object fail the job without retry (`JobArgsTypeError`).
 * - without it, the job receives the stored plain JSON data: no prototype but `Object.prototype`,
 *   so declare `TArgs` as a data type (an interface or type literal), not a class with methods.
 *
 * Static members a subclass may set:
 * - `jobName`: the job's name (default: the class name); keep it stable, stored jobs refer to it;
 * - `argsType`: the args class: `enqueue(new RegisterUserDto(...))` finds this job, and each
 *   attempt receives an instance of it (above);
 * - `retry`: this job's retry policy, over the store's;
 * - `timeoutMs`: this job's attempt timeout, over the store's.
 */
export abstract class BackgroundJobBase<TArgs> {
  /** The job's name; the class name when not set. */
  static jobName?: string
  /**
   * The args class: its instances enqueue this job (MASA's "job found from the args' type"), and
   * each attempt receives its args as an instance of it, made without running its constructor.
   */
  static argsType?: abstract new (...args: never[]) => object
  /** This job's retry policy; fields left out come from the store's `retry` option. */
  static retry?: RetryOptions
  /** This job's attempt timeout in ms (0: none); the store's `timeoutMs` when not set. */
  static timeoutMs?: number

  /** The logger given at construction (silent when none was). */
  protected readonly logger: JobLogger

  constructor(dependencies?: BackgroundJobDependencies) {
    this.logger = dependencies?.logger ?? silentLogger
  }

  /**
   * Runs one attempt, in MASA's order: {@link BackgroundJobBase.preExecute}, then
   * {@link BackgroundJobBase.executing}, then {@link BackgroundJobBase.postExecute}, each awaited.
   * A step that throws or rejects ends the attempt there (the later steps do not run) and fails it;
   * a retry runs all three again. The engine calls this; override the three steps, not this.
   */
  async execute(args: TArgs, context: JobContext): Promise<void> {
    await this.preExecute(args, context)
    await this.executing(args, context)
    await this.postExecute(args, context)
  }

  /**
   * Runs before {@link BackgroundJobBase.executing} at each attempt (MASA's `PreExecuteAsync`),
   * with the same args and context: for set-up, checks or logging. Throwing fails the attempt
   * without running `executing`. Does nothing unless overridden (MASA's logs the args at debug
   * level; args may hold personal data, so this one does not).
   */
  protected async preExecute(_args: TArgs, _context: JobContext): Promise<void> {}

  /**
   * The job's work. Resolve to succeed; throw or reject to fail the attempt (it is retried as the
   * policy says). Long work should watch `context.signal`, aborted on timeout or shutdown.
   */
  protected abstract executing(args: TArgs, context: JobContext): Promise<void>

  /**
   * Runs after {@link BackgroundJobBase.executing} has resolved (MASA's `PostExecuteAsync`), with
   * the same args and context; not after a failed `executing`. Throwing fails the attempt (it is
   * retried as the policy says, `executing` included). Does nothing unless overridden.
   */
  protected async postExecute(_args: TArgs, _context: JobContext): Promise<void> {}
}

/** A job class: a subclass of {@link BackgroundJobBase} for args `TArgs`. */
export type JobClass<TArgs = unknown> = (abstract new (...args: never[]) => BackgroundJobBase<TArgs>) & {
  readonly jobName?: string
  /**
   * The args class; its instances are what the job's `executing` receives (see
   * {@link BackgroundJobBase}). That they are its `TArgs` is checked by {@link ValidJobClass}.
   */
  readonly argsType?: abstract new (...args: never[]) => object
  readonly retry?: RetryOptions
  readonly timeoutMs?: number
}

/**
 * The args type of a job class: its `TArgs`. What the job receives is an instance of its static
 * `argsType` when it sets one, and otherwise plain JSON data (no class instances, no `Date`s: give
 * such jobs a data type, an interface or type literal, as `TArgs`).
 */
export type JobArgsOf<J> = J extends abstract new (...args: never[]) => BackgroundJobBase<infer A> ? A : never

/**
 * `J` itself when its static `argsType`, if it sets one, is a class whose instances are its
 * `TArgs`; otherwise a type that names the mismatch, so passing such a class to `addJob`,
 * `enqueue` or a schedule is a compile error (`BackgroundJobBase<RegisterUserDto>` with
 * `static argsType = OrderDto`). A static member cannot refer to the class's `TArgs`, so the class
 * declaration itself cannot be checked.
 */
export type ValidJobClass<J> = J extends { readonly argsType: infer A }
  ? A extends abstract new (...args: never[]) => JobArgsOf<J>
    ? J
    : { readonly 'static argsType must be a class whose instances are the job args (its TArgs)': A }
  : J

/**
 * An instance of an args class, for MASA's `enqueue(new RegisterUserDto(...))`: any object but a
 * function (a job class passed there is a compile error: the `[Symbol.hasInstance]` every function
 * has is refused). A fresh object literal (`enqueue({ name: 'masa' })`) is refused too, by
 * TypeScript's excess-property check; a plain object held in a variable is not, as types cannot
 * tell it from an instance: at run time it is refused with `JobNotRegisteredError`.
 */
export type ArgsInstance = object & {
  readonly constructor: unknown
  readonly [Symbol.hasInstance]?: never
}
