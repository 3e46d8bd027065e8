// The Debian mirror the machine already uses (the only one reachable here), for debootstrap and for
// the images' apt sources. Pure over the texts of /etc/apt/sources.list{,.d/*}.
import { readdirSync, readFileSync, existsSync } from 'node:fs';

export interface DebianMirrors {
  main: string;
  security?: string;
}

/** URIs of one-line (`deb URI suite …`) and deb822 (`URIs: …`) sources. */
export function sourceUris(text: string): string[] {
  const uris: string[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
    const deb822 = /^URIs:\s*(.+)$/i.exec(line);
    if (oneLine) uris.push(oneLine[1]);
    else if (deb822) uris.push(...deb822[1].split(/\s+/));
  }
  return uris;
}

export function debianMirrors(texts: string[]): DebianMirrors {
  const uris = texts.flatMap(sourceUris).map((u) => u.replace(/\/+$/, ''));
  const main = uris.find((u) => /^https?:\/\/.*\/debian$/.test(u));
  if (!main) throw new Error('no Debian mirror (a URI ending in /debian) in the machine\'s apt sources: the lab builds its hosts from it');
  return { main, security: uris.find((u) => /^https?:\/\/.*\/debian-security$/.test(u)) };
}

/** sources.list for bookworm images, from the machine's mirrors. */
export function imageSourcesList(m: DebianMirrors, suite = 'bookworm'): string {
  const lines = [`deb ${m.main} ${suite} main`, `deb ${m.main} ${suite}-updates main`];
  if (m.security) lines.push(`deb ${m.security} ${suite}-security main`);
  return lines.join('\n') + '\n';
}

export function machineMirrors(): DebianMirrors {
  const dir = '/etc/apt/sources.list.d';
  const files = ['/etc/apt/sources.list', ...(existsSync(dir) ? readdirSync(dir).map((f) => `${dir}/${f}`) : [])];
  return debianMirrors(files.filter((f) => /\.(list|sources)$/.test(f) && existsSync(f)).map((f) => readFileSync(f, 'utf8')));
}
