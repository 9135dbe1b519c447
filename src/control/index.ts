// control — the operator's commands (SPEC.md §4), modelled on the z/OS CSSMTP MODIFY command
// (seed 000 chapter 4): parse `D,TARGETS`-style command lines with the seed's abbreviation rules,
// carry them out against the running forwarder, and answer with the seed's EZD18xx messages and
// layouts (plus the same facts as JSON). Served on a Unix domain socket (mode 0600, directory
// 0700) that only the instance's owner can use; the web role adapts the same functions to HTTP.
//
// Standards: the CSSMTP MODIFY command set and its console message layouts; no RFCs.
// Untrusted input: command lines from the socket (bounded to 4 KiB, parsed into a typed Command
// or refused with EZD1835E). The socket's file mode is the access check.
// Persists nothing itself (LOGLEVEL/USEREXIT/REFRESH write CONFIG accounting records through the
// injected Accounting). Safe to crash at any time: a stale socket file is replaced at next start.
export { parseCommand, formatCommand, abbreviates, type Command, type CommandKind, type ParseError } from './parse.js';
export { render, isDisplay, canonicalIp, type DisplayCommand } from './render.js';
export { takeSnapshot, type Snapshot, type TaskSnapshot, type TargetSnapshot, type CountersSnapshot, type ForwarderView, type TaskView, type TargetView } from './snapshot.js';
export { Msg, MESSAGE_IDS, isErrorLine, type MessageId } from './messages.js';
export { executeLine, httpRefusal, type OperatorTarget, type RefreshOutcome, type ControlResponse, type ExecuteContext } from './execute.js';
export { startControl, sendCommand, ControlSocketError, MAX_COMMAND_BYTES, type StartControlOptions } from './socket.js';
export { refreshFromFile, type RefreshDeps } from './refresh.js';
export { quoteOperand, type QueueCommand } from './queue-commands.js';
