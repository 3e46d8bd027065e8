// The compose file we render for a control- or data-plane bundle (one service, host network), and the
// spec fingerprint that decides whether `compose up -d` has anything to restart.
import { stringify } from 'yaml';
import { fingerprint, LABEL_ROLE, LABEL_SPEC } from './fingerprint.ts';

export interface ComposeService {
  /** Compose service and container name, e.g. api7-gateway. */
  name: string;
  /** Our role label value: dashboard or gateway. */
  role: string;
  image: string;
  /** host path -> container path, mounted read-only. */
  mounts: [string, string][];
}

export interface ComposeInputs {
  service: ComposeService;
  /** Image ID the ref points at on this host (so a reloaded image restarts the container). */
  imageId: string;
  /** sha256 of each mounted file's wanted content (a bind-mounted file is read at start only). */
  contentShas: string[];
}

/** The fingerprint covers everything a running container cannot pick up by itself. */
export const composeSpec = (c: ComposeInputs): string =>
  fingerprint({ service: c.service, imageId: c.imageId, contents: c.contentShas });

export function renderCompose(c: ComposeInputs): string {
  const s = c.service;
  const doc = {
    // 2.4 is read by docker-compose v1 and ignored by v2; host networking as in the guide's bundle.
    version: '2.4',
    services: {
      [s.name]: {
        image: s.image,
        container_name: s.name,
        network_mode: 'host',
        restart: 'always',
        volumes: s.mounts.map(([from, to]) => `${from}:${to}:ro`),
        labels: { [LABEL_ROLE]: s.role, [LABEL_SPEC]: composeSpec(c) },
        logging: { driver: 'json-file', options: { 'max-size': '50m', 'max-file': '3' } },
      },
    },
  };
  return `# Rendered by gatewright: changes here are overwritten on the next run.\n${stringify(doc)}`;
}
