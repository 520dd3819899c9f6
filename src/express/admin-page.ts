import { MAX_LIST_OFFSET } from '../limits'
import { JOB_STATES, type JobCounts, type JobInfo, type JobState, type ScheduleInfo } from '../types'
import { BULK_ACTION_STATES } from './admin-bulk'
import { escapeHtml, queryHref, timeElement } from './admin-html'
import type { AdminMetrics } from './admin-metrics'
import { renderMinuteChart } from './admin-page-chart'
import { timeOf } from './admin-page-format'
import { renderJobRow, renderJobView, whenHeading, type AdminJobListItem } from './admin-page-jobs'
import { PAGE_SCRIPT } from './admin-page-script'
import { PAGE_CSS } from './admin-page-style'
import type { JobNameCount } from './admin-search'

export { escapeHtml } from './admin-html'
export type { AdminJobListItem } from './admin-page-jobs'

/** A page of list items and where it sits. */
export interface AdminJobListPage {
  readonly items: readonly AdminJobListItem[]
  readonly total: number
  readonly offset: number
  readonly limit: number
  /** False when a filtered list did not read every job of the state. */
  readonly isComplete?: boolean
}

/** What {@link renderAdminPage} shows: data already fetched (and redacted) by the admin router. */
export interface AdminPageView {
  /** The page title, shown in `<title>` and the heading. */
  readonly title: string
  /** The per-response CSP nonce of the inline `<style>` and `<script>` (base64). */
  readonly nonce: string
  /** Whether to render the cancel/retry/delete, bulk and schedule controls. */
  readonly allowMutations: boolean
  /** Jobs per state, for the tabs. */
  readonly counts: JobCounts
  /** The state whose tab is open. */
  readonly state: JobState
  /** The page of jobs in `state`; its `offset` and `limit` drive the pager. */
  readonly page: AdminJobListPage
  /** The recurring schedules. */
  readonly schedules: readonly ScheduleInfo[]
  /** Now, in ms since the epoch: relative times and durations count from it. @default Date.now() */
  readonly now?: number
  /** The list's filter: an exact job name and a search text (id or part of a name). */
  readonly filter?: { readonly name?: string | undefined; readonly q?: string | undefined }
  /** The job names present, for the name menu. */
  readonly names?: readonly JobNameCount[]
  /** The per-minute figures for the chart. */
  readonly metrics?: AdminMetrics
  /** The job whose own view is open (`?job=ID`), already redacted. */
  readonly job?: JobInfo
  /** The id asked for with `?job=` when no job has it. */
  readonly missingJobId?: string
  /** A job whose id is exactly the search text, in any state. */
  readonly exactMatch?: Pick<JobInfo, 'id' | 'state' | 'name'>
}

/**
 * The Content-Security-Policy of the admin page: nothing loads or runs but the page's own inline
 * style and script carrying `nonce`; `fetch` may reach only the page's origin; no framing, no
 * `<base>`; forms (the GET search form) may submit only to the page's origin.
 */
export function adminPageContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * Renders the self-contained admin page (inline CSS and JS, no external assets). Everything that
 * comes from jobs (ids, names, args, errors, schedule fields) is HTML-escaped here. The page works
 * without JavaScript for browsing (tabs, pager, search and a job's view `?job=ID` are links and a
 * GET form); the script adds the actions (with the CSRF header) and live updates, which re-fetch
 * this same page and swap its regions in, so all markup is built, and escaped, in one place.
 */
