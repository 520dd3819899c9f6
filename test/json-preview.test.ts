import assert from 'node:assert/strict'
import { previewJson } from '../src/express/json-preview'

describe('previewJson', () => {
  it('gives the same text as JSON.stringify when it fits', () => {
    const values: unknown[] = [
      { a: 1, b: [true, null, 'x"y'], c: { d: -0.5 } },
      [undefined, () => 1, Symbol('s')],
      { skipped: undefined, fn: () => 1, kept: 'k' },
      { at: new Date(0), money: { toJSON: () => '19.99' } },
      'caf\u00e9 \u2028',
      Number.NaN,
      [],
      {},
    ]
    values.forEach((value, index) => {
      assert.deepEqual(previewJson(value, 1000), { text: JSON.stringify(value), isComplete: true }, `value ${index}`)
    })
    assert.deepEqual(previewJson(undefined, 10), { text: '', isComplete: true })
  })

  it('is complete when the JSON is exactly the budget, and clipped with … one character past it', () => {
    const text = JSON.stringify({ a: 'xyz' })
    assert.deepEqual(previewJson({ a: 'xyz' }, text.length), { text, isComplete: true })
    assert.deepEqual(previewJson({ a: 'xyz' }, text.length - 1), {
      text: `${text.slice(0, -1)}\u2026`,
      isComplete: false,
    })
  })

  it('stops early on huge values: a 10 MB string and a million-element array', () => {
    const long = previewJson({ text: 'x'.repeat(10_000_000) }, 50)
    assert.equal(long.isComplete, false)
    assert.equal(long.text.length, 51)
    assert.ok(long.text.startsWith('{"text":"xxx'))
    const many = previewJson(
      Array.from({ length: 1_000_000 }, (_, i) => i),
      20,
    )
    assert.deepEqual(many, { text: '[0,1,2,3,4,5,6,7,8,9\u2026', isComplete: false })
  })

  it('throws for what JSON cannot hold, as JSON.stringify does', () => {
    const cycle: Record<string, unknown> = {}
    cycle['self'] = cycle
    assert.throws(() => previewJson({ n: 1n }, 100), TypeError)
    assert.throws(() => previewJson(cycle, 100), /circular/)
    const shared = { x: 1 }
    assert.equal(previewJson([shared, shared], 100).text, '[{"x":1},{"x":1}]', 'a repeated object is not a cycle')
  })
})
