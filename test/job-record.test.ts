import assert from 'node:assert/strict'
import { JobRecord, parseJobId, type JobKind } from '../src/memory/job-record'
import { random } from './support/random'

const kind: JobKind = { name: 'Job', origin: 0, maxAttempts: 1, due: () => {} }
const idOf = (seq: number): string => new JobRecord(seq, kind, null, 0).id

describe('JobRecord', () => {
  it('gives each job its number in decimal as its id, whatever order ids are asked for in', () => {
    const around = (n: number): number[] => [n - 2, n - 1, n, n + 1, n + 2]
    const seqs = [
      ...Array.from({ length: 1200 }, (_, i) => i + 1),
      ...around(10_000),
      ...around(99_999_900),
      ...around(2 ** 31),
      ...around(2 ** 53 - 3),
    ]
    for (const seq of seqs) assert.equal(idOf(seq), String(seq))
    const next = random(15)
    for (let i = 0; i < 2000; i++) {
      const seq = 1 + Math.floor(next() * 3_000_000)
      assert.equal(idOf(seq), String(seq))
      assert.equal(idOf(seq + 1), String(seq + 1), 'the next number, after another prefix was kept')
    }
    for (const seq of seqs) if (seq < 1e15) assert.equal(parseJobId(idOf(seq)), seq)
  })
})
