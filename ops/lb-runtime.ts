// HAProxy's runtime API over the admin unix socket: command texts, the client that carries them, and the
// parser of `show stat`. Pure; ops/lb-drain.ts and the lb role run them on the LB hosts.
import { sh } from '../lib/shell.ts';

/** Admin states a rolling change moves a server through. */
export type ServerState = 'ready' | 'drain' | 'maint';

const NAME = /^[A-Za-z0-9_.:-]+$/;
function name(kind: string, value: string): string {
  // Runtime API words are split on spaces and `;` by HAProxy itself: refuse anything else outright.
  if (!NAME.test(value)) throw new Error(`not a valid HAProxy ${kind} name: ${JSON.stringify(value)}`);
  return value;
}

/** The same at every config level: haproxy 1.5.0 has it (no `disable server`, which older versions needed). */
export const setServerState = (backend: string, server: string, state: ServerState): string =>
  `set server ${name('backend', backend)}/${name('server', server)} state ${state}`;

/**
 * Back to the weight the config gives the server (`set weight` exists in 1.5 too): `state ready` alone leaves a
 * weight of 0 set by hand, and such a server takes no traffic.
 */
export const restoreServerWeight = (backend: string, server: string): string =>
  `set weight ${name('backend', backend)}/${name('server', server)} 100%`;

/** Servers only (type 4) of every proxy, as CSV. */
export const SHOW_SERVERS = 'show stat -1 4 -1';

/**
 * Sends runtime API commands (on stdin, one per line) to the admin socket and prints the answers.
 * The client is whichever the host has: socat, else perl (Essential on Debian/Ubuntu), else python3
 * (platform-python on RHEL); no package is needed beyond haproxy itself.
 */
export const SOCKET_CLIENTS = {
  socat: (socket: string) => sh`socat -t 5 - ${`UNIX-CONNECT:${socket}`}`,
  perl: (socket: string) =>
    sh`perl -MIO::Socket::UNIX -e ${
      'my $c = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "cannot connect to $ARGV[0]: $!\\n"; ' +
      'local $/; print $c <STDIN>; shutdown($c, 1); print <$c>;'
    } ${socket}`,
  python3: (socket: string, python = 'python3') =>
    sh`${python} -c ${
      'import socket,sys\n' +
      's=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); s.shutdown(1)\n' +
      'while True:\n' +
      '    b=s.recv(65536)\n' +
      '    if not b: break\n' +
      '    sys.stdout.buffer.write(b)\n'
    } ${socket}`,
} as const;

export function adminSocketCommand(socket: string): string {
  return [
    `if command -v socat >/dev/null 2>&1; then ${SOCKET_CLIENTS.socat(socket)}`,
    `elif command -v perl >/dev/null 2>&1; then ${SOCKET_CLIENTS.perl(socket)}`,
    `elif command -v python3 >/dev/null 2>&1; then ${SOCKET_CLIENTS.python3(socket)}`,
    `elif [ -x /usr/libexec/platform-python ]; then ${SOCKET_CLIENTS.python3(socket, '/usr/libexec/platform-python')}`,
    `else echo 'no socat, perl or python3 on this host to reach the HAProxy admin socket' >&2; exit 127; fi`,
  ].join('; ');
}

/**
 * Runtime API commands as one self-contained command line (a change planned as data prints it under
 * `--check -v`): the commands are piped to the socket, and any answer fails it, since the runtime API answers a
 * successful `set server` with nothing and anything else is its error message.
 */
export function runtimeCommand(socket: string, commands: string[]): string {
  return (
    `answer=$(${sh`printf '%s\\n' ${commands}`} | { ${adminSocketCommand(socket)}; }) || exit $?; ` +
    `if [ -n "$answer" ]; then printf 'haproxy answered: %s\\n' "$answer" >&2; exit 1; fi`
  );
}

/** The stdin for `adminSocketCommand`: one command per line. */
export const socketInput = (commands: string[]): string => commands.map((c) => `${c}\n`).join('');

/** The runtime API answers a successful `set server` with nothing; anything else is its error message. */
export function socketErrors(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export interface ServerStat {
  backend: string;
  server: string;
  /** UP, DOWN, DRAIN, MAINT, "UP 1/2" (going down), "no check", ... */
  status: string;
  /** Sessions currently on the server. */
  sessions: number;
  /** Last check result, e.g. L7OK, L4CON; with its description when HAProxy gives one. */
  check: string;
  /** Its weight now (undefined when HAProxy does not say). 0: it takes no new traffic, whatever its status says. */
  weight?: number;
}

/**
 * Servers an operator or an interrupted run left out of rotation by hand: admin state drain ("DRAIN": its checks
 * pass), maintenance ("MAINT"), or a weight of 0 (haproxy 2.x still says UP). Not "MAINT (via x/y)" (it follows a
 * tracked server) nor "(resolution)" (DNS). Our config gives every server a weight: 0 is never ours.
 */
export const leftOutOfRotation = (stats: ServerStat[], backends: readonly string[]): ServerStat[] =>
  stats.filter((s) => backends.includes(s.backend) && (/^(DRAIN|MAINT)(\s+\d+\/\d+)?$/.test(s.status) || s.weight === 0));

/** How a server left out of rotation shows: `DRAIN`, or `UP, weight 0`. */
export const outOfRotationAs = (s: ServerStat): string => (s.weight === 0 && !/^DRAIN/.test(s.status) ? `${s.status}, weight 0` : s.status);

/** Parses `show stat` CSV (header line starts with `# `), keeping server rows. Columns are found by name: 1.5 has fewer. */
export function parseServerStats(csv: string): ServerStat[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (!header?.startsWith('# ')) throw new Error(`unexpected answer to show stat: ${csv.slice(0, 200)}`);
  const cols = splitCsv(header.slice(2));
  const at = (row: string[], col: string) => row[cols.indexOf(col)] ?? '';
  // 1.5 (CentOS 7) has no check_desc column: its last_chk holds the check's description.
  const desc = cols.includes('check_desc') ? 'check_desc' : 'last_chk';
  return lines
    .map(splitCsv)
    .filter((row) => !['FRONTEND', 'BACKEND'].includes(at(row, 'svname')))
    .map((row) => ({
      backend: at(row, 'pxname'),
      server: at(row, 'svname'),
      status: at(row, 'status'),
      sessions: Number(at(row, 'scur') || 0),
      check: [at(row, 'check_status'), at(row, desc)].filter(Boolean).join(' '),
      ...(at(row, 'weight') !== '' && { weight: Number(at(row, 'weight')) }),
    }));
}

/** One CSV line; HAProxy double-quotes fields that hold commas (check descriptions, agent output). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}
