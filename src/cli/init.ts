// `spoolgate init [--prefix DIR] [--user NAME] [--force] [--dry-run]`: the production layout of a
// Linux service, as a package's postinst would lay it out (O2 #18 item 3):
//   <prefix>/etc/spoolgate/spoolgate.conf          the shipped sample, with these paths, no demo user
//   <prefix>/var/spool/spoolgate                   the spool (batch jobs write here)
//   <prefix>/var/lib/spoolgate                     state: checkpoint, mailboxes, control socket (0700)
//   <prefix>/var/log/spoolgate                     LogFile
//   <prefix>/etc/systemd/system/spoolgate.service  the unit (hardened; ExecReload = REFRESH)
//   <prefix>/etc/logrotate.d/spoolgate             rotation (copytruncate: no signal needed)
// With --user (and run as root) the service user and its group are created when missing
// (useradd --system) and own the directories. The spool root's group is the producers' group
// (--producers, default spoolprod; created when missing): batch users who may queue mail join
// it, and never the service user's own group (docs/spool.md, who may read and write what).
// The configuration is never overwritten (--force rewrites the unit and logrotate files only).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describeError } from '../core/errors.js';
import { loadConfig, formatDiagnostic } from '../config/index.js';
import { processIo, type CliIo } from './io.js';
import { parseCommand, usageError } from './parse.js';

/** The package root (where bin/spoolgate.js is), from this file's place in src/cli or dist/cli. */
export function packageRoot(): string {
  return resolve(import.meta.dirname, '../..');
}

export interface Layout {
  readonly config: string;
  readonly spool: string;
  readonly state: string;
  readonly logDir: string;
  readonly logFile: string;
  readonly unit: string;
  readonly logrotate: string;
}

export function layoutUnder(prefix: string): Layout {
  const p = (path: string): string => join(prefix, path);
  return {
    config: p('etc/spoolgate/spoolgate.conf'),
    spool: p('var/spool/spoolgate'),
    state: p('var/lib/spoolgate'),
    logDir: p('var/log/spoolgate'),
    logFile: p('var/log/spoolgate/spoolgate.log'),
    unit: p('etc/systemd/system/spoolgate.service'),
    logrotate: p('etc/logrotate.d/spoolgate'),
  };
}

/**
 * The production configuration: the shipped sample (every statement explained) with the
 * service's paths and this host's name. Each replacement must match, or the sample changed
 * under us: fail loudly rather than write a file that keeps the checkout's paths.
 */
