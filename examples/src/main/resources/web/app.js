// The Tasks page: plain JavaScript, no build step. Talks to the host's /api routes and follows a task's
// events with EventSource (the browser resumes with Last-Event-ID after a network drop).
//
// A task may have 100,000 events: the stream handler only queues them; once per animation frame a
// bounded batch is parsed, text_delta chunks are joined into one append to the output, and the event
// list shows only the latest events (with "show earlier"), so the page stays responsive while it replays.
(function () {
  'use strict';

  const TERMINAL = ['completed', 'failed', 'cancelled'];
  const ACTIVE = ['pending', 'running', 'waiting_for_input'];
  const RERUNNABLE = ['failed', 'cancelled'];
  const POLL_MS = 5000;
  const PAGE_SIZE = 50;
  const EVENTS_PER_FRAME = 4000;     // parse at most this many events per animation frame
  const EVENTS_SHOWN = 200;          // event list rows shown at first, and added by "show earlier"
  const EVENTS_KEPT = 20000;         // event summaries kept in memory for "show earlier"
  const OUTPUT_KEPT = 200000;        // characters of output kept on screen
  const TOOLS_KEPT = 100;            // tool calls shown (the latest)
  const TOOL_TEXT = 2000;            // characters of a tool's arguments or result shown
  const $ = (id) => document.getElementById(id);

  let lang = pickLanguage();
  let agents = {};
  let tasks = [];
  let total = null;
  let nextCursor = null;
  let view = null;
  const selected = new Set();
  const runningMs = {}; // task id -> running time computed from its status events, when the page has seen them

  // ------------------------------------------------------------------ i18n

  function pickLanguage() {
    const saved = localStorage.getItem('agent-tasks.lang');
    if (saved === 'en' || saved === 'zh') return saved;
    return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
  }

  function has(key) {
    return !!(window.I18N[lang] && window.I18N[lang][key]);
  }

  function t(key, vars) {
    let s = (window.I18N[lang] && window.I18N[lang][key]) || window.I18N.en[key] || key;
    if (vars) Object.keys(vars).forEach((k) => { s = s.split('{' + k + '}').join(vars[k]); });
    return s;
  }

  function applyI18n() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
    $('lang-switch').textContent = lang === 'zh' ? 'English' : '中文';
    renderTasks();
    renderBulk();
    if (view) { renderViewStatus(); renderEventCount(); renderTools(view); }
  }

  /** A server error in the page's language: known statuses are translated, the server's text kept in English. */
  function errorText(err) {
    if (lang !== 'en' && err.status) {
      const key = 'error.status.' + err.status;
      if (has(key)) return t(key, { field: err.field || '' }) + (err.field ? ' (' + err.field + ')' : '');
    }
    return err.message;
  }

  // ------------------------------------------------------------------ API

  function token() {
    return sessionStorage.getItem('agent-tasks.token');
  }

  let asking = null;
  function askToken() {
    if (!asking) {
      asking = new Promise((resolve) => {
        const dialog = $('token-dialog');
        $('token-input').value = '';
        dialog.addEventListener('close', () => {
          const given = $('token-input').value.trim();
          if (given) sessionStorage.setItem('agent-tasks.token', given);
          streamSession = null;
          asking = null;
          resolve(!!given);
        }, { once: true });
        dialog.showModal();
      });
    }
    return asking;
  }

  async function api(method, path, body, retried) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token()) headers['Authorization'] = 'Bearer ' + token();
    const res = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    if (res.status === 401 && !retried) {
      if (await askToken()) return api(method, path, body, true);
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error((data && data.error) || res.statusText);
      err.status = res.status;
      err.field = data && data.field;
      throw err;
    }
    return { data: data, headers: res.headers };
  }

  // EventSource can not send the token: with a token, the host sets a stream cookie on request.
  let streamSession = null;
  function ensureStreamSession() {
    if (!token()) return Promise.resolve();
    if (!streamSession) {
      streamSession = api('POST', '/api/stream-session').catch((e) => { streamSession = null; throw e; });
    }
    return streamSession;
  }

  function showError(err) {
    $('error-line').textContent = err ? t('error.request', { msg: errorText(err) }) : '';
  }

  // ------------------------------------------------------------------ list

  function statusFilter() {
    return $('status-filter').value;
  }

  function listQuery(cursor) {
    const p = new URLSearchParams();
    const status = statusFilter();
    const q = $('search-input').value.trim();
    if (status) p.set('status', status);
    if (q) p.set('q', q);
    p.set('limit', String(PAGE_SIZE));
    if (cursor) p.set('cursor', cursor);
    return '/api/tasks?' + p.toString();
  }

  async function refreshTasks() {
    try {
      // keep as many rows as are shown (after "load more"), so a refresh does not shrink the list
      const want = Math.max(PAGE_SIZE, tasks.length);
      let res = await api('GET', listQuery(null).replace('limit=' + PAGE_SIZE, 'limit=' + Math.min(want, 500)));
      tasks = res.data;
      nextCursor = res.headers.get('X-Next-Cursor');
      renderTasks();
      showError(null);
    } catch (e) {
      showError(e);
    }
  }

  async function loadMore() {
    if (!nextCursor) return;
    try {
      const res = await api('GET', listQuery(nextCursor));
      tasks = tasks.concat(res.data);
      nextCursor = res.headers.get('X-Next-Cursor');
      renderTasks();
    } catch (e) {
      showError(e);
    }
  }

  async function refreshCounts() {
    try {
      const c = (await api('GET', '/api/counts')).data;
      total = c;
      document.querySelectorAll('[data-count-of]').forEach((el) => { el.textContent = String(c[el.dataset.countOf] || 0); });
      const n = (c.running || 0) + (c.waiting_for_input || 0);
      const badge = $('running-badge');
      badge.textContent = n > 99 ? '99+' : String(n);
      badge.dataset.count = String(n);
      badge.title = t('tasks.runningBadge', { n: n });
      badge.classList.toggle('zero', n === 0);
      renderTotal();
    } catch (e) {
      // the list refresh reports errors
    }
  }

  function refreshAll() {
    refreshTasks();
    refreshCounts();
  }

  let refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refreshAll(); }, 400);
  }

  function relativeTime(iso) {
    if (!iso) return '-';
    const mins = Math.floor((Date.now() - new Date(iso).getTime()) / 60000);
    if (mins < 1) return t('time.justNow');
    if (mins < 60) return t('time.minutes', { n: mins });
    const hours = Math.floor(mins / 60);
    if (hours < 24) return t('time.hours', { n: hours });
    return t('time.days', { n: Math.floor(hours / 24) });
  }

  function exactTime(iso) {
    return iso ? new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB') + ' (' + iso + ')' : '';
  }

  function formatDuration(ms) {
    const secs = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(secs / 3600);
    const m = Math.floor((secs % 3600) / 60);
    const s = secs % 60;
    return (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + String(s).padStart(2, '0');
  }

  /**
   * Running time, not counting waits for the user: the host's running_ms (computed from the status events),
   * else what the page computed for an opened task, else "~" start to end while the host is still computing it.
   */
  function taskDuration(task) {
    if (typeof task.running_ms === 'number') return { text: formatDuration(task.running_ms), exact: true };
    if (runningMs[task.id] !== undefined) return { text: formatDuration(runningMs[task.id]), exact: true };
    if (!task.started_at) return { text: '-', exact: true };
    const end = task.completed_at ? new Date(task.completed_at) : new Date();
    return { text: '~' + formatDuration(end.getTime() - new Date(task.started_at).getTime()), exact: false };
  }

  function statusBadge(status) {
    const span = document.createElement('span');
    span.className = 'status-badge status-' + status;
    span.dataset.status = status;
    const dot = document.createElement('span');
    dot.className = 'dot';
    span.appendChild(dot);
    span.appendChild(document.createTextNode(t('tasks.status.' + status)));
    return span;
  }

  function cell(tr, content, cls) {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    tr.appendChild(td);
    return td;
  }

  function button(label, cls, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = label;
    b.addEventListener('click', (e) => { e.stopPropagation(); onClick(); });
    return b;
  }

  function renderTasks() {
    const body = $('tasks-body');
    body.textContent = '';
    if (tasks.length === 0) {
      const tr = document.createElement('tr');
      tr.className = 'empty';
      const td = cell(tr, t('tasks.empty'));
      td.colSpan = 8;
      body.appendChild(tr);
    }
    const frag = document.createDocumentFragment();
    tasks.forEach((task) => {
      const tr = document.createElement('tr');
      tr.dataset.taskId = task.id;
      tr.dataset.status = task.status;
      if (view && view.id === task.id) tr.classList.add('selected');
      tr.addEventListener('click', () => openTask(task.id));
      const check = document.createElement('input');
      check.type = 'checkbox';
      check.className = 'row-check';
      check.checked = selected.has(task.id);
      check.addEventListener('click', (e) => e.stopPropagation());
      check.addEventListener('change', () => {
        if (check.checked) selected.add(task.id); else selected.delete(task.id);
        renderBulk();
      });
      cell(tr, check, 'c-check');
      const title = document.createElement('div');
      title.className = 'title-cell';
      title.textContent = task.title;
      title.title = task.title;
      const titleTd = cell(tr, title, 'title-td');
      if (task.status === 'failed' && task.error) {
        const reason = document.createElement('span');
        reason.className = 'fail-reason';
        reason.textContent = task.error;
        reason.title = task.error;
        titleTd.appendChild(reason);
      }
      cell(tr, (agents[task.agent_id] && agents[task.agent_id].name) || task.agent_id, 'muted c-agent');
      cell(tr, statusBadge(task.status));
      cell(tr, task.model || '-', 'muted small c-model');
      const started = cell(tr, relativeTime(task.started_at || task.created_at), 'muted small c-started');
      started.title = exactTime(task.started_at || task.created_at);
      const duration = taskDuration(task);
      const dur = cell(tr, duration.text, 'mono small c-duration');
      dur.title = t(duration.exact ? 'tasks.durationHint' : 'tasks.durationEstimated');
      if (typeof task.running_ms === 'number') dur.dataset.runningMs = String(task.running_ms);
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.appendChild(button(t('tasks.actions.viewChat'), 'link-btn view-btn', () => openTask(task.id)));
      if (ACTIVE.includes(task.status)) {
        actions.appendChild(button(t('tasks.actions.cancel'), 'link-btn warn cancel-btn', () => confirmCancel(task)));
      }
      if (RERUNNABLE.includes(task.status)) {
        actions.appendChild(button(t('tasks.actions.rerun'), 'link-btn rerun-btn', () => rerun(task)));
      }
      actions.appendChild(button(t('tasks.actions.delete'), 'link-btn danger-text delete-btn', () => confirmDelete(task)));
      cell(tr, actions, 'right c-actions');
      frag.appendChild(tr);
    });
    body.appendChild(frag);
    $('more-btn').hidden = !nextCursor;
    document.querySelectorAll('.counter').forEach((b) => b.classList.toggle('active', b.dataset.status === statusFilter()));
    renderTotal();
  }

  function renderTotal() {
    const status = statusFilter();
    let n = null;
    if (total) n = status ? total[status] : total.total;
    const q = $('search-input').value.trim();
    $('list-total').textContent = n === null || q ? t('tasks.shown', { n: tasks.length })
      : t('tasks.shownOf', { n: tasks.length, total: n });
  }

  function renderBulk() {
    for (const id of Array.from(selected)) {
      if (!tasks.some((x) => x.id === id)) selected.delete(id);
    }
    $('bulk-bar').hidden = selected.size === 0;
    $('bulk-count').textContent = t('tasks.bulk.selected', { n: selected.size });
    $('select-all').checked = tasks.length > 0 && selected.size === tasks.length;
  }

  // ------------------------------------------------------------------ actions

  function confirmDialog(title, message) {
    return new Promise((resolve) => {
      const dialog = $('confirm-dialog');
      $('confirm-title').textContent = title;
      $('confirm-message').textContent = message;
      dialog.returnValue = '';
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
      dialog.showModal();
    });
  }

  async function confirmCancel(task) {
    if (!(await confirmDialog(t('tasks.actions.cancel'), t('tasks.confirmCancel', { title: task.title })))) return;
    try {
      await api('POST', '/api/tasks/' + encodeURIComponent(task.id) + '/cancel');
    } catch (e) {
      if (e.status !== 409) showError(e);
    }
    refreshAll();
  }

  async function confirmDelete(task) {
    if (!(await confirmDialog(t('tasks.actions.delete'), t('tasks.confirmDelete', { title: task.title })))) return;
    try {
      await api('DELETE', '/api/tasks/' + encodeURIComponent(task.id));
      selected.delete(task.id);
      if (view && view.id === task.id) closeView();
    } catch (e) {
      showError(e);
    }
    refreshAll();
  }

  async function rerun(task) {
    try {
      const res = await api('POST', '/api/tasks/' + encodeURIComponent(task.id) + '/rerun');
      showError(null);
      await refreshTasks();
      refreshCounts();
      openTask(res.data.id);
    } catch (e) {
      showError(e);
    }
  }

  async function bulk(kind) {
    const chosen = tasks.filter((x) => selected.has(x.id));
    if (chosen.length === 0) return;
    const names = chosen.slice(0, 3).map((x) => '"' + x.title + '"').join(', ') + (chosen.length > 3 ? ', …' : '');
    const question = t(kind === 'cancel' ? 'tasks.bulk.confirmCancel' : 'tasks.bulk.confirmDelete', { n: chosen.length, names: names });
    if (!(await confirmDialog(t(kind === 'cancel' ? 'tasks.bulk.cancel' : 'tasks.bulk.delete'), question))) return;
    const failures = [];
    for (const task of chosen) {
      try {
        if (kind === 'cancel') {
          if (ACTIVE.includes(task.status)) await api('POST', '/api/tasks/' + encodeURIComponent(task.id) + '/cancel');
        } else {
          await api('DELETE', '/api/tasks/' + encodeURIComponent(task.id));
          if (view && view.id === task.id) closeView();
        }
        selected.delete(task.id);
      } catch (e) {
        if (!(kind === 'cancel' && e.status === 409)) failures.push(e);
        else selected.delete(task.id);
      }
    }
    showError(failures[0] || null);
    refreshAll();
    renderBulk();
  }

  async function createTask(ev) {
    ev.preventDefault();
    const message = $('message-input').value.trim();
    if (!message) return;
    $('create-btn').disabled = true;
    try {
      const res = await api('POST', '/api/tasks', { agent_id: $('agent-select').value, message: message });
      $('message-input').value = '';
      showError(null);
      await refreshTasks();
      refreshCounts();
      openTask(res.data.id);
    } catch (e) {
      showError(e);
    } finally {
      $('create-btn').disabled = false;
    }
  }

  // ------------------------------------------------------------------ task view

  function setUrlTask(id) {
    const url = new URL(location.href);
    if (id) url.searchParams.set('task', id); else url.searchParams.delete('task');
    history.replaceState(null, '', url.pathname + url.search);
  }

  function closeView() {
    if (view) {
      if (view.es) view.es.close();
      if (view.frame) cancelAnimationFrame(view.frame);
    }
    view = null;
    $('task-view').hidden = true;
    setUrlTask(null);
    document.querySelectorAll('tr.selected').forEach((tr) => tr.classList.remove('selected'));
  }

  async function openTask(id) {
    if (view && view.id === id) { $('task-view').scrollIntoView({ block: 'start' }); return; }
    closeView();
    const out = $('task-output');
    out.textContent = '';
    const outText = document.createTextNode('');
    out.appendChild(outText);
    view = {
      id: id, es: null, lastSeq: 0, status: null, task: null, terminal: false, question: null,
      queue: [], frame: 0, outText: outText, outLength: 0, items: [], dropped: 0, shown: EVENTS_SHOWN,
      count: 0, runMs: 0, runningSince: null, tools: new Map()
    };
    $('task-view').hidden = false;
    $('task-view').dataset.taskId = id;
    $('task-events').textContent = '';
    $('task-tools').textContent = '';
    $('tools-box').hidden = true;
    $('output-note').hidden = true;
    $('events-earlier').hidden = true;
    $('answer-box').hidden = true;
    $('view-error').textContent = '';
    $('view-id').textContent = id;
    $('view-duration').textContent = '';
    setStreamState(null);
    renderEventCount();
    setUrlTask(id);
    document.querySelectorAll('#tasks-body tr').forEach((tr) => tr.classList.toggle('selected', tr.dataset.taskId === id));
    $('task-view').scrollIntoView({ block: 'start' });
    try {
      const task = (await api('GET', '/api/tasks/' + encodeURIComponent(id))).data;
      if (!view || view.id !== id) return;
      view.task = task;
      $('view-title').textContent = task.title;
      $('view-agent').textContent = (agents[task.agent_id] && agents[task.agent_id].name) || task.agent_id;
      view.status = task.status;
      renderViewStatus();
    } catch (e) {
      if (view && view.id === id) $('view-error').textContent = t('error.request', { msg: errorText(e) });
      return;
    }
    connect();
  }

  async function connect() {
    const v = view;
    try {
      await ensureStreamSession();
    } catch (e) {
      if (view === v) $('view-error').textContent = t('error.request', { msg: errorText(e) });
      return;
    }
    if (view !== v) return;
    const url = '/api/tasks/' + encodeURIComponent(v.id) + '/stream?named_events=false'
      + (v.lastSeq > 0 ? '&after=' + v.lastSeq : '');
    const es = new EventSource(url);
    v.es = es;
    es.onopen = () => { if (view === v) setStreamState('view.live'); };
    es.onmessage = (e) => {
      if (view !== v) return;
      v.queue.push(e.data);
      schedule(v);
    };
    es.addEventListener('stream_error', (e) => {
      es.close();
      if (view !== v) return;
      const data = JSON.parse(e.data);
      $('view-error').textContent = data.code === 'deleted' ? t('view.deleted') : data.error;
      setStreamState('view.ended');
    });
    es.onerror = () => {
      if (view !== v || v.terminal) return;
      setStreamState('view.reconnecting');
      if (es.readyState === EventSource.CLOSED) {
        // the browser gave up (a 401, 429 or 503): resume by hand after the last seq seen, with a fresh cookie
        streamSession = null;
        setTimeout(() => { if (view === v && !v.terminal) { flush(v); connect(); } }, 3000);
      }
    };
  }

  function setStreamState(key) {
    const el = $('stream-state');
    if (key) { el.dataset.i18n = key; el.textContent = t(key); } else { delete el.dataset.i18n; el.textContent = ''; }
  }

  function schedule(v) {
    if (!v.frame) v.frame = requestAnimationFrame(() => { v.frame = 0; flush(v); });
  }

  /** Applies queued events: one output append, one list update, one status render, per frame. */
  function flush(v) {
    if (view !== v || v.queue.length === 0) return;
    const batch = v.queue.length > EVENTS_PER_FRAME ? v.queue.splice(0, EVENTS_PER_FRAME) : v.queue.splice(0);
    let text = '';
    let statusChanged = false;
    let toolsChanged = false;
    let fresh = 0;
    for (const raw of batch) {
      const ev = JSON.parse(raw);
      if (ev.seq <= v.lastSeq) continue; // never shown twice
      v.lastSeq = ev.seq;
      v.count++;
      fresh++;
      const data = ev.data || {};
      switch (ev.type) {
        case 'text_delta':
          text += data.text || '';
          break;
        case 'user_message': {
          const said = data.text || (data.content ? '[content]' : '');
          const before = text || (v.outLength > 0 ? v.outText.data.slice(-1) : '');
          text += (before && !before.endsWith('\n') ? '\n' : '') + '> ' + said + '\n';
          break;
        }
        case 'ask_user_question':
          v.question = data;
          break;
        case 'tool_call':
          text += lineBreak(v, text) + '[tool] ' + data.name + ' ' + clip(argText(data.arguments), 200) + '\n';
          toolUpdate(v, data, { name: data.name, args: argText(data.arguments),
            state: data.approval === 'required' ? 'approval' : 'running' });
          toolsChanged = true;
          break;
        case 'tool_approval':
          toolUpdate(v, data, { state: data.approved ? 'approved' : 'denied', reply: data.reply });
          toolsChanged = true;
          break;
        case 'tool_result':
          text += lineBreak(v, text) + '[' + (data.outcome || 'ok') + '] ' + data.name + ' → '
            + clip(String(data.result === undefined ? '' : data.result), 200) + '\n';
          toolUpdate(v, data, { state: data.outcome || 'ok', result: String(data.result === undefined ? '' : data.result) });
          toolsChanged = true;
          break;
        case 'status':
          trackRunning(v, data.status, ev.timestamp);
          if (data.question) v.question = data.question;
          v.status = data.status;
          statusChanged = true;
          if (TERMINAL.includes(data.status)) {
            v.terminal = true;
            if (v.es) v.es.close();
            setStreamState('view.ended');
            if (data.status === 'failed' && data.error) $('view-error').textContent = data.error;
          }
          break;
        default:
          break;
      }
      v.items.push({ seq: ev.seq, type: ev.type, text: summary(ev) });
    }
    if (v.items.length > EVENTS_KEPT + 1000) {
      const drop = v.items.length - EVENTS_KEPT;
      v.items.splice(0, drop);
      v.dropped += drop;
    }
    if (text) appendOutput(v, text);
    if (fresh) renderEvents(v);
    if (toolsChanged) renderTools(v);
    if (statusChanged) {
      renderViewStatus();
      refreshSoon();
    }
    renderEventCount();
    if (v.queue.length) schedule(v);
  }

  function trackRunning(v, status, timestamp) {
    const at = timestamp ? new Date(timestamp).getTime() : Date.now();
    if (v.runningSince !== null) {
      v.runMs += Math.max(0, at - v.runningSince);
      v.runningSince = null;
    }
    if (status === 'running') v.runningSince = at;
    runningMs[v.id] = v.runMs;
  }

  function summary(ev) {
    const d = ev.data || {};
    let s;
    switch (ev.type) {
      case 'text_delta': s = JSON.stringify(d.text); break;
      case 'tool_call': s = d.name + ' ' + argText(d.arguments) + (d.approval === 'required' ? ' (approval)' : ''); break;
      case 'tool_approval': s = d.name + ': ' + (d.approved ? 'approved' : 'denied') + (d.reply ? ' (' + d.reply + ')' : ''); break;
      case 'tool_result': s = d.name + ' → ' + (d.outcome || 'ok') + ': ' + d.result; break;
      default: s = JSON.stringify(d);
    }
    return clip(s, 200);
  }

  function clip(s, n) {
    return s && s.length > n ? s.slice(0, n) + '…' : s;
  }

  /** A tool's arguments: the model's JSON text, shown compact; anything else as JSON. */
  function argText(args) {
    if (typeof args !== 'string') return JSON.stringify(args === undefined ? {} : args);
    try { return JSON.stringify(JSON.parse(args)); } catch (e) { return args; }
  }

  function lineBreak(v, text) {
    const before = text || (v.outLength > 0 ? v.outText.data.slice(-1) : '');
    return before && !before.endsWith('\n') ? '\n' : '';
  }

  /** Records a tool call's change under its id; only the latest TOOLS_KEPT calls are kept. */
  function toolUpdate(v, data, change) {
    const id = String(data.id || data.name);
    const tool = v.tools.get(id) || { id: id, name: data.name, args: '', state: 'running', result: null, reply: null };
    Object.assign(tool, change);
    v.tools.delete(id); // re-inserted last: the map keeps the order of the latest change
    v.tools.set(id, tool);
    while (v.tools.size > TOOLS_KEPT) v.tools.delete(v.tools.keys().next().value);
  }

  function renderTools(v) {
    const list = $('task-tools');
    const frag = document.createDocumentFragment();
    const ordered = Array.from(v.tools.values());
    ordered.forEach((tool) => {
      const li = document.createElement('li');
      li.dataset.toolId = tool.id;
      li.dataset.tool = tool.name;
      li.dataset.state = tool.state;
      const head = document.createElement('div');
      head.className = 'tool-head';
      const name = document.createElement('span');
      name.className = 'tool-name';
      name.textContent = tool.name;
      const state = document.createElement('span');
      state.className = 'tool-state';
      state.textContent = has('tool.state.' + tool.state) ? t('tool.state.' + tool.state) : tool.state;
      head.append(name, state);
      const args = document.createElement('pre');
      args.className = 'tool-args';
      args.textContent = clip(tool.args, TOOL_TEXT);
      li.append(head, args);
      if (tool.result !== null) {
        const result = document.createElement('pre');
        result.className = 'tool-result';
        result.title = t('tool.result');
        result.textContent = clip(tool.result, TOOL_TEXT);
        li.appendChild(result);
      }
      frag.appendChild(li);
    });
    const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
    list.textContent = '';
    list.appendChild(frag);
    $('tools-box').hidden = ordered.length === 0;
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function appendOutput(v, text) {
    const out = $('task-output');
    const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 30;
    if (v.outLength + text.length > OUTPUT_KEPT * 1.5) {
      const all = (v.outText.data + text).slice(-OUTPUT_KEPT);
      v.outText.data = all;
      v.outLength = all.length;
      $('output-note').hidden = false;
    } else {
      v.outText.appendData(text);
      v.outLength += text.length;
    }
    if (stick) out.scrollTop = out.scrollHeight;
  }

  function eventRow(item) {
    const li = document.createElement('li');
    li.dataset.seq = item.seq;
    li.dataset.type = item.type;
    const seq = document.createElement('span');
    seq.className = 'seq';
    seq.textContent = '#' + item.seq;
    const type = document.createElement('span');
    type.className = 'etype etype-' + item.type.replace(/[^a-z_]/gi, '');
    type.textContent = item.type;
    const body = document.createElement('span');
    body.className = 'edata';
    body.textContent = item.text;
    li.append(seq, type, body);
    return li;
  }

  /** Shows the last v.shown events: new rows are appended, the oldest beyond the window removed. */
  function renderEvents(v) {
    const list = $('task-events');
    const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
    const from = Math.max(0, v.items.length - v.shown);
    const firstShown = list.firstElementChild ? Number(list.firstElementChild.dataset.seq) : null;
    const lastShown = list.lastElementChild ? Number(list.lastElementChild.dataset.seq) : 0;
    const frag = document.createDocumentFragment();
    if (firstShown === null || v.items[from].seq < firstShown) {
      list.textContent = '';
      for (let i = from; i < v.items.length; i++) frag.appendChild(eventRow(v.items[i]));
    } else {
      let i = v.items.length;
      while (i > from && v.items[i - 1].seq > lastShown) i--;
      for (; i < v.items.length; i++) frag.appendChild(eventRow(v.items[i]));
    }
    list.appendChild(frag);
    while (list.childElementCount > v.shown) list.removeChild(list.firstElementChild);
    $('events-earlier').hidden = from === 0;
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function showEarlier() {
    if (!view) return;
    view.shown += EVENTS_SHOWN * 5;
    $('task-events').textContent = '';
    renderEvents(view);
    $('task-events').scrollTop = 0;
  }

  function renderEventCount() {
    const el = $('event-count');
    const n = view ? view.count : 0;
    el.dataset.count = String(n);
    el.dataset.lastSeq = String(view ? view.lastSeq : 0);
    el.textContent = '(' + n.toLocaleString() + ')';
  }

  function renderViewStatus() {
    const v = view;
    const holder = $('view-status');
    holder.textContent = '';
    if (v.status) holder.appendChild(statusBadge(v.status));
    const waiting = v.status === 'waiting_for_input';
    $('answer-box').hidden = !waiting;
    $('view-cancel').hidden = !ACTIVE.includes(v.status);
    $('view-rerun').hidden = !RERUNNABLE.includes(v.status);
    $('view-delete').hidden = !v.task;
    const q = v.question || {};
    const approval = waiting && q.type === 'approval';
    $('approval-box').hidden = !approval;
    $('question-box').hidden = approval;
    $('answer-input').placeholder = t(approval ? 'view.denyHint' : 'view.answerPlaceholder');
    if (approval) {
      $('approval-tool').textContent = q.tool || '';
      $('approval-args').textContent = clip(argText(q.arguments), TOOL_TEXT);
    } else if (waiting) {
      $('question-text').textContent = typeof q === 'string' ? q : (q.question || JSON.stringify(q));
      const box = $('question-options');
      box.textContent = '';
      (Array.isArray(q.options) ? q.options : []).forEach((option) => {
        const label = typeof option === 'string' ? option : (option.label || JSON.stringify(option));
        box.appendChild(button(label, 'option-btn', () => sendAnswer(label)));
      });
    }
    renderViewDuration();
  }

  function renderViewDuration() {
    const v = view;
    if (!v) return;
    const live = v.runningSince !== null ? Math.max(0, Date.now() - v.runningSince) : 0;
    $('view-duration').textContent = v.count ? formatDuration(v.runMs + live) : '';
    $('view-duration').title = t('tasks.durationHint');
  }

  async function sendAnswer(given) {
    const text = (typeof given === 'string' ? given : $('answer-input').value).trim();
    if (!text || !view) return;
    const buttons = [$('answer-send'), $('approve-btn'), $('deny-btn')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', '/api/tasks/' + encodeURIComponent(view.id) + '/message', { message: text });
      $('answer-input').value = '';
      $('answer-box').hidden = true;
    } catch (e) {
      $('view-error').textContent = t('error.request', { msg: errorText(e) });
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // ------------------------------------------------------------------ start

  async function loadAgents() {
    try {
      const list = (await api('GET', '/api/agents')).data;
      const select = $('agent-select');
      select.textContent = '';
      list.forEach((a) => {
        agents[a.id] = a;
        const o = document.createElement('option');
        o.value = a.id;
        o.textContent = a.name + (a.model ? ' (' + a.model + ')' : '');
        select.appendChild(o);
      });
    } catch (e) {
      showError(e);
    }
  }

  function init() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem('agent-tasks.token', decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    $('lang-switch').addEventListener('click', () => {
      lang = lang === 'zh' ? 'en' : 'zh';
      localStorage.setItem('agent-tasks.lang', lang);
      applyI18n();
    });
    $('create-form').addEventListener('submit', createTask);
    $('status-filter').addEventListener('change', () => { tasks = []; refreshTasks(); });
    document.querySelectorAll('.counter').forEach((b) => b.addEventListener('click', () => {
      $('status-filter').value = statusFilter() === b.dataset.status ? '' : b.dataset.status;
      tasks = [];
      refreshTasks();
    }));
    let debounce = null;
    $('search-input').addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => { tasks = []; refreshTasks(); }, 250);
    });
    $('more-btn').addEventListener('click', loadMore);
    $('select-all').addEventListener('change', () => {
      if ($('select-all').checked) tasks.forEach((x) => selected.add(x.id)); else selected.clear();
      renderTasks();
      renderBulk();
    });
    $('bulk-cancel').addEventListener('click', () => bulk('cancel'));
    $('bulk-delete').addEventListener('click', () => bulk('delete'));
    $('view-close').addEventListener('click', closeView);
    $('view-cancel').addEventListener('click', () => { if (view && view.task) confirmCancel(view.task); });
    $('view-rerun').addEventListener('click', () => { if (view && view.task) rerun(view.task); });
    $('view-delete').addEventListener('click', () => { if (view && view.task) confirmDelete(view.task); });
    $('events-earlier').addEventListener('click', showEarlier);
    $('answer-send').addEventListener('click', () => sendAnswer());
    // the LangChain4j runner reads "approve" as approval and anything else as a denial (with it as the reason)
    $('approve-btn').addEventListener('click', () => sendAnswer('approve'));
    $('deny-btn').addEventListener('click', () => sendAnswer('deny'));
    $('answer-input').addEventListener('keydown', (e) => { if (e.key === 'Enter') sendAnswer(); });
    applyI18n();
    loadAgents().then(() => {
      refreshAll();
      const linked = new URLSearchParams(location.search).get('task');
      if (linked) openTask(linked);
    });
    setInterval(() => { refreshAll(); renderViewDuration(); }, POLL_MS);
  }

  init();
})();
