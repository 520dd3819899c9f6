import type { JobErrorInfo, JobInfo, JobState } from '../types'
import { escapeHtml, queryHref, timeElement } from './admin-html'
import { breakableJson, clip, formatDuration, timeOf, toJson } from './admin-page-format'
import { previewJson } from './json-preview'

/**
 * A job as a list shows it: `args` when their JSON is short enough, else `argsPreview`, the first
 * characters of that JSON (the job's own view has the whole); the error's text clipped alike.
 */
export interface AdminJobListItem extends Omit<JobInfo, 'args' | 'logs' | 'history'> {
  /** The args (or what `redactArgs` shows), when their JSON fits the list's bound. */
  readonly args?: unknown
  /** The first characters of the args' JSON, ending in `…`, when they do not fit. */
  readonly argsPreview?: string
}

/** The most characters of args JSON the job view renders; the JSON API has the whole. */
export const JOB_VIEW_ARGS_CHARS = 65_536

const FINISHED: readonly JobState[] = ['completed', 'failed', 'cancelled']

/** What the "when" column of a state shows. */
export function whenHeading(state: JobState): string {
  if (state === 'pending') return 'Runs'
  if (state === 'running') return 'Started'
  return 'Finished'
}

/** How long a job waited, has run, or took, as text. */
export function durationText(
  job: Pick<JobInfo, 'state' | 'createdAt' | 'lastRunAt' | 'finishedAt'>,
  now: number,
): string {
  const created = timeOf(job.createdAt)
  const started = timeOf(job.lastRunAt)
  const finished = timeOf(job.finishedAt)
  if (created === undefined) return ''
  if (job.state === 'pending') return `queued ${formatDuration(now - created)}`
  if (job.state === 'running') return started === undefined ? '' : `running ${formatDuration(now - started)}`
  if (finished === undefined) return ''
  const total = `total ${formatDuration(finished - created)}`
  return started === undefined ? total : `${total} \u00b7 ran ${formatDuration(finished - started)}`
}

/** One row of the jobs table; `listQuery` is kept in the job's link so its view leads back. */
export function renderJobRow(job: AdminJobListItem, now: number): string {
  const e = escapeHtml
  const error = job.lastError === undefined ? '' : `${job.lastError.name}: ${job.lastError.message}`
  const when =
    job.state === 'pending'
      ? timeOf(job.runAt)
      : job.state === 'running'
        ? timeOf(job.lastRunAt)
        : timeOf(job.finishedAt)
  const args = job.argsPreview ?? toJson(job.args)
  return `<tr data-id="${e(job.id)}"><td data-label="Id"><a class="id" href="${e(queryHref({ job: job.id }))}" data-id="${e(job.id)}" data-key="job-${e(job.id)}">${e(job.id)}</a></td><td data-label="Name">${e(job.name)}</td><td data-label="Args" class="args"><code>${breakableJson(e(clip(args, 160)))}</code></td><td data-label="Attempts">${e(`${job.attempts}/${job.maxAttempts}`)}</td><td data-label="${e(whenHeading(job.state))}">${timeElement(when, now)}</td><td data-label="Duration">${e(durationText(job, now))}</td><td data-label="Last error" class="error-text">${e(clip(error, 300))}</td></tr>`
}

/** The action buttons a job's state allows (none when mutations are off). */
export function renderJobActions(job: Pick<JobInfo, 'id' | 'state'>, allowMutations: boolean): string {
  if (!allowMutations) return ''
  const e = escapeHtml
  const button = (action: string, label: string, confirm?: string): string =>
    `<button type="button" data-action="${action}" data-id="${e(job.id)}" data-key="action-${action}"${confirm === undefined ? '' : ` data-confirm="${e(confirm)}"`}>${label}</button>`
  const buttons: string[] = []
  if (job.state === 'pending') buttons.push(button('cancel', 'Cancel'))
  if (job.state === 'failed') buttons.push(button('retry', 'Retry'))
  if (FINISHED.includes(job.state)) buttons.push(button('delete', 'Delete', `Delete job ${job.id}?`))
  return buttons.join(' ')
}

/**
 * An error as the job view shows it: its stack as lines when it has one whose first line names
 * it (the name and message once, as that first line), else `name: message` and the stack below.
 */
function renderError(error: JobErrorInfo, isOwnLine: boolean): string {
  const e = escapeHtml
  const header = `${error.name}: ${error.message}`
  const lines = (stack: string): string =>
    `<ol class="stack">${stack
      .split('\n')
      .map((line) => `<li><code>${e(line)}</code></li>`)
      .join('')}</ol>`
  if (error.stack !== undefined && error.stack.startsWith(header)) return lines(error.stack)
  const text = `<span class="error-text"><strong>${e(error.name)}</strong>: ${e(error.message)}</span>`
  return `${isOwnLine ? `<p class="error-text">${text}</p>` : `<br>${text}`}${error.stack === undefined ? '' : lines(error.stack)}`
}

