// curl on a host, driven by a config read from stdin (`curl -K -`): URLs, headers and bodies that hold
// passwords or tokens never reach argv. Requests that hold no secret (health reads) may go in argv, several in
// one command. Pure builders; tested by exact strings.
import { sh } from '../lib/shell.ts';

export const CURL_CMD = 'curl -K -';
/** The status code follows the body on its own last line. */
const STATUS_MARK = '\n__gatewright_status__:';

/** A value in a curl config file: double quotes, with \\ \" \n \r \t escaped. */
export function curlQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

export interface CurlRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutSec?: number;
}

export function curlConfig(r: CurlRequest): string {
  const lines = [
    `url = ${curlQuote(r.url)}`,
    `request = ${curlQuote(r.method ?? 'GET')}`,
    'silent',
    'show-error',
    `max-time = ${r.timeoutSec ?? 10}`,
    `write-out = ${curlQuote(`${STATUS_MARK}%{http_code}`)}`,
  ];
  for (const [k, v] of Object.entries(r.headers ?? {})) lines.push(`header = ${curlQuote(`${k}: ${v}`)}`);
  if (r.body !== undefined) lines.push(`data-binary = ${curlQuote(r.body)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Several GETs in one curl run, for requests that share their headers (a token): curl fetches each `url` in
 * turn with the same options, and each answer is followed by its status line (read them with parseCurlOutputs).
 * Any curl does this (no `next`, which CentOS 7's 7.29 lacks).
 */
export function curlGetsConfig(urls: string[], headers: Record<string, string>, timeoutSec = 10): string {
  const [first, ...more] = urls.map((url) => `url = ${curlQuote(url)}`);
  // The first line as curlConfig has it: one config shape for the fakes and for the eye.
  const single = curlConfig({ url: 'x', headers, timeoutSec }).split('\n').slice(1);
  return [first, ...more, ...single].join('\n');
}

export interface CurlResponse {
  /** 0 when no HTTP answer came (connection refused, timeout). */
  status: number;
  body: string;
}

/** A lone curl's answer; with no HTTP answer (status 0) and no body, curl's own error is the body. */
export function curlAnswer(stdout: string, stderr: string): CurlResponse {
  const res = parseCurlOutput(stdout);
  if (res.status === 0 && !res.body.trim()) res.body = stderr.trim();
  return res;
}

export function parseCurlOutput(stdout: string): CurlResponse {
  const at = stdout.lastIndexOf(STATUS_MARK);
  if (at < 0) return { status: 0, body: stdout };
  return { status: Number(stdout.slice(at + STATUS_MARK.length).trim()) || 0, body: stdout.slice(0, at) };
}

/**
 * Requests that hold no secret, one after the other in one remote command (a health read is one round trip);
 * the next runs only if curl got an answer to the previous one. Read the answers with `parseCurlOutputs`.
 */
export function curlSeqCmd(reqs: CurlRequest[]): string {
  return reqs
    .map((r) => {
      const headers = Object.entries(r.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
      return sh`curl -sS -X ${r.method ?? 'GET'} --max-time ${r.timeoutSec ?? 10} -w ${`\\n${STATUS_MARK.slice(1)}%{http_code}`} ${[...headers, '--', r.url]}`;
    })
    .join(' && ');
}

/** The answers of `curlSeqCmd`, in order; one curl did not answer: status 0 with curl's error (and the rest too). */
export function parseCurlOutputs(stdout: string, stderr: string, count: number): CurlResponse[] {
  const answers: CurlResponse[] = [];
  let rest = stdout;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf(STATUS_MARK);
    const code = at < 0 ? undefined : /^\d{3}/.exec(rest.slice(at + STATUS_MARK.length))?.[0];
    if (at < 0 || !code || code === '000') {
      answers.push({ status: 0, body: stderr.trim() || rest });
      for (let j = i + 1; j < count; j++) answers.push({ status: 0, body: 'not asked: the request before it got no answer' });
      break;
    }
    answers.push({ status: Number(code), body: rest.slice(0, at) });
    rest = rest.slice(at + STATUS_MARK.length + 3);
  }
  return answers;
}
