import assert from 'node:assert/strict'
import type { AttemptRunner } from '../../src/bullmq/attempt-runner'
import type { ResolvedBullmqEngineOptions } from '../../src/bullmq/bullmq-options'
import type { BullmqModules } from '../../src/bullmq/peer-dependencies'
import type { RedisConnections } from '../../src/bullmq/redis-connections'
import { startWorker } from '../../src/bullmq/worker-wiring'

type Processor = (...args: unknown[]) => unknown

/** A stand-in for BullMQ's `Worker` that keeps the processor it was given. */
class FakeWorker {
  static processor: Processor | undefined
  constructor(_name: string, processor: Processor) {
    FakeWorker.processor = processor
  }
  on(): this {
    return this
  }
}

describe('startWorker', () => {
  it('declares a processor of two parameters, so BullMQ makes no AbortController per job, and runs it without a signal', async () => {
    const calls: unknown[][] = []
    const runner = { run: async (...args: unknown[]) => void calls.push(args) } as unknown as AttemptRunner
    startWorker({
      modules: { bullmq: { Worker: FakeWorker } } as unknown as BullmqModules,
      options: { queueName: 'q', prefix: 'p' } as ResolvedBullmqEngineOptions,
      connections: { blockingOptions: {} } as unknown as RedisConnections,
      runner,
      listeners: { error: () => {}, ready: () => {}, settled: () => {}, retrying: () => {} },
    })
    const processor = FakeWorker.processor!
    // BullMQ 6.7 (Worker constructor): `processorAcceptsSignal = processor.length >= 3`.
    assert.equal(processor.length < 3, true, `the processor declares ${processor.length} parameters`)
    await processor('job', 'token', new AbortController().signal)
    assert.deepEqual(calls, [['job', 'token']])
  })
})
