import assert from 'node:assert/strict'
import { ManualClock } from '../src/clock'
import { TurnClock } from '../src/memory/turn-clock'

describe('TurnClock', () => {
  it('reads the clock once for the calls of one run of code, and again after the next microtask checkpoint', async () => {
    const clock = new ManualClock(1000)
    let readings = 0
    const read = clock.now.bind(clock)
    clock.now = () => {
      readings++
      return read()
    }
    const turn = new TurnClock(clock)
    assert.equal(turn.now(), 1000)
    clock.advance(5)
    assert.deepEqual([turn.now(), readings], [1000, 1], 'the same run of code shares the first reading')
    await Promise.resolve()
    assert.deepEqual([turn.now(), readings], [1005, 2], 'a later run reads the clock again')
    assert.equal(turn.now(), 1005)
    await new Promise((resolve) => setImmediate(resolve))
    clock.advance(1)
    assert.deepEqual([turn.now(), readings], [1006, 3])
  })
})
