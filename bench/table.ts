/**
 * The rows of `npm run bench` and how they print: one row per figure, the kit against its baseline
 * and, where they run the workload, its peers, each summarised over fresh-process runs, with the
 * ratios, the target's verdict and the spread over the runs.
 */
import { median, quantile } from './support'

/** The peers issue 15 measures beside the baselines. */
export const PEERS = ['p-queue', 'toad-scheduler'] as const

/** One of {@link PEERS}. */
export type PeerName = (typeof PEERS)[number]

/** One row of the table: a figure of the kit against the same figure of its baseline (and peers). */
export interface Row {
  readonly workload: string
  readonly metric: string
  readonly unit: string
  readonly baseline: string
  readonly baselineRuns: number[]
  readonly kitRuns: number[]
  /** How the runs are summarised: the median, or the worst run (counts that must be zero). */
  readonly summary: 'median' | 'max'
  readonly target?: string
  /** Whether the kit meets the target, given the kit's summary and the reference's (see `reference`). */
  readonly pass?: (kit: number, reference: number) => boolean
  /** The same figure measured on each peer, or why the peer has none. */
  readonly peers?: Partial<Record<PeerName, readonly number[] | string>>
  /** What the target compares the kit with: its baseline (the default) or p-queue. */
  readonly reference?: 'baseline' | PeerName
  /** The spread cell, when the runs' min–max is not the spread that matters (W4's rounds of slices). */
  readonly spread?: string
}

function summarise(values: readonly number[], summary: Row['summary']): number {
  return summary === 'median' ? median(values) : Math.max(...values)
}

/** A target every count that must stay zero shares: duplicates, misses, early starts. */
export const ZERO_TARGET = { target: '= 0', pass: (kit: number) => kit === 0 }

/** How a lateness workload builds one of its rows: figure, result key, unit, summary, target. */
export type LatenessRow = (
  metric: string,
  key: string,
  unit: string,
  summary: Row['summary'],
  check?: { readonly target: string; readonly pass: (kit: number, reference: number) => boolean },
) => Row

/**
 * The rows every lateness workload prints (W2 in memory, B3 on BullMQ): the lateness percentiles,
 * p99 within 2 ms of the reference, and the starts that must never happen.
 */
export function latenessRows(row: LatenessRow): Row[] {
  return [
    row('lateness p50', 'latenessP50Ms', 'ms', 'median'),
    row('lateness p99', 'latenessP99Ms', 'ms', 'median', { target: '<= baseline + 2 ms', pass: (k, b) => k <= b + 2 }),
    row('lateness max', 'latenessMaxMs', 'ms', 'median'),
    row('duplicates (worst run)', 'duplicates', 'jobs', 'max', ZERO_TARGET),
    row('misses (worst run)', 'misses', 'jobs', 'max', ZERO_TARGET),
    row('early starts (worst run)', 'early', 'jobs', 'max', ZERO_TARGET),
  ]
}

/** A figure with about three significant digits. */
export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value === 0 ? '0' : value.toFixed(3)
}

/** A summary as a table cell: empty when the variant has no such figure. */
function cell(value: number): string {
  return Number.isNaN(value) ? '' : format(value)
}

function formatRatio(kit: number, baseline: number): string {
  if (!Number.isFinite(kit) || !Number.isFinite(baseline)) return ''
  if (baseline === 0) return kit === 0 ? '-' : 'inf'
  return `${(kit / baseline).toFixed(2)}x`
}

/** `min–max` of `values`, or the one value when they are all equal. */
export function range(values: readonly number[], unit = ''): string {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0) return ''
  const low = Math.min(...finite)
  const high = Math.max(...finite)
  return low === high ? `${format(low)}${unit}` : `${format(low)}–${format(high)}${unit}`
}