export function productionConfig(sample: string, l: Layout, host: string): string {
  const edits: [RegExp, string][] = [
    [/^StateDirectory .*$/m, `StateDirectory ${l.state}`],
    [/^(\s*)Directory(\s+)\.\.\/var\/spool\s*$/m, `$1Directory$2${l.spool}`],
    [/^# LogFile .*$/m, `LogFile ${l.logFile}`],
    [/^# HostName .*$/m, `HostName ${host}`],
    // No demo mailbox user in a production configuration (Users Demo is the local sample's).
    [/^(\s*)Demo(\s+)YES\s*$/m, '$1Demo$2NO'],
  ];
  let out = sample;
  for (const [re, to] of edits) {
    if (!re.test(out)) throw new Error(`the sample configuration has no line matching ${String(re)}`);
    out = out.replace(re, to);
  }
  const header = `# Written by "spoolgate init" on ${new Date().toISOString().slice(0, 10)}: the service's configuration.\n`
    + '# Edit TargetServer (your smart hosts), Receiver and Users for this site, then:\n'
    + `#   spoolgate config check --config ${l.config}\n#   systemctl reload spoolgate     (REFRESH)\n`;
  return header + out;
}

export function systemdUnit(l: Layout, opts: { user: string | undefined; node: string; bin: string; docs: string }): string {
  const who = opts.user === undefined ? '' : `User=${opts.user}\nGroup=${opts.user}\n`;
  return `# spoolgate: written by "spoolgate init". Reload with: systemctl daemon-reload
[Unit]
Description=spoolgate mail gateway for batch workloads
Documentation=file://${opts.docs}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
${who}ExecStart=${opts.node} ${opts.bin} start --config ${l.config}
# SIGHUP = REFRESH: the statements marked refreshable take effect without a restart.
ExecReload=/bin/kill -HUP $MAINPID
# SIGTERM drains: attempts in flight end (DrainTimeout), everything else stays queued.
KillSignal=SIGTERM
TimeoutStopSec=90
Restart=on-failure
RestartSec=5
UMask=0027
LimitNOFILE=65536
# Port 25 without root.
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${l.spool} ${l.state} ${l.logDir}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
# Not MemoryDenyWriteExecute: V8's JIT needs writable code pages.

[Install]
WantedBy=multi-user.target
`;
}

export function logrotateFile(l: Layout): string {
  // copytruncate: the gateway keeps its descriptor (O_APPEND), so no signal is needed.
  return `${l.logFile} {
  weekly
  rotate 8
  compress
  delaycompress
  missingok
  notifempty
  copytruncate
}
`;
}

function groupId(name: string): number | undefined {
  const r = spawnSync('getent', ['group', name], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.split(':')[2]) : undefined;
}

function userExists(name: string): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const args = parseCommand('init', argv, io);
  if (typeof args === 'number') return args;
  const v = args.values as { prefix?: string; user?: string; producers?: string; force?: boolean; 'dry-run'?: boolean };
  if (args.positionals.length > 0) return usageError('init', io, `unexpected "${args.positionals[0]!}"`);
  if (v.user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(v.user)) {
    io.stderr.write(`spoolgate init: --user ${v.user}: a user name is 1-32 of a-z 0-9 _ - (starting with a letter or _)\n`);
    return 2;
  }
  const producers = v.producers ?? 'spoolprod';
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(producers)) {
    io.stderr.write(`spoolgate init: --producers ${producers}: a group name is 1-32 of a-z 0-9 _ -\n`);
    return 2;
  }
  const prefix = resolve(v.prefix ?? '/');
  const dry = v['dry-run'] === true;
  const l = layoutUnder(prefix);
  const root = packageRoot();
  const say = (line: string): void => { io.stdout.write(`${dry ? '(dry run) ' : ''}${line}\n`); };
  try {
    let owner: { uid: number; gid: number } | undefined;
    if (v.user !== undefined) {
      owner = userExists(v.user);
      if (owner === undefined) {
        if (process.getuid?.() !== 0) { io.stderr.write(`spoolgate init: user ${v.user} does not exist, and creating it needs root\n`); return 1; }
        say(`create system user and group ${v.user}`);
        if (!dry) {
          const r = spawnSync('useradd', ['--system', '--user-group', '--home-dir', l.state, '--no-create-home', '--shell', '/usr/sbin/nologin', v.user], { encoding: 'utf8' });
          if (r.status !== 0) { io.stderr.write(`spoolgate init: useradd ${v.user} failed: ${r.stderr.trim()}\n`); return 1; }
          owner = userExists(v.user);
        }
      }
    }
    // The producers' group decides who may queue mail: the spool root's group (2710: they pass
    // through to their writer's queue, nothing more; the gateway sets up the rest at start).
    let producerGid: number | undefined;
    if (owner !== undefined) {
      producerGid = groupId(producers);
      if (producerGid === undefined) {
        say(`create group ${producers} (users who may put mail on the spool)`);
        if (!dry) {
          const r = spawnSync('groupadd', ['--system', producers], { encoding: 'utf8' });
          if (r.status !== 0) { io.stderr.write(`spoolgate init: groupadd ${producers} failed: ${r.stderr.trim()}\n`); return 1; }
          producerGid = groupId(producers);
        }
      }
    }
    // State and logs: the service user only.
    const dirs: [string, number, number | undefined][] = [[l.spool, 0o2710, producerGid], [l.state, 0o700, undefined], [l.logDir, 0o750, undefined], [dirname(l.config), 0o755, undefined]];
    for (const [d, mode, gid] of dirs) {
      const mine = owner !== undefined && d !== dirname(l.config);
      say(`directory ${d} (mode ${mode.toString(8)}${mine ? `, owner ${v.user}${gid === undefined ? '' : `, group ${producers}`}` : ''})`);
      if (dry) continue;
      mkdirSync(d, { recursive: true });
      if (mine) chownSync(d, owner!.uid, gid ?? owner!.gid);
      chmodSync(d, mode);
    }
    if (existsSync(l.config)) say(`keep ${l.config} (exists; init never overwrites a configuration)`);
    else {
      const text = productionConfig(readFileSync(join(root, 'config/spoolgate.conf'), 'utf8'), l, hostname());
      say(`write ${l.config}`);
      if (!dry) {
        writeFileSync(l.config, text, { mode: 0o640 });
        if (owner !== undefined) chownSync(l.config, 0, owner.gid);
      }
    }
    const files: [string, string][] = [
      [l.unit, systemdUnit(l, { user: v.user, node: process.execPath, bin: join(root, 'bin/spoolgate.js'), docs: join(root, 'docs/operations.md') })],
      [l.logrotate, logrotateFile(l)],
    ];
    for (const [path, text] of files) {
      if (existsSync(path) && v.force !== true) { say(`keep ${path} (exists; --force rewrites it)`); continue; }
      say(`write ${path}`);
      if (dry) continue;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text, { mode: 0o644 });
    }
    if (!dry) {
      // The written configuration must load: a template that drifted is caught here, not at start.
      const loaded = loadConfig(l.config, io.env);
      if (!loaded.ok) {
        for (const e of loaded.error) io.stderr.write(formatDiagnostic(e) + '\n');
        return 1;
      }
    }
    say('');
    say('Next: edit TargetServer in the configuration, then');
    say(`  spoolgate config check --config ${l.config}`);
    say('  systemctl daemon-reload && systemctl enable --now spoolgate');
    if (v.user !== undefined) say(`Batch users who may queue mail: usermod -aG ${producers} USER (never add them to group ${v.user}).`);
    return 0;
  } catch (e) {
    io.stderr.write(`spoolgate init: ${describeError(e)}\n`);
    return 1;
  }
}