export function renderAdminPage(view: AdminPageView): string {
  const { title, nonce, allowMutations, state, job } = view
  const e = escapeHtml
  const now = view.now ?? Date.now()
  const main =
    job !== undefined
      ? renderJobView(job, now, allowMutations, listHref(view, view.page.offset))
      : view.missingJobId !== undefined
        ? `<section id="job-view" data-job-id="${e(view.missingJobId)}" data-job-state=""><p><a href="${e(listHref(view, 0))}">&larr; Back to the list</a></p><p class="error-text">No job has id ${e(JSON.stringify(view.missingJobId))}: it never existed, was deleted, or was dropped from the bounded history.</p></section>`
        : renderList(view, now)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${e(title)}</title>
<style nonce="${e(nonce)}">${PAGE_CSS}</style>
</head>
<body>
<div id="app" data-max-offset="${e(String(MAX_LIST_OFFSET))}" data-mutations="${allowMutations ? 'true' : 'false'}" data-state="${e(state)}" data-offset="${e(String(view.page.offset))}" data-limit="${e(String(view.page.limit))}">
<header>
<h1><a href="${e(queryHref({ state: 'pending' }))}">${e(title)}</a></h1>
<div class="toolbar"><button type="button" id="refresh">Refresh</button> <label><input type="checkbox" id="auto" checked> Live updates</label> <span id="status" role="status" aria-live="polite"></span></div>
</header>
${renderSummary(view.metrics)}
${renderTabs(view)}
<main id="main">
${main}
${renderSchedules(view.schedules, now, allowMutations)}
</main>
</div>
<script nonce="${e(nonce)}">${PAGE_SCRIPT}</script>
</body>
</html>
`
}

function listHref(view: AdminPageView, offset: number, state: JobState = view.state): string {
  return queryHref({
    state,
    offset,
    limit: view.page.limit,
    name: view.filter?.name,
    q: view.filter?.q,
  })
}

function renderSummary(metrics: AdminMetrics | undefined): string {
  if (metrics === undefined) return '<section id="summary" hidden></section>'
  const lastHour = metrics.minutes.reduce(
    (sum, minute) => ({ completed: sum.completed + minute.completed, failed: sum.failed + minute.failed }),
    { completed: 0, failed: 0 },
  )
  return `<section id="summary" aria-label="The last hour">
<p class="legend"><span class="swatch ok"></span> ${lastHour.completed} completed <span class="swatch bad"></span> ${lastHour.failed} failed <span class="muted">in the last hour, per minute</span></p>
${renderMinuteChart(metrics.minutes)}
<p class="axis"><span>60 min ago</span><span>now</span></p>
</section>`
}

function renderTabs(view: AdminPageView): string {
  const e = escapeHtml
  const tabs = JOB_STATES.map((s) => {
    const active =
      s === view.state && view.job === undefined ? ' class="tab active" aria-current="page"' : ' class="tab"'
    const href = queryHref({ state: s, offset: 0, limit: view.page.limit, name: view.filter?.name })
    return `<a${active} href="${e(href)}" data-state="${e(s)}" data-key="tab-${e(s)}">${e(s)} <span class="count">${e(String(view.counts[s] ?? 0))}</span></a>`
  }).join('')
  return `<nav id="tabs" aria-label="Job states">${tabs}</nav>`
}

function renderList(view: AdminPageView, now: number): string {
  const e = escapeHtml
  const { page, state, allowMutations } = view
  const name = view.filter?.name
  const q = view.filter?.q
  const rows = page.items.map((item) => renderJobRow(item, now)).join('')
  const first = page.items.length === 0 ? 0 : page.offset + 1
  const last = page.offset + page.items.length
  const hasPrevious = page.offset > 0
  const hasNext = page.offset + page.limit < page.total && page.offset + page.limit <= MAX_LIST_OFFSET
  const previous = Math.max(0, page.offset - page.limit)
  const options = (view.names ?? [])
    .map(
      (entry) =>
        `<option value="${e(entry.name)}"${entry.name === name ? ' selected' : ''}>${e(`${entry.name} (${entry.counts[state] ?? 0})`)}</option>`,
    )
    .join('')
  const hasName = name !== undefined && !(view.names ?? []).some((entry) => entry.name === name)
  const exact =
    view.exactMatch === undefined
      ? ''
      : `<p id="exact-match">Job <a href="${e(queryHref({ job: view.exactMatch.id }))}">#${e(view.exactMatch.id)}</a> (${e(view.exactMatch.name)}) is ${e(view.exactMatch.state)}.</p>`
  const filtered = name !== undefined || q !== undefined

  return `<form id="filter" role="search" method="get" action="">
<input type="hidden" name="state" value="${e(state)}">
<label>Search <input type="search" name="q" value="${e(q ?? '')}" placeholder="Job id or part of a name" maxlength="200" data-key="q"></label>
<label>Name <select name="name" data-key="name"><option value="">All names</option>${hasName ? `<option value="${e(name)}" selected>${e(name)}</option>` : ''}${options}</select></label>
<button type="submit">Apply</button>${filtered ? ` <a href="${e(queryHref({ state }))}">Clear</a>` : ''}
</form>
<div id="results">
${exact}
${allowMutations ? `<div id="actions" class="actions">${renderBulkButtons(state, name)}</div>` : ''}
<div class="table-wrap">
<table class="jobs">
<thead><tr><th>Id</th><th>Name</th><th>Args</th><th>Attempts</th><th>${e(whenHeading(state))}</th><th>Duration</th><th>Last error</th></tr></thead>
<tbody id="rows">${rows}</tbody>
</table>
</div>
<p id="empty"${page.items.length === 0 ? '' : ' hidden'}>No ${e(filtered ? `${state} jobs match.` : `${state} jobs.`)}</p>
${page.isComplete === false ? `<p class="muted">Only the first 10000 ${e(state)} jobs were searched.</p>` : ''}
<nav id="pager" aria-label="Pages">
<a id="prev" href="${e(listHref(view, previous))}" data-offset="${e(String(previous))}"${hasPrevious ? '' : ' hidden'}>&larr; Previous</a>
<span id="range">${e(`${first}\u2013${last} of ${page.total}`)}</span>
<a id="next" href="${e(listHref(view, page.offset + page.limit))}" data-offset="${e(String(page.offset + page.limit))}"${hasNext ? '' : ' hidden'}>Next &rarr;</a>
</nav>
</div>`
}

