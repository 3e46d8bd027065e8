import { describe, expect, it } from 'vitest';
import { coversWanted, responseData, routeBody } from '../../ops/admin-api.ts';
import { curlConfig, curlQuote, parseCurlOutput } from '../../ops/curl.ts';
import { firstHostOfPlay } from '../../ops/topology.ts';
import { SharedPlay } from '../../lib/play-shared.ts';
import type { Host, StepContext } from '../../lib/types.ts';

describe('smoke route body and comparison', () => {
  const wanted = routeBody('test.com', '/get', ['10.77.0.30:80']);

  it('is the guide route: Host test.com /get to the upstream nodes', () => {
    expect(wanted).toEqual({ uri: '/get', host: 'test.com', upstream: { type: 'roundrobin', nodes: { '10.77.0.30:80': 1 } } });
  });

  it('treats a stored route with extra API fields as equal, a changed node as different', () => {
    const stored = { ...wanted, id: 'gatewright-smoke', create_time: 1, update_time: 2, priority: 0, upstream: { ...(wanted.upstream as object), pass_host: 'pass' } };
    expect(coversWanted(stored, wanted)).toBe(true);
    expect(coversWanted({ ...stored, upstream: { type: 'roundrobin', nodes: { '10.77.0.31:80': 1 } } }, wanted)).toBe(false);
    expect(coversWanted(undefined, wanted)).toBe(false);
  });

  it('reads data from the API envelope (plain or etcd-style value)', () => {
    expect(responseData('{"code":0,"message":"","data":{"uri":"/get"}}')).toEqual({ uri: '/get' });
    expect(responseData('{"code":0,"data":{"key":"/k","value":{"uri":"/get"}}}')).toEqual({ uri: '/get' });
    expect(responseData('not json')).toBeUndefined();
  });
});

describe('routes and the data-plane cluster are written once per play', () => {
  const play = new SharedPlay([{ name: 'lab1' }, { name: 'lab2' }] as Host[]);
  const on = (host: string) => ({ host: { name: host }, play: play.view('route', host) }) as unknown as StepContext;

  it('by the first host of the play; the others skip naming it (the runner tests cover the leader moving on)', async () => {
    play.nodeStarted('lab1');
    play.nodeStarted('lab2');
    expect(await firstHostOfPlay(on('lab1'))).toBe(true);
    play.stepEnded('route', 'lab1', 'changed');
    expect(await firstHostOfPlay(on('lab2'))).toBe('done once, by lab1');
  });
});

describe('curl config on stdin', () => {
  it('puts URL, headers and body in the config, so argv is only `curl -K -`', () => {
    expect(
      curlConfig({ method: 'POST', url: 'http://127.0.0.1:9000/apisix/admin/user/login', headers: { 'Content-Type': 'application/json' }, body: '{"password":"p\\"w"}' }),
    ).toBe(
      [
        'url = "http://127.0.0.1:9000/apisix/admin/user/login"',
        'request = "POST"',
        'silent',
        'show-error',
        'max-time = 10',
        'write-out = "\\n__gatewright_status__:%{http_code}"',
        'header = "Content-Type: application/json"',
        'data-binary = "{\\"password\\":\\"p\\\\\\"w\\"}"',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslashes, quotes and newlines', () => {
    expect(curlQuote('a\\b"c\nd')).toBe('"a\\\\b\\"c\\nd"');
  });

  it('splits the status line from the body', () => {
    expect(parseCurlOutput('{"a":1}\n__gatewright_status__:201')).toEqual({ status: 201, body: '{"a":1}' });
    expect(parseCurlOutput('')).toEqual({ status: 0, body: '' });
  });
});
