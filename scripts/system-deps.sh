#!/usr/bin/env bash
# System packages the product needs beyond Python: a CJK font for certificate images and
# redis-server (the embedded Redis, also as a cluster and with Sentinel in the tests), and
# with --test Debian's Chromium for the H5 end-to-end tests (never a browser downloaded by a
# test tool) and nginx (the load balancer of the multi-process tests). Installs them from
# Debian's packages when missing (as root, or with passwordless sudo).
set -euo pipefail

need=()
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
if [ "${1:-}" = "--test" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -x /usr/sbin/nginx ] || need+=(nginx-light)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  apt=(sudo apt-get)
else
  echo "warning: missing ${need[*]} (needs root to install); certificate images will answer 503 and the browser tests are skipped" >&2
  exit 0
fi
echo "installing ${need[*]} from Debian's packages …"
if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q "${need[@]}" >/dev/null 2>&1; then
  "${apt[@]}" update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q "${need[@]}" >/dev/null
fi
