// The web console (SPEC.md §4, O1 #17 item 4): one page, two scripts and a style sheet, served
// from memory with no external assets and no build step. The page: a dashboard (queue counts per
// state, oldest message, targets coloured by state with their last error, a SUSPENDED banner,
// throughput of the last hour, faults, the latest delivery events), the queue with filters,
// paging and row actions, held spool files with their reports, dead letters, a live tail of
// delivery events, the configuration (non-default values first) and the operator commands with
// the log level in force. Data comes from the JSON routes (queue-routes.ts, console-routes.ts,
// POST /api/v1/command) with the bearer token the operator pastes in (kept in sessionStorage for
// the tab's life). All output is set with textContent, never parsed as HTML. The CSP allows only
// this origin's script and style: nothing inline.
//
// Files: console.ts (policy, page), console-style.ts (CSS), console-script.ts (/console.js: the
// shell, login, dashboard, events, config, commands), console-views.ts (/console-views.js: queue,
// held files, dead letters).
export { CONSOLE_CSS } from './console-style.js';
export { CONSOLE_JS } from './console-script.js';

/** Strict policy: nothing inline, nothing from elsewhere, no framing, no forms. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Queue states of the O1 contract, in the order the dashboard shows them. */
export const QUEUE_STATES = ['processing', 'retry', 'extended', 'held', 'dead', 'quarantined'] as const;

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spoolgate console</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
<script src="/console-views.js" defer></script>
</head>
<body class="no-token">
<header class="top">
  <h1>spoolgate <span id="instance"></span></h1>
  <span id="conn" class="conn" aria-live="polite"></span>
  <label class="auto"><input id="auto" type="checkbox" checked> auto-refresh</label>
  <button id="forget-token" type="button" class="act">Forget token</button>
</header>
<div id="banner-suspended" class="banner bad" role="status" hidden>
  <strong>SUSPENDED</strong> <span id="suspend-mode"></span>
  <button type="button" class="act" data-command="RESUME">RESUME</button>
</div>
<div id="banner-wait" class="banner warn" role="status" hidden></div>
<section id="login" class="login" aria-labelledby="login-title">
  <h2 id="login-title">Token needed</h2>
  <p id="login-why">This console shows and changes the gateway's state through its API, which needs the instance's HTTP token. Until you give it, nothing is shown and every action is disabled.</p>
  <p>The token is the one line in the file <code id="token-file">&lt;StateDirectory&gt;/http.token</code> on the gateway host, readable by the instance's user only (for example <code id="token-cmd">cat &lt;StateDirectory&gt;/http.token</code>).</p>
  <div class="login-row">
    <label for="token">Token</label>
    <input id="token" type="password" autocomplete="off" spellcheck="false">
    <button id="save-token" type="button">Use token</button>
  </div>
  <p id="login-error" class="error" role="alert"></p>
</section>
<nav id="nav" aria-label="views">
  <button type="button" data-tab="dashboard">Dashboard</button>
  <button type="button" data-tab="queue">Queue</button>
  <button type="button" data-tab="held">Held files</button>
  <button type="button" data-tab="dead">Dead letters</button>
  <button type="button" data-tab="events">Events</button>
  <button type="button" data-tab="config">Configuration</button>
  <button type="button" data-tab="commands">Commands</button>
</nav>
<main>
<section id="tab-dashboard" class="tab" aria-label="dashboard">
  <h2>Queue</h2>
  <div id="counts" class="tiles"></div>
  <p>Oldest message: <strong id="oldest">–</strong></p>
  <div id="shape-box" hidden>
    <h2>Waiting by target and age (minutes)</h2>
    <div class="scroll"><table class="grid"><thead><tr id="shape-head"></tr></thead><tbody id="shape-rows"></tbody></table></div>
  </div>
  <h2>Targets</h2>
  <ul id="targets" class="targets"></ul>
  <h2>Throughput, last hour</h2>
  <p id="throughput-text"></p>
  <canvas id="throughput" class="spark" width="600" height="48"></canvas>
  <div id="faults-box" hidden><h2>Faults</h2><ul id="faults" class="faults"></ul></div>
  <h2>Latest delivery events</h2>
  <ol id="recent-events" class="events"></ol>
</section>
<section id="tab-queue" class="tab" aria-label="queue" hidden>
  <div id="queue-filter" class="filters">
    <label>State <select id="f-state"><option value="">any</option><option>processing</option><option>retry</option><option>extended</option><option>held</option><option>dead</option><option>quarantined</option></select></label>
    <label>Sender <input id="f-sender" type="search" spellcheck="false"></label>
    <label>Recipient <input id="f-recipient" type="search" spellcheck="false"></label>
    <label>Domain <input id="f-domain" type="search" spellcheck="false"></label>
    <label>Target <input id="f-target" type="search" spellcheck="false"></label>
    <label>Job <input id="f-job" type="search" spellcheck="false"></label>
    <label>Older than (min) <input id="f-age" type="number" min="0"></label>
    <button id="queue-apply" type="button">Filter</button>
    <button id="queue-clear" type="button">Clear</button>
  </div>
  <section id="queue-detail" class="detail" hidden>
    <h3>Message <span id="detail-id"></span> <button id="detail-close" type="button">Close</button></h3>
    <div id="detail-actions" class="row-actions"></div>
    <pre id="detail-text" class="output"></pre>
    <button id="detail-body" type="button">Show the content</button>
    <pre id="detail-content" class="output" hidden></pre>
  </section>
  <div class="pager">
    <button id="queue-prev" type="button">&larr; Previous</button>
    <span id="queue-info"></span>
    <button id="queue-next" type="button">Next &rarr;</button>
  </div>
  <div id="bulk" class="bulk" hidden>
    <span>Every message that matches <strong id="bulk-what"></strong>:</span>
    <button type="button" class="act" data-bulk="HOLD">hold all</button>
    <button type="button" class="act" data-bulk="RELEASE">release all</button>
    <button type="button" class="act" data-bulk="RETRY">retry all</button>
    <button type="button" class="act danger" data-bulk="BOUNCE">bounce all</button>
    <button type="button" class="act danger" data-bulk="DELETE">delete all</button>
  </div>
  <div class="scroll"><table id="queue-table" class="grid cards">
    <thead><tr><th>Id</th><th>State</th><th>Age</th><th class="wide">Next attempt</th><th class="wide">Tries</th><th>Sender</th><th>Recipients</th><th class="wide">Target</th><th>Actions</th></tr></thead>
    <tbody id="queue-rows"></tbody>
  </table></div>
