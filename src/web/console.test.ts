import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Script } from 'node:vm';
import { CONSOLE_CSP, CONSOLE_CSS, CONSOLE_HTML, CONSOLE_JS } from './console.js';
import { CONSOLE_VIEWS_JS } from './console-views.js';

const SCRIPTS = { 'console.js': CONSOLE_JS, 'console-views.js': CONSOLE_VIEWS_JS };

test('console scripts compile and every element they look up is on the page', () => {
  for (const [name, js] of Object.entries(SCRIPTS)) {
    assert.doesNotThrow(() => new Script(js, { filename: name }), name);
    const ids = [...js.matchAll(/\$\('([^']+)'\)/g)].map((m) => m[1]!);
    assert.ok(ids.length >= 10, `${name}: ${ids.join(' ')}`);
    for (const id of ids) assert.ok(CONSOLE_HTML.includes(`id="${id}"`), `${name}: #${id} missing`);
  }
  // Every view the shell switches to has its section and nav button.
  for (const tab of ['dashboard', 'queue', 'held', 'dead', 'events', 'config', 'commands']) {
    assert.ok(CONSOLE_JS.includes(`'${tab}'`), `tab ${tab} in the script`);
    assert.ok(CONSOLE_HTML.includes(`id="tab-${tab}"`) && CONSOLE_HTML.includes(`data-tab="${tab}"`), `tab ${tab} on the page`);
  }
  for (const c of ['SUSPEND', 'SUSPEND,DELAY', 'RESUME', 'FLUSHRETRY,TKID=0', 'REFRESH', 'REFRESHTARGETS', 'REFRESHIPLIST']) {
    assert.ok(CONSOLE_HTML.includes(`data-command="${c}"`), `button for ${c}`);
  }
  assert.ok(CONSOLE_HTML.includes('src="/console-views.js"'));
});

test('SUSPEND and REFRESH ask first; the LOGLEVEL box has no made-up value', () => {
  for (const c of ['SUSPEND', 'SUSPEND,DELAY', 'REFRESH', 'REFRESHTARGETS']) {
    assert.match(CONSOLE_HTML, new RegExp(`data-command="${c}" data-confirm="[^"]+"`), `${c} confirms`);
  }
  assert.doesNotMatch(CONSOLE_HTML, /data-command="RESUME" data-confirm/);
  // The old page showed value="7" whatever the level in force was.
  assert.match(CONSOLE_HTML, /<input id="level" type="number" min="0" max="255">/);
  // Destructive row actions go through the confirmation dialog.
  assert.match(CONSOLE_VIEWS_JS, /bounce: '[^']+'/);
  assert.match(CONSOLE_VIEWS_JS, /delete: '[^']+'/);
  assert.match(CONSOLE_VIEWS_JS, /SG\.confirm\('Purge held spool file/);
  assert.match(CONSOLE_VIEWS_JS, /SG\.confirm\('Purge every dead letter/);
});

test('console page: nothing inline, nothing external, output only as text', () => {
  assert.doesNotMatch(CONSOLE_HTML, /<script>|<script(?![^>]*\ssrc=)[^>]*>|<style|\son[a-z]+=|style=|javascript:/i);
  assert.doesNotMatch(CONSOLE_HTML, /(src|href)="(https?:)?\/\//i);
  for (const js of Object.values(SCRIPTS)) {
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|setAttribute\('style'/);
  }
  assert.doesNotMatch(CONSOLE_CSS, /url\(|@import/);
  assert.match(CONSOLE_CSP, /default-src 'none'/);
  assert.match(CONSOLE_CSP, /script-src 'self'/);
  assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval|\*/);
});
