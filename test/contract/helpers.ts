import assert from 'node:assert/strict'
import {
  BackgroundJobBase,
  JOB_EVENT_NAMES,
  type JobClass,
  type JobContext,
  type JobEventName,
  type JobInfo,
  type JobState,
  type RetryOptions,
} from 'express-background-jobs'
import { deferred, type Deferred } from '../support/deferred'
import type { ContractHarness, ContractOption, ContractSetup, EngineFixture } from './fixture'

/**
 * Builds the harnesses of the tests in the enclosing `describe` and disposes every one of them
 * after its test, passed or failed. Call it in the `describe` body.
 */
export function useHarnesses(fixture: EngineFixture): (setup: ContractSetup) => Promise<ContractHarness> {
  const live: ContractHarness[] = []
  afterEach(async () => {
    for (const h of live.splice(0)) await h.dispose()
  })
  return async (setup) => {
    const h = await fixture.create(setup)
    live.push(h)
    return h
  }
}

/**
 * Skips the running test, saying why in its title, when `fixture` cannot honour one of `options`.
 * Call it first, from a `function () {}` test (mocha's `this`).
 */
export function skipUnless(context: Mocha.Context, fixture: EngineFixture, ...options: ContractOption[]): void {
  for (const option of options) {
    const reason = fixture.unsupported?.[option]
    if (reason === undefined) continue
    if (context.test !== undefined)
      context.test.title += ` (skipped: the ${fixture.name} engine has no \`${option}\`: ${reason})`
    context.skip()
  }
}

/** What one attempt of a job made with {@link defineJob} does. */
export type JobBody<TArgs> = (args: TArgs, ctx: JobContext) => Promise<void> | void

/** The static policy of a job class made with {@link defineJob}. */
export interface JobPolicy {
  readonly retry?: RetryOptions
  readonly timeoutMs?: number
}

/**
 * A job class named `name` whose attempts run `body`, with an optional static `retry` and
 * `timeoutMs`. Each test makes its own, so no state is shared between tests.
 */
export function defineJob<TArgs>(name: string, body: JobBody<TArgs>, policy: JobPolicy = {}): JobClass<TArgs> {
  class ContractJob extends BackgroundJobBase<TArgs> {
    static override jobName = name
    static override retry = policy.retry
    static override timeoutMs = policy.timeoutMs
    protected override async executing(args: TArgs, ctx: JobContext): Promise<void> {
      await body(args, ctx)
    }
  }
  return ContractJob
}

/**
 * Ten jobs named `<prefix>0` to `<prefix>9` that fail every attempt and are retried up to 3 times
 * after 0 to 9 ms, so that they go back and forth between pending and running while a test
 * cancels them; `runs` counts each job's attempts by id.
 */
export function bouncingJobs(prefix: string): { runs: Map<string, number>; jobs: JobClass<null>[] } {
  const runs = new Map<string, number>()
  const jobs = Array.from({ length: 10 }, (_, n) =>
    defineJob<null>(
      `${prefix}${n}`,
      (_args, { jobId }) => {
        runs.set(jobId, (runs.get(jobId) ?? 0) + 1)
        throw new Error('fails every time')
      },
      { retry: { maxRetries: 3, initialDelayMs: n } },
    ),
  )
  return { runs, jobs }
}

/** Asserts that none of the settled jobs `ids` runs again (as `runs` counts them) while 50 ms pass. */
export async function assertRunsNoMore(
  h: ContractHarness,
  ids: readonly string[],
  runs: Map<string, number>,
): Promise<void> {
  const ranBefore = ids.map((id) => runs.get(id))
  await h.advance(50)
  assert.deepEqual(
    ids.map((id) => runs.get(id)),
    ranBefore,
    'no job runs after it settled',
  )
}

/** How {@link until} lets time pass. */
export interface UntilOptions {
  /** Time let pass between two checks, in ms. @default 5 */
  readonly stepMs?: number
  /** The engine time after which {@link until} gives up and fails, in ms. @default 10000 */
  readonly limitMs?: number
}

/**
 * Lets the engine's time pass in steps until `condition` holds; fails, naming `what`, once
 * `limitMs` have passed without it. Checks first, so a condition that already holds costs no time.
 */
