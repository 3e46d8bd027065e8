// curl on a host, driven by a config read from stdin (`curl -K -`): URLs, headers and bodies that hold
// passwords or tokens never reach argv. Pure builders; tested by exact strings.

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

export interface CurlResponse {
  /** 0 when no HTTP answer came (connection refused, timeout). */
  status: number;
  body: string;
}

export function parseCurlOutput(stdout: string): CurlResponse {
  const at = stdout.lastIndexOf(STATUS_MARK);
  if (at < 0) return { status: 0, body: stdout };
  return { status: Number(stdout.slice(at + STATUS_MARK.length).trim()) || 0, body: stdout.slice(0, at) };
}
