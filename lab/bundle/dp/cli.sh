#!/usr/bin/env bash
# API7 Gateway bundle helper: run from anywhere, acts on the bundle this script sits in.
set -euo pipefail
cd "$(dirname "$0")"

VERSION="{{version}}"

compose() {
  if docker compose version >/dev/null 2>&1; then docker compose "$@"; else docker-compose "$@"; fi
}

case "${1:-}" in
  version) echo "API7 Gateway ${VERSION}" ;;
  load)    for image in images/*.tar.gz; do docker load < "${image}"; done ;;
  start)   compose up -d ;;
  stop)    compose down ;;
  status)  compose ps ;;
  logs)    compose logs --tail=100 ;;
  *)
    echo "usage: $0 {version|load|start|stop|status|logs}" >&2
    exit 2
    ;;
esac
