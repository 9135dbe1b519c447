// /console.js: the console's shell (plain browser JavaScript, no build step). It keeps the token,
// talks to the API, asks for confirmation, switches views, refreshes on a timer, and draws the
// dashboard, the event tail, the configuration and the commands. /console-views.js (the queue,
// held files and dead letters) registers its views on window.SG. Every value is set with
// textContent or as a DOM node, never as HTML. No template literals in the script: it is a
// String.raw here.
export const CONSOLE_JS = String.raw`'use strict';
(function () {
  var KEY = 'spoolgate.token';
  var REFRESH_MS = 5000;
  var MAX_EVENT_ROWS = 200;
  var SG = window.SG = { views: {}, authed: false };
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function token() { return sessionStorage.getItem(KEY) || ''; }
  function age(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return '–';
    var s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }
  function ageOf(iso) { return iso ? age((Date.now() - Date.parse(iso)) / 1000) : '–'; }
  function slug(s) { return String(s).toLowerCase().replace(/[^a-z0-9]+/g, '-'); }
  SG.$ = $; SG.el = el; SG.clear = clear; SG.age = age; SG.ageOf = ageOf; SG.slug = slug;

  function setConn(text, failed) {
    var c = $('conn');
    c.textContent = text;
    c.classList.toggle('failed', !!failed);
  }

  // ---- token ----
  function setAuthed(yes, why) {
    SG.authed = yes;
    document.body.classList.toggle('no-token', !yes);
    $('login').hidden = yes;
    if (!yes) $('login-error').textContent = why || '';
    document.querySelectorAll('.act').forEach(function (b) { b.disabled = !yes; });
    document.querySelectorAll('main input, main select').forEach(function (b) { if (b.id !== 'token') b.disabled = !yes; });
  }
  SG.setAuthed = setAuthed;

  // One API call: {status, ok, body}. 401 drops back to the token prompt.
  async function api(method, path, body) {
    if (token() === '') { setAuthed(false, ''); return { status: 0, ok: false, body: { error: 'no token' } }; }
    var res;
    try {
      var init = { method: method, headers: { 'Authorization': 'Bearer ' + token() }, cache: 'no-store' };
      if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
      res = await fetch(path, init);
    } catch (e) {
      setConn('cannot reach the gateway: ' + e.message, true);
      return { status: 0, ok: false, body: { error: 'cannot reach the gateway: ' + e.message } };
    }
    // The send-only token (http-send.token) is a valid token of a narrower scope: 403 insufficient_scope.
    if (res.status === 403 && /insufficient_scope/.test(res.headers.get('WWW-Authenticate') || '')) {
      sessionStorage.removeItem(KEY);
      setAuthed(false, 'That is the send-only token (http-send.token): it may only send mail. The console needs the operator token, http.token.');
      return { status: 403, ok: false, body: { error: 'send-only token' } };
    }
    if (res.status === 401) {
      sessionStorage.removeItem(KEY);
      setAuthed(false, 'The gateway refused that token (401). Paste the current contents of the token file.');
      return { status: 401, ok: false, body: { error: 'token refused' } };
    }
    var data;
    try { data = await res.json(); } catch (e) { data = { ok: false, error: 'HTTP ' + res.status + ': not JSON' }; }
    if (data === null || typeof data !== 'object') data = { ok: false, error: 'HTTP ' + res.status };
    return { status: res.status, ok: res.ok && data.ok !== false, body: data };
  }
  SG.api = api;

  // ---- confirmation: a modal dialog; resolves {ok, reason} ----
  var pending = null;
  function confirmAction(text, opts) {
    opts = opts || {};
    var d = $('confirm');
    $('confirm-text').textContent = text;
    $('confirm-reason-row').hidden = !opts.reason;
    $('confirm-reason').value = '';
    $('confirm-ok').textContent = opts.label || 'Confirm';
    return new Promise(function (resolve) {
      pending = resolve;
      d.showModal();
      (opts.reason ? $('confirm-reason') : $('confirm-cancel')).focus();
    });
  }
  function closeConfirm(ok) {
    var d = $('confirm');
    if (d.open) d.close();
    var r = pending;
    pending = null;
    if (r) r({ ok: ok, reason: $('confirm-reason').value.trim() });
  }
  SG.confirm = confirmAction;

  // ---- operator commands ----
  async function command(line) {
    var out = $('answer');
    out.textContent = '> ' + line + ' ...';
    var r = await api('POST', '/api/v1/command', { command: line });
    var lines = Array.isArray(r.body.lines) ? r.body.lines : ['HTTP ' + r.status + ': ' + (r.body.error || 'no answer')];
    out.textContent = '> ' + line + '\n' + lines.join('\n');
    out.classList.toggle('failed', !r.ok);
    setConn((r.ok ? 'done: ' : 'failed: ') + line, !r.ok);
    refreshSoon();
    return r;
  }
  SG.command = command;
  async function runButtonCommand(b) {
    var line = b.getAttribute('data-command');
    var ask = b.getAttribute('data-confirm');
    if (ask) {
      var c = await confirmAction(line + ': ' + ask, { label: line });
      if (!c.ok) { setConn('cancelled: ' + line, false); return; }
    }
    await command(line);
  }

  // ---- views ----
  var TABS = ['dashboard', 'queue', 'held', 'dead', 'events', 'config', 'commands'];
  var current = 'dashboard';
  function show(tab) {
    if (TABS.indexOf(tab) < 0) tab = 'dashboard';
    current = tab;
    TABS.forEach(function (t) { $('tab-' + t).hidden = t !== tab; });
    document.querySelectorAll('nav button').forEach(function (b) {
      if (b.getAttribute('data-tab') === tab) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    });
    if (location.hash !== '#' + tab) history.replaceState(null, '', '#' + tab);
    refreshSoon();
  }
  SG.show = show;

  // ---- dashboard ----
  var STATES = ['processing', 'retry', 'extended', 'held', 'dead', 'quarantined'];
  var TILE_CLASS = { retry: 'warn', extended: 'warn', dead: 'bad', held: 'bad', quarantined: 'bad' };
  function renderCounts(r) {
    var box = $('counts');
    clear(box);
    if (!r.ok) {
      box.appendChild(el('p', 'hint', r.status === 404 ? 'The queue API is not available on this gateway.' : 'Queue summary: ' + (r.body.error || 'HTTP ' + r.status)));
      $('oldest').textContent = '–';
      return;
    }
    var counts = r.body.counts || {};
    STATES.concat(Object.keys(counts).filter(function (k) { return STATES.indexOf(k) < 0; })).forEach(function (s) {
      var n = counts[s] || 0;
      var t = el('button', 'tile' + (n > 0 && TILE_CLASS[s] ? ' ' + TILE_CLASS[s] : ''));
      t.type = 'button';
      t.setAttribute('data-state', s);
      t.appendChild(el('span', 'n', n));
      t.appendChild(document.createTextNode(s));
      t.addEventListener('click', function () { if (SG.views.queue) SG.views.queue.filter('f-state', s); show('queue'); });
      box.appendChild(t);
    });
    $('oldest').textContent = r.body.oldestAgeSeconds === null || r.body.oldestAgeSeconds === undefined ? 'none waiting' : age(r.body.oldestAgeSeconds);
  }
  function renderTargets(targets) {
    var ul = $('targets');
    clear(ul);
    if (targets.length === 0) ul.appendChild(el('li', 'hint', 'no targets'));
    targets.forEach(function (t) {
      var li = el('li', 'target s-' + slug(t.state));
      li.setAttribute('data-address', t.address + ':' + t.port);
      li.setAttribute('data-state', t.state);
      li.appendChild(el('strong', null, t.address + ':' + t.port));
      if (t.source && t.source.name) li.appendChild(el('span', 'hint', ' (' + t.source.name + ')'));
      li.appendChild(el('span', 'state', t.state));
      li.appendChild(el('span', 'hint', ' · sent ' + t.mailSent + ' of ' + t.mailAttempts + ' attempts · connect failures ' + t.connectFail));
      if (t.lastError) li.appendChild(el('span', 'err', 'last error: ' + t.lastError));
      ul.appendChild(li);
    });
  }
  function drawThroughput(tp) {
    $('throughput-text').textContent = tp.delivered + ' delivered, ' + tp.undeliverable + ' undeliverable, ' + tp.extended + ' to extended retry in the last hour';
    var c = $('throughput');
    var w = Math.max(120, c.clientWidth || 600);
    c.width = w;
    var h = c.height;
    var g = c.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, w, h);
    var max = 1;
    tp.perMinute.forEach(function (m) { max = Math.max(max, m.delivered + m.undeliverable + m.extended); });
    var bw = w / tp.perMinute.length;
    tp.perMinute.forEach(function (m, i) {
      var y = h;
      [['delivered', '#1b7a2e'], ['extended', '#c58a00'], ['undeliverable', '#b3141b']].forEach(function (p) {
        var bh = Math.round((m[p[0]] / max) * (h - 4));
        if (bh <= 0) return;
        g.fillStyle = p[1];
        g.fillRect(i * bw + 1, y - bh, Math.max(1, bw - 2), bh);
        y -= bh;
      });
    });
  }
  function renderStatus(s) {
    $('instance').textContent = s.instance;
    var sus = s.suspendMode !== 'none';
    $('banner-suspended').hidden = !sus;
    $('suspend-mode').textContent = s.suspendMode === 'delay' ? '(DELAY): no new spool file is started; the ones being read are finished.' : '(immediate): no mail is read from the spool; it waits there until RESUME.';
    $('banner-wait').hidden = !s.waitReason;
    $('banner-wait').textContent = s.waitReason ? 'Sending waits: ' + s.waitReason : '';
    renderTargets(s.targets);
    drawThroughput(s.throughput);
    var fl = $('faults');
    clear(fl);
    s.faults.forEach(function (f) { fl.appendChild(el('li', null, f.component + (f.disabling ? ' (role disabled)' : '') + ' since ' + f.since + ': ' + f.problem)); });
    $('faults-box').hidden = s.faults.length === 0;
    var lv = $('level');
    if (document.activeElement !== lv && !lv.getAttribute('data-dirty')) lv.value = String(s.logLevel);
    $('level-names').textContent = s.logLevelNames.length ? '= ' + s.logLevelNames.join(' + ') : '= nothing but errors';
  }
  // The age histogram by target (qshape): one row per target, one column per age bucket.
  function renderShape(r) {
    var rows = r.ok && Array.isArray(r.body.rows) ? r.body.rows : [];
    $('shape-box').hidden = rows.length === 0;
    if (rows.length === 0) return;
    var b = r.body.buckets || [];
    var head = $('shape-head');
    clear(head);
    ['Target', 'Total'].concat(b.map(function (m, i) { return (i === 0 ? '≤' : (b[i - 1]) + '–') + m; })).forEach(function (h) { head.appendChild(el('th', null, h)); });
    if (rows[0].counts.length > b.length) head.appendChild(el('th', null, '>' + b[b.length - 1]));
    var tb = $('shape-rows');
    clear(tb);
    rows.forEach(function (row) {
      var tr = el('tr');
      var k = el('td');
      // The TOTAL row and "(none)" (not tried yet) are no target to filter by.
      if (row.key === 'TOTAL' || row.key === '(none)') k.textContent = row.key;
      else {
        var a = el('a', 'id', row.key);
        a.href = '#queue';
        a.addEventListener('click', function (e) { e.preventDefault(); if (SG.views.queue) SG.views.queue.filter('f-target', row.key); show('queue'); });
        k.appendChild(a);
      }
      tr.appendChild(k);
      tr.appendChild(el('td', null, row.total));
      row.counts.forEach(function (n) { tr.appendChild(el('td', n > 0 ? null : 'hint', n)); });
      tb.appendChild(tr);
    });
  }
  async function refreshDashboard() {
    var st = await api('GET', '/api/v1/status');
    if (!st.ok) { if (st.status !== 401 && st.status !== 0) setConn('status: ' + (st.body.error || 'HTTP ' + st.status), true); return false; }
    renderStatus(st.body);
    if (current === 'dashboard') {
      renderCounts(await api('GET', '/api/v1/queue/summary'));
      renderShape(await api('GET', '/api/v1/queue/shape?by=target'));
    }
    return true;
  }

  // ---- configuration ----
  function configRow(e, withDefault) {
    var tr = el('tr', e.changed ? 'changed' : null);
    tr.setAttribute('data-key', e.key);
    tr.appendChild(el('td', null, e.label));
    tr.appendChild(el('td', null, e.value));
    if (withDefault) tr.appendChild(el('td', 'hint', e.default === null ? '(no default)' : e.default));
    return tr;
  }
  async function refreshConfig() {
    var r = await api('GET', '/api/v1/config');
    if (!r.ok) return;
    var changed = r.body.entries.filter(function (e) { return e.changed; });
    var rest = r.body.entries.filter(function (e) { return !e.changed; });
    $('config-summary').textContent = 'Configuration: ' + changed.length + ' values set differently from the defaults (shown first), ' + rest.length + ' at their default';
    $('config-file').textContent = 'File: ' + r.body.configFile + '. The values in force since the start or the last REFRESH; the LOGLEVEL in force is on the Commands view.';
    $('config-defaults-summary').textContent = rest.length + ' values at their default';
    var a = $('config-changed'); clear(a); changed.forEach(function (e) { a.appendChild(configRow(e, true)); });
    var b = $('config-rest'); clear(b); rest.forEach(function (e) { b.appendChild(configRow(e, false)); });
    if ($('config-raw').open) await refreshRaw('D,CONFIG', $('view-config'));
  }
  async function refreshRaw(line, out) {
    var r = await api('POST', '/api/v1/command', { command: line });
    out.textContent = Array.isArray(r.body.lines) ? r.body.lines.join('\n') : (r.body.error || 'HTTP ' + r.status);
    out.classList.toggle('failed', !r.ok);
  }

  // ---- delivery events: a long poll on /api/v1/events ----
  var after = 0;
  var polling = false;
  function eventItem(e) {
    var f = e.fields || {};
    var status = f.status || f.action || (e.event === 'mail.deadletter' ? 'dead' : e.event === 'target.state' ? slug(f.state || '') : '');
    var li = el('li', 'ev');
    li.setAttribute('data-event', e.event);
    li.setAttribute('data-seq', e.seq);
    li.appendChild(el('span', 't', (e.time || '').replace('T', ' ').slice(0, 19)));
    if (status) li.appendChild(el('span', 'badge ' + slug(status), status));
    li.appendChild(document.createTextNode(' ' + e.event));
    var who = [f.qid ? 'id ' + f.qid : '', f.key ? 'id ' + f.key : '', f.operator ? 'by ' + f.operator : '', f.from ? 'from ' + f.from : '', f.to ? 'to ' + f.to : '', f.relay ? 'via ' + f.relay : '', f.address ? 'target ' + f.address : '', f.job ? 'job ' + f.job : '']
      .filter(function (x) { return x; }).join(' ');
    if (who) li.appendChild(document.createTextNode(' ' + who));
    var more = [f.reply, f.reason, f.detail, f.error].filter(function (x) { return x !== undefined && x !== null && x !== ''; }).join(' · ');
    if (more) li.appendChild(el('span', 'reply', more));
    return li;
  }
  function addEvents(list) {
    var all = $('events'), recent = $('recent-events');
    list.forEach(function (e) {
      all.insertBefore(eventItem(e), all.firstChild);
      recent.insertBefore(eventItem(e), recent.firstChild);
    });
    while (all.children.length > MAX_EVENT_ROWS) all.removeChild(all.lastChild);
    while (recent.children.length > 8) recent.removeChild(recent.lastChild);
  }
  async function pollEvents() {
    if (polling) return;
    polling = true;
    try {
      while (SG.authed) {
        var r = await api('GET', '/api/v1/events?after=' + after + '&wait=20');
        if (!r.ok) {
          $('events-note').textContent = r.status === 404 ? 'The event tail is not available on this gateway.' : 'Event tail: ' + (r.body.error || 'HTTP ' + r.status) + '; trying again shortly.';
          await new Promise(function (res) { setTimeout(res, REFRESH_MS); });
          continue;
        }
        if (r.body.dropped) $('events-note').textContent = 'Some events were dropped: the gateway keeps only the latest ones.';
        if (r.body.last < after) { clear($('events')); clear($('recent-events')); }
        addEvents(r.body.events);
        after = r.body.last;
      }
    } finally {
      polling = false;
    }
  }

  // ---- refresh loop ----
  var timer = null;
  var running = false;
  var again = false;
  async function refresh() {
    if (token() === '') return;
    if (running) { again = true; return; }
    running = true;
    again = false;
    try {
      var okStatus = await refreshDashboard();
      if (!okStatus) return;
      if (!SG.authed) { setAuthed(true); pollEvents(); }
      if (current === 'config') await refreshConfig();
      if (current === 'commands') {
        for (var d of document.querySelectorAll('details[data-view]')) if (d.open) await refreshRaw(d.getAttribute('data-view'), $('view-' + d.getAttribute('data-view')));
      }
      var v = SG.views[current];
      if (v) await v.refresh();
      setConn('updated ' + new Date().toLocaleTimeString(), false);
    } finally {
      running = false;
      if (again) refreshSoon(); else schedule();
    }
  }
  function schedule() {
    if (timer) clearTimeout(timer);
    timer = null;
    if ($('auto').checked && token() !== '') timer = setTimeout(function () { if (!document.hidden && !$('confirm').open) refresh(); else schedule(); }, REFRESH_MS);
  }
  function refreshSoon() { if (timer) clearTimeout(timer); timer = setTimeout(refresh, 0); }
  SG.refresh = refreshSoon;

  document.addEventListener('DOMContentLoaded', function () {
    setAuthed(false, '');
    fetch('/console/hello.json', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (h) {
      if (h.tokenFile) { $('token-file').textContent = h.tokenFile; $('token-cmd').textContent = 'cat ' + h.tokenFile; }
      if (h.instance) $('instance').textContent = h.instance;
    }).catch(function () { /* the generic text stays */ });
    $('save-token').addEventListener('click', function () {
      var t = $('token').value.trim();
      if (t === '') { $('login-error').textContent = 'Paste the token first.'; return; }
      sessionStorage.setItem(KEY, t);
      $('token').value = '';
      $('login-error').textContent = '';
      refreshSoon();
    });
    $('token').addEventListener('keydown', function (e) { if (e.key === 'Enter') $('save-token').click(); });
    $('forget-token').addEventListener('click', function () { sessionStorage.removeItem(KEY); setAuthed(false, 'Token forgotten.'); });
    $('auto').addEventListener('change', schedule);
    document.querySelectorAll('nav button').forEach(function (b) { b.addEventListener('click', function () { show(b.getAttribute('data-tab')); }); });
    document.querySelectorAll('button[data-command]').forEach(function (b) { b.addEventListener('click', function () { runButtonCommand(b); }); });
    document.querySelectorAll('details[data-view]').forEach(function (d) { d.addEventListener('toggle', function () { if (d.open) refreshRaw(d.getAttribute('data-view'), $('view-' + d.getAttribute('data-view'))); }); });
    $('config-raw').addEventListener('toggle', function () { if ($('config-raw').open) refreshRaw('D,CONFIG', $('view-config')); });
    $('confirm-ok').addEventListener('click', function () { closeConfirm(true); });
    $('confirm-cancel').addEventListener('click', function () { closeConfirm(false); });
    $('confirm').addEventListener('cancel', function () { closeConfirm(false); });
    $('level').addEventListener('input', function () { $('level').setAttribute('data-dirty', '1'); });
    $('set-level').addEventListener('click', async function () {
      var n = Number($('level').value);
      if ($('level').value === '' || !Number.isInteger(n) || n < 0 || n > 255) { $('answer').textContent = 'LOGLEVEL: a number 0-255'; $('answer').classList.add('failed'); return; }
      $('level').removeAttribute('data-dirty');
      await command('LOGLEVEL,LEVEL=' + n);
    });
    show((location.hash || '#dashboard').slice(1));
    if (token() !== '') refreshSoon();
  });
})();
`;
