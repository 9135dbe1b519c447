import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Script } from 'node:vm';
import { CONSOLE_CSP, CONSOLE_HTML, CONSOLE_JS } from './console.js';

test('console script compiles and every element it looks up is on the page', () => {
  assert.doesNotThrow(() => new Script(CONSOLE_JS, { filename: 'console.js' }));
  const ids = [...CONSOLE_JS.matchAll(/\$\('([^']+)'\)/g)].map((m) => m[1]!);
  assert.ok(ids.length >= 5, ids.join(' '));
  for (const id of ids) assert.ok(CONSOLE_HTML.includes(`id="${id}"`), `#${id} missing`);
  for (const v of ['D,TARGETS', 'D,SPOOL', 'D,CONFIG']) {
    assert.ok(CONSOLE_JS.includes(`'${v}'`), `${v} refreshed by the script`);
    assert.ok(CONSOLE_HTML.includes(`id="view-${v}"`) && CONSOLE_HTML.includes(`data-view="${v}"`), `${v} on the page`);
  }
  for (const c of ['SUSPEND', 'SUSPEND,DELAY', 'RESUME', 'FLUSHRETRY,TKID=0', 'REFRESH', 'REFRESHTARGETS', 'REFRESHIPLIST']) {
    assert.ok(CONSOLE_HTML.includes(`data-command="${c}"`), `button for ${c}`);
  }
});

test('console page: nothing inline, nothing external, output only as text', () => {
  assert.doesNotMatch(CONSOLE_HTML, /<script>|<style|\son[a-z]+=|style=|javascript:/i);
  assert.doesNotMatch(CONSOLE_HTML, /(src|href)="(https?:)?\/\//i);
  assert.doesNotMatch(CONSOLE_JS, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  assert.match(CONSOLE_CSP, /default-src 'none'/);
  assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval|\*/);
});
