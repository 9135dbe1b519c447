// The web console (SPEC.md §4): one page, its script and its style, served from memory with no
// external assets. The page shows the operator displays as the same lines the console gets
// (monospace) and offers the same actions; every call goes through POST /api/v1/command with the
// bearer token the operator pastes in (kept in sessionStorage for the tab's life). All output is
// set with textContent, never parsed as HTML. The CSP allows only this origin's script and style.

/** Strict policy: nothing inline, nothing from elsewhere, no framing, no forms. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spoolgate console</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
</head>
<body>
<header>
  <h1>spoolgate <span id="instance"></span></h1>
  <div id="login">
    <label for="token">Token (contents of &lt;StateDirectory&gt;/http.token)</label>
    <input id="token" type="password" autocomplete="off" spellcheck="false">
    <button id="save-token" type="button">Use token</button>
    <button id="forget-token" type="button">Forget</button>
  </div>
</header>
<main>
  <section>
    <h2>Actions</h2>
    <div class="actions">
      <button type="button" data-command="SUSPEND">SUSPEND</button>
      <button type="button" data-command="SUSPEND,DELAY">SUSPEND DELAY</button>
      <button type="button" data-command="RESUME">RESUME</button>
      <button type="button" data-command="FLUSHRETRY,TKID=0">FLUSHRETRY TKID=0</button>
      <button type="button" data-command="REFRESH">REFRESH</button>
      <button type="button" data-command="REFRESHTARGETS">REFRESHTARGETS</button>
      <button type="button" data-command="REFRESHIPLIST">REFRESHIPLIST</button>
      <span class="loglevel">
        <label for="level">LOGLEVEL</label>
        <input id="level" type="number" min="0" max="255" value="7">
        <button type="button" id="set-level">Set</button>
      </span>
    </div>
    <pre id="answer" class="output" aria-live="polite"></pre>
  </section>
  <section>
    <h2>D,TARGETS <button type="button" data-view="D,TARGETS">Refresh</button></h2>
    <pre id="view-D,TARGETS" class="output"></pre>
  </section>
  <section>
    <h2>D,SPOOL <button type="button" data-view="D,SPOOL">Refresh</button></h2>
    <pre id="view-D,SPOOL" class="output"></pre>
  </section>
  <section>
    <h2>D,CONFIG <button type="button" data-view="D,CONFIG">Refresh</button></h2>
    <pre id="view-D,CONFIG" class="output"></pre>
  </section>
</main>
<footer><a href="/metrics">/metrics</a></footer>
</body>
</html>
`;

export const CONSOLE_CSS = `body { font-family: system-ui, sans-serif; margin: 1rem 2rem; color: #111; background: #fafafa; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.5rem; }
pre.output { font-family: ui-monospace, Menlo, Consolas, monospace; background: #fff; border: 1px solid #ccc; padding: .5rem; overflow-x: auto; min-height: 1.2em; }
pre.failed { border-color: #b00; }
.actions button, .actions input { margin: .15rem; }
#login input { width: 28rem; max-width: 100%; }
.loglevel input { width: 4rem; }
`;

// Plain browser JavaScript (no build step). Keep it small; every answer is shown with textContent.
export const CONSOLE_JS = `'use strict';
(function () {
  var KEY = 'spoolgate.token';
  var views = ['D,TARGETS', 'D,SPOOL', 'D,CONFIG'];
  function $(id) { return document.getElementById(id); }
  function token() { return sessionStorage.getItem(KEY) || ''; }
  function show(el, text, failed) {
    el.textContent = text;
    el.classList.toggle('failed', !!failed);
  }
  async function run(command) {
    var res;
    try {
      res = await fetch('/api/v1/command', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token() },
        body: JSON.stringify({ command: command }),
        cache: 'no-store',
      });
    } catch (e) {
      return { ok: false, lines: ['cannot reach the gateway: ' + e] };
    }
    if (res.status === 401) return { ok: false, lines: ['401: paste the token from <StateDirectory>/http.token above'] };
    var body;
    try { body = await res.json(); } catch (e) { return { ok: false, lines: ['HTTP ' + res.status + ': not JSON'] }; }
    if (!Array.isArray(body.lines)) return { ok: false, lines: ['HTTP ' + res.status + ': ' + (body.error || 'unexpected answer')] };
    return body;
  }
  async function refresh(view) {
    var r = await run(view);
    show($('view-' + view), r.lines.join('\\n'), !r.ok);
  }
  function refreshAll() { views.forEach(refresh); }
  async function act(command) {
    show($('answer'), '> ' + command + ' ...', false);
    var r = await run(command);
    show($('answer'), '> ' + command + '\\n' + r.lines.join('\\n'), !r.ok);
    refreshAll();
  }
  document.addEventListener('DOMContentLoaded', function () {
    $('save-token').addEventListener('click', function () {
      sessionStorage.setItem(KEY, $('token').value.trim());
      $('token').value = '';
      refreshAll();
    });
    $('forget-token').addEventListener('click', function () { sessionStorage.removeItem(KEY); refreshAll(); });
    document.querySelectorAll('button[data-view]').forEach(function (b) {
      b.addEventListener('click', function () { refresh(b.getAttribute('data-view')); });
    });
    document.querySelectorAll('button[data-command]').forEach(function (b) {
      b.addEventListener('click', function () { act(b.getAttribute('data-command')); });
    });
    $('set-level').addEventListener('click', function () {
      var n = Number($('level').value);
      if (!Number.isInteger(n) || n < 0 || n > 255) { show($('answer'), 'LOGLEVEL: a number 0-255', true); return; }
      act('LOGLEVEL,LEVEL=' + n);
    });
    if (token() !== '') refreshAll();
  });
})();
`;
