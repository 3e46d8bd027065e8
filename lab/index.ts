// What tests, benchmarks and the HA proof import from the lab.
export { up, down, ensureLab, type UpOptions, type UpResult, type DownOptions } from './lab.ts';
export { stopHost, killHost, pauseHost, unpauseHost, startHost, cutHost, restoreHost, isHostCut, freezeDocker, thawDocker } from './faults.ts';
export { status, hostStatuses, type HostStatus } from './status.ts';
export { hostInfo, sshReady, waitSsh } from './hosts.ts';
export { sshOptions } from './keys.ts';
export { HOSTS, PATHS, NET, MACHINE, API7_VERSIONS, API7_IMAGE_TAGS, ETCD_VERSION, ETCD_IMAGE, findHost, type LabHost } from './topology.ts';
export { DOCKER } from './run.ts';
