// The lab's secrets (the console password): generated once, kept in 0600 files under .lab/secrets, and
// referenced from the inventory with lookup('file'), so inventory/lab.yaml itself holds no secret.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PATHS } from './topology.ts';

export function ensureLabSecrets(): void {
  if (existsSync(PATHS.dashboardPassword)) return;
  mkdirSync(dirname(PATHS.dashboardPassword), { recursive: true, mode: 0o700 });
  chmodSync(dirname(PATHS.dashboardPassword), 0o700);
  writeFileSync(PATHS.dashboardPassword, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
}
