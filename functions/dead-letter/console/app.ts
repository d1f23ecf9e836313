// The console's script, sent to the browser as it is (?asset=app.js): plain DOM, no framework, no build step.
// It keeps the operator's token in sessionStorage (this tab only) and nothing else: no event data, no filter
// in the URL or in storage. Every call goes to the dead-letter API on the same origin with that token; a
// refusal (401, 403, 503 …) is shown with the problem's own title and detail.
// (Kept free of backticks and dollar-brace so it can live in this template literal untouched.)
export const script = String.raw`'use strict';
(() => {
  const API = '/api/dead-letters';
  const TOKEN_KEY = 'dead-letter-console.token';
  const STATUSES = ['open', 'retrying', 'parked', 'resolved', 'discarded'];
  const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  const POLL_MS = 1000;

  const $ = (id) => document.getElementById(id);
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    filters: {},
    cursor: null,
    summary: null,
    group: null,
    letter: null,
    unmasked: false,
    redrive: null,
  };

  // ---- DOM helpers ----
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  const svg = (tag, attrs, ...children) => {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : String(c));
    return node;
  };
  const short = (id) => String(id || '').slice(0, 8);
  const letters = (n) => n + (n === 1 ? ' letter' : ' letters');
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  function age(iso) {
    if (!iso) return '';
    const minutes = Math.round((Date.now() - new Date(iso).getTime()) / 60000);
    if (minutes < 1) return 'just now';
    if (minutes < 60) return minutes + ' min ago';
    if (minutes < 48 * 60) return Math.round(minutes / 60) + ' h ago';
    return Math.round(minutes / 1440) + ' days ago';
  }
  function timeCell(iso) {
    return el('td', {}, el('time', { datetime: iso, title: when(iso), text: age(iso) }));
  }
  function say(message) {
    $('status').textContent = message;
  }

  // ---- the API ----
  class ApiProblem extends Error {
    constructor(status, problem, retryAfter) {
      super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
      this.status = status;
      this.problem = problem || {};
      this.retryAfter = retryAfter;
    }
  }

  async function api(path, options) {
    const { method = 'GET', query, body } = options || {};
    const url = new URL(API + path, location.origin);
    for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    const headers = { accept: 'application/json' };
    if (state.token) headers.authorization = 'Bearer ' + state.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
    const type = res.headers.get('content-type') || '';
    const payload = type.includes('json') ? await res.json().catch(() => null) : null;
    if (!res.ok) throw new ApiProblem(res.status, payload, res.headers.get('retry-after'));
    return payload;
  }

  /** A refusal, shown as the API said it: title, status, detail, the fields at fault, and what to do. */
  function showProblem(err, box) {
    const target = box || $('problem');
    target.replaceChildren();
    if (err instanceof ApiProblem) {
      const p = err.problem;
      target.append(el('p', {}, el('strong', { text: (p.title || 'Request failed') + ' (' + err.status + ')' }), p.detail ? ': ' + p.detail : ''));
      const params = p['invalid-params'] || [];
      if (params.length) target.append(el('ul', {}, params.map((x) => el('li', { text: x.name + ' ' + x.reason }))));
      const hint = {
        401: 'Your token is missing, expired or not valid here: sign in again with a staff token.',
        403: 'Not allowed (see above). The console needs a staff token with the operator grant; unmasked data needs the phi grant.',
        503: 'The dead-letter system cannot answer right now' + (err.retryAfter ? '; try again in ' + err.retryAfter + ' s.' : '; try again shortly.'),
      }[err.status];
      if (hint) target.append(el('p', { class: 'hint', text: hint }));
      if (err.status === 401) showSignIn();
    } else {
      target.append(el('p', {}, el('strong', { text: 'Could not reach the dead-letter API' }), ': ' + (err && err.message ? err.message : String(err))));
    }
    target.hidden = false;
  }
  function clearProblem(box) {
    const target = box || $('problem');
    target.hidden = true;
    target.replaceChildren();
  }
  /** Runs an action; its refusal is shown instead of thrown. */
  async function attempt(work, box) {
    try {
      clearProblem(box);
      return await work();
    } catch (err) {
      showProblem(err, box);
      return undefined;
    }
  }

  // ---- signing in ----
  function claims(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part + '==='.slice((part.length + 3) % 4)));
    } catch {
      return {};
    }
  }
  function showSignIn() {
    $('signin').hidden = false;
    $('console').hidden = true;
    $('who').hidden = true;
    $('token').value = '';
    $('token').focus();
  }
  function showConsole() {
    $('signin').hidden = true;
    $('console').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = 'Signed in as ' + (claims(state.token).sub || 'staff');
  }
  async function signIn(token) {
    state.token = token;
    // The summary proves the token. A refused token (401, 403) is shown and not kept; an outage (503, no
    // answer) is shown over the console with the token kept, and Refresh tries again.
    try {
      clearProblem();
      await loadSummary();
    } catch (err) {
      showProblem(err);
      if (err instanceof ApiProblem && (err.status === 401 || err.status === 403)) {
        state.token = null;
        sessionStorage.removeItem(TOKEN_KEY);
        showSignIn();
        return;
      }
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    showConsole();
    if (state.summary) {
      say('Signed in.');
      await Promise.all([attempt(loadLetters), attempt(loadTasks)]);
    }
  }
  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    closeDetail();
    clearProblem();
    say('Signed out.');
    showSignIn();
  }

  // ---- overview: counts and the chart ----
  async function loadSummary() {
    const summary = await api('/summary', { query: { hours: $('hours').value } });
    state.summary = summary;
    renderCounts(summary);
    renderChart(summary);
    renderGroups(summary);
    renderSystemFilter(summary);
  }

  function renderCounts(s) {
    const dl = $('counts');
    dl.replaceChildren();
    for (const status of STATUSES) dl.append(el('div', {}, el('dt', { text: status }), el('dd', { text: (s.byStatus && s.byStatus[status]) || 0 })));
    const oldest = s.oldestUnresolvedAt ? age(s.oldestUnresolvedAt) + ' (' + when(s.oldestUnresolvedAt) + ')' : 'none waiting';
    dl.append(el('div', {}, el('dt', { text: 'oldest unresolved' }), el('dd', { text: oldest })));
  }

  function colourOf(systems, name) {
    return COLOURS[systems.indexOf(name) % COLOURS.length];
  }

  /** Stacked bars per time bucket, one colour per system: inline SVG, no chart library. */
  function renderChart(s) {
    const box = $('chart');
    const legend = $('legend');
    box.replaceChildren();
    legend.replaceChildren();
    const buckets = (s.timeline && s.timeline.buckets) || [];
    const systems = [...new Set(buckets.flatMap((b) => Object.keys(b.counts || {})))].sort();
    const totals = Object.fromEntries(systems.map((name) => [name, buckets.reduce((n, b) => n + ((b.counts || {})[name] || 0), 0)]));
    const W = 720, H = 200, left = 36, bottom = 24, top = 8;
    const max = Math.max(1, ...buckets.map((b) => Object.values(b.counts || {}).reduce((n, v) => n + v, 0)));
    const label = systems.length
      ? 'Letters received per ' + ((s.timeline && s.timeline.bucketMinutes) || '?') + ' minutes, by system: ' + systems.map((n) => n + ' ' + totals[n]).join(', ')
      : 'No letters received in this window';
    const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label, class: 'chart-svg' }, svg('title', {}, label));
    const plotW = W - left - 4, plotH = H - top - bottom;
    chart.append(svg('line', { x1: left, y1: top + plotH, x2: W - 4, y2: top + plotH, stroke: '#888' }));
    chart.append(svg('text', { x: left - 6, y: top + 10, 'text-anchor': 'end', class: 'axis' }, String(max)));
    chart.append(svg('text', { x: left - 6, y: top + plotH, 'text-anchor': 'end', class: 'axis' }, '0'));
    if (buckets.length) {
      const step = plotW / buckets.length;
      const barW = Math.max(1, step * 0.8);
      buckets.forEach((b, i) => {
        let y = top + plotH;
        for (const name of systems) {
          const n = (b.counts || {})[name] || 0;
          if (!n) continue;
          const h = (n / max) * plotH;
          y -= h;
          chart.append(svg('rect', { x: (left + i * step + (step - barW) / 2).toFixed(1), y: y.toFixed(1), width: barW.toFixed(1), height: h.toFixed(1), fill: colourOf(systems, name) },
            svg('title', {}, when(b.at) + ': ' + name + ' ' + n)));
        }
      });
      chart.append(svg('text', { x: left, y: H - 6, class: 'axis' }, when(buckets[0].at)));
      chart.append(svg('text', { x: W - 4, y: H - 6, 'text-anchor': 'end', class: 'axis' }, when(buckets[buckets.length - 1].at)));
    }
    box.append(chart);
    for (const name of systems) {
      legend.append(el('li', {}, svg('svg', { width: 12, height: 12, 'aria-hidden': 'true' }, svg('rect', { width: 12, height: 12, fill: colourOf(systems, name) })), ' ' + name + ': ' + totals[name]));
    }
  }

  function renderSystemFilter(s) {
    const select = $('filter-system');
    const current = select.value;
    const names = [...new Set([...(s.bySystem || []).map((x) => x.system), current].filter(Boolean))].sort();
    select.replaceChildren(el('option', { value: '', text: 'any' }), ...names.map((n) => el('option', { value: n, text: n })));
    select.value = current;
  }

  // ---- groups and what can be done to a whole group ----
  function groupLabel(g) {
    return g.eventType + (g.consumer ? ' at ' + g.consumer : '') + (g.code ? ' (HTTP ' + g.code + ')' : '');
  }

  function renderGroups(s) {
    const body = $('groups').tBodies[0];
    body.replaceChildren();
    const groups = s.groups || [];
    $('groups-empty').hidden = groups.length > 0;
    for (const g of groups) {
      const radio = el('input', { type: 'radio', name: 'group', value: g.group, 'aria-label': 'Select group ' + groupLabel(g) + ', ' + letters(g.count), checked: state.group && state.group.group === g.group });
      radio.addEventListener('change', () => selectGroup(g));
      body.append(el('tr', {},
        el('td', {}, radio),
        el('td', { text: g.eventType }),
        el('td', { text: g.consumer || '—' }),
        el('td', { text: g.system }),
        el('td', { text: g.code === null || g.code === undefined ? '' : g.code }),
        el('td', { class: 'reason', text: g.reason || '' }),
        el('td', { class: 'num', text: g.count }),
        el('td', { class: 'num', text: g.unresolved === undefined ? g.open : g.unresolved }),
        timeCell(g.lastReceivedAt)));
    }
    if (state.group) {
      const again = groups.find((g) => g.group === state.group.group);
      if (again) selectGroup(again);
      else selectGroup(null);
    }
  }

  function selectGroup(g) {
    state.group = g;
    $('group-actions').disabled = !g;
    $('group-selected').textContent = g ? groupLabel(g) + ': ' + letters(g.count) + ', ' + (g.unresolved === undefined ? g.open : g.unresolved) + ' waiting. ' + (g.reason || '') : 'No group selected.';
  }

  async function groupSettle(action) {
    const reason = $('group-reason').value.trim();
    if (!reason) {
      showProblem(new ApiProblem(400, { title: 'Reason required', detail: 'say why the group is ' + (action === 'park' ? 'parked' : 'discarded') }));
      $('group-reason').focus();
      return;
    }
    const done = await attempt(() => api('/settle', { method: 'POST', body: { action, reason, group: state.group.group } }));
    if (!done) return;
    $('group-reason').value = '';
    say((action === 'park' ? 'Parked ' : 'Discarded ') + done.changed + ' letter(s) of the group.');
    await refresh();
  }

  // ---- letters ----
  function readFilters() {
    const out = {};
    for (const [k, v] of new FormData($('filters')).entries()) if (String(v).trim() !== '') out[k] = String(v).trim();
    return out;
  }

  async function loadLetters(more) {
    if (!more) {
      state.filters = readFilters();
      state.cursor = null;
    }
    const page = await api('', { query: { ...state.filters, limit: 50, cursor: more ? state.cursor : undefined } });
    const body = $('letters').tBodies[0];
    if (!more) body.replaceChildren();
    for (const l of page.letters) body.append(letterRow(l));
    state.cursor = page.nextCursor;
    $('more').hidden = !page.nextCursor;
    $('letters-empty').hidden = body.rows.length > 0;
  }

  function letterRow(l) {
    return el('tr', { 'data-letter': l.id, 'data-status': l.status },
      timeCell(l.receivedAt),
      el('td', { text: l.system }),
      el('td', { text: l.eventType }),
      el('td', { text: l.consumer || '—' }),
      el('td', { text: l.code === null || l.code === undefined ? '' : l.code }),
      el('td', {}, el('span', { class: 'badge ' + l.status, text: l.status })),
      el('td', { class: 'reason', text: l.reason || '' }),
      el('td', { class: 'num', text: l.attempts }),
      el('td', {}, el('button', { type: 'button', 'aria-label': 'Open letter ' + short(l.id) + ' (' + l.eventType + ', ' + l.status + ')', onclick: () => attempt(() => openLetter(l.id, false)), text: 'Open' })));
  }

  // ---- one letter ----
  async function openLetter(id, unmasked) {
    const detail = await api('/letter', { query: { id, unmasked: unmasked ? 'true' : 'false' } });
    state.letter = detail.letter;
    state.unmasked = !detail.masked;
    renderDetail(detail);
    $('detail').hidden = false;
    $('detail-title').focus();
  }

  function renderDetail(d) {
    const l = d.letter;
    $('detail-title').textContent = 'Letter ' + short(l.id) + ' · ' + l.status;
    $('detail-title').setAttribute('tabindex', '-1');
    const fields = [
      ['Letter id', l.id], ['Status', l.status + (l.resolution ? ' (' + l.resolution + ')' : '')], ['System', l.system],
      ['Event type', l.eventType], ['Event id', l.eventId], ['Event source', l.eventSource], ['Topic', l.topic],
      ['KafkaSource', l.kafkaSource], ['Consumer', l.consumer], ['Partition / offset', l.partition === null ? '' : l.partition + ' / ' + l.offset],
      ['Record key', l.key], ['Code', l.code], ['Reason', l.reason], ['Group', l.group],
      ['Attempts', l.attempts + ' (' + l.retries + ' retries)'], ['Next retry', when(l.nextRetryAt)], ['Received', when(l.receivedAt)],
      ['Last seen', when(l.lastSeenAt)], ['Status set', [l.statusBy, when(l.statusAt), l.statusReason].filter(Boolean).join(' · ')],
      ['Truncated', l.truncated ? 'yes: the event was too large to keep whole' : ''],
    ];
    $('detail-fields').replaceChildren(...fields.filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }))));
    $('mask-note').textContent = d.masked
      ? 'Event data is masked: only identifiers are shown. Showing it unmasked needs the phi grant, and each unmasked view is recorded (who, when, which letter).'
      : 'Unmasked: this view of the event data has been recorded (who, when, which letter). Do not copy patient data out of the console.';
    $('mask-note').className = d.masked ? 'note' : 'note recorded';
    $('unmask').textContent = d.masked ? 'Show unmasked data (recorded)' : 'Mask data again';
    const event = readable(d.event);
    $('event-note').textContent = event === d.event ? '' : 'The event\'s data arrived as bytes (data_base64); it is shown decoded here.';
    $('detail-event').textContent = JSON.stringify(event, null, 2);
    $('detail-error').textContent = d.errorData === null || d.errorData === undefined ? '(nothing)' : typeof d.errorData === 'string' ? d.errorData : JSON.stringify(d.errorData, null, 2);
    const body = $('attempts').tBodies[0];
    body.replaceChildren(...(d.attempts || []).map((a) => el('tr', {},
      el('td', { text: when(a.at) }), el('td', { text: a.kind }), el('td', { text: a.outcome }), el('td', { text: a.by || '' }),
      el('td', { text: a.code === null || a.code === undefined ? '' : a.code }), el('td', { class: 'reason', text: a.reason || '' }))));
  }

  /** An event whose data came as bytes (data_base64), with that data decoded (UTF-8, JSON when it is) for reading. */
  function readable(event) {
    if (!event || typeof event.data_base64 !== 'string') return event;
    try {
      const bytes = Uint8Array.from(atob(event.data_base64), (c) => c.charCodeAt(0));
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      let data = text;
      try { data = JSON.parse(text); } catch { /* plain text */ }
      const { data_base64: _bytes, ...attributes } = event;
      return { ...attributes, data };
    } catch {
      // Masked (not base64 at all) or not text: shown as kept.
      return event;
    }
  }

  function closeDetail() {
    state.letter = null;
    state.unmasked = false;
    // Unmasked data leaves the page with the detail.
    $('detail-event').textContent = '';
    $('detail-error').textContent = '';
    $('event-note').textContent = '';
    $('detail-fields').replaceChildren();
    $('detail').hidden = true;
  }

  async function letterSettle(action) {
    const reason = $('letter-reason').value.trim();
    if (action !== 'reopen' && !reason) {
      showProblem(new ApiProblem(400, { title: 'Reason required', detail: 'say why the letter is ' + (action === 'park' ? 'parked' : 'discarded') }));
      $('letter-reason').focus();
      return;
    }
    const id = state.letter.id;
    const done = await attempt(() => api('/settle', { method: 'POST', body: { action, letterIds: [id], ...(action === 'reopen' ? {} : { reason }) } }));
    if (!done) return;
    $('letter-reason').value = '';
    say({ park: 'Parked', discard: 'Discarded', reopen: 'Reopened' }[action] + ' letter ' + short(id) + (done.changed ? '.' : ' (it was already so).'));
    await refresh();
  }

  // ---- retry: deliver again to the consumer that failed ----
  async function retry(selection, what) {
    say('Retrying ' + what + '…');
    const done = await attempt(() => api('/retry', { method: 'POST', body: selection }));
    if (!done) return say('');
    const failed = (done.results || []).filter((r) => r.outcome === 'failed');
    say('Retry of ' + what + ': ' + done.delivered + ' delivered, ' + done.failed + ' failed, ' + done.skipped + ' skipped.' +
      (failed.length ? ' Still failing: ' + failed.slice(0, 3).map((r) => short(r.letterId) + ' ' + (r.code || '') + ' ' + (r.reason || '')).join('; ') : ''));
    await refresh();
  }

  // ---- redrive: a dry run first, then a task watched until it ends ----
  async function openRedrive(selection, what) {
    const dialog = $('redrive');
    const box = $('redrive-problem');
    state.redrive = { selection, what, task: null };
    $('redrive-title').textContent = 'Redrive ' + what;
    $('redrive-plan').hidden = false;
    $('redrive-task').hidden = true;
    $('redrive-confirm').hidden = false;
    $('redrive-confirm').disabled = true;
    $('redrive-cancel-task').hidden = true;
    $('plan-total').textContent = 'Asking for a dry run…';
    $('plan-topics').replaceChildren();
    $('plan-letters').tBodies[0].replaceChildren();
    $('plan-warnings').hidden = true;
    clearProblem(box);
    if (!dialog.open) dialog.showModal();
    const plan = await attempt(() => api('/redrive', { method: 'POST', body: { ...selection, dryRun: true } }), box);
    if (!plan) return void ($('plan-total').textContent = 'The dry run was refused.');
    renderPlan(plan);
    $('redrive-confirm').disabled = plan.total === 0;
    if (plan.total > 0) $('redrive-confirm').focus();
  }

  function warningText(w) {
    if (typeof w === 'string') return w;
    if (w && typeof w === 'object') return w.message || w.warning || JSON.stringify(w);
    return String(w);
  }

  function renderPlan(plan) {
    $('plan-total').textContent = plan.total === 0
      ? 'Nothing to send: no letter of this selection can be redriven.'
      : plan.total + ' letter(s) would be republished to their original topics, with their record keys, in order:';
    $('plan-topics').replaceChildren(...(plan.topics || []).map((t) => el('li', { text: t.topic + ': ' + t.count })));
    // warnings: how many letters carry one (each is on its letter's row), or a list of them.
    const flagged = (plan.letters || []).filter((l) => l.warning).length;
    const warnings = Array.isArray(plan.warnings) ? plan.warnings.map(warningText)
      : plan.warnings || flagged ? [(plan.warnings || flagged) + ' letter(s) carry a warning: read them in the table below before you confirm.'] : [];
    const w = $('plan-warnings');
    w.hidden = warnings.length === 0;
    w.querySelector('ul').replaceChildren(...warnings.map((text) => el('li', { text })));
    $('plan-letters').tBodies[0].replaceChildren(...(plan.letters || []).map((l) => el('tr', {},
      el('td', { title: l.letterId, text: short(l.letterId) }), el('td', { text: l.topic || '' }), el('td', { text: l.key === null || l.key === undefined ? '(none)' : l.key }),
      el('td', { text: l.partition === null || l.partition === undefined ? '' : l.partition }), el('td', { class: l.warning ? 'warning' : '', text: l.warning ? warningText(l.warning) : '' }))));
  }

  async function confirmRedrive() {
    const r = state.redrive;
    const box = $('redrive-problem');
    const rate = Number($('redrive-rate').value) || 100;
    $('redrive-confirm').disabled = true;
    const started = await attempt(() => api('/redrive', { method: 'POST', body: { ...r.selection, ratePerSecond: rate } }), box);
    if (!started) return void ($('redrive-confirm').disabled = false);
    r.task = started.task;
    $('redrive-confirm').hidden = true;
    $('redrive-plan').hidden = true;
    $('redrive-task').hidden = false;
    renderTask(started.task);
    say('Redrive of ' + r.what + ' started.');
    await watchTask(started.task.id);
  }

  function renderTask(task) {
    const progress = $('redrive-progress');
    progress.max = Math.max(1, task.total || 0);
    progress.value = (task.sent || 0) + (task.skipped || 0);
    $('redrive-progress-text').textContent = 'Task ' + short(task.id) + ': ' + task.status + ', ' + (task.sent || 0) + ' of ' + (task.total || 0) + ' sent' +
      (task.skipped ? ', ' + task.skipped + ' skipped' : '') + (task.error ? ' (' + task.error + ')' : '') + '.';
    $('redrive-cancel-task').hidden = task.status !== 'running';
  }

  async function watchTask(id) {
    for (;;) {
      const answer = await attempt(() => api('/redrives', { query: { taskId: id } }), $('redrive-problem'));
      if (!answer) return;
      const task = answer.task;
      if (state.redrive && state.redrive.task && state.redrive.task.id === id) renderTask(task);
      if (task.status !== 'running') {
        say('Redrive task ' + short(id) + ' ' + task.status + ': ' + task.sent + ' of ' + task.total + ' sent.');
        await refresh();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function cancelTask(id) {
    const answer = await attempt(() => api('/redrives/cancel', { method: 'POST', body: { taskId: id } }), $('redrive').open ? $('redrive-problem') : undefined);
    if (!answer) return;
    if (state.redrive && state.redrive.task && state.redrive.task.id === id) renderTask(answer.task);
    say('Redrive task ' + short(id) + ' ' + answer.task.status + '.');
    await attempt(loadTasks);
  }

  // ---- redrive tasks ----
  function selectionText(sel) {
    if (!sel) return '';
    if (sel.group) return 'group ' + sel.group;
    if (sel.letterIds) return sel.letterIds.length + ' letter(s)';
    return JSON.stringify(sel);
  }

  async function loadTasks() {
    const answer = await api('/redrives');
    const tasks = answer.tasks || [];
    $('tasks-empty').hidden = tasks.length > 0;
    $('tasks').tBodies[0].replaceChildren(...tasks.map((t) => el('tr', {},
      timeCell(t.createdAt), el('td', { text: t.createdBy || '' }), el('td', { text: selectionText(t.selection) }),
      el('td', {}, el('span', { class: 'badge ' + t.status, text: t.status })), el('td', { class: 'num', text: t.sent }),
      el('td', { class: 'num', text: t.skipped }), el('td', { class: 'num', text: t.total }),
      el('td', {}, t.status === 'running' ? el('button', { type: 'button', 'aria-label': 'Cancel task ' + short(t.id), onclick: () => cancelTask(t.id), text: 'Cancel' }) : ''))));
  }

  /** After an action: everything the action may have changed, read again. */
  async function refresh() {
    await attempt(async () => {
      await loadSummary();
      await loadLetters(false);
      if (state.letter) await openLetter(state.letter.id, state.unmasked);
      await loadTasks();
    });
  }

  // ---- wiring ----
  function wire() {
    $('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('token').value.trim();
      if (token) void signIn(token);
    });
    $('signout').addEventListener('click', signOut);
    $('refresh').addEventListener('click', () => void refresh());
    $('hours').addEventListener('change', () => void attempt(loadSummary));
    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      void attempt(() => loadLetters(false));
    });
    $('filters-clear').addEventListener('click', () => {
      $('filters').reset();
      void attempt(() => loadLetters(false));
    });
    $('more').addEventListener('click', () => void attempt(() => loadLetters(true)));

    $('group-show').addEventListener('click', () => {
      $('filters').elements.namedItem('group').value = state.group.group;
      void attempt(() => loadLetters(false));
      $('letters-title').scrollIntoView();
    });
    $('group-retry').addEventListener('click', () => void retry({ group: state.group.group }, 'the group'));
    $('group-redrive').addEventListener('click', () => void openRedrive({ group: state.group.group }, 'the group ' + groupLabel(state.group)));
    $('group-park').addEventListener('click', () => void groupSettle('park'));
    $('group-discard').addEventListener('click', () => void groupSettle('discard'));

    $('detail-close').addEventListener('click', closeDetail);
    $('unmask').addEventListener('click', () => void attempt(() => openLetter(state.letter.id, !state.unmasked)));
    $('letter-retry').addEventListener('click', () => void retry({ letterIds: [state.letter.id] }, 'letter ' + short(state.letter.id)));
    $('letter-redrive').addEventListener('click', () => void openRedrive({ letterIds: [state.letter.id] }, 'letter ' + short(state.letter.id)));
    $('letter-reopen').addEventListener('click', () => void letterSettle('reopen'));
    $('letter-park').addEventListener('click', () => void letterSettle('park'));
    $('letter-discard').addEventListener('click', () => void letterSettle('discard'));

    $('redrive-confirm').addEventListener('click', () => void confirmRedrive());
    $('redrive-cancel-task').addEventListener('click', () => state.redrive && state.redrive.task && void cancelTask(state.redrive.task.id));
    $('redrive-close').addEventListener('click', () => $('redrive').close());
    $('tasks-refresh').addEventListener('click', () => void attempt(loadTasks));
  }

  wire();
  if (state.token) void signIn(state.token);
  else showSignIn();
})();
`;
