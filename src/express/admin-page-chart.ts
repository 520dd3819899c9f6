import type { MinuteFigures } from './admin-metrics'
import { escapeHtml } from './admin-html'
import { formatAbsolute } from './admin-page-format'

const BAR_WIDTH = 10
const HEIGHT = 60

/**
 * An inline SVG bar chart of jobs completed and failed per minute (failed stacked on completed),
 * one bar per minute, each with a `<title>` for its figures. Pure markup: no script, no style
 * attribute (the page's CSP allows neither), colours from the page's style sheet.
 */
export function renderMinuteChart(minutes: readonly MinuteFigures[]): string {
  const e = escapeHtml
  const peak = Math.max(1, ...minutes.map((minute) => minute.completed + minute.failed))
  const bars = minutes
    .map((minute, index) => {
      const x = index * BAR_WIDTH + 1
      const okHeight = (minute.completed / peak) * HEIGHT
      const badHeight = (minute.failed / peak) * HEIGHT
      const label = `${formatAbsolute(minute.at.getTime()).slice(11, 16)} UTC: ${minute.completed} completed, ${minute.failed} failed`
      return `<g><title>${e(label)}</title><rect class="hit" x="${index * BAR_WIDTH}" y="0" width="${BAR_WIDTH}" height="${HEIGHT}"></rect><rect class="ok" x="${x}" y="${(HEIGHT - okHeight).toFixed(2)}" width="${BAR_WIDTH - 2}" height="${okHeight.toFixed(2)}"></rect><rect class="bad" x="${x}" y="${(HEIGHT - okHeight - badHeight).toFixed(2)}" width="${BAR_WIDTH - 2}" height="${badHeight.toFixed(2)}"></rect></g>`
    })
    .join('')
  const width = minutes.length * BAR_WIDTH
  return `<svg class="chart" viewBox="0 0 ${width} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="Jobs completed and failed per minute over the last hour (peak ${peak} per minute)">${bars}</svg>`
}
