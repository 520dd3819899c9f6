import assert from 'node:assert/strict'
import { StartLog, handOver, handOverAsync, handOverBatches } from '../bench/hand-over'
import { renderTable, type Row } from '../bench/table'
import { flankedRatios, w4SliceOrder } from '../bench/w4-http'

/** The cells of the one row `renderTable` prints for `row`, by header. */
function cells(row: Row): Record<string, string> {
  const [header = '', , line = ''] = renderTable([row], false).markdown.split('\n')
  const split = (text: string): string[] =>
    text
      .slice(2, -2)
      .split(' | ')
      .map((cell) => cell.trim())
  const names = split(header)
  const values = split(line)
  return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']))
}

const base: Row = {
  workload: 'W',
  metric: 'jobs/s',
  unit: 'jobs/s',
  baseline: 'setTimeout',
  baselineRuns: [100, 120, 110],
  kitRuns: [40, 60, 50],
  summary: 'median',
}

describe('bench table', () => {
  it('judges a p-queue target against p-queue and prints both ratios and the paired spread', () => {
    const row: Row = {
      ...base,
      peers: { 'p-queue': [50, 30, 40], 'toad-scheduler': 'no one-shot jobs' },
      reference: 'p-queue',
      target: '>= 1.25x',
      pass: (kit, reference) => kit >= 1.25 * reference,
    }
    const printed = cells(row)
    assert.equal(printed['kit / baseline'], '0.45x')
    assert.equal(printed['kit / p-queue'], '1.25x')
    assert.equal(printed['toad-scheduler'], '(no one-shot jobs)')
    assert.equal(printed['target'], '>= 1.25x p-queue')
    assert.equal(printed['result'], 'PASS')
    assert.equal(printed['spread (min–max over runs)'], 'kit 40.0–60.0; p-queue 30.0–50.0; ratio 0.800–2.00x')
    assert.equal(cells({ ...row, peers: { 'p-queue': [50, 50, 50] } })['result'], 'FAIL')
  })

  it('judges a baseline target against the baseline and leaves absent figures blank', () => {
    const printed = cells({ ...base, baselineRuns: [NaN, NaN, NaN], target: '= 0', pass: (kit) => kit === 0 })
    assert.equal(printed['baseline median'], '')
    assert.equal(printed['result'], 'FAIL')
    assert.equal(printed['spread (min–max over runs)'], 'kit 40.0–60.0')
  })
})

describe('bench hand-over loop', () => {
  it('yields to the event loop after every 1000 hand-overs, not inside a batch', async () => {
    let immediates = 0
    const seen: number[] = []
    const count = (): void => void setImmediate(() => immediates++)
    await handOver(2500, (i) => {
      if (i % 1000 === 0) count()
      seen.push(immediates)
    })
    assert.equal(seen[999], 0)
    assert.equal(seen[1000], 1)
    assert.equal(seen[2000], 2)
  })

  it('returns the values of single and bulk hand-overs in call order', async () => {
    const values = await handOverAsync(2000, async (i) => i * 2)
    assert.equal(values.length, 2000)
    assert.equal(values[1999], 3998)
    assert.deepEqual(await handOverBatches(2500, async (start, end) => [`${start}-${end}`]), [
      '0-1000',
      '1000-2000',
      '2000-2500',
    ])
  })
})

describe('bench start log', () => {
  it('counts duplicates and misses and stops the clock at the last first start', async () => {
    const log = new StartLog(3)
    log.record(0)
    log.record(0)
    log.record(2)
    assert.equal(log.duplicates, 1)
    assert.equal(log.misses, 1)
    assert.ok(Number.isNaN(log.lastStart))
    const all = log.allStarted(10_000)
    log.record(1)
    await all
    assert.equal(log.misses, 0)
    assert.ok(log.lastStart > 0)
  })

  it('gives up waiting after the timeout, the rest counted as misses', async () => {
    const log = new StartLog(2)
    log.record(1)
    await log.allStarted(5)
    assert.equal(log.misses, 1)
  })
})

describe('bench W4 slices', () => {
  it('puts a /plain slice before and after every other slice, each other route as often first as second', () => {
    const order = w4SliceOrder(4, 0)
    assert.deepEqual(order.slice(0, 9), [
      'plain',
      'enqueue',
      'plain',
      'p-queue',
      'plain',
      'p-queue',
      'plain',
      'enqueue',
      'plain',
    ])
    assert.equal(order.length, 17)
    order.forEach((route, i) => assert.equal(route === 'plain', i % 2 === 0))
    const firsts = [0, 1, 2, 3].map((round) => order[1 + 4 * round])
    assert.deepEqual(firsts, ['enqueue', 'p-queue', 'enqueue', 'p-queue'])
    assert.equal(w4SliceOrder(4, 1)[1], 'p-queue')
  })

  it('divides each slice of a route by the mean of the /plain slices on either side', () => {
    const slices = [
      { route: 'plain', requestsPerSecond: 900 },
      { route: 'enqueue', requestsPerSecond: 950 },
      { route: 'plain', requestsPerSecond: 1100 },
      { route: 'p-queue', requestsPerSecond: 1000 },
      { route: 'plain', requestsPerSecond: 900 },
    ] as const
    // A load that rose and fell: against the /plain slice before it alone, /enqueue would read 1.06x.
    assert.deepEqual(flankedRatios(slices, 'enqueue'), [0.95])
    assert.deepEqual(flankedRatios(slices, 'p-queue'), [1])
    assert.deepEqual(flankedRatios(slices.slice(0, 2), 'enqueue'), [])
  })
})