/** The interquartile range of `values`, as `p25–p75`. */
export function interquartile(values: readonly number[], unit = ''): string {
  const sorted = Float64Array.from(values.filter(Number.isFinite)).sort()
  return `${format(quantile(sorted, 0.25))}–${format(quantile(sorted, 0.75))}${unit}`
}

/** A row's summarised figures and its printed cells. */
interface Rendered {
  readonly cells: string[]
  readonly json: Record<string, unknown>
}

function peerRuns(row: Row, peer: PeerName): readonly number[] | undefined {
  const runs = row.peers?.[peer]
  return typeof runs === 'string' ? undefined : runs
}

function render(row: Row, quick: boolean): Rendered {
  const kit = summarise(row.kitRuns, row.summary)
  const baseline = summarise(row.baselineRuns, row.summary)
  const peer = (name: PeerName): number => {
    const runs = peerRuns(row, name)
    return runs === undefined ? NaN : summarise(runs, row.summary)
  }
  const reference = row.reference ?? 'baseline'
  const referenceRuns = reference === 'baseline' ? row.baselineRuns : (peerRuns(row, reference) ?? [])
  const referenceValue = reference === 'baseline' ? baseline : peer(reference)
  const verdict = row.pass === undefined ? '' : row.pass(kit, referenceValue) ? 'PASS' : 'FAIL'
  const peerCell = (name: PeerName): string => {
    const runs = row.peers?.[name]
    if (runs === undefined) return ''
    return typeof runs === 'string' ? `(${runs})` : cell(peer(name))
  }
  // Baseline, kit and peers alternate run by run, so run r of each saw the same stretch of load:
  // the ratio of run r to run r is the spread of the ratio.
  const pairedRatios = row.kitRuns.map((value, run) => value / (referenceRuns[run] ?? NaN))
  const spread =
    row.spread ??
    [
      `kit ${range(row.kitRuns)}`,
      range(referenceRuns) !== '' && `${reference === 'baseline' ? 'baseline' : reference} ${range(referenceRuns)}`,
      row.summary === 'median' && pairedRatios.some(Number.isFinite) && `ratio ${range(pairedRatios, 'x')}`,
    ]
      .filter(Boolean)
      .join('; ')
  const pQueue = peer('p-queue')
  return {
    cells: [
      row.workload,
      row.metric,
      row.unit,
      row.baseline,
      cell(baseline),
      peerCell('p-queue'),
      peerCell('toad-scheduler'),
      cell(kit),
      formatRatio(kit, baseline),
      formatRatio(kit, pQueue),
      row.target === undefined ? '' : `${row.target}${reference === 'baseline' ? '' : ` ${reference}`}`,
      verdict,
      spread,
    ],
    json: {
      workload: row.workload,
      figure: row.metric,
      unit: row.unit,
      baseline: row.baseline,
      summary: row.summary,
      baselineValue: baseline,
      kitValue: kit,
      ratio: baseline === 0 ? null : kit / baseline,
      pQueueValue: Number.isFinite(pQueue) ? pQueue : null,
      baselineRuns: row.baselineRuns,
      kitRuns: row.kitRuns,
      peers: row.peers ?? {},
      target: row.target ?? null,
      reference,
      result: verdict || null,
      spread,
      quick,
    },
  }
}

const HEADER = [
  'workload',
  'figure',
  'unit',
  'baseline',
  'baseline median',
  'p-queue',
  'toad-scheduler',
  'kit median',
  'kit / baseline',
  'kit / p-queue',
  'target',
  'result',
  'spread (min–max over runs)',
]

/** The rows as a markdown table, and one JSON object per row. */
export function renderTable(rows: readonly Row[], quick: boolean): { markdown: string; json: string[] } {
  const rendered = rows.map((row) => render(row, quick))
  const markdown = [
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
    ...rendered.map(({ cells }) => `| ${cells.join(' | ')} |`),
  ].join('\n')
  return { markdown, json: rendered.map(({ json }) => JSON.stringify(json)) }
}
