#!/bin/bash
# The lab's etcd image keeps bitnami/etcd's contract (what the guide's `docker run` relies on) around
# Debian's etcd: settings come from ETCD_* environment variables (read by etcd itself), no start without
# ALLOW_NONE_AUTHENTICATION=yes when no root password is set, data in ETCD_DATA_DIR, runs as 1001
# unless `-u root`. `/entrypoint.sh etcd [flags]`; any other command runs as given (etcdctl, bash).
set -o errexit -o nounset -o pipefail

log() { printf 'etcd %s %-5s ==> %s\n' "$(date '+%H:%M:%S.%2N')" "$1" "$2" >&2; }

if [[ "${1:-}" != "etcd" ]]; then
  exec "$@"
fi
shift

log INFO "Validating settings in ETCD_* env vars.."
if [[ "${ALLOW_NONE_AUTHENTICATION:-no}" =~ ^(yes|true|1)$ ]]; then
  log WARN "You set the environment variable ALLOW_NONE_AUTHENTICATION=${ALLOW_NONE_AUTHENTICATION}. For safety reasons, do not use this flag in a production environment."
elif [[ -z "${ETCD_ROOT_PASSWORD:-}" ]]; then
  log ERROR "The ETCD_ROOT_PASSWORD environment variable is empty or not set. Set the environment variable ALLOW_NONE_AUTHENTICATION=yes to allow the container to be started with blank passwords. This is recommended only for development."
  exit 1
else
  # bitnami turns auth on with it at the first start; this lab image does not, and says so rather than ignore it.
  log ERROR "ETCD_ROOT_PASSWORD is not supported by the gatewright lab's etcd image: start it with ALLOW_NONE_AUTHENTICATION=yes and enable auth with etcdctl."
  exit 1
fi
unset ALLOW_NONE_AUTHENTICATION ETCD_ROOT_PASSWORD

export ETCD_DATA_DIR="${ETCD_DATA_DIR:-/bitnami/etcd/data}"
export ETCD_LISTEN_CLIENT_URLS="${ETCD_LISTEN_CLIENT_URLS:-http://0.0.0.0:2379}"
export ETCD_ADVERTISE_CLIENT_URLS="${ETCD_ADVERTISE_CLIENT_URLS:-http://127.0.0.1:2379}"
if ! mkdir -p "$ETCD_DATA_DIR" 2>/dev/null || [[ ! -w "$ETCD_DATA_DIR" ]]; then
  log ERROR "the data directory ${ETCD_DATA_DIR} is not writable by user $(id -u) (run the container with -u root, or chown the mounted directory to 1001)"
  exit 1
fi
if [[ -d "$ETCD_DATA_DIR/member" ]]; then
  log INFO "Detected data from previous deployments"
else
  log INFO "There is no data from previous deployments"
fi
log INFO "** Starting etcd **"
exec /usr/bin/etcd "$@"
