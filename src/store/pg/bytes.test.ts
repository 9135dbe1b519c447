// Stored bytes read back as base64 text (bytes.ts) are exact on the real PostgreSQL: every byte
// value, NUL and CR/LF runs, a value across PostgreSQL's 76-character base64 line breaks, one of
// 256 KiB (a chunk), and the empty value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { needPostgres } from '../../testing/pg.js';
import { base64Of, fromBase64 } from './bytes.js';

test('bytea read as base64 text is byte-exact (every byte value, line breaks of the encoding, 256 KiB, empty)', async (t) => {
  const tdb = await needPostgres(t);
  if (!tdb) return;
  const db = tdb.pool({ poolSize: 1 });
  const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const values = [
    every, Buffer.concat([every, every.reverse()]), Buffer.from('\r\n.\r\n\0\0\n\r\xff\xfe', 'latin1'),
    randomBytes(57), randomBytes(58), randomBytes(256 * 1024), Buffer.alloc(0),
  ];
  for (const v of values) {
    const r = await db.query<{ d: string }>(`SELECT ${base64Of('$1::bytea', 'd')}`, [v]);
    const got = fromBase64(r.rows[0]!.d);
    assert.ok(got.equals(v), `${v.length} bytes back as ${got.length}`);
  }
  assert.equal(fromBase64(null), null);
});
