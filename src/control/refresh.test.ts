import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { Logger, type LogRecord } from '../log/index.js';
import { tempDir } from '../testing/peers.js';
import { refreshFromFile } from './refresh.js';

// Issue #16 item 2: Report is refreshable and TestMode is not, so a REFRESH can leave test mode
// without a report destination: EZD1841I in the log, as at start.
test('REFRESH to Report None while TestMode YES logs EZD1841I', async (t) => {
  const file = join(tempDir(t), 'spoolgate.conf');
  const base = 'Instance TEST\nOptions { TestMode YES }\nTargetServer { TargetIP 192.0.2.1 }\n';
  writeFileSync(file, base + 'Report Sysout\n');
  const loaded = loadConfig(file, {});
  assert.ok(loaded.ok);
  const records: LogRecord[] = [];
  const log = Logger.create({ sink: { write: (r) => records.push(r) }, instance: 'TEST' });
  const deps = { current: () => loaded.value.config, check: async () => [], apply: [], log };
  assert.ok((await refreshFromFile(deps)).ok);
  assert.equal(records.filter((r) => r.event === 'testmode.no-report').length, 0, 'Report Sysout is a destination');
  writeFileSync(file, base + 'Report None\n');
  assert.ok((await refreshFromFile(deps)).ok);
  const hit = records.filter((r) => r.event === 'testmode.no-report');
  assert.equal(hit.length, 1);
  assert.equal(hit[0]!.fields.message, 'EZD1841I TEST TESTMODE HAS NO VALID REPORT DESTINATION');
});
