// Version strings as hosts print them, compared numerically part by part:
// "3.10.0-1160.76.1.el7.x86_64" > "3.10.0-927", "20.10.24+dfsg1" > "20.10.7", "1.13.1" < "20.10.7".

/**
 * The leading numeric run of a version, split into numbers; distribution suffixes stop it:
 * "5.15.0-91-generic" -> [5, 15, 0, 91], "6.1.0-18-amd64" -> [6, 1, 0, 18], "20.10.24+dfsg1" -> [20, 10, 24].
 */
export function versionParts(version: string): number[] {
  const run = version.match(/\d+(?:[.-]\d+)*/)?.[0] ?? '';
  return run ? run.split(/[.-]/).map(Number) : [];
}

/** Negative when a < b, 0 when equal, positive when a > b; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = versionParts(a);
  const pb = versionParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const atLeast = (version: string, minimum: string): boolean => compareVersions(version, minimum) >= 0;

/** The first dotted version in free text: "Docker version 20.10.24+dfsg1, build 297e128" -> "20.10.24+dfsg1". */
export function findVersion(text: string): string | undefined {
  return text.match(/\d+\.\d+(?:\.\d+)?[^\s,]*/)?.[0];
}

// Docker 20.10 needs CentOS 7.6's kernel (3.10.0-957; the guide's floor is 3.10.0-927). CentOS 7.2
// (3.10.0-327) and older are known to break overlay2 and user namespaces under Docker 20.10.
export const MIN_KERNEL = '3.10.0-927';
export const KNOWN_BAD_KERNEL = '3.10.0-327';
export const MIN_DOCKER = '20.10.7';
