// The httpbin-like upstream, run as its bundle.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Harness } from './harness.ts';
import { ask } from './http.ts';

let lab: Harness;
let port: number;

beforeAll(async () => {
  lab = await Harness.create();
  port = (await lab.upstream('u1')).port;
});

afterAll(async () => {
  await lab?.close();
});

test('/get echoes args, headers, origin and url like httpbin', async () => {
  const answer = await ask({ port, path: '/get?a=1&a=2&b=x', host: 'test.com', headers: { 'x-demo': 'yes' } });
  expect(answer.status).toBe(200);
  expect(answer.headers['x-upstream-name']).toBe('u1');
  expect(answer.json()).toMatchObject({
    args: { a: ['1', '2'], b: 'x' },
    headers: { Host: 'test.com', 'X-Demo': 'yes' },
    origin: '127.0.0.1',
    url: 'http://test.com/get?a=1&a=2&b=x',
  });
});

test('origin is the X-Forwarded-For chain when a proxy sent one', async () => {
  const answer = await ask({ port, path: '/get', headers: { 'x-forwarded-for': '10.77.0.9' } });
  expect(answer.json().origin).toBe('10.77.0.9');
});

test('/status/<code> answers that code, /delay/<s> answers after the delay, others 404', async () => {
  expect((await ask({ port, path: '/status/418' })).status).toBe(418);
  expect((await ask({ port, path: '/status/503' })).status).toBe(503);
  const delayed = await ask({ port, path: '/delay/1?z=1' });
  expect(delayed.status).toBe(200);
  expect(delayed.json().args).toEqual({ z: '1' });
  expect((await ask({ port, path: '/nope' })).status).toBe(404);
});
