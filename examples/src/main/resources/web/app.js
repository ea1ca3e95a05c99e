// The Tasks page: plain JavaScript, no build step. Talks to the host's /api routes and follows a task's
// events with EventSource (the browser resumes with Last-Event-ID after a network drop).
(function () {
  'use strict';

  const TERMINAL = ['completed', 'failed', 'cancelled'];
  const ACTIVE = ['pending', 'running', 'waiting_for_input'];
  const POLL_MS = 5000;
  const $ = (id) => document.getElementById(id);

  let lang = pickLanguage();
  let agents = {};
  let tasks = [];
  let nextCursor = null;
  let view = null; // {id, es, lastSeq, status, terminal}

  // ------------------------------------------------------------------ i18n

  function pickLanguage() {
    const saved = localStorage.getItem('agent-tasks.lang');
    if (saved === 'en' || saved === 'zh') return saved;
    return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
  }

  function t(key, vars) {
    let s = (window.I18N[lang] && window.I18N[lang][key]) || window.I18N.en[key] || key;
    if (vars) Object.keys(vars).forEach((k) => { s = s.replace('{' + k + '}', vars[k]); });
    return s;
  }

  function applyI18n() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
    $('lang-switch').textContent = lang === 'zh' ? 'English' : '中文';
    renderTasks();
    if (view) renderViewStatus();
  }

  // ------------------------------------------------------------------ API

  function token() {
    return sessionStorage.getItem('agent-tasks.token');
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
      const given = window.prompt(t('error.token'));
      if (given) {
        sessionStorage.setItem('agent-tasks.token', given.trim());
        return api(method, path, body, true);
      }
    }
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const err = new Error((data && data.error) || res.statusText);
      err.status = res.status;
      throw err;
    }
    return { data: data, headers: res.headers };
  }

  function showError(err) {
    $('error-line').textContent = err ? t('error.request', { msg: err.message }) : '';
  }

  // ------------------------------------------------------------------ list

  function listQuery(cursor) {
    const p = new URLSearchParams();
    const status = $('status-filter').value;
    const q = $('search-input').value.trim();
    if (status) p.set('status', status);
    if (q) p.set('q', q);
    p.set('limit', '50');
    if (cursor) p.set('cursor', cursor);
    return '/api/tasks?' + p.toString();
  }

  async function refreshTasks() {
    try {
      const res = await api('GET', listQuery(null));
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

  async function refreshBadge() {
    try {
      const res = await api('GET', '/api/tasks/running/count');
      const n = res.data.count;
      const badge = $('running-badge');
      badge.textContent = n > 99 ? '99+' : String(n);
      badge.dataset.count = String(n);
      badge.title = t('tasks.runningBadge', { n: n });
      badge.classList.toggle('zero', n === 0);
    } catch (e) {
      // the list refresh reports errors
    }
  }

  function refreshAll() {
    refreshTasks();
    refreshBadge();
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

  function duration(startedAt, completedAt) {
    if (!startedAt) return '-';
    const end = completedAt ? new Date(completedAt) : new Date();
    const secs = Math.max(0, Math.floor((end.getTime() - new Date(startedAt).getTime()) / 1000));
    const m = Math.floor(secs / 60);
    const s = secs % 60;
    return m + ':' + String(s).padStart(2, '0');
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
      td.colSpan = 7;
      body.appendChild(tr);
    }
    tasks.forEach((task) => {
      const tr = document.createElement('tr');
      tr.dataset.taskId = task.id;
      tr.dataset.status = task.status;
      if (view && view.id === task.id) tr.classList.add('selected');
      tr.addEventListener('click', () => openTask(task.id));
      cell(tr, task.title, 'title-cell').title = task.title;
      cell(tr, (agents[task.agent_id] && agents[task.agent_id].name) || task.agent_id, 'muted');
      cell(tr, statusBadge(task.status));
      cell(tr, task.model || '-', 'muted small');
      cell(tr, relativeTime(task.started_at || task.created_at), 'muted small');
      cell(tr, duration(task.started_at, task.completed_at), 'mono small');
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.appendChild(button(t('tasks.actions.viewChat'), 'link-btn view-btn', () => openTask(task.id)));
      if (ACTIVE.includes(task.status)) {
        actions.appendChild(button(t('tasks.actions.cancel'), 'link-btn warn cancel-btn', () => confirmCancel(task)));
      }
      actions.appendChild(button(t('tasks.actions.delete'), 'link-btn danger-text delete-btn', () => confirmDelete(task)));
      cell(tr, actions, 'right');
      body.appendChild(tr);
    });
    $('more-btn').hidden = !nextCursor;
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
    if (!(await confirmDialog(t('tasks.actions.cancel'), t('tasks.confirmCancel')))) return;
    try {
      await api('POST', '/api/tasks/' + encodeURIComponent(task.id) + '/cancel');
    } catch (e) {
      if (e.status !== 409) showError(e);
    }
    refreshAll();
  }

  async function confirmDelete(task) {
    if (!(await confirmDialog(t('tasks.actions.delete'), t('tasks.confirmDelete')))) return;
    try {
      await api('DELETE', '/api/tasks/' + encodeURIComponent(task.id));
      if (view && view.id === task.id) closeView();
    } catch (e) {
      showError(e);
    }
    refreshAll();
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
      refreshBadge();
      openTask(res.data.id);
    } catch (e) {
      showError(e);
    } finally {
      $('create-btn').disabled = false;
    }
  }

  // ------------------------------------------------------------------ task view

  function closeView() {
    if (view && view.es) view.es.close();
    view = null;
    $('task-view').hidden = true;
    document.querySelectorAll('tr.selected').forEach((tr) => tr.classList.remove('selected'));
  }

  async function openTask(id) {
    if (view && view.id === id) return;
    closeView();
    view = { id: id, es: null, lastSeq: 0, status: null, terminal: false, question: null };
    $('task-view').hidden = false;
    $('task-view').dataset.taskId = id;
    $('task-output').textContent = '';
    $('task-events').textContent = '';
    $('answer-box').hidden = true;
    $('view-error').textContent = '';
    $('view-id').textContent = id;
    $('stream-state').textContent = '';
    document.querySelectorAll('#tasks-body tr').forEach((tr) => tr.classList.toggle('selected', tr.dataset.taskId === id));
    try {
      const task = (await api('GET', '/api/tasks/' + encodeURIComponent(id))).data;
      if (!view || view.id !== id) return;
      $('view-title').textContent = task.title;
      $('view-agent').textContent = (agents[task.agent_id] && agents[task.agent_id].name) || task.agent_id;
      view.status = task.status;
      renderViewStatus();
    } catch (e) {
      $('view-error').textContent = t('error.request', { msg: e.message });
      return;
    }
    connect();
  }

  function connect() {
    const v = view;
    const url = '/api/tasks/' + encodeURIComponent(v.id) + '/stream?named_events=false'
      + (v.lastSeq > 0 ? '&after=' + v.lastSeq : '');
    const es = new EventSource(url);
    v.es = es;
    es.onopen = () => { if (view === v) $('stream-state').textContent = t('view.live'); };
    es.onmessage = (e) => { if (view === v) onEvent(JSON.parse(e.data)); };
    es.addEventListener('stream_error', (e) => {
      es.close();
      if (view !== v) return;
      const data = JSON.parse(e.data);
      $('view-error').textContent = data.code === 'deleted' ? t('view.deleted') : data.error;
      $('stream-state').textContent = t('view.ended');
    });
    es.onerror = () => {
      if (view !== v || v.terminal) return;
      $('stream-state').textContent = t('view.reconnecting');
      if (es.readyState === EventSource.CLOSED) {
        // the browser gave up (for example a 429 or 503): resume by hand after the last seq seen
        setTimeout(() => { if (view === v && !v.terminal) connect(); }, 3000);
      }
    };
  }

  function onEvent(ev) {
    if (ev.seq <= view.lastSeq) return; // never shown twice
    view.lastSeq = ev.seq;
    const data = ev.data || {};
    switch (ev.type) {
      case 'text_delta':
        $('task-output').textContent += data.text || '';
        break;
      case 'user_message': {
        const out = $('task-output');
        const said = data.text || (data.content ? '[content]' : '');
        out.textContent += (out.textContent && !out.textContent.endsWith('\n') ? '\n' : '') + '> ' + said + '\n';
        break;
      }
      case 'ask_user_question':
        view.question = data.question || JSON.stringify(data);
        break;
      case 'status':
        view.status = data.status;
        renderViewStatus();
        if (TERMINAL.includes(data.status)) {
          view.terminal = true;
          view.es.close();
          $('stream-state').textContent = t('view.ended');
          if (data.status === 'failed' && data.error) $('view-error').textContent = data.error;
          refreshAll();
        } else {
          refreshAll();
        }
        break;
      default:
        break;
    }
    logEvent(ev);
  }

  function logEvent(ev) {
    const li = document.createElement('li');
    li.dataset.seq = ev.seq;
    li.dataset.type = ev.type;
    const seq = document.createElement('span');
    seq.className = 'seq';
    seq.textContent = '#' + ev.seq;
    const type = document.createElement('span');
    type.className = 'etype etype-' + ev.type.replace(/[^a-z_]/gi, '');
    type.textContent = ev.type;
    const body = document.createElement('span');
    body.className = 'edata';
    const d = ev.data || {};
    body.textContent = ev.type === 'text_delta' ? JSON.stringify(d.text) : JSON.stringify(d);
    li.append(seq, type, body);
    const list = $('task-events');
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    const out = $('task-output');
    out.scrollTop = out.scrollHeight;
  }

  function renderViewStatus() {
    const holder = $('view-status');
    holder.textContent = '';
    if (view.status) holder.appendChild(statusBadge(view.status));
    const waiting = view.status === 'waiting_for_input';
    $('answer-box').hidden = !waiting;
    if (waiting) $('question-text').textContent = view.question || '';
  }

  async function sendAnswer() {
    const text = $('answer-input').value.trim();
    if (!text || !view) return;
    $('answer-send').disabled = true;
    try {
      await api('POST', '/api/tasks/' + encodeURIComponent(view.id) + '/message', { message: text });
      $('answer-input').value = '';
      $('answer-box').hidden = true;
    } catch (e) {
      $('view-error').textContent = t('error.request', { msg: e.message });
    } finally {
      $('answer-send').disabled = false;
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
    $('status-filter').addEventListener('change', refreshTasks);
    let debounce = null;
    $('search-input').addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(refreshTasks, 250);
    });
    $('more-btn').addEventListener('click', loadMore);
    $('view-close').addEventListener('click', closeView);
    $('answer-send').addEventListener('click', sendAnswer);
    $('answer-input').addEventListener('keydown', (e) => { if (e.key === 'Enter') sendAnswer(); });
    applyI18n();
    loadAgents().then(refreshAll);
    setInterval(refreshAll, POLL_MS);
  }

  init();
})();
