// Starting and restarting dockerd with whatever service manager the host has. Pure command builders.
// Where no init system runs (containers whose PID 1 is sshd), dockerd runs detached in its own session,
// logging to a file; every path ends by waiting until `docker info` answers.
import { raw, sh } from '../../lib/shell.ts';
import type { DockerInfo, InitSystem } from '../../facts/docker.ts';

export const DETACHED_LOG = '/var/log/dockerd.log';
export const DOCKER_PIDFILE = '/var/run/docker.pid';
const WAIT_SECONDS = 60;

/** Polls `docker info` once a second; fails after `seconds` with the daemon's log tail. */
export const waitForDocker = (init: InitSystem, seconds = WAIT_SECONDS): string =>
  sh`i=0; until docker info >/dev/null 2>&1; do i=$((i+1)); if [ "$i" -ge ${seconds} ]; then echo ${`dockerd did not answer within ${seconds}s; ${logHint(init)}:`} >&2; ${raw(logTail(init))} >&2; exit 1; fi; sleep 1; done`;

const logHint = (init: InitSystem) => (init === 'systemd' ? 'journalctl -u docker' : init === 'none' ? DETACHED_LOG : '/var/log/docker.log');
const logTail = (init: InitSystem) =>
  init === 'systemd' ? 'journalctl -u docker -n 20 --no-pager 2>&1' : sh`tail -n 20 ${init === 'none' ? DETACHED_LOG : '/var/log/docker.log'} 2>&1`;

/** No stdio inherited (a held pipe would keep the ssh channel open); setsid: survives the session's end. */
export const START_DETACHED = sh`setsid dockerd >>${DETACHED_LOG} 2>&1 </dev/null &`;

/**
 * A dockerd that failed to start a few times (a bad daemon.json) hits systemd's start limit, and systemd then
 * refuses to start it even with a good file: clear that first (nothing to clear is fine).
 */
export const RESET_FAILED = 'systemctl reset-failed docker.service docker.socket >/dev/null 2>&1 || true';

/** Commands that leave dockerd enabled at boot and answering; none when it already is. */
export function planStart(d: DockerInfo): string[] {
  switch (d.init) {
    case 'systemd':
      if (d.running && d.enabled) return [];
      return [RESET_FAILED, 'systemctl enable --now docker', waitForDocker('systemd')];
    case 'openrc':
      return d.running ? [] : ['rc-update add docker default', 'rc-service docker start', waitForDocker('openrc')];
    case 'sysv':
      return d.running
        ? []
        : ['update-rc.d docker defaults >/dev/null 2>&1 || chkconfig docker on', 'service docker start', waitForDocker('sysv')];
    case 'none':
      return d.running ? [] : [START_DETACHED, waitForDocker('none')];
  }
}

/** Commands that restart a running dockerd (after its daemon.json changed) and wait for it. */
export function planRestart(init: InitSystem): string[] {
  switch (init) {
    case 'systemd':
      return ['systemctl restart docker', waitForDocker(init)];
    case 'openrc':
      return ['rc-service docker restart', waitForDocker(init)];
    case 'sysv':
      return ['service docker restart', waitForDocker(init)];
    case 'none':
      return [
        // TERM, then wait for it to exit (it stops its containers first) before starting again.
        sh`if [ -f ${DOCKER_PIDFILE} ]; then kill "$(cat ${DOCKER_PIDFILE})" 2>/dev/null; fi; i=0; while [ -f ${DOCKER_PIDFILE} ] && kill -0 "$(cat ${DOCKER_PIDFILE})" 2>/dev/null; do i=$((i+1)); [ "$i" -ge ${WAIT_SECONDS} ] && exit 1; sleep 1; done`,
        START_DETACHED,
        waitForDocker(init),
      ];
  }
}
