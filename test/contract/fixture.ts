import type { AwilixContainer } from 'awilix'
import type { BackgroundJobManager, JobClass, RetryOptions } from 'express-background-jobs'
import type { CapturingLogger } from '../support/harness'

/**
 * The engine options the contract suite sets. Each engine fixture maps them onto its own
 * configuration; every field left out keeps the engine's default.
 */
export interface ContractOptions {
  /** The most attempts running at once. */
  readonly concurrency?: number
  /** The longest an attempt may run, in ms (0: no limit). */
  readonly timeoutMs?: number
  /** The engine-wide retry policy; a job class may override it with a static `retry`. */
  readonly retry?: RetryOptions
  /** Completed jobs kept for inspection. */
  readonly keepCompleted?: number
  /** Failed jobs kept for inspection. */
  readonly keepFailed?: number
  /** Cancelled jobs kept for inspection. */
  readonly keepCancelled?: number
  /** The most jobs that may be pending before `enqueue` rejects. */
  readonly maxPendingJobs?: number
}

/** An option of {@link ContractOptions}. */
export type ContractOption = keyof ContractOptions

/** What a contract test asks an engine fixture to build: the job classes to register, and options. */
export interface ContractSetup {
  readonly jobs: readonly JobClass[]
  readonly options?: ContractOptions
}

/**
 * One engine, set up for one test: a container holding the background-job service on that
 * engine, and the engine's notion of time.
 */
export interface ContractHarness {
  readonly container: AwilixContainer
  readonly manager: BackgroundJobManager
  readonly logger: CapturingLogger
  /** The time the manager reads, in ms since the epoch: what `createdAt`, `runAt` and the like are in. */
  now(): number
  /**
   * Lets `ms` of the manager's time pass and lets the engine act on it. A manual clock moves
   * (letting pending callbacks run before and after); a real-time engine simply sleeps `ms`.
   * Nothing may be assumed about how much further time moves: only that it moved at least `ms`.
   */
  advance(ms: number): Promise<void>
  /** Stops the manager without draining and releases everything the harness holds. Never hangs. */
  dispose(): Promise<void>
}

/**
 * An engine under the contract suite: builds a fresh {@link ContractHarness} per test and says
 * which options it cannot honour, so that the tests needing them skip instead of failing.
 */
export interface EngineFixture {
  /** The engine's name, shown in test titles. */
  readonly name: string
  /** Options the engine cannot honour, each with the reason; tests that need one skip and say why. */
  readonly unsupported?: Readonly<Partial<Record<ContractOption, string>>>
  /** Builds a container with the background-job service on this engine, with `setup.jobs` registered. */
  create(setup: ContractSetup): Promise<ContractHarness>
}

/** A contract: declares the `describe` blocks of one area, to be run against `fixture`. */
export type Contract = (fixture: EngineFixture) => void
