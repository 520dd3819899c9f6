import assert from 'node:assert/strict'
import { InvalidArgumentError } from 'express-background-jobs'
import { AttemptReports, hasEarlierAttempts } from '../../src/bullmq/attempt-reports'
import type { BullmqJob } from '../../src/bullmq/job-mapping'
import { NO_REPORTS, type JobReports } from '../../src/bullmq/job-reports'

/** What AttemptReports calls on a BullMQ job, recorded in the order the calls were made. */
function fakeJob(fields: Partial<BullmqJob> = {}): { job: BullmqJob; sent: string[]; stored: string[] } {
  const sent: string[] = []
  const stored: string[] = []
  const write = async (what: string): Promise<void> => {
    sent.push(what)
    await new Promise((resolve) => setImmediate(resolve))
    stored.push(what)
  }
  const job = {
    attemptsStarted: 1,
    attemptsMade: 0,
    stacktrace: [],
    updateProgress: (value: unknown) => write(`progress ${JSON.stringify(value)}`),
    log: (line: string) => write(`log ${line.slice(25)}`),
    ...fields,
  } as unknown as BullmqJob
  return { job, sent, stored }
}

describe('AttemptReports (what one BullMQ attempt reports)', () => {
  it('costs nothing for a first attempt that reports nothing: no read, nothing to wait for, the shared empty reports', () => {
    const { job, sent } = fakeJob()
    assert.equal(hasEarlierAttempts(job), false)
    const reports = new AttemptReports(job, undefined, () => assert.fail('no write'))
    assert.equal(reports.isIdle, true)
    assert.equal(reports.snapshot(), NO_REPORTS)
    assert.deepEqual(sent, [])
  })

  it('knows a retry, a retry by hand, and a re-run after a stall or a stop as having earlier attempts', () => {
    assert.equal(hasEarlierAttempts(fakeJob({ attemptsMade: 1, attemptsStarted: 2 }).job), true)
    assert.equal(hasEarlierAttempts(fakeJob({ stacktrace: ['Error: boom'] }).job), true)
    assert.equal(hasEarlierAttempts(fakeJob({ attemptsStarted: 2 }).job), true)
  })

  it('sends every report at once, in the order made, and settles once all are stored', async () => {
    const { job, sent, stored } = fakeJob()
    const reports = new AttemptReports(job, undefined, () => assert.fail('no error'))
    reports.log('one')
    reports.updateProgress(50)
    reports.log('two')
    assert.deepEqual(sent, ['log one', 'progress 50', 'log two'], 'sent before any is stored')
    assert.deepEqual(stored, [])
    await reports.settled()
    assert.deepEqual(stored, ['log one', 'progress 50', 'log two'])
    const snapshot = reports.snapshot()
    assert.equal(snapshot.progress, 50)
    assert.deepEqual(
      snapshot.logs.map((line) => line.message),
      ['one', 'two'],
    )
  })

  it('sends a retry’s reports only after reading what its earlier attempts stored, and shows those first', async () => {
    const { job, sent } = fakeJob({ attemptsMade: 1, attemptsStarted: 2 })
    let finishRead: (reports: JobReports) => void = () => {}
    const earlier: JobReports = {
      progress: 30,
      logs: [{ at: new Date(0), message: 'attempt 1' }],
      past: [{ attempt: 1, startedAt: new Date(0), finishedAt: new Date(1), outcome: 'failed' }],
    }
    const reports = new AttemptReports(
      job,
      () => new Promise((resolve) => (finishRead = resolve)),
      () => {},
    )
    assert.equal(reports.isIdle, false)
    reports.log('attempt 2')
    assert.deepEqual(sent, [], 'nothing is sent while the read is on its way')
    finishRead(earlier)
    await reports.settled()
    assert.deepEqual(sent, ['log attempt 2'])
    const snapshot = reports.snapshot()
    assert.equal(snapshot.progress, 30, 'the earlier progress until this attempt reports one')
    assert.deepEqual(
      snapshot.logs.map((line) => line.message),
      ['attempt 1', 'attempt 2'],
    )
    assert.deepEqual(snapshot.past, earlier.past)
  })

  it('refuses bad progress and messages with InvalidArgumentError, sending nothing', () => {
    const { job, sent } = fakeJob()
    const reports = new AttemptReports(job, undefined, () => {})
    assert.throws(() => reports.updateProgress(101), InvalidArgumentError)
    assert.throws(() => reports.log(42 as unknown as string), InvalidArgumentError)
    assert.deepEqual(sent, [])
    assert.equal(reports.isIdle, true)
  })

  it('tells a write that failed and goes on: settled still resolves', async () => {
    const failures: string[] = []
    const job = {
      ...fakeJob().job,
      log: () => Promise.reject(new Error('Missing key for job 7. addLog')),
    } as unknown as BullmqJob
    const reports = new AttemptReports(job, undefined, (what) => failures.push(what))
    reports.log('lost')
    await reports.settled()
    assert.deepEqual(failures, ['storing a log line'])
  })
})
