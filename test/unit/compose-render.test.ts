import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeSpec, renderCompose, type ComposeInputs } from '../../roles/common/compose.ts';
import { composeCmd, ownContainersCmd, parseOwnContainers } from '../../roles/common/docker-commands.ts';

const inputs: ComposeInputs = {
  service: {
    name: 'api7-gateway',
    role: 'gateway',
    image: 'api7/api7-gateway:2.13.2304',
    mounts: [['/opt/api7/2.13.2304/dp/gateway_conf/config.yaml', '/usr/local/apisix/conf/config.yaml']],
  },
  imageId: 'sha256:1111',
  contentShas: ['c0ffee'],
};

describe('compose file', () => {
  it('renders one host-network service with our labels (golden)', async () => {
    await expect(renderCompose(inputs)).toMatchFileSnapshot('golden/compose.gateway.yaml');
    const svc = parse(renderCompose(inputs)).services['api7-gateway'];
    expect(svc.labels['io.gatewright.spec']).toBe(composeSpec(inputs));
  });

  it('changes its spec label when the conf, the image or a mount changes, and only then', () => {
    const spec = composeSpec(inputs);
    expect(composeSpec({ ...inputs })).toBe(spec);
    expect(composeSpec({ ...inputs, contentShas: ['other'] })).not.toBe(spec);
    expect(composeSpec({ ...inputs, imageId: 'sha256:2222' })).not.toBe(spec);
    expect(composeSpec({ ...inputs, service: { ...inputs.service, mounts: [] } })).not.toBe(spec);
  });
});

describe('compose commands', () => {
  it('runs v1 or v2 as the docker fact says, in the bundle folder', () => {
    expect(composeCmd(['docker-compose'], '/opt/api7/2.13.2304/dp', 'api7-gateway', 'docker-compose.yaml', ['up', '-d'])).toBe(
      'cd /opt/api7/2.13.2304/dp && docker-compose -p api7-gateway -f docker-compose.yaml up -d',
    );
    expect(composeCmd(['docker', 'compose'], '/opt/x y', 'p', 'f.yaml', ['up', '-d'])).toBe("cd '/opt/x y' && docker compose -p p -f f.yaml up -d");
    expect(composeCmd(['docker', 'compose'], '/opt/x y', 'p', 'f.yaml', ['down'])).toBe("cd '/opt/x y' && docker compose -p p -f f.yaml down");
  });

  it('finds its own containers by label', () => {
    expect(ownContainersCmd('gateway')).toBe(
      'docker ps -aq --filter label=io.gatewright.role=gateway | xargs -r docker inspect --format ' +
        `'{{.Name}} {{.State.Running}} {{index .Config.Labels "io.gatewright.spec"}}'`,
    );
    expect(parseOwnContainers('/api7-gateway true 0123abcd\n/old false <no value>\n')).toEqual([
      { name: 'api7-gateway', running: true, spec: '0123abcd' },
      { name: 'old', running: false, spec: '' },
    ]);
  });
});
