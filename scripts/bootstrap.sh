#!/usr/bin/env bash
# Set-up on a fresh Debian 12 machine (root): the Debian packages the tests and the lab use, then the npm
# dependencies. Safe to rerun: apt and npm ci converge.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap: run as root (it installs Debian packages)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
packages=(
  openssh-server openssh-client sudo   # real sshd for the runner's integration tests
  etcd-server etcd-client              # real etcd for the stand-ins' tests
  haproxy                              # real haproxy for the lb role's integration tests
  ansible-core                         # real ansible-inventory: our INI/YAML/directory inventories must match it
  docker.io debootstrap zstd iptables  # the lab: its own dockerd and locally built host images
  curl ca-certificates git
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update --error-on=any
  # Packages must not start their services on this machine: tests run their own sshd, etcd and haproxy on
  # chosen addresses, and the lab runs its own dockerd. policy-rc.d stops invoke-rc.d during the install.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

npm ci --no-audit --no-fund
