// The Docker engine read over its own API, on its socket, by curl: one small process (about 7 ms of a host's
// CPU) where each docker CLI start costs 25-45 ms, and the engine reads are most of what a converged run costs a
// Docker host. Only where the CLI would talk to that same socket (no DOCKER_HOST, no CLI context) and curl can
// (--unix-socket: curl 7.40+; CentOS 7's 7.29 cannot): anywhere else, and whenever the API read fails for any
// reason (engine down, an HTTP error), the same fact reads through the CLI, as the guide's commands do.
// An answer from the API starts with API_MARK; the parsers read anything else as the CLI's.
import { quote } from '../lib/shell.ts';

export const ENGINE_SOCKET = '/var/run/docker.sock';
export const API_MARK = 'gatewright-engine-api';

/** True (exit 0) when an API read would reach the engine the docker CLI uses (grep only where a CLI config exists). */
const apiUsable = (socket: string) =>
  `[ -z "\${DOCKER_HOST:-}" ] && [ -z "\${DOCKER_CONTEXT:-}" ] && [ -S ${quote(socket)} ] && ` +
  `{ gwdc="\${DOCKER_CONFIG:-$HOME/.docker}/config.json"; [ ! -e "$gwdc" ] || ! grep -qs '"currentContext"' "$gwdc"; } && command -v curl >/dev/null 2>&1`;

const curl = (socket: string, args: string) => `curl -sS --fail --max-time 20 --unix-socket ${quote(socket)} ${args} 2>/dev/null`;

/**
 * GET `path` of the engine API: API_MARK then the body, or `cli`'s own output and exit status when the API
 * cannot answer. The body is read whole before anything is printed: a cut read never passes for an answer.
 */
export function engineGetCmd(path: string, cli: string, socket = ENGINE_SOCKET): string {
  return `if ${apiUsable(socket)} && o=$(${curl(socket, quote(`http://localhost${path}`))}); then printf '%s\\n%s\\n' ${API_MARK} "$o"; else ${cli}; fi`;
}

/**
 * The containers a list (`listPath`: GET /containers/json with its filters) names, each as `docker inspect` shows
 * it (GET /containers/{id}/json): API_MARK, then one JSON object a line; else `cli`. The IDs are the list's
 * `"Id":"<64 hex>"` keys (a label's value cannot forge one: its quotes are escaped in the JSON). A container
 * that cannot be inspected fails the read.
 */
export function engineListInspectCmd(listPath: string, cli: string, socket = ENGINE_SOCKET): string {
  const ids = `printf '%s\\n' "$l" | grep -o '"Id":"[0-9a-f]\\{64\\}"' | cut -d '"' -f 4`;
  return (
    `if ${apiUsable(socket)} && l=$(${curl(socket, quote(`http://localhost${listPath}`))}); then echo ${API_MARK}; ` +
    `for id in $(${ids}); do ${curl(socket, `-w '\\n' "http://localhost/containers/$id/json"`)} || ` +
    `{ echo "the engine API could not inspect container $id" >&2; exit 1; }; done; else ${cli}; fi`
  );
}

/**
 * The running engine's version (the `Server: Docker/<version>` header every API answer carries: `/_ping` is the
 * engine's cheapest call; only from a 200), else `docker version`'s; empty when no engine answers.
 */
export const serverVersionCmd = (socket = ENGINE_SOCKET): string =>
  `s=$(if ${apiUsable(socket)} && h=$(${curl(socket, '-o /dev/null -D - http://localhost/_ping')}); then ` +
  `printf '%s\\n' "$h" | tr -d '\\r' | sed -n 's|^Server: Docker/\\([^ ]*\\).*|\\1|p'; fi); ` +
  `[ -n "$s" ] || s=$(docker version --format '{{.Server.Version}}' 2>/dev/null)`;

/** What follows API_MARK's line when `stdout` is an API answer (the mark alone: nothing), else undefined: the CLI answered. */
export function apiBody(stdout: string): string | undefined {
  if (stdout === API_MARK) return '';
  return stdout.startsWith(`${API_MARK}\n`) ? stdout.slice(API_MARK.length + 1) : undefined;
}

/** The API's JSON when `stdout` is an API answer, else undefined: the CLI answered. */
export function apiAnswer(stdout: string): unknown {
  const body = apiBody(stdout);
  return body === undefined ? undefined : JSON.parse(body);
}