function renderBulkButtons(state: JobState, name: string | undefined): string {
  const e = escapeHtml
  const of = name === undefined ? '' : ` of ${name}`
  const button = (action: string, label: string, confirm: string): string =>
    `<button type="button" data-bulk="${action}" data-state="${e(state)}"${name === undefined ? '' : ` data-name="${e(name)}"`} data-confirm="${e(confirm)}" data-key="bulk-${action}">${e(label)}</button>`
  const buttons: string[] = []
  if (BULK_ACTION_STATES.retry.includes(state)) {
    buttons.push(button('retry', `Retry all failed${of}`, `Retry every failed job${of}?`))
  }
  if (BULK_ACTION_STATES.delete.includes(state)) {
    buttons.push(button('delete', `Delete all ${state}${of}`, `Delete every ${state} job${of}? This cannot be undone.`))
  }
  if (BULK_ACTION_STATES.cancel.includes(state) && name !== undefined) {
    buttons.push(button('cancel', `Cancel all pending${of}`, `Cancel every pending job${of}?`))
  }
  return buttons.join(' ')
}

function renderSchedules(schedules: readonly ScheduleInfo[], now: number, allowMutations: boolean): string {
  const e = escapeHtml
  const rows = schedules
    .map((schedule) => {
      const actions = allowMutations
        ? `<td data-label="Actions"><span class="actions"><button type="button" data-schedule-action="trigger" data-schedule="${e(schedule.id)}" data-key="trigger-${e(schedule.id)}">Trigger now</button> <button type="button" data-schedule-action="remove" data-schedule="${e(schedule.id)}" data-confirm="${e(`Remove schedule ${schedule.id}? Jobs it enqueued stay.`)}" data-key="remove-${e(schedule.id)}">Remove</button></span></td>`
        : ''
      const lastJob =
        schedule.lastJobId === undefined
          ? ''
          : `<a href="${e(queryHref({ job: schedule.lastJobId }))}">#${e(schedule.lastJobId)}</a>`
      return `<tr><td data-label="Id">${e(schedule.id)}</td><td data-label="Cron"><code>${e(schedule.cron)}</code></td><td data-label="Job">${e(schedule.jobName)}</td><td data-label="Time zone">${e(schedule.timezone ?? '')}</td><td data-label="Next run">${timeElement(timeOf(schedule.nextRunAt), now)}</td><td data-label="Last enqueued"><span>${timeElement(timeOf(schedule.lastEnqueuedAt), now)} ${lastJob}</span></td>${actions}</tr>`
    })
    .join('')
  return `<section id="schedules" aria-labelledby="schedules-title">
<h2 id="schedules-title">Recurring schedules</h2>
<div class="table-wrap">
<table class="schedules">
<thead><tr><th>Id</th><th>Cron</th><th>Job</th><th>Time zone</th><th>Next run</th><th>Last enqueued</th>${allowMutations ? '<th>Actions</th>' : ''}</tr></thead>
<tbody id="schedule-rows">${rows}</tbody>
</table>
</div>
<p id="no-schedules"${schedules.length === 0 ? '' : ' hidden'}>No recurring schedules.</p>
</section>`
}
