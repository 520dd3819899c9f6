/**
 * The admin page's script, inlined under the page's CSP nonce. It builds no markup: actions call
 * the JSON API (always with the CSRF header), then the page re-fetches its own URL and swaps the
 * regions that change (`summary`, `tabs`, `results`, `job-view`, `schedules`) for the server's
 * freshly rendered, escaped ones, keeping focus on the element with the same `data-key`. Live
 * updates poll the same way (every 5 s; every 1 s on the view of a pending or running job), on by
 * default and paused while the tab is hidden.
 */
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var doc = document;
  function $(id) { return doc.getElementById(id); }
  var app = $('app');
  var path = location.pathname;
  var base = path.charAt(path.length - 1) === '/' ? path : path + '/';
  var REGIONS = ['summary', 'tabs', 'results', 'job-view', 'schedules'];
  var timer = null;
  var loading = null;

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
  function jobView() { return $('job-view'); }
  function isBusyJob() {
    var view = jobView();
    var state = view ? view.getAttribute('data-job-state') : '';
    return state === 'pending' || state === 'running';
  }
  function swap(html) {
    // The body only: the head's style carries the other response's nonce, which this page's CSP refuses.
    var start = html.indexOf('<body>');
    var next = new DOMParser().parseFromString(start === -1 ? html : html.slice(start), 'text/html');
    var active = doc.activeElement;
    var key = active && active.getAttribute ? active.getAttribute('data-key') : null;
    REGIONS.forEach(function (id) {
      var current = $(id);
      var fresh = next.getElementById(id);
      if (!current || !fresh) return;
      var hadFocus = key && current.contains(active);
      current.replaceWith(doc.adoptNode(fresh));
      if (!hadFocus) return;
      var again = $(id).querySelector('[data-key="' + CSS.escape(key) + '"]');
      if (again) again.focus();
    });
  }
  function refresh(message) {
    if (loading) return loading.then(function () { return refresh(message); });
    loading = fetch(location.pathname + location.search, {
      headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store'
    }).then(function (response) {
      return response.text().then(function (html) {
        if (!response.ok && response.status !== 404) throw new Error('HTTP ' + response.status);
        swap(html);
        showStatus(message || 'Updated ' + new Date().toLocaleTimeString(), false);
      });
    }).catch(function (error) {
      showStatus(error.message, true);
    }).then(function () {
      loading = null;
      schedule();
    });
    return loading;
  }
  function schedule() {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (!$('auto').checked || doc.hidden) return;
    timer = setTimeout(function () { refresh(); }, isBusyJob() ? 1000 : 5000);
  }
  function confirmed(element) {
    var question = element.getAttribute('data-confirm');
    return !question || window.confirm(question);
  }
  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      if (params[key]) parts.push(key + '=' + encodeURIComponent(params[key]));
    });
    return parts.length ? '?' + parts.join('&') : '';
  }
  function run(element, done, work) {
    if (!confirmed(element)) return;
    element.disabled = true;
    work().then(function (result) {
      var message = done(result);
      showStatus(message, false);
      return refresh(message);
    }).catch(function (error) {
      element.disabled = false;
      showStatus(error.message, true);
    });
  }
  function plural(count, word) { return count + ' ' + word + (count === 1 ? '' : 's'); }

  doc.addEventListener('click', function (event) {
    var target = event.target.closest('button');
    if (!target) return;
    var id = target.getAttribute('data-id');
    var action = target.getAttribute('data-action');
    if (action && id) {
      run(target, function () { return 'Job ' + id + ': ' + action + ' done.'; }, function () {
        var route = 'jobs/' + encodeURIComponent(id);
        if (action !== 'delete') return api('POST', route + '/' + action);
        return api('DELETE', route).then(function () {
          // The job's own view has nothing left to show: back to its state's list.
          if (jobView()) location.assign('?state=' + encodeURIComponent(app.getAttribute('data-state')));
        });
      });
      return;
    }
    var bulk = target.getAttribute('data-bulk');
    if (bulk) {
      run(target, function (result) {
        var text = plural(result.touched, 'job') + ': ' + bulk + ' done' + (result.skipped ? ', ' + result.skipped + ' skipped (they had moved on)' : '') + '.';
        return result.isComplete ? text : text + ' More remain: run it again.';
      }, function () {
        var params = { name: target.getAttribute('data-name') };
        if (bulk === 'delete') params.state = target.getAttribute('data-state');
        return api('POST', 'bulk/' + bulk + query(params));
      });
      return;
    }
    var scheduleAction = target.getAttribute('data-schedule-action');
    var scheduleId = target.getAttribute('data-schedule');
    if (scheduleAction && scheduleId) {
      run(target, function (job) {
        return scheduleAction === 'trigger' ? 'Schedule ' + scheduleId + ' enqueued job ' + job.id + '.' : 'Schedule ' + scheduleId + ' removed.';
      }, function () {
        var route = 'schedules/' + encodeURIComponent(scheduleId);
        return scheduleAction === 'trigger' ? api('POST', route + '/trigger') : api('DELETE', route);
      });
    }
  });
  $('refresh').addEventListener('click', function () { refresh(); });
  $('auto').addEventListener('change', schedule);
  doc.addEventListener('visibilitychange', function () {
    if (doc.hidden) schedule(); else refresh();
  });
  schedule();
})();
`
