// userexit — the customer's user exit (SPEC.md §2.3, docs/userexit.md): a JavaScript ES module
// named by `UserExit` (or `USEREXIT,LEVEL=`), called for each command and each mail of a spool
// file with the job attributes, answering CONTINUE, ACCEPT, REJECT_FILE or REJECT_MAIL and
// optionally a replacement MAIL FROM (sender verification). Modelled on the CSSMTP UserExit
// statement and MODIFY USEREXIT (takes effect at the next spool file) and on SMTP-Send's sender
// verification exit; the module interface itself is our extension.
// Standards: RFC 5321 §4.1.1.2 (the MAIL FROM an exit may replace, parsed with core's path
//   rules), RFC 3463 (enhanced codes of the problems it records: 5.7.1 rejected, 4.3.0 failed).
// Trusted input: where the module lies. It is taken only from UserExitDirectory, owner-only
//   (location.ts), and USEREXIT,LEVEL= is offered on the control socket only, never over HTTP.
// Untrusted input: the exit itself. It runs in a worker thread (runner.ts) with a heap limit;
//   every call is bounded by UserExitTimeout; its answers are validated (events.ts) before use;
//   a throw, bad answer, load failure or timeout is a value decided by UserExitFailure.
// Persists nothing: decisions become spool problems in the task's report, and the checkpoint
//   (forwarder) records what was sent. Safe to crash at any time: a file rejected or stopped by
//   the exit is held or deleted only after its report is written, like any bad spool file.
export * from './events.js';
export * from './location.js';
export * from './runner.js';
export * from './session.js';
export * from './selection.js';