export async function until(
  h: ContractHarness,
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: UntilOptions = {},
): Promise<void> {
  const { stepMs = 5, limitMs = 10_000 } = options
  for (let waited = 0; !(await condition()); waited += stepMs) {
    if (waited >= limitMs) assert.fail(`Expected ${what} within ${limitMs} ms of the engine's time`)
    await h.advance(stepMs)
  }
}

/** Lets time pass until job `id` settles (completed, failed for good, or cancelled); resolves with its snapshot. */
export async function settle(h: ContractHarness, id: string, options?: UntilOptions): Promise<JobInfo> {
  const box: { job?: JobInfo; error?: unknown; isDone: boolean } = { isDone: false }
  void h.manager.onSettled(id).then(
    (job) => Object.assign(box, { job, isDone: true }),
    (error: unknown) => Object.assign(box, { error, isDone: true }),
  )
  await until(h, () => box.isDone, `job ${id} to settle`, options)
  if (box.job === undefined) throw box.error
  return box.job
}

/** {@link settle} for several jobs, in order. */
export async function settleAll(h: ContractHarness, ids: readonly string[]): Promise<JobInfo[]> {
  const jobs: JobInfo[] = []
  for (const id of ids) jobs.push(await settle(h, id))
  return jobs
}

/**
 * Asserts that job `id` is still pending, if the engine's time, read after its state, is still
 * before `dueAt`: no engine may start a job before its time. (On a manual clock the check always
 * applies; on a real-time engine it applies unless the read itself took until `dueAt`.)
 */
export async function assertPendingBefore(h: ContractHarness, id: string, dueAt: number): Promise<void> {
  const job = await h.manager.getJob(id)
  if (h.now() < dueAt)
    assert.equal(job?.state, 'pending', `job ${id} must not start before ${new Date(dueAt).toISOString()}`)
}

/** Lets time pass until just before `time` (1 ms before it), or not at all when it is that late already. */
export async function advanceToJustBefore(h: ContractHarness, time: number): Promise<void> {
  await h.advance(Math.max(0, time - 1 - h.now()))
}

/** Every job event, as the manager lists them, in the order {@link recordEvents} subscribes to them. */
export const JOB_EVENTS = JOB_EVENT_NAMES

/** One event heard by {@link recordEvents}. */
export interface HeardEvent {
  readonly event: JobEventName
  readonly job: JobInfo
  /** The engine's time when it was heard. */
  readonly at: number
}

/** Listens to every job event of `h` and keeps what it hears, in order. */
export function recordEvents(h: ContractHarness): HeardEvent[] {
  const heard: HeardEvent[] = []
  for (const event of JOB_EVENTS) h.manager.on(event, (job) => heard.push({ event, job, at: h.now() }))
  return heard
}

/** What the job of {@link createJobsInEveryState} does. */
export interface StateJobArgs {
  readonly then: 'complete' | 'fail' | 'block' | 'wait'
}

/** A harness holding one job in each state, from {@link createJobsInEveryState}. */
export interface JobsInEveryState {
  readonly h: ContractHarness
  /** The job `StateJob` and its args `{ then }`, to enqueue more. */
  readonly job: JobClass<StateJobArgs>
  /** The id of the one job in each state. */
  readonly ids: Readonly<Record<JobState, string>>
  /** Opens the gate the running job waits at. */
  readonly release: Deferred['resolve']
}

/** Far enough away that a pending job stays pending for the whole test, on any engine. */
export const FAR_DELAY_MS = 600_000

/**
 * A harness with one job in each state: completed, failed (no retries), cancelled, running (waiting
 * at a gate) and pending (due in {@link FAR_DELAY_MS}).
 */
export async function createJobsInEveryState(
  create: (setup: ContractSetup) => Promise<ContractHarness>,
): Promise<JobsInEveryState> {
  const gate = deferred()
  const job = defineJob<StateJobArgs>(
    'StateJob',
    async ({ then }) => {
      if (then === 'fail') throw new Error('fails on purpose')
      if (then === 'block') await gate.promise
    },
    { retry: { maxRetries: 0 } },
  )
  const h = await create({ jobs: [job] })
  const completed = await h.manager.enqueue(job, { then: 'complete' })
  const failed = await h.manager.enqueue(job, { then: 'fail' })
  await settleAll(h, [completed, failed])
  const cancelled = await h.manager.enqueue(job, { then: 'wait' }, { delay: FAR_DELAY_MS })
  await h.manager.cancel(cancelled)
  const running = await h.manager.enqueue(job, { then: 'block' })
  await until(h, async () => (await h.manager.getJob(running))?.state === 'running', `job ${running} to start`)
  const pending = await h.manager.enqueue(job, { then: 'wait' }, { delay: FAR_DELAY_MS })
  return { h, job, ids: { pending, running, completed, failed, cancelled }, release: gate.resolve }
}

