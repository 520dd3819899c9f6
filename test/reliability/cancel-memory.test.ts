import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { BackgroundJobBase } from '../../src/background-job-base'
import { deferred } from '../support/deferred'
import { createHarness, flush, type Harness } from '../support/harness'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const gate = deferred()

class BlockerJob extends BackgroundJobBase<null> {
  protected override async executing(): Promise<void> {
    await gate.promise
  }
}

class DueJob extends BackgroundJobBase<{ n: number; pad: string }> {
  protected override async executing(): Promise<void> {}
}

function heldBytes(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

describe('MemoryJobEngine (cancelled backlogs)', function () {
  this.timeout(60_000)
  let h: Harness

  afterEach(async () => {
    gate.resolve()
    await h.container.dispose()
  })

  it('lets go of cancelled due jobs while the only slot stays busy, so memory does not grow round after round', async () => {
    h = createHarness((o) => o.addJob(BlockerJob, DueJob), { concurrency: 1 })
    await h.manager.enqueue(BlockerJob, null)
    await flush()
    assert.equal((await h.manager.counts()).running, 1)
    const pad = 'x'.repeat(64)
    const before = heldBytes()
    for (let round = 0; round < 4; round++) {
      const ids: Promise<string>[] = []
      for (let n = 0; n < 50_000; n++) ids.push(h.manager.enqueue(DueJob, { n, pad }))
      for (const id of await Promise.all(ids)) await h.manager.cancel(id)
    }
    const grown = heldBytes() - before
    // Before the fix, each cancelled job stayed in the ready queue: about 400 B each, 80 MB here.
    assert.ok(grown < 10 * 1024 * 1024, `held memory grew by ${(grown / 1024 / 1024).toFixed(1)} MB`)
    const counts = await h.manager.counts()
    assert.deepEqual([counts.pending, counts.running, counts.cancelled], [0, 1, 1000])
  })
})
