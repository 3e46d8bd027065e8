// The console's login token: a compact JWT (HS256) signed with authentication.secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const sign = (input: string, secret: string): string => createHmac('sha256', secret).update(input).digest('base64url');

export function issueToken(username: string, secret: string, expireSeconds: number, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: username, iat, exp: iat + expireSeconds }))}`;
  return `${head}.${sign(head, secret)}`;
}

/** The user name the token was issued to, or undefined when it is forged, malformed or expired. */
export function verifyToken(token: string, secret: string, now = Date.now()): string | undefined {
  const parts = token.replace(/^Bearer\s+/i, '').split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts;
  if (!safeEqual(signature, sign(`${header}.${payload}`, secret))) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown; exp?: unknown };
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
    return claims.exp * 1000 > now ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

/** Constant-time comparison of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
