import assert from 'node:assert/strict'
import { ArgsShapes } from '../src/policy/args-shapes'

describe('ArgsShapes', () => {
  it('gives no blank for a key list seen the first time, and from the second time one with exactly its keys, each null', () => {
    const shapes = new ArgsShapes()
    assert.equal(shapes.blankFor(['id', 'name']), undefined)
    const blank = shapes.blankFor(['id', 'name'])
    assert.deepEqual(blank, { id: null, name: null })
    assert.equal(Object.getPrototypeOf(blank), Object.prototype)
    assert.equal(shapes.blankFor(['id', 'name']), blank, 'the same blank, to be spread')
  })

  it('keeps own __proto__ and index keys in a blank as data, in the order given', () => {
    const shapes = new ArgsShapes()
    const keys = ['0', '7', '__proto__', 'x']
    shapes.blankFor(keys)
    const blank = shapes.blankFor(keys)!
    assert.equal(Object.getPrototypeOf(blank), Object.prototype)
    assert.deepEqual(Object.keys(blank), keys)
    assert.deepEqual(Object.getOwnPropertyDescriptor(blank, '__proto__'), {
      value: null,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  })

  it('tells key lists apart by every key and their order, not by the first key alone', () => {
    const shapes = new ArgsShapes()
    shapes.blankFor(['a', 'b'])
    assert.equal(shapes.blankFor(['a', 'c']), undefined, 'another list with the same first key is a first sighting')
    assert.equal(shapes.blankFor(['a']), undefined)
    assert.equal(shapes.blankFor(['b', 'a']), undefined)
    assert.deepEqual(Object.keys(shapes.blankFor(['b', 'a'])!), ['b', 'a'])
    assert.equal(shapes.blankFor(['a', 'b']), undefined, 'its list was replaced by another with the same first key')
    assert.deepEqual(Object.keys(shapes.blankFor(['a', 'b'])!), ['a', 'b'])
  })

  it('keeps no list without keys, with more than 32 keys, or with a key longer than 64 characters', () => {
    const shapes = new ArgsShapes()
    const many = Array.from({ length: 33 }, (_, i) => `k${i}`)
    const long = ['x'.repeat(65)]
    for (const keys of [[], many, long]) {
      shapes.blankFor(keys)
      assert.equal(shapes.blankFor(keys), undefined)
    }
    assert.equal(shapes.size, 0)
    const most = many.slice(0, 32)
    shapes.blankFor(most)
    assert.deepEqual(Object.keys(shapes.blankFor(most)!), most)
  })

  it('holds at most 256 key lists, starting over past them', () => {
    const shapes = new ArgsShapes()
    for (let i = 0; i < 1000; i++) {
      shapes.blankFor([`id${i}`])
      assert.ok(shapes.size <= 256)
    }
    assert.ok(shapes.size > 0)
  })

  describe('blankOf', () => {
    it("finds the blank of an object's own enumerable keys once their list has one, with that list", () => {
      const shapes = new ArgsShapes()
      assert.equal(shapes.blankOf({ id: 1, name: 'a' }), undefined, 'a list never seen')
      shapes.blankFor(['id', 'name'])
      assert.equal(shapes.blankOf({ id: 1, name: 'a' }), undefined, 'a list seen once has no blank yet')
      const blank = shapes.blankFor(['id', 'name'])
      const found = shapes.blankOf({ id: 2, name: 'b' })
      assert.equal(found?.blank, blank)
      assert.deepEqual(found?.keys, ['id', 'name'])
      assert.equal(shapes.blankOf({ id: 3, name: 'c' })?.blank, blank, 'and again, from the last one found')
    })

    it('finds nothing for the same keys in another order, or with one key more or less', () => {
      const shapes = new ArgsShapes()
      shapes.blankFor(['a', 'b'])
      shapes.blankFor(['a', 'b'])
      assert.ok(shapes.blankOf({ a: 1, b: 2 }) !== undefined)
      assert.equal(shapes.blankOf({ b: 2, a: 1 }), undefined)
      assert.equal(shapes.blankOf({ a: 1 }), undefined)
      assert.equal(shapes.blankOf({ a: 1, b: 2, c: 3 }), undefined)
      assert.equal(shapes.blankOf({ a: 1, c: 3 }), undefined)
      assert.equal(shapes.blankOf({}), undefined)
    })

    it('counts own keys only, as Object.keys does, and reads no value', () => {
      const shapes = new ArgsShapes()
      shapes.blankFor(['x'])
      const blank = shapes.blankFor(['x'])
      class Point {
        x = 1
      }
      ;(Point.prototype as unknown as { y: number }).y = 2
      const point = new Point()
      assert.deepEqual(Object.keys(point), ['x'])
      assert.equal(shapes.blankOf(point)?.blank, blank, 'the enumerable y it inherits is not one of its keys')
      assert.equal(shapes.blankOf(Object.assign(Object.create({ x: 0, z: 1 }) as object, { x: 1 }))?.blank, blank)
      const guarded = {
        get x(): number {
          throw new Error('read')
        },
      }
      assert.equal(shapes.blankOf(guarded)?.blank, blank)
    })

    it('forgets the last blank found when the cache starts over', () => {
      const shapes = new ArgsShapes()
      shapes.blankFor(['keep'])
      shapes.blankFor(['keep'])
      assert.ok(shapes.blankOf({ keep: 1 }) !== undefined)
      for (let i = 0; i < 256; i++) shapes.blankFor([`id${i}`])
      assert.equal(shapes.blankOf({ keep: 1 }), undefined)
    })
  })
})
