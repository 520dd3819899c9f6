import assert from 'node:assert/strict'
import { JobEventHub, jobEndedListener } from '../src/job-events'
import type { JobLogger } from '../src/logger'
import type { JobInfo } from '../src/types'

function recordingLogger(): JobLogger & { errors: string[] } {
  const errors: string[] = []
  return { errors, error: (message: string) => errors.push(message), warn() {}, info() {}, debug() {} }
}

function snapshot(name: string, finishedAt: number): JobInfo {
  return {
    id: '1',
    name,
    args: {},
    state: 'completed',
    attempts: 1,
    maxAttempts: 1,
    createdAt: new Date(0),
    runAt: new Date(0),
    finishedAt: new Date(finishedAt),
    logs: [],
    history: [],
  }
}

describe('JobEventHub', () => {
  describe('emitEnded', () => {
    it('calls a jobEndedListener with the name and end time, building no snapshot for it', () => {
      const hub = new JobEventHub(recordingLogger())
      const heard: unknown[] = []
      hub.on(
        'completed',
        jobEndedListener((name, finishedAt) => heard.push([name, finishedAt])),
      )
      let made = 0
      hub.emitEnded('completed', () => (made++, snapshot('A', 5)), 'A', 5)
      assert.deepEqual(heard, [['A', 5]])
      assert.equal(made, 0)
    })

    it('builds the snapshot once for the other listeners, calling all in the order they were added', () => {
      const hub = new JobEventHub(recordingLogger())
      const heard: string[] = []
      hub.on('failed', (job) => heard.push(`full ${job.name}`))
      hub.on(
        'failed',
        jobEndedListener((name) => heard.push(`light ${name}`)),
      )
      hub.on('failed', (job) => heard.push(`full again ${job.name}`))
      let made = 0
      hub.emitEnded('failed', () => (made++, snapshot('B', 7)), 'B', 7)
      assert.deepEqual(heard, ['full B', 'light B', 'full again B'])
      assert.equal(made, 1)
    })

    it('logs a listener that throws and still calls the others', () => {
      const logger = recordingLogger()
      const hub = new JobEventHub(logger)
      const heard: string[] = []
      hub.on(
        'cancelled',
        jobEndedListener(() => {
          throw new Error('counter broke')
        }),
      )
      hub.on(
        'cancelled',
        jobEndedListener((name) => heard.push(name)),
      )
      hub.emitEnded('cancelled', () => snapshot('C', 1), 'C', 1)
      assert.deepEqual(heard, ['C'])
      assert.equal(logger.errors.length, 1)
    })
  })

  it('tells whether an ending event has listeners other than jobEndedListener ones', () => {
    const hub = new JobEventHub(recordingLogger())
    assert.equal(hub.hasSnapshotListeners('completed'), false)
    const offCounter = hub.on(
      'completed',
      jobEndedListener(() => {}),
    )
    assert.deepEqual([hub.has('completed'), hub.hasSnapshotListeners('completed')], [true, false])
    const offFull = hub.on('completed', () => {})
    assert.equal(hub.hasSnapshotListeners('completed'), true)
    offFull()
    offCounter()
    assert.deepEqual([hub.has('completed'), hub.hasSnapshotListeners('completed')], [false, false])
  })

  it('gives a jobEndedListener the name and finishedAt of the snapshot on a plain emit (any engine)', () => {
    const hub = new JobEventHub(recordingLogger())
    const heard: unknown[] = []
    hub.on(
      'completed',
      jobEndedListener((name, finishedAt) => heard.push([name, finishedAt])),
    )
    hub.emit('completed', () => snapshot('D', 9))
    hub.emit('completed', () => ({ ...snapshot('E', 0), finishedAt: undefined }))
    assert.deepEqual(heard, [
      ['D', 9],
      ['E', undefined],
    ])
  })
})
