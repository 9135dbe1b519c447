// Issue #15 item 6: the content filter fails closed. Each message that once carried a *.vbs
// attachment past `Filter { AttachmentName *.vbs Action Discard }` goes through a real receiver
// over a socket: it is discarded (the name was found) or kept in quarantine (the structure was in
// doubt), never delivered; a clean message with attachments still is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { EVASIONS } from '../../src/receiver/filter-evasions-testutil.js';
import { sendOne, startTestReceiver } from './receiver-harness.js';

test('filter evasions through the receiver: discarded or quarantined, never delivered', async (t) => {
  const r = await startTestReceiver(t, '', 'Filter { AttachmentName *.vbs Action Discard }');
  const quarantine = join(r.config.stateDirectory, 'quarantine');
  const kept = (): number => (existsSync(quarantine) ? readdirSync(quarantine).filter((f) => f.endsWith('.eml')).length : 0);

  const clean = Buffer.from((await new MailComposer({
    from: 'a@ok.test', to: 'alice@local.test', subject: 'report', text: 'see attached', html: '<p>see attached</p>',
    attachments: [{ filename: 'Bericht Köln.pdf', content: 'pdf', contentType: 'application/pdf' }, { filename: 'x.txt', content: 'x' }],
  }).compile().build()).toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  const res = await sendOne(r.port, 'a@ok.test', ['alice@local.test'], clean);
  assert.equal(res.data?.code, 250);
  assert.equal((await r.store.mailboxes.list('alice')).length, 1, 'a clean multipart message is delivered');
  assert.equal(kept(), 0);

  for (const e of EVASIONS) {
    const before = kept();
    const sent = await sendOne(r.port, 'a@ok.test', ['alice@local.test'], e.mail);
    assert.equal(sent.data?.code, 250, e.name);
    const id = /queued as (\S+)/.exec(sent.data!.text)![1]!;
    assert.equal((await r.store.mailboxes.list('alice')).length, 1, `${e.name}: not delivered`);
    assert.equal(kept() - before, e.want === 'keep' ? 1 : 0, `${e.name}: quarantined`);
    const j = await r.store.journal.query({ id, type: 'filtered' });
    assert.equal(j.length, 1, e.name);
    assert.match(j[0]!.detail ?? '', e.want === 'keep' ? /not checked "MIME structure in doubt: .*kept in quarantine/ : /matched ".*\.vbs": discarded/i, e.name);
  }
});