/** One attempt as a job made by {@link flakyJob} saw it, with the engine's times. */
export interface Attempt {
  readonly ctx: Pick<JobContext, 'jobId' | 'jobName' | 'attempt' | 'maxAttempts'>
  readonly startedAt: number
  /** When the attempt threw, if it did. */
  failedAt?: number
}

/**
 * A job named `name` that records its attempts in `attempts` and throws from every attempt
 * `fails(attempt)` says should fail.
 */
export function flakyJob(
  name: string,
  attempts: Attempt[],
  h: () => ContractHarness,
  fails: (attempt: number) => boolean,
  policy?: JobPolicy,
): JobClass<null> {
  return defineJob<null>(
    name,
    (_args, { jobId, jobName, attempt, maxAttempts }) => {
      const record: Attempt = { ctx: { jobId, jobName, attempt, maxAttempts }, startedAt: h().now() }
      attempts.push(record)
      if (fails(attempt)) {
        record.failedAt = h().now()
        throw new TypeError(`attempt ${attempt} failed`)
      }
    },
    policy,
  )
}

/**
 * Asserts that the wait before retry n was `waits[n - 1]`: the retry was scheduled no sooner than
 * that after the attempt failed and no later than that after the `retrying` event, and it did not
 * start before it was scheduled. (Bounds of the schedule, not of how long anything took.)
 */
export function assertWaits(
  attempts: readonly Attempt[],
  retrying: readonly HeardEvent[],
  waits: readonly number[],
): void {
  assert.equal(retrying.length, waits.length, 'one retrying event per retry')
  waits.forEach((wait, i) => {
    const failedAt = attempts[i]?.failedAt
    const event = retrying[i]!
    const next = attempts[i + 1]
    assert.ok(failedAt !== undefined && next !== undefined, `attempt ${i + 1} failed and was retried`)
    const runAt = event.job.runAt.getTime()
    assert.ok(
      runAt >= failedAt + wait,
      `retry ${i + 1} was due ${runAt - failedAt} ms after the failure, sooner than ${wait} ms`,
    )
    assert.ok(
      runAt <= event.at + wait,
      `retry ${i + 1} was due ${runAt - event.at} ms after its retrying event, later than ${wait} ms`,
    )
    assert.ok(next.startedAt >= runAt, `retry ${i + 1} started ${runAt - next.startedAt} ms before it was due`)
  })
}

/**
 * What a scenario run by {@link withGapThatScales} answers: `conclusive` when the premise its
 * assertions rest on held (it asserted them), `tooSlow` when the machine took longer than `gapMs`
 * where the scenario needed less (it asserted nothing that depends on that gap).
 */
export type GapOutcome = 'conclusive' | 'tooSlow'

/**
 * Runs `scenario` with a real-time gap of `firstMs`, and again with twice the gap while it
 * answers `tooSlow`, at most `tries` times; fails when no try was conclusive. For a promise that
 * only shows when the test's own steps fit in a gap (a retry's backoff, a timeout's grace): on a
 * loaded machine the gap grows until they fit, instead of the test failing for the machine's
 * speed. On a manual clock the test's steps take no time, so the first try is conclusive.
 */
export async function withGapThatScales(
  firstMs: number,
  scenario: (gapMs: number) => Promise<GapOutcome>,
  tries = 5,
): Promise<void> {
  let gapMs = firstMs
  for (let i = 0; i < tries; i++, gapMs *= 2) {
    if ((await scenario(gapMs)) === 'conclusive') return
  }
  assert.fail(
    `The test's steps did not fit in a gap of ${gapMs / 2} ms after ${tries} tries, doubling from ${firstMs} ms`,
  )
}
