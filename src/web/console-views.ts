// /console-views.js: the console's views over the queue API (the O1 contract served by
// queue-routes.ts): the queue table with filters, paging (PAGE rows per request, so 10,000
// waiting messages cost one page) and row actions, one message's details, held spool files with
// their problem reports, and dead letters with requeue and purge. Destructive actions (bounce,
// delete, purge) ask first, with a reason that goes to the journal. Plain browser JavaScript
// registered on window.SG (console-script.ts); no template literals (a String.raw here).
export const CONSOLE_VIEWS_JS = String.raw`'use strict';
(function () {
  var SG = window.SG;
  var $ = SG.$, el = SG.el, clear = SG.clear;
  var PAGE = 50;
  function pick(o, keys) { for (var i = 0; i < keys.length; i++) { var v = o[keys[i]]; if (v !== undefined && v !== null && v !== '') return v; } return null; }
  function note(text, failed) { var c = $('conn'); c.textContent = text; c.classList.toggle('failed', !!failed); }
  function button(label, cls, handler) {
    var b = el('button', 'act' + (cls ? ' ' + cls : ''), label);
    b.type = 'button';
    b.disabled = !SG.authed;
    b.setAttribute('data-action', label);
    b.addEventListener('click', handler);
    return b;
  }
  function recipientsText(item) {
    var rs = Array.isArray(item.recipients) ? item.recipients : [];
    if (rs.length === 0) return '–';
    var first = typeof rs[0] === 'string' ? rs[0] : rs[0].address;
    return first + (rs.length > 1 ? ' +' + (rs.length - 1) : '');
  }
  function lastReply(item) {
    if (item.hold) return 'held by ' + item.hold.operator + ': ' + item.hold.reason;
    var rs = Array.isArray(item.recipients) ? item.recipients : [];
    for (var i = 0; i < rs.length; i++) if (rs[i] && rs[i].lastReply) return rs[i].lastReply;
    return pick(item, ['why', 'lastReply', 'lastError', 'reason', 'problem']) || '';
  }
  function until(iso) {
    if (!iso) return '–';
    var s = (Date.parse(iso) - Date.now()) / 1000;
    return s <= 0 ? 'due' : 'in ' + SG.age(s);
  }
  function failure(r) { return r.body.error || (Array.isArray(r.body.lines) ? r.body.lines.join(' ') : 'HTTP ' + r.status); }
  function emptyRow(tbody, cols, text) { var tr = el('tr'); var td = el('td', 'hint', text); td.colSpan = cols; tr.appendChild(td); tbody.appendChild(tr); }

  // ---- the queue ----
  var offset = 0;
  var total = 0;
  var detailId = null;
  var ASK = {
    bounce: 'Bounce message %? It becomes undeliverable now and the sender gets a notification.',
    delete: 'Delete message %? It is removed without a notification to anyone.',
  };
  // The filter as MODIFY operands (the queue commands of the control role): STATE=, SENDER=, RCPT=,
  // DOMAIN=, TARGET=, JOB=, AGE= (minutes), each value quoted ('' for a quote).
  var MODIFY_KEYS = [['STATE', 'f-state'], ['SENDER', 'f-sender'], ['RCPT', 'f-recipient'], ['DOMAIN', 'f-domain'], ['TARGET', 'f-target'], ['JOB', 'f-job'], ['AGE', 'f-age']];
  // The filters in force: taken from the inputs on Filter (or Enter) and from the dashboard's
  // links, so a value half typed when the table refreshes (or a bulk action runs) is not used.
  var FIELDS = ['f-state', 'f-sender', 'f-recipient', 'f-domain', 'f-target', 'f-job', 'f-age'];
  var inForce = {};
  function applyInputs() { inForce = {}; FIELDS.forEach(function (i) { var v = $(i).value.trim(); if (v) inForce[i] = v; }); offset = 0; }
  function val(i) { return inForce[i] || ''; }
  function quote(v) { return "'" + String(v).replace(/'/g, "''") + "'"; }
  function modifyFilter() {
    return MODIFY_KEYS.map(function (k) { var v = val(k[1]); return v === '' || (k[0] === 'AGE' && !(Number(v) > 0)) ? '' : k[0] + '=' + quote(k[0] === 'AGE' ? String(Math.round(Number(v))) : v); })
      .filter(function (x) { return x; }).join(',');
  }
  // Every message that matches the filter at once (stop a flood: hold by sender), through the
  // MODIFY command, so the count and the refusals come back as its console lines.
  var applied = '';
  async function bulk(verb) {
    // The filter of the rows shown, with the count they gave.
    var f = applied;
    if (f === '') return;
    var c = await SG.confirm(verb + ' every message that matches ' + f + ' (' + total + ' now)?', { reason: true, label: verb.toLowerCase() + ' all' });
    if (!c.ok) { note('cancelled: ' + verb + ' ' + f, false); return; }
    var line = verb + ',' + f + (c.reason ? ',REASON=' + quote(c.reason) : '') + ',BY=console';
    var r = await SG.api('POST', '/api/v1/command', { command: line });
    note((r.ok ? '' : 'failed: ') + (Array.isArray(r.body.lines) ? r.body.lines.join(' ') : failure(r)), !r.ok);
    SG.refresh();
  }
  function query() {
    var p = new URLSearchParams();
    [['state', 'f-state'], ['sender', 'f-sender'], ['recipient', 'f-recipient'], ['domain', 'f-domain'], ['target', 'f-target'], ['job', 'f-job']].forEach(function (x) {
      var v = val(x[1]);
      if (v) p.set(x[0], v);
    });
    var age = val('f-age');
    if (age !== '' && Number(age) > 0) p.set('minAge', String(Math.round(Number(age) * 60)));
    p.set('limit', String(PAGE));
    p.set('offset', String(offset));
    return p.toString();
  }
  async function act(id, action) {
    var reason = '';
    if (ASK[action]) {
      var c = await SG.confirm(ASK[action].replace('%', id), { reason: true, label: action });
      if (!c.ok) { note('cancelled: ' + action + ' ' + id, false); return; }
      reason = c.reason;
    }
    var path = action === 'requeue' ? '/api/v1/deadletters/' + encodeURIComponent(id) + '/requeue' : '/api/v1/queue/' + encodeURIComponent(id) + '/' + action;
    // The journal names the operator "http:console" (the token holder, through this page).
    var r = await SG.api('POST', path, { reason: reason, operator: 'console' });
    note(r.ok ? action + ' ' + id + ': done' : action + ' ' + id + ' failed: ' + failure(r), !r.ok);
    if (detailId === id) await loadDetail(id);
    SG.refresh();
  }
  function actionsFor(item) {
    var box = el('div', 'row-actions');
    var add = function (a, cls) { box.appendChild(button(a, cls, function () { act(item.id, a); })); };
    switch (item.state) {
      case 'held': add('release'); add('retry'); break;
      case 'quarantined': add('release'); break;
      case 'dead': add('requeue'); return box;
      case 'processing':
        // A spool file no task has read yet: held or deleted as a file (its messages come once read).
        if (String(item.place || '').indexOf('spool:') === 0) { add('hold'); add('delete', 'danger'); return box; }
        break;
      default: add('hold'); add('retry');
    }
    add('bounce', 'danger');
    add('delete', 'danger');
    return box;
  }
  function queueRow(item) {
    var tr = el('tr');
    tr.setAttribute('data-id', item.id);
    tr.setAttribute('data-state', item.state);
    var idCell = el('td');
    var link = el('a', 'id', item.id);
    link.href = '#queue';
    link.addEventListener('click', function (e) { e.preventDefault(); loadDetail(item.id); });
    idCell.appendChild(link);
    tr.appendChild(idCell);
    var st = el('td'); st.appendChild(el('span', 'badge ' + SG.slug(item.state), item.state)); tr.appendChild(st);
    tr.appendChild(el('td', null, SG.ageOf(item.arrival)));
    tr.appendChild(el('td', 'wide', until(item.nextAttempt)));
    tr.appendChild(el('td', 'wide', item.attempts));
    tr.appendChild(el('td', null, item.sender || '<>'));
    var rc = el('td', null, recipientsText(item));
    var reply = lastReply(item);
    if (reply) rc.appendChild(el('span', 'hint', ' ' + reply));
    tr.appendChild(rc);
    tr.appendChild(el('td', 'wide', item.target || '–'));
    var ac = el('td'); ac.appendChild(actionsFor(item)); tr.appendChild(ac);
    return tr;
  }
  async function refreshQueue() {
    var r = await SG.api('GET', '/api/v1/queue?' + query());
    var tb = $('queue-rows');
    if (!r.ok) { clear(tb); emptyRow(tb, 9, r.status === 404 ? 'The queue API is not available on this gateway.' : 'Queue: ' + failure(r)); return; }
    total = r.body.total;
    if (offset > 0 && offset >= total) { offset = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE); return refreshQueue(); }
    clear(tb);
    r.body.items.forEach(function (item) { tb.appendChild(queueRow(item)); });
    if (r.body.items.length === 0) emptyRow(tb, 9, 'No message matches.');
    $('queue-info').textContent = total === 0 ? '0 messages' : (offset + 1) + '–' + (offset + r.body.items.length) + ' of ' + total;
    applied = modifyFilter();
    $('bulk').hidden = applied === '' || total === 0;
    $('bulk-what').textContent = applied + ' (' + total + ')';
    // The open message follows the queue too (it may have left it).
    if (detailId !== null && !$('queue-detail').hidden) await loadDetail(detailId);
    $('queue-prev').disabled = offset === 0;
    $('queue-next').disabled = offset + PAGE >= total;
  }
  function line(label, value) { return label + ': ' + (value === null || value === undefined || value === '' ? '–' : value); }
  async function loadDetail(id) {
    var same = detailId === id;
    detailId = id;
    var r = await SG.api('GET', '/api/v1/queue/' + encodeURIComponent(id));
    var box = $('queue-detail');
    var opening = box.hidden;
    box.hidden = false;
    if (opening) box.scrollIntoView({ block: 'nearest' });
    $('detail-id').textContent = id;
    if (!same) $('detail-content').hidden = true;
    var acts = $('detail-actions');
    clear(acts);
    if (!r.ok) { $('detail-text').textContent = r.status === 404 ? 'Message ' + id + ' is no longer in the queue (delivered, bounced or deleted).' : failure(r); $('detail-content').hidden = true; return; }
    var m = r.body.item;
    acts.appendChild(actionsFor(m));
    var out = [line('State', m.state), line('Arrival', m.arrival), line('Next attempt', m.nextAttempt), line('Attempts', m.attempts), line('Size', m.size),
      line('Job', [m.jobName, m.jobId].filter(function (x) { return x; }).join(' ')), line('User', m.user), line('Sender', m.sender || '<>'), line('Target', m.target), 'Recipients:'];
    (m.recipients || []).forEach(function (x) { out.push('  ' + (typeof x === 'string' ? x : x.address + '  ' + x.state + (x.lastReply ? '  ' + x.lastReply : ''))); });
    if (Array.isArray(m.history) && m.history.length) {
      out.push('History:');
      m.history.forEach(function (h) {
        if (typeof h === 'string') { out.push('  ' + h); return; }
        var t = pick(h, ['time', 'at', 'date']) || '';
        var what = pick(h, ['event', 'action', 'status', 'state', 'kind']) || '';
        var rest = Object.keys(h).filter(function (k) { return ['time', 'at', 'date', 'event', 'action', 'status', 'state', 'kind'].indexOf(k) < 0 && h[k] !== null; }).map(function (k) { return k + '=' + (typeof h[k] === 'object' ? JSON.stringify(h[k]) : h[k]); });
        out.push('  ' + [t, what].concat(rest).filter(function (x) { return x; }).join('  '));
      });
    }
    if (Array.isArray(m.actions) && m.actions.length) {
      out.push('Operator actions:');
      m.actions.forEach(function (a) { out.push('  ' + [a.at, a.action, a.operator, a.detail].filter(function (x) { return x; }).join('  ')); });
    }
    if (m.headers) out.push('Headers:', m.headers);
    $('detail-text').textContent = out.join('\n');
  }
  async function loadBody() {
    if (!detailId) return;
    var r = await SG.api('GET', '/api/v1/queue/' + encodeURIComponent(detailId) + '?body=1');
    var pre = $('detail-content');
    pre.hidden = false;
    pre.textContent = r.ok ? String(r.body.item.body === undefined ? '(no content given)' : r.body.item.body) : failure(r);
  }
  SG.views.queue = {
    refresh: refreshQueue,
    /** Clears the filters and sets one (f-state, f-target, ...); '' clears them all. */
    filter: function (field, value) { FIELDS.forEach(function (i) { $(i).value = ''; }); if (field) $(field).value = value; applyInputs(); },
  };

  // ---- held spool files ----
  async function heldAction(id, action) {
    var reason = '';
    if (action === 'purge') {
      var c = await SG.confirm('Purge held spool file ' + id + '? Its mail is removed unsent.', { reason: true, label: 'purge' });
      if (!c.ok) { note('cancelled: purge ' + id, false); return; }
      reason = c.reason;
    }
    var r = await SG.api('POST', '/api/v1/spool/held/' + encodeURIComponent(id) + '/' + action, { reason: reason, operator: 'console' });
    note(r.ok ? action + ' ' + id + ': done' : action + ' ' + id + ' failed: ' + failure(r), !r.ok);
    SG.refresh();
  }
  async function heldReport(id) {
    var r = await SG.api('GET', '/api/v1/spool/held/' + encodeURIComponent(id));
    $('held-detail').hidden = false;
    $('held-id').textContent = id;
    var rep = r.ok ? r.body.report : failure(r);
    $('held-report').textContent = rep === null || rep === undefined ? '(no report was kept for this file)' : Array.isArray(rep) ? rep.join('\n') : typeof rep === 'object' ? JSON.stringify(rep, null, 2) : String(rep);
  }
  async function refreshHeld() {
    var r = await SG.api('GET', '/api/v1/spool/held');
    var tb = $('held-rows');
    clear(tb);
    if (!r.ok) { emptyRow(tb, 5, r.status === 404 ? 'The held-file API is not available on this gateway.' : failure(r)); return; }
    if (r.body.items.length === 0) emptyRow(tb, 5, 'No held spool files.');
    r.body.items.forEach(function (h) {
      var tr = el('tr');
      tr.setAttribute('data-id', h.id);
      tr.appendChild(el('td', null, h.id));
      tr.appendChild(el('td', null, [pick(h, ['jobName', 'job']), pick(h, ['jobId'])].filter(function (x) { return x; }).join(' ') || '–'));
      tr.appendChild(el('td', 'wide', pick(h, ['heldAt', 'since', 'arrival', 'time']) || '–'));
      tr.appendChild(el('td', null, pick(h, ['problem', 'reason', 'error', 'summary']) || '–'));
      var ac = el('td'); var box = el('div', 'row-actions');
      var rep = el('button', null, 'report'); rep.type = 'button'; rep.addEventListener('click', function () { heldReport(h.id); }); box.appendChild(rep);
      box.appendChild(button('release', null, function () { heldAction(h.id, 'release'); }));
      box.appendChild(button('purge', 'danger', function () { heldAction(h.id, 'purge'); }));
      ac.appendChild(box); tr.appendChild(ac);
      tb.appendChild(tr);
    });
  }
  SG.views.held = { refresh: refreshHeld };

  // ---- dead letters ----
  async function refreshDead() {
    var r = await SG.api('GET', '/api/v1/deadletters');
    var tb = $('dead-rows');
    clear(tb);
    if (!r.ok) { emptyRow(tb, 6, r.status === 404 ? 'The dead-letter API is not available on this gateway.' : failure(r)); return; }
    if (r.body.items.length === 0) emptyRow(tb, 6, 'No dead letters.');
    r.body.items.forEach(function (d) {
      var tr = el('tr');
      tr.setAttribute('data-id', d.id);
      tr.appendChild(el('td', null, d.id));
      tr.appendChild(el('td', null, SG.ageOf(pick(d, ['arrival', 'stored', 'time', 'date']))));
      tr.appendChild(el('td', null, d.sender || '<>'));
      tr.appendChild(el('td', null, recipientsText(d)));
      tr.appendChild(el('td', 'wide', lastReply(d)));
      var ac = el('td'); var box = el('div', 'row-actions');
      box.appendChild(button('requeue', null, function () { act(d.id, 'requeue'); }));
      ac.appendChild(box); tr.appendChild(ac);
      tb.appendChild(tr);
    });
  }
  async function purgeDead() {
    var days = Number($('purge-days').value);
    if (!Number.isInteger(days) || days < 0) { note('purge: a whole number of days', true); return; }
    var c = await SG.confirm('Purge every dead letter older than ' + days + ' days? They are removed for good.', { label: 'purge' });
    if (!c.ok) { note('cancelled: purge dead letters', false); return; }
    var r = await SG.api('POST', '/api/v1/deadletters/purge', { olderThanDays: days, operator: 'console' });
    note(r.ok ? 'dead letters purged' + (r.body.purged !== undefined ? ': ' + r.body.purged : '') : 'purge failed: ' + failure(r), !r.ok);
    SG.refresh();
  }
  SG.views.dead = { refresh: refreshDead };

  document.addEventListener('DOMContentLoaded', function () {
    $('queue-apply').addEventListener('click', function () { applyInputs(); SG.refresh(); });
    $('f-state').addEventListener('change', function () { applyInputs(); SG.refresh(); });
    $('queue-clear').addEventListener('click', function () { SG.views.queue.filter('', ''); SG.refresh(); });
    $('queue-filter').addEventListener('keydown', function (e) { if (e.key === 'Enter') { applyInputs(); SG.refresh(); } });
    $('queue-prev').addEventListener('click', function () { offset = Math.max(0, offset - PAGE); SG.refresh(); });
    $('queue-next').addEventListener('click', function () { if (offset + PAGE < total) offset += PAGE; SG.refresh(); });
    $('detail-close').addEventListener('click', function () { detailId = null; $('queue-detail').hidden = true; });
    $('detail-body').addEventListener('click', loadBody);
    $('held-close').addEventListener('click', function () { $('held-detail').hidden = true; });
    $('purge-dead').addEventListener('click', purgeDead);
    document.querySelectorAll('#bulk button[data-bulk]').forEach(function (b) { b.addEventListener('click', function () { bulk(b.getAttribute('data-bulk')); }); });
  });
})();
`;
