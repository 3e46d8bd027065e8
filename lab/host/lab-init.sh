#!/bin/sh
# PID 1 of a lab host (not privileged): make /sys and the cgroup mounts writable so systemd and a
# nested dockerd can manage cgroups, fix the controller's files copied in before start, then hand
# over to the init system: systemd (real-host-like, default) or sshd alone (LAB_INIT=none).
mount -o remount,rw /sys 2>/dev/null || true
for m in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts); do
  # plain `remount,rw` fails with "busy" on a bind mount
  mount -o remount,bind,rw "$m" 2>/dev/null || true
done
if [ -d /home/ops/.ssh ]; then
  chown -R ops:ops /home/ops/.ssh
  chmod 700 /home/ops/.ssh
  chmod 600 /home/ops/.ssh/authorized_keys
fi
chmod 600 /etc/ssh/ssh_host_*_key 2>/dev/null || true
if [ "${LAB_INIT:-systemd}" = systemd ]; then
  exec /sbin/init
fi
mkdir -p /run/sshd
for hook in /etc/lab-boot.d/*.sh; do
  [ -e "$hook" ] && sh "$hook"
done
exec /usr/sbin/sshd -D -e
