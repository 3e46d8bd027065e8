// Typed reads of merged variables: a wrong type fails with the variable's name, not later in a command.
import type { Vars } from '../lib/types.ts';

export function str(vars: Vars, name: string): string {
  const v = vars[name];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  throw new Error(`variable ${name} must be a non-empty string (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`);
}

export function optStr(vars: Vars, name: string): string | undefined {
  const v = vars[name];
  return v === undefined || v === null || v === '' ? undefined : str(vars, name);
}

export function num(vars: Vars, name: string): number {
  const v = vars[name];
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n)) return n;
  throw new Error(`variable ${name} must be an integer (got ${JSON.stringify(v)})`);
}

export function bool(vars: Vars, name: string): boolean {
  const v = vars[name];
  if (typeof v === 'boolean') return v;
  if (v === undefined || v === null) return false;
  if (typeof v === 'string' && /^(true|yes|1)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(false|no|0|)$/i.test(v)) return false;
  throw new Error(`variable ${name} must be true or false (got ${JSON.stringify(v)})`);
}

export function list(vars: Vars, name: string): string[] {
  const v = vars[name];
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  throw new Error(`variable ${name} must be a list (got ${JSON.stringify(v)})`);
}

export type Edition = 'api7' | 'apisix';
export function edition(vars: Vars): Edition {
  const e = str(vars, 'api7_edition');
  if (e !== 'api7' && e !== 'apisix') throw new Error(`variable api7_edition must be api7 or apisix (got ${e})`);
  return e;
}
