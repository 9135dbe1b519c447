// Sample spoolgate user exit: sender verification (docs/userexit.md).
//
// Rule: a batch job may only send as its origin user, <originUser>@<DOMAIN>. The origin user is
// the owner of the spool file, which a job cannot forge.
//   - MAIL FROM is the origin user's address            -> ACCEPT (no more calls for this mail)
//   - MAIL FROM is another address in DOMAIN            -> REJECT_MAIL: posing as a colleague
//   - MAIL FROM is outside DOMAIN, or the null sender   -> ACCEPT with MAIL FROM rewritten to the
//     origin user's address (applications often write a made-up no-reply sender; rewriting keeps
//     that mail flowing and makes bounces reach a real person)
// Files the gateway writes itself (relayed mail, notifications: job RECEIVER or SGNOTIFY owned by
// the gateway's own user) are left alone.
//
// Use:  copy it into UserExitDirectory (default: the configuration file's folder, owner-only), then
//        UserExit userexit-sender.mjs        (or spoolgate modify USEREXIT,LEVEL=userexit-sender.mjs)
// Set the domain with the environment variable USEREXIT_SENDER_DOMAIN of the gateway process.
import { userInfo } from 'node:os';

const DOMAIN = (process.env.USEREXIT_SENDER_DOMAIN ?? 'corp.example').toLowerCase();
const GATEWAY_USER = userInfo().username;
const GATEWAY_JOBS = new Set(['RECEIVER', 'SGNOTIFY']);

function addressOf(argument) {
  // argument is FROM:<local@domain> or FROM:<>
  const m = /^FROM:<(.*)>$/i.exec(argument);
  return m ? m[1] : '';
}

export default function exit(event) {
  if (event.kind !== 'command' || event.verb !== 'MAIL') return 'CONTINUE';
  const { job } = event;
  if (GATEWAY_JOBS.has(job.jobName) && job.originUser === GATEWAY_USER) return 'ACCEPT';
  const own = `${job.originUser}@${DOMAIN}`.toLowerCase();
  const from = addressOf(event.argument).toLowerCase();
  if (from === own) return 'ACCEPT';
  const at = from.lastIndexOf('@');
  if (at > 0 && from.slice(at + 1) === DOMAIN) {
    return { action: 'REJECT_MAIL', reason: `sender ${from} is not the job's origin user ${own}` };
  }
  return { action: 'ACCEPT', mailFrom: own };
}
