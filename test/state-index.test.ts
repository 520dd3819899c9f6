import assert from 'node:assert/strict'
import { StateIndex } from '../src/memory/state-index'
import { random } from './support/random'

class Entry {
  indexed = 0
  constructor(readonly n: number) {}
}

const ns = (entries: readonly Entry[]): number[] => entries.map((e) => e.n)

/** An index with entries 0 … count - 1 added in order, and the entries. */
function filled(count: number): { index: StateIndex<Entry>; entries: Entry[] } {
  const index = new StateIndex<Entry>()
  const entries = Array.from({ length: count }, (_, n) => new Entry(n))
  for (const entry of entries) index.add(entry)
  return { index, entries }
}

describe('StateIndex', () => {
  it('gives the oldest entry first, and pages from either end', () => {
    const { index } = filled(5)
    assert.equal(index.oldest()?.n, 0)
    assert.deepEqual(ns(index.page(false, 1, 3)), [1, 2, 3])
    assert.deepEqual(ns(index.page(true, 1, 3)), [3, 2, 1])
    assert.deepEqual(ns(index.page(true, 4, 10)), [0])
    assert.equal(index.size, 5)
  })

  it('keeps a bounded list in a ring that wraps around without growing: evicts in order, pages newest first across the wrap', () => {
    const index = new StateIndex<Entry>()
    const bound = 10
    let next = 0
    const evicted: number[] = []
    for (let i = 0; i < 1000; i++) {
      index.add(new Entry(next++))
      if (index.size > bound) evicted.push(index.shift()!.n)
    }
    assert.deepEqual(
      evicted,
      Array.from({ length: 990 }, (_, i) => i),
    )
    assert.equal(index.capacity, 16, 'eleven entries at most, in sixteen slots')
    assert.equal(index.size, bound)
    assert.deepEqual(
      ns(index.page(true, 0, 100)),
      Array.from({ length: 10 }, (_, i) => 999 - i),
    )
    assert.deepEqual(ns(index.page(false, 2, 3)), [992, 993, 994])
  })

  it('evicts the oldest left when entries are removed from the middle, the head or the tail, across the wrap', () => {
    const index = new StateIndex<Entry>()
    const entries: Entry[] = []
    // Wrap the ring: 16 slots, the head moved to slot 12.
    for (let n = 0; n < 12; n++) index.add((entries[n] = new Entry(n)))
    for (let n = 0; n < 12; n++) index.shift()
    for (let n = 12; n < 26; n++) index.add((entries[n] = new Entry(n)))
    assert.equal(index.capacity, 16)
    index.remove(entries[14]!)
    index.remove(entries[13]!)
    index.remove(entries[12]!)
    assert.equal(index.oldest()?.n, 15, 'a removed head moves past the holes after it')
    index.remove(entries[25]!)
    index.remove(entries[20]!)
    assert.deepEqual(ns(index.page(true, 0, 100)), [24, 23, 22, 21, 19, 18, 17, 16, 15])
    assert.deepEqual([index.shift()?.n, index.shift()?.n, index.oldest()?.n], [15, 16, 17])
    assert.equal(entries[13]!.indexed, 0, 'a removed entry keeps no slot')
    index.add((entries[26] = new Entry(26)))
    assert.deepEqual(ns(index.page(false, 0, 100)), [17, 18, 19, 21, 22, 23, 24, 26])
    assert.equal(index.size, 8)
  })

  it('compacts a ring full of holes instead of growing it, and grows a full one, keeping the order and slots right', () => {
    const { index, entries } = filled(16)
    for (const n of [1, 3, 5, 7, 9, 11, 13, 14]) index.remove(entries[n]!)
    const added = Array.from({ length: 8 }, (_, i) => new Entry(16 + i))
    for (const entry of added) index.add(entry)
    assert.equal(index.capacity, 16, 'eight holes made room for the new entries')
    for (const entry of added) index.add(new Entry(entry.n + 8))
    assert.equal(index.capacity, 32)
    const expected = [0, 2, 4, 6, 8, 10, 12, 15, ...Array.from({ length: 16 }, (_, i) => 16 + i)]
    assert.deepEqual(ns(index.page(false, 0, 100)), expected)
    // Every entry's slot is where it sits: removing each by its slot empties the index in order.
    for (const n of expected) {
      assert.equal(index.oldest()?.n, n)
      index.remove(index.oldest()!)
    }
    assert.deepEqual([index.size, index.oldest()], [0, undefined])
  })

  it('shrinks a large ring once it is mostly empty', () => {
    const { index, entries } = filled(5000)
    assert.equal(index.capacity, 8192)
    for (const entry of entries.slice(0, 4000)) index.remove(entry)
    assert.ok(index.capacity <= 4096, `capacity ${index.capacity} for ${index.size} entries`)
    for (const entry of entries.slice(4000, 4990)) index.remove(entry)
    assert.ok(index.capacity <= 1024, `capacity ${index.capacity} for ${index.size} entries`)
    assert.deepEqual(ns(index.page(false, 0, 100)), ns(entries.slice(4990)))
  })

  it('agrees with an array under random adds, evictions and removals', () => {
    const rand = random(11)
    const index = new StateIndex<Entry>()
    let model: Entry[] = []
    let next = 0
    for (let step = 0; step < 40_000; step++) {
      const r = rand()
      if (r < 0.5) {
        const entry = new Entry(next++)
        index.add(entry)
        model.push(entry)
      } else if (r < 0.75) {
        assert.equal(index.shift(), model.shift())
      } else if (model.length > 0) {
        const victim = model[Math.floor(rand() * model.length)]!
        index.remove(victim)
        model = model.filter((e) => e !== victim)
      }
      if (step % 1000 === 0) {
        assert.deepEqual(index.page(false, 0, Infinity), model)
        assert.deepEqual(index.page(true, 0, Infinity), [...model].reverse())
      }
      assert.equal(index.size, model.length)
      assert.equal(index.oldest(), model[0])
    }
  })
})
