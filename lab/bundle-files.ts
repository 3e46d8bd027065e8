// The text files of an offline delivery in the guide's layout, as a vendor ships them (lab/bundle/**):
// a compose file with its own bridge network and published ports, conf files with their full key set
// and comments, and the data plane's cli.sh. Only the image tag and version are filled in. Pure apart
// from reading those files.
import { readFileSync } from 'node:fs';

export type Plane = 'cp' | 'dp';

export interface PlaneLayout {
  /** Registry-named image reference, e.g. api7ee.azurecr.io/api7-dashboard:2.13.2309.1. */
  image: (tag: string) => string;
  /** The image tarball inside the bundle folder: named by the bundle's version, not the image's tag. */
  imageFile: (version: string) => string;
  service: string;
  confFile: string; // inside the bundle directory
  confMount: string; // inside the container
  /** Files of the bundle folder besides the images, path -> [template file in lab/bundle, mode]. */
  files: Record<string, { template: string; mode: number }>;
  /** Empty directories the bundle ships. */
  dirs: string[];
}

const TEMPLATES = new URL('./bundle/', import.meta.url).pathname;

export const LAYOUT: Record<Plane, PlaneLayout> = {
  cp: {
    image: (tag) => `api7ee.azurecr.io/api7-dashboard:${tag}`,
    imageFile: (v) => `images/api7-dashboard-${v}.tar.gz`,
    service: 'api7-dashboard',
    confFile: 'dashboard_conf/conf.yaml',
    confMount: '/usr/local/apisix-dashboard/conf/conf.yaml',
    files: {
      'docker-compose.yaml': { template: 'cp/docker-compose.yaml', mode: 0o644 },
      'dashboard_conf/conf.yaml': { template: 'cp/dashboard_conf/conf.yaml', mode: 0o644 },
    },
    dirs: [],
  },
  dp: {
    image: (tag) => `api7ee.azurecr.io/api7-gateway:${tag}`,
    imageFile: (v) => `images/api7-gateway-${v}.tar.gz`,
    service: 'api7-gateway',
    confFile: 'gateway_conf/config.yaml',
    confMount: '/usr/local/apisix/conf/config.yaml',
    files: {
      'cli.sh': { template: 'dp/cli.sh', mode: 0o755 },
      'docker-compose.yaml': { template: 'dp/docker-compose.yaml', mode: 0o644 },
      'gateway_conf/config.yaml': { template: 'dp/gateway_conf/config.yaml', mode: 0o644 },
    },
    dirs: ['gateway_logs'],
  },
};

export const bundleName = (plane: Plane, version: string): string => `api7-${version}-${plane}`;

/** One file of the bundle as shipped: `{{tag}}` (the images' tag) and `{{version}}` (the bundle's) filled in. */
export function bundleFile(plane: Plane, path: string, version: string, tag: string, read = (p: string) => readFileSync(p, 'utf8')): string {
  const file = LAYOUT[plane].files[path];
  if (!file) throw new Error(`no file ${path} in the ${plane} bundle`);
  return read(`${TEMPLATES}${file.template}`).replaceAll('{{tag}}', tag).replaceAll('{{version}}', version);
}

/** Every text file of a bundle folder, path -> { text, mode }. */
export function bundleFiles(plane: Plane, version: string, tag: string): Record<string, { text: string; mode: number }> {
  return Object.fromEntries(
    Object.entries(LAYOUT[plane].files).map(([path, f]) => [path, { text: bundleFile(plane, path, version, tag), mode: f.mode }]),
  );
}

export const composeFile = (plane: Plane, version: string, tag: string): string => bundleFile(plane, 'docker-compose.yaml', version, tag);
