import { MAX_LIST_OFFSET } from '../limits'
import { JOB_STATES, type JobCounts, type JobInfo, type JobState, type ScheduleInfo } from '../types'

/**
 * A job as a list shows it: `args` when their JSON is short enough, else `argsPreview`, the first
 * characters of that JSON (the job's own view has the whole); the error's text clipped alike.
 */
export interface AdminJobListItem extends Omit<JobInfo, 'args'> {
  /** The args (or what `redactArgs` shows), when their JSON fits the list's bound. */
  readonly args?: unknown
  /** The first characters of the args' JSON, ending in `…`, when they do not fit. */
  readonly argsPreview?: string
}

/** A page of list items and where it sits. */
export interface AdminJobListPage {
  readonly items: readonly AdminJobListItem[]
  readonly total: number
  readonly offset: number
  readonly limit: number
}

/** What {@link renderAdminPage} shows: data already fetched (and redacted) by the admin router. */
export interface AdminPageView {
  /** The page title, shown in `<title>` and the heading. */
  readonly title: string
  /** The per-response CSP nonce of the inline `<style>` and `<script>` (base64). */
  readonly nonce: string
  /** Whether to render the cancel/retry/delete controls. */
  readonly allowMutations: boolean
  /** Jobs per state, for the tabs. */
  readonly counts: JobCounts
  /** The state whose tab is open. */
  readonly state: JobState
  /** The page of jobs in `state`; its `offset` and `limit` drive the pager. */
  readonly page: AdminJobListPage
  /** The recurring schedules. */
  readonly schedules: readonly ScheduleInfo[]
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/**
 * Escapes text for HTML element content and for double- or single-quoted attribute values:
 * `&`, `<`, `>`, `"` and `'` become character references. Safe for any string.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char)
}

/**
 * The Content-Security-Policy of the admin page: nothing loads or runs but the page's own inline
 * style and script carrying `nonce`; `fetch` may reach only the page's origin; no framing, no
 * `<base>`, no form posts.
 */
export function adminPageContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * Renders the self-contained admin page (inline CSS and JS, no external assets). Everything that
 * comes from jobs (ids, names, args, errors, schedule fields) is HTML-escaped here; the inline
 * script re-renders from the JSON API with `textContent` only. The page works without JavaScript
 * for browsing (tabs and pager are plain links); details and actions need the script.
 */
export function renderAdminPage(view: AdminPageView): string {
  const { title, nonce, allowMutations, counts, state, page, schedules } = view
  const e = escapeHtml
  const tabs = JOB_STATES.map((s) => {
    const active = s === state ? ' class="tab active" aria-current="page"' : ' class="tab"'
    return `<a${active} href="${e(listHref(s, 0, page.limit))}" data-state="${e(s)}">${e(s)} <span class="count">${e(String(counts[s] ?? 0))}</span></a>`
  }).join('')
  const rows = page.items.map(renderJobRow).join('')
  const first = page.items.length === 0 ? 0 : page.offset + 1
  const last = page.offset + page.items.length
  const hasPrevious = page.offset > 0
  const hasNext = page.offset + page.limit < page.total && page.offset + page.limit <= MAX_LIST_OFFSET
  const scheduleRows = schedules.map(renderScheduleRow).join('')
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
<div id="app" data-max-offset="${e(String(MAX_LIST_OFFSET))}" data-mutations="${allowMutations ? 'true' : 'false'}" data-state="${e(state)}" data-offset="${e(String(page.offset))}" data-limit="${e(String(page.limit))}">
<header>
<h1>${e(title)}</h1>
<div class="toolbar"><button type="button" id="refresh">Refresh</button> <label><input type="checkbox" id="auto"> Auto-refresh</label> <span id="status" role="status"></span></div>
</header>
<nav id="tabs" aria-label="Job states">${tabs}</nav>
<main>
<table>
<thead><tr><th>Id</th><th>Name</th><th>Args</th><th>Attempts</th><th>Run at</th><th>Finished at</th><th>Last error</th></tr></thead>
<tbody id="rows">${rows}</tbody>
</table>
<p id="empty"${page.items.length === 0 ? '' : ' hidden'}>No ${e(state)} jobs.</p>
<nav id="pager" aria-label="Pages">
<a id="prev" href="${e(listHref(state, Math.max(0, page.offset - page.limit), page.limit))}" data-offset="${e(String(Math.max(0, page.offset - page.limit)))}"${hasPrevious ? '' : ' hidden'}>&larr; Previous</a>
<span id="range">${e(`${first}\u2013${last} of ${page.total}`)}</span>
<a id="next" href="${e(listHref(state, page.offset + page.limit, page.limit))}" data-offset="${e(String(page.offset + page.limit))}"${hasNext ? '' : ' hidden'}>Next &rarr;</a>
</nav>
<section id="details" hidden>
<h2 id="detail-title"></h2>
${allowMutations ? '<div id="actions" class="actions"></div>' : ''}
<button type="button" id="close">Close</button>
<pre id="detail-json"></pre>
</section>
<h2>Recurring schedules</h2>
<table>
<thead><tr><th>Id</th><th>Cron</th><th>Job</th><th>Time zone</th><th>Next run</th><th>Last enqueued</th></tr></thead>
<tbody id="schedule-rows">${scheduleRows}</tbody>
</table>
<p id="no-schedules"${schedules.length === 0 ? '' : ' hidden'}>No recurring schedules.</p>
</main>
</div>
<script nonce="${e(nonce)}">${PAGE_SCRIPT}</script>
</body>
</html>
`
}

function listHref(state: JobState, offset: number, limit: number): string {
  return `?${new URLSearchParams({ state, offset: String(offset), limit: String(limit) }).toString()}`
}

function renderJobRow(job: AdminJobListItem): string {
  const e = escapeHtml
  const error = job.lastError === undefined ? '' : `${job.lastError.name}: ${job.lastError.message}`
  return `<tr><td><button type="button" class="link" data-id="${e(job.id)}">${e(job.id)}</button></td><td>${e(job.name)}</td><td class="args"><code>${e(clip(job.argsPreview ?? toJson(job.args), 120))}</code></td><td>${e(`${job.attempts}/${job.maxAttempts}`)}</td><td>${e(formatDate(job.runAt))}</td><td>${e(formatDate(job.finishedAt))}</td><td class="error-text">${e(clip(error, 300))}</td></tr>`
}

function renderScheduleRow(schedule: ScheduleInfo): string {
  const e = escapeHtml
  return `<tr><td>${e(schedule.id)}</td><td><code>${e(schedule.cron)}</code></td><td>${e(schedule.jobName)}</td><td>${e(schedule.timezone ?? '')}</td><td>${e(formatDate(schedule.nextRunAt))}</td><td>${e(formatDate(schedule.lastEnqueuedAt))}</td></tr>`
}

function toJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return ''
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text
}

function formatDate(date: Date | undefined): string {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : ''
}

const PAGE_CSS = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#667085;--line:#d0d5dd;--accent:#2f6feb;--bad:#b42318;--bg:#fff;--panel:#f5f7fa}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7ec;--muted:#98a2b3;--line:#344054;--accent:#6ea8fe;--bad:#f97066;--bg:#101418;--panel:#1a2028}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
#app{max-width:1200px;margin:0 auto;padding:16px}
header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px}
h1{font-size:20px;margin:0}
h2{font-size:16px;margin:24px 0 8px}
#tabs{display:flex;flex-wrap:wrap;gap:4px;margin:16px 0 8px;border-bottom:1px solid var(--line)}
.tab{padding:6px 12px;color:var(--fg);text-decoration:none;border:1px solid transparent;border-bottom:none;border-radius:6px 6px 0 0}
.tab.active{border-color:var(--line);background:var(--panel);font-weight:600}
.count{display:inline-block;min-width:1.6em;padding:0 6px;border-radius:9px;background:var(--line);text-align:center;font-size:12px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase}
td.args code{word-break:break-all}
.error-text,#status.error{color:var(--bad)}
#status{color:var(--muted);margin-left:8px}
button{font:inherit;padding:4px 10px;border:1px solid var(--line);border-radius:6px;background:var(--panel);color:var(--fg);cursor:pointer}
button.link{border:none;background:none;padding:0;color:var(--accent);text-decoration:underline;font-family:ui-monospace,monospace;font-size:12px}
#pager{display:flex;gap:12px;align-items:center;margin:8px 0}
#pager a{color:var(--accent)}
#details{margin-top:16px;padding:12px;border:1px solid var(--line);border-radius:8px;background:var(--panel)}
#details h2{margin-top:0;word-break:break-all}
.actions{display:inline-flex;gap:8px;margin-right:8px}
pre{overflow:auto;max-height:480px;white-space:pre-wrap;word-break:break-all}
[hidden]{display:none!important}
`

// The client script reads only data-* attributes and JSON, and writes only through textContent
// and setAttribute on attributes that are never URLs or handlers (except relative "?..." hrefs).
const PAGE_SCRIPT = `
(function () {
  'use strict';
  var doc = document;
  function $(id) { return doc.getElementById(id); }
  var app = $('app');
  var view = {
    state: app.getAttribute('data-state'),
    offset: Number(app.getAttribute('data-offset')),
    limit: Number(app.getAttribute('data-limit'))
  };
  var maxOffset = Number(app.getAttribute('data-max-offset'));
  var path = location.pathname;
  var base = path.charAt(path.length - 1) === '/' ? path : path + '/';
  var selectedId = null;
  var timer = null;

  function node(tag, text, className) {
    var element = doc.createElement(tag);
    if (text !== undefined && text !== null) element.textContent = String(text);
    if (className) element.className = className;
    return element;
  }
  function showStatus(message, isError) {
    var status = $('status');
    status.textContent = message;
    status.className = isError ? 'error' : '';
  }
  function api(method, route) {
    return fetch(base + 'api/' + route, {
      method: method,
      // The admin refuses changes without this header: a cross-site form cannot send it.
      headers: { Accept: 'application/json', 'X-Background-Jobs-Csrf': '1' },
      credentials: 'same-origin',
      cache: 'no-store'
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().then(function (body) {
        if (!response.ok) {
          throw new Error(body && body.error ? body.error.name + ': ' + body.error.message : 'HTTP ' + response.status);
        }
        return body;
      }, function () { throw new Error('HTTP ' + response.status); });
    });
  }
  function listQuery(offset) {
    return 'state=' + encodeURIComponent(view.state) + '&offset=' + offset + '&limit=' + view.limit;
  }
  function json(value) {
    try { var text = JSON.stringify(value); return text === undefined ? '' : text; } catch (error) { return ''; }
  }
  function clip(text, max) { return text.length > max ? text.slice(0, max - 1) + '\\u2026' : text; }

  function renderCounts(counts) {
    var links = $('tabs').querySelectorAll('a[data-state]');
    for (var i = 0; i < links.length; i++) {
      var link = links[i];
      var state = link.getAttribute('data-state');
      link.querySelector('.count').textContent = String(counts[state] || 0);
      link.setAttribute('href', '?state=' + encodeURIComponent(state) + '&offset=0&limit=' + view.limit);
      if (state === view.state) {
        link.className = 'tab active';
        link.setAttribute('aria-current', 'page');
      } else {
        link.className = 'tab';
        link.removeAttribute('aria-current');
      }
    }
  }
  function setPagerLink(link, isShown, offset) {
    link.hidden = !isShown;
    link.setAttribute('data-offset', String(offset));
    link.setAttribute('href', '?' + listQuery(offset));
  }
  function renderJobs(page) {
    var rows = $('rows');
    rows.replaceChildren();
    page.items.forEach(function (job) {
      var row = doc.createElement('tr');
      var idCell = doc.createElement('td');
      var button = node('button', job.id, 'link');
      button.type = 'button';
      button.setAttribute('data-id', job.id);
      idCell.appendChild(button);
      row.appendChild(idCell);
      row.appendChild(node('td', job.name));
      var argsCell = node('td', null, 'args');
      argsCell.appendChild(node('code', clip(typeof job.argsPreview === 'string' ? job.argsPreview : json(job.args), 120)));
      row.appendChild(argsCell);
      row.appendChild(node('td', job.attempts + '/' + job.maxAttempts));
      row.appendChild(node('td', job.runAt || ''));
      row.appendChild(node('td', job.finishedAt || ''));
      row.appendChild(node('td', job.lastError ? clip(job.lastError.name + ': ' + job.lastError.message, 300) : '', 'error-text'));
      rows.appendChild(row);
    });
    var empty = $('empty');
    empty.textContent = 'No ' + view.state + ' jobs.';
    empty.hidden = page.items.length > 0;
    var first = page.items.length === 0 ? 0 : page.offset + 1;
    $('range').textContent = first + '\\u2013' + (page.offset + page.items.length) + ' of ' + page.total;
    setPagerLink($('prev'), page.offset > 0, Math.max(0, page.offset - page.limit));
    setPagerLink($('next'), page.offset + page.limit < page.total && page.offset + page.limit <= maxOffset, page.offset + page.limit);
  }
  function renderSchedules(schedules) {
    var rows = $('schedule-rows');
    rows.replaceChildren();
    schedules.forEach(function (schedule) {
      var row = doc.createElement('tr');
      row.appendChild(node('td', schedule.id));
      var cronCell = doc.createElement('td');
      cronCell.appendChild(node('code', schedule.cron));
      row.appendChild(cronCell);
      row.appendChild(node('td', schedule.jobName));
      row.appendChild(node('td', schedule.timezone || ''));
      row.appendChild(node('td', schedule.nextRunAt || ''));
      row.appendChild(node('td', schedule.lastEnqueuedAt || ''));
      rows.appendChild(row);
    });
    $('no-schedules').hidden = schedules.length > 0;
  }
  function actionButton(action, label) {
    var button = node('button', label);
    button.type = 'button';
    button.setAttribute('data-action', action);
    return button;
  }
  function showDetails(job) {
    selectedId = job.id;
    $('details').hidden = false;
    $('detail-title').textContent = job.name + ' \\u2014 ' + job.id + ' (' + job.state + ')';
    $('detail-json').textContent = JSON.stringify(job, null, 2);
    var actions = $('actions');
    if (!actions) return;
    actions.replaceChildren();
    if (job.state === 'pending') actions.appendChild(actionButton('cancel', 'Cancel'));
    if (job.state === 'failed') actions.appendChild(actionButton('retry', 'Retry'));
    if (job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled') {
      actions.appendChild(actionButton('delete', 'Delete'));
    }
  }
  function hideDetails() {
    selectedId = null;
    $('details').hidden = true;
  }
  function loadDetails(id) {
    return api('GET', 'jobs/' + encodeURIComponent(id)).then(showDetails, function (error) {
      hideDetails();
      showStatus(error.message, true);
    });
  }
  function refresh() {
    return Promise.all([api('GET', 'counts'), api('GET', 'jobs?' + listQuery(view.offset)), api('GET', 'schedules')])
      .then(function (results) {
        renderCounts(results[0]);
        renderJobs(results[1]);
        renderSchedules(results[2].items);
        history.replaceState(null, '', '?' + listQuery(view.offset));
        showStatus('Updated ' + new Date().toLocaleTimeString(), false);
      })
      .catch(function (error) { showStatus(error.message, true); });
  }
  function mutate(action) {
    var id = selectedId;
    if (id === null) return;
    if (action === 'delete' && !window.confirm('Delete job ' + id + '?')) return;
    var route = 'jobs/' + encodeURIComponent(id);
    var done = action === 'delete' ? api('DELETE', route) : api('POST', route + '/' + action);
    done.then(function (job) {
      showStatus('Job ' + id + ': ' + action + ' done.', false);
      if (job) showDetails(job); else hideDetails();
      return refresh();
    }).catch(function (error) { showStatus(error.message, true); });
  }

  $('tabs').addEventListener('click', function (event) {
    var link = event.target.closest('a[data-state]');
    if (!link) return;
    event.preventDefault();
    view.state = link.getAttribute('data-state');
    view.offset = 0;
    refresh();
  });
  $('pager').addEventListener('click', function (event) {
    var link = event.target.closest('a[data-offset]');
    if (!link) return;
    event.preventDefault();
    view.offset = Number(link.getAttribute('data-offset'));
    refresh();
  });
  $('rows').addEventListener('click', function (event) {
    var button = event.target.closest('button[data-id]');
    if (button) loadDetails(button.getAttribute('data-id'));
  });
  var actions = $('actions');
  if (actions) {
    actions.addEventListener('click', function (event) {
      var button = event.target.closest('button[data-action]');
      if (button) mutate(button.getAttribute('data-action'));
    });
  }
  $('close').addEventListener('click', hideDetails);
  $('refresh').addEventListener('click', function () { refresh(); });
  $('auto').addEventListener('change', function (event) {
    if (timer !== null) { clearInterval(timer); timer = null; }
    if (event.target.checked) timer = setInterval(refresh, 5000);
  });
})();
`
