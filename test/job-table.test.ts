import assert from 'node:assert/strict'
import { JobTable } from '../src/memory/job-table'
import { random } from './support/random'

interface Entry {
  readonly seq: number
}

const entries = (from: number, to: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i }))

describe('JobTable', () => {
  it('finds entries by number and forgets removed ones', () => {
    const table = new JobTable<Entry>()
    const all = entries(1, 200)
    for (const entry of all) table.add(entry)
    assert.equal(table.size, 200)
    assert.equal(table.pageCount, 4)
    assert.equal(table.get(1), all[0])
    assert.equal(table.get(200), all[199])
    assert.equal(table.get(201), undefined)
    assert.equal(table.get(0), undefined)
    assert.equal(table.delete(all[63]!), true)
    assert.equal(table.delete(all[63]!), false, 'a second delete finds nothing')
    assert.equal(table.delete({ seq: 65 }), false, 'an equal-numbered stranger is not the entry')
    assert.equal(table.get(64), undefined)
    assert.equal(table.size, 199)
  })

  it('keeps entries of thinned-out pages findable and lists everything in number order', () => {
    const table = new JobTable<Entry>()
    const all = entries(1, 64 * 5)
    for (const entry of all) table.add(entry)
    // Thin the first pages down to a few survivors each, so they are dissolved into the loose map.
    const survivors = new Set([1, 2, 70, 130, 131, 200])
    for (const entry of all.slice(0, 64 * 4)) if (!survivors.has(entry.seq)) table.delete(entry)
    assert.equal(table.pageCount, 3, 'the two pages not thinned out are left, and the last one thinned out')
    assert.equal(table.looseCount, 5, 'the pages thinned out before it are dissolved')
    for (const seq of survivors) assert.equal(table.get(seq)?.seq, seq)
    assert.deepEqual(
      [...table.values()].map((e) => e.seq),
      [...survivors, ...all.slice(64 * 4).map((e) => e.seq)],
    )
    assert.equal(table.delete(all[69]!), true, 'a loose entry can be deleted')
    assert.equal(table.get(70), undefined)
    assert.equal(table.size, survivors.size - 1 + 64)
  })

  it('dissolves the page that was being filled, thinned out, once the next page starts and another thins out', () => {
    const table = new JobTable<Entry>()
    const first = entries(0, 63)
    for (const entry of first) table.add(entry)
    for (const entry of first.slice(1)) table.delete(entry)
    assert.equal(table.pageCount, 1)
    const second = entries(64, 127)
    for (const entry of second) table.add(entry)
    assert.equal(table.pageCount, 2, 'the thinned first page waits')
    table.add({ seq: 128 })
    for (const entry of second.slice(1)) table.delete(entry)
    assert.deepEqual([table.pageCount, table.looseCount], [2, 1], 'the first page is dissolved, the second waits')
    assert.equal(table.get(0), first[0])
    assert.equal(table.get(64), second[0])
    assert.deepEqual(
      [...table.values()].map((e) => e.seq),
      [0, 64, 128],
    )
  })

  it('drops the page that was being filled, emptied, once the next page starts', () => {
    const table = new JobTable<Entry>()
    const first = entries(0, 63)
    for (const entry of first) table.add(entry)
    for (const entry of first) table.delete(entry)
    table.add({ seq: 64 })
    assert.deepEqual([table.pageCount, table.looseCount], [1, 0])
  })

  it('moves no entry out of its page while entries are forgotten in the order they came', () => {
    const table = new JobTable<Entry>()
    const all = entries(0, 64 * 20 - 1)
    for (const entry of all) table.add(entry)
    for (const entry of all.slice(0, 64 * 19)) {
      assert.equal(table.delete(entry), true)
      assert.equal(table.looseCount, 0, `after deleting ${entry.seq}`)
    }
    assert.deepEqual([table.pageCount, table.size], [1, 64])
  })

  it('finds entries by get and forgets them by delete on different pages in turn', () => {
    const table = new JobTable<Entry>()
    const all = entries(1, 64 * 10)
    for (const entry of all) table.add(entry)
    // As a cancel finds one job and evicts one cancelled long before: each side keeps its own page.
    for (let i = 0; i < 64 * 5; i++) {
      assert.equal(table.get(all[64 * 5 + i]!.seq), all[64 * 5 + i])
      assert.equal(table.delete(all[i]!), true)
      assert.equal(table.get(all[i]!.seq), undefined)
    }
    assert.equal(table.size, 64 * 5)
    assert.deepEqual([...table.values()], all.slice(64 * 5))
  })

  it('finds every entry while the oldest are forgotten in order, pages dissolving as they thin out', () => {
    const table = new JobTable<Entry>()
    const all = entries(1, 640)
    for (const entry of all.slice(0, 100)) table.add(entry)
    for (let i = 0; i < 540; i++) {
      table.add(all[100 + i]!)
      assert.equal(table.delete(all[i]!), true)
      assert.equal(table.get(all[i]!.seq), undefined, `entry ${i + 1} is gone`)
      for (const seq of [i + 2, i + 9, i + 64, i + 101]) assert.equal(table.get(seq), all[seq - 1], `entry ${seq}`)
    }
    assert.equal(table.size, 100)
    assert.deepEqual([...table.values()], all.slice(540))
  })

  it('forgets the page it last found once that page is dissolved, for get and for delete', () => {
    const table = new JobTable<Entry>()
    const all = entries(0, 64 * 3 - 1)
    for (const entry of all) table.add(entry)
    // Page 0 found by both get and delete, then thinned out to 8 entries (0 to 7), which waits.
    for (const entry of all.slice(8, 64)) table.delete(entry)
    assert.equal(table.get(1), all[1])
    // Page 1 thins out: page 0 is dissolved, its entries now loose.
    for (const entry of all.slice(72, 128)) table.delete(entry)
    assert.equal(table.looseCount, 8)
    assert.equal(table.delete(all[0]!), true)
    assert.equal(table.get(0), undefined)
    assert.equal(table.get(1), all[1])
    assert.deepEqual([table.looseCount, table.size], [7, 7 + 8 + 64])
  })

  it('finds and forgets entries numbered past 31 bits, across that boundary', () => {
    const table = new JobTable<Entry>()
    const all = entries(2 ** 31 - 100, 2 ** 31 + 100)
    for (const entry of all) table.add(entry)
    for (const entry of all) assert.equal(table.get(entry.seq), entry)
    for (const entry of all.slice(0, 150)) assert.equal(table.delete(entry), true)
    for (const entry of all) assert.equal(table.get(entry.seq), entry.seq >= 2 ** 31 + 50 ? entry : undefined)
    assert.deepEqual([...table.values()], all.slice(150))
  })

  it('agrees with a Map under random adds and deletes', () => {
    const rand = random(7)
    const table = new JobTable<Entry>()
    const model = new Map<number, Entry>()
    let next = 1
    for (let step = 0; step < 50_000; step++) {
      if (rand() < 0.55) {
        const entry = { seq: next }
        // Numbers rise but may skip, as when the store hands some out to jobs it then refuses.
        next += rand() < 0.9 ? 1 : 1 + Math.floor(rand() * 200)
        table.add(entry)
        model.set(entry.seq, entry)
      } else if (model.size > 0) {
        // Mostly old entries, as bounded histories drop them, sometimes any.
        const keys = [...model.keys()]
        const seq =
          keys[rand() < 0.7 ? Math.floor(rand() * Math.min(keys.length, 16)) : Math.floor(rand() * keys.length)]!
        assert.equal(table.delete(model.get(seq)!), true)
        model.delete(seq)
      }
      if (step % 5000 === 0) {
        assert.deepEqual(
          [...table.values()],
          [...model.values()].sort((a, b) => a.seq - b.seq),
        )
      }
    }
    assert.equal(table.size, model.size)
    // Pages not thinned out hold over 8 entries each; besides them, the one being filled and one waiting.
    assert.ok(table.pageCount <= Math.ceil(model.size / 8) + 2, `${table.pageCount} pages for ${model.size} entries`)
    for (let seq = 0; seq <= next; seq++) assert.equal(table.get(seq), model.get(seq))
  })

  it('goes on filling the newest page after every entry in it was removed', () => {
    const table = new JobTable<Entry>()
    const first = entries(1, 10)
    for (const entry of first) table.add(entry)
    for (const entry of first) table.delete(entry)
    assert.equal(table.pageCount, 1, 'the page being filled stays')
    const next = entries(11, 140)
    for (const entry of next) table.add(entry)
    for (const entry of next) assert.equal(table.get(entry.seq), entry)
    assert.equal(table.size, next.length)
    assert.deepEqual(
      [...table.values()].map((entry) => entry.seq),
      next.map((entry) => entry.seq),
    )
  })
})