</section>
<section id="tab-held" class="tab" aria-label="held files" hidden>
  <p class="hint">Spool files held because they could not be read or sent (BadSpoolDisp Hold). Release one to read it again, purge it to remove it.</p>
  <div class="scroll"><table class="grid cards">
    <thead><tr><th>Id</th><th>Job</th><th class="wide">Held since</th><th>Problem</th><th>Actions</th></tr></thead>
    <tbody id="held-rows"></tbody>
  </table></div>
  <section id="held-detail" class="detail" hidden>
    <h3>Report of <span id="held-id"></span> <button id="held-close" type="button">Close</button></h3>
    <pre id="held-report" class="output"></pre>
  </section>
</section>
<section id="tab-dead" class="tab" aria-label="dead letters" hidden>
  <div class="filters">
    <label>Purge dead letters older than (days) <input id="purge-days" type="number" min="0" value="30"></label>
    <button id="purge-dead" type="button" class="act danger">Purge…</button>
  </div>
  <div class="scroll"><table class="grid cards">
    <thead><tr><th>Id</th><th>Age</th><th>Sender</th><th>Recipients</th><th class="wide">Last reply</th><th>Actions</th></tr></thead>
    <tbody id="dead-rows"></tbody>
  </table></div>
</section>
<section id="tab-events" class="tab" aria-label="delivery events" hidden>
  <p class="hint">The delivery lines of the operator log as they are written (<code>mail.delivery</code>, retries, dead letters, target states), newest first. The log writes them at a LogLevel with the event bit (4).</p>
  <p id="events-note" class="hint"></p>
  <ol id="events" class="events"></ol>
</section>
<section id="tab-config" class="tab" aria-label="configuration" hidden>
  <details id="config-details">
    <summary id="config-summary">Configuration</summary>
    <p class="hint" id="config-file"></p>
    <div class="scroll"><table class="grid"><thead><tr><th>Value</th><th>In force</th><th>Default</th></tr></thead><tbody id="config-changed"></tbody></table></div>
    <details id="config-defaults">
      <summary id="config-defaults-summary">Values at their default</summary>
      <div class="scroll"><table class="grid"><tbody id="config-rest"></tbody></table></div>
    </details>
  </details>
  <details id="config-raw">
    <summary>D,CONFIG as the operator console shows it</summary>
    <pre id="view-config" class="output"></pre>
  </details>
</section>
<section id="tab-commands" class="tab" aria-label="commands" hidden>
  <div class="actions">
    <button type="button" class="act danger" data-command="SUSPEND" data-confirm="Stop reading mail from the spool files now? The tasks pause (SUPND) and mail waits in the spool until RESUME.">SUSPEND</button>
    <button type="button" class="act danger" data-command="SUSPEND,DELAY" data-confirm="Start no new spool file? The files being read are finished; the others wait until RESUME.">SUSPEND DELAY</button>
    <button type="button" class="act" data-command="RESUME">RESUME</button>
    <button type="button" class="act" data-command="FLUSHRETRY,TKID=0">FLUSHRETRY TKID=0</button>
    <button type="button" class="act danger" data-command="REFRESH" data-confirm="Read the configuration file again and apply what changed?">REFRESH</button>
    <button type="button" class="act danger" data-command="REFRESHTARGETS" data-confirm="Drop every target connection and learned capability?">REFRESHTARGETS</button>
    <button type="button" class="act" data-command="REFRESHIPLIST">REFRESHIPLIST</button>
  </div>
  <div class="loglevel">
    <label for="level">LOGLEVEL in force</label>
    <input id="level" type="number" min="0" max="255">
    <span id="level-names" class="hint"></span>
    <button type="button" id="set-level" class="act">Set</button>
  </div>
  <pre id="answer" class="output" aria-live="polite"></pre>
  <details data-view="D,TARGETS"><summary>D,TARGETS</summary><pre id="view-D,TARGETS" class="output"></pre></details>
  <details data-view="D,SPOOL"><summary>D,SPOOL</summary><pre id="view-D,SPOOL" class="output"></pre></details>
</section>
</main>
<dialog id="confirm" aria-labelledby="confirm-text">
  <p id="confirm-text"></p>
  <label id="confirm-reason-row">Reason (kept in the journal) <input id="confirm-reason" type="text" maxlength="200"></label>
  <div class="dialog-buttons">
    <button id="confirm-cancel" type="button">Cancel</button>
    <button id="confirm-ok" type="button" class="danger">Confirm</button>
  </div>
</dialog>
<footer><a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a></footer>
</body>
</html>
`;
