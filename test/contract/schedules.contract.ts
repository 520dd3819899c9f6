import assert from 'node:assert/strict'
import type { EngineFixture } from './fixture'
import { defineJob, recordEvents, until, useHarnesses, type UntilOptions } from './helpers'

/** One attempt of a scheduled job. */
interface Run {
  readonly jobId: string
  readonly args: unknown
  /** The engine's time when it started. */
  readonly at: number
}

/** Whole seconds of the engine's time, as the every-second cron expressions need. */
const BY_SECOND: UntilOptions = { stepMs: 1000, limitMs: 6000 }

/**
 * The schedule contract: `addOrUpdateSchedule` enqueues the job at every occurrence of a cron
 * expression (six fields: seconds first), with a copy of the schedule's args; adding the same id
 * again replaces it; `removeSchedule` stops it; `listSchedules` shows each with its next occurrence.
 */
export function schedulesContract(fixture: EngineFixture): void {
  describe('BackgroundJobManager (schedules)', () => {
    const create = useHarnesses(fixture)

    it('enqueues the job at every occurrence of a six-field cron, never early, with a copy of the schedule’s args', async () => {
      const runs: Run[] = []
      const Tick = defineJob<{ label: string }>('TickJob', (args, { jobId }) => {
        runs.push({ jobId, args: { ...args }, at: h.now() })
        // Each occurrence gets its own copy: what one job does to its args cannot reach the next.
        args.label = 'changed by the job'
      })
      const h = await create({ jobs: [Tick] })
      const addedAt = h.now()
      const args = { label: 'a' }
      const info = await h.manager.addOrUpdateSchedule({ id: 'every-second', cron: '* * * * * *', job: Tick, args })
      args.label = 'changed'
      assert.deepEqual(
        [info.id, info.cron, info.jobName, info.args],
        ['every-second', '* * * * * *', 'TickJob', { label: 'a' }],
      )
      const first = info.nextRunAt?.getTime()
      assert.ok(first !== undefined && first > addedAt && first % 1000 === 0, 'the next whole second')
      await until(h, () => runs.length >= 2, 'two occurrences', BY_SECOND)
      assert.ok(runs[0]!.at >= first, `the first occurrence ran ${first - runs[0]!.at} ms early`)
      assert.deepEqual(
        runs.map((run) => run.args),
        runs.map(() => ({ label: 'a' })),
      )
      assert.equal(new Set(runs.map((run) => run.jobId)).size, runs.length, 'one job per occurrence')
      for (const { jobId } of runs) {
        const job = await h.manager.getJob(jobId)
        assert.deepEqual([job?.name, job?.scheduleId], ['TickJob', 'every-second'])
      }
      const [listed, ...others] = await h.manager.listSchedules()
      assert.deepEqual(others, [])
      assert.ok(
        listed?.lastJobId !== undefined && runs.some((run) => run.jobId === listed.lastJobId),
        'lastJobId is a job it enqueued',
      )
      assert.ok(listed.lastEnqueuedAt !== undefined && listed.lastEnqueuedAt.getTime() >= first)
      const next = listed.nextRunAt?.getTime()
      assert.ok(
        next !== undefined && next > listed.lastEnqueuedAt.getTime() && next % 1000 === 0,
        'nextRunAt moved on to a later whole second',
      )
    })

    it('replaces a schedule added again under the same id', async () => {
      const runs: Run[] = []
      const Tick = defineJob<{ label: string }>(
        'TickJob',
        (args, { jobId }) => void runs.push({ jobId, args, at: h.now() }),
      )
      const h = await create({ jobs: [Tick] })
      await h.manager.addOrUpdateSchedule({ id: 'ticks', cron: '* * * * * *', job: Tick, args: { label: 'old' } })
      const replaced = await h.manager.addOrUpdateSchedule({
        id: 'ticks',
        cron: '*/2 * * * * *',
        job: Tick,
        args: { label: 'new' },
      })
      assert.deepEqual([replaced.cron, replaced.args], ['*/2 * * * * *', { label: 'new' }])
      const listed = await h.manager.listSchedules()
      assert.deepEqual(
        listed.map((s) => [s.id, s.cron, s.args]),
        [['ticks', '*/2 * * * * *', { label: 'new' }]],
      )
      await until(h, () => runs.length >= 1, 'an occurrence', BY_SECOND)
      assert.deepEqual(
        runs.map((run) => run.args),
        runs.map(() => ({ label: 'new' })),
        'only the replacement enqueues jobs',
      )
      const [after] = await h.manager.listSchedules()
      assert.equal((after?.nextRunAt?.getTime() ?? 1) % 2000, 0, 'the replacement’s every-other-second occurrences')
    })

    it('removes a schedule: it enqueues no job after that, the jobs it enqueued stay, and removing it again resolves false', async () => {
      const runs: Run[] = []
      const Tick = defineJob<{ label: string }>(
        'TickJob',
        (args, { jobId }) => void runs.push({ jobId, args, at: h.now() }),
      )
      const h = await create({ jobs: [Tick] })
      const heard = recordEvents(h)
      const scheduled = (): number => heard.filter((e) => e.event === 'enqueued' && e.job.scheduleId === 'ticks').length
      await h.manager.addOrUpdateSchedule({ id: 'ticks', cron: '* * * * * *', job: Tick, args: { label: 'x' } })
      await until(h, () => runs.length >= 1, 'an occurrence', BY_SECOND)
      assert.equal(await h.manager.removeSchedule('ticks'), true)
      const before = scheduled()
      assert.deepEqual(await h.manager.listSchedules(), [])
      for (let second = 0; second < 2; second++) await h.advance(1000)
      assert.equal(scheduled(), before, 'no job enqueued after the schedule was removed')
      assert.equal((await h.manager.getJob(runs[0]!.jobId))?.scheduleId, 'ticks', 'its jobs stay')
      assert.equal(await h.manager.removeSchedule('ticks'), false)
    })

    it('lists every schedule with its next occurrence and time zone', async () => {
      const Tick = defineJob<{ label: string }>('TickJob', () => {})
      const h = await create({ jobs: [Tick] })
      const addedAt = h.now()
      await h.manager.addOrUpdateSchedule({
        id: 'every-second',
        cron: '* * * * * *',
        job: Tick,
        args: { label: '1 s' },
      })
      await h.manager.addOrUpdateSchedule({
        id: 'every-five',
        cron: '*/5 * * * * *',
        job: Tick,
        args: { label: '5 s' },
        timezone: 'UTC',
      })
      const listed = [...(await h.manager.listSchedules())].sort((a, b) => a.id.localeCompare(b.id))
      assert.deepEqual(
        listed.map((s) => [s.id, s.cron, s.jobName, s.args, s.timezone]),
        [
          ['every-five', '*/5 * * * * *', 'TickJob', { label: '5 s' }, 'UTC'],
          ['every-second', '* * * * * *', 'TickJob', { label: '1 s' }, undefined],
        ],
      )
      const [five, one] = listed.map((s) => s.nextRunAt?.getTime())
      assert.ok(five !== undefined && five > addedAt && five % 5000 === 0, 'every five seconds')
      assert.ok(one !== undefined && one > addedAt && one % 1000 === 0, 'every second')
    })
  })
}