/**
 * A job's own view: state, times and durations, its attempts (the last error with its stack as
 * lines, once), progress and log lines, the args as indented JSON (the first
 * {@link JOB_VIEW_ARGS_CHARS} characters), and its actions.
 */
export function renderJobView(job: JobInfo, now: number, allowMutations: boolean, backHref: string): string {
  const e = escapeHtml
  const fact = (label: string, value: string): string => (value === '' ? '' : `<dt>${e(label)}</dt><dd>${value}</dd>`)
  const facts = [
    fact('State', `<span class="state state-${e(job.state)}" id="job-state">${e(job.state)}</span>`),
    fact('Attempts', e(`${job.attempts} of ${job.maxAttempts}`)),
    fact('Created', timeElement(timeOf(job.createdAt), now)),
    fact(job.state === 'pending' ? 'Runs' : 'Was due', timeElement(timeOf(job.runAt), now)),
    fact(job.state === 'running' ? 'Started' : 'Last started', timeElement(timeOf(job.lastRunAt), now)),
    fact('Finished', timeElement(timeOf(job.finishedAt), now)),
    fact('Duration', e(durationText(job, now))),
    fact('Schedule', job.scheduleId === undefined ? '' : e(job.scheduleId)),
  ].join('')
  let argsText: string
  let argsNote = ''
  try {
    const preview = previewJson(job.args, JOB_VIEW_ARGS_CHARS)
    argsText = preview.isComplete ? toJson(job.args, 2) : preview.text
    if (!preview.isComplete)
      argsNote = `<p class="muted">The first ${JOB_VIEW_ARGS_CHARS} characters; the whole is in <a href="api/jobs/${e(encodeURIComponent(job.id))}">api/jobs/${e(job.id)}</a>.</p>`
  } catch {
    argsText = ''
  }
  // The last error is shown once: in the attempt that failed with it, with its stack as lines.
  // Only a job whose history does not hold it (none kept) gets a "Last error" block instead.
  const lastError = job.lastError
  let lastFailed = -1
  if (lastError !== undefined)
    for (let i = job.history.length - 1; i >= 0 && lastFailed < 0; i--) {
      if (job.history[i]?.error !== undefined) lastFailed = i
    }
  const lastEntryError = lastFailed < 0 ? undefined : job.history[lastFailed]?.error
  const isInHistory =
    lastError !== undefined &&
    lastEntryError !== undefined &&
    lastEntryError.name === lastError.name &&
    lastEntryError.message === lastError.message
  const errorBlock = lastError === undefined || isInHistory ? '' : `<h3>Last error</h3>${renderError(lastError, true)}`
  const actions = renderJobActions(job, allowMutations)
  const progress =
    job.progress === undefined
      ? ''
      : typeof job.progress === 'number'
        ? `<h3>Progress</h3><p class="progress"><progress id="job-progress" max="100" value="${e(String(job.progress))}">${e(String(job.progress))}%</progress> <span>${e(String(Math.round(job.progress)))}%</span></p>`
        : `<h3>Progress</h3><pre class="json" id="job-progress">${e(toJson(job.progress, 2))}</pre>`
  const attempts =
    job.history.length === 0
      ? ''
      : `<h3>Attempts</h3><ol class="attempts">${job.history
          .map((entry, i) => {
            const started = timeOf(entry.startedAt)
            const finished = timeOf(entry.finishedAt)
            const took =
              started !== undefined && finished !== undefined ? ` · took ${formatDuration(finished - started)}` : ''
            const error =
              entry.error === undefined
                ? ''
                : i === lastFailed && isInHistory
                  ? renderError(entry.error, false)
                  : `<br><span class="error-text">${e(`${entry.error.name}: ${entry.error.message}`)}</span>`
            return `<li><strong>#${e(String(entry.attempt))}</strong> <span class="outcome-${e(entry.outcome)}">${e(entry.outcome)}</span> · started ${timeElement(started, now)}${e(took)}${error}</li>`
          })
          .join('')}</ol>`
  const logs =
    job.logs.length === 0
      ? ''
      : `<h3>Log</h3><ol class="log" id="job-log">${job.logs
          .map((line) => `<li>${timeElement(timeOf(line.at), now)} <code>${e(line.message)}</code></li>`)
          .join('')}</ol>`
  return `<section id="job-view" data-job-id="${e(job.id)}" data-job-state="${e(job.state)}" aria-labelledby="job-title">
<p><a href="${e(backHref)}" data-key="back">&larr; Back to the list</a></p>
<h2 id="job-title">${e(job.name)} <span class="muted">#${e(job.id)}</span></h2>
${actions === '' ? '' : `<div id="job-actions" class="actions">${actions}</div>`}
<dl class="facts">${facts}</dl>
${progress}
${errorBlock}
${attempts}
${logs}
<h3>Arguments</h3>
<pre class="json">${e(argsText)}</pre>${argsNote}
</section>`
}
