#!/usr/bin/env bash
# Installs the Debian packages ShopGuard's tests need, listed one per line in
# scripts/apt-packages/*.txt (one file per protocol; '#' starts a comment).
# Only missing packages are installed; nothing happens when all are present.
# Needs root or sudo. Set SHOPGUARD_SKIP_APT=1 to skip (then tests that need a
# missing server fail loudly rather than pass silently).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ "${SHOPGUARD_SKIP_APT:-0}" = 1 ] && { echo "system-deps: skipped (SHOPGUARD_SKIP_APT=1)"; exit 0; }

mapfile -t wanted < <(cat "$here"/apt-packages/*.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
[ ${#wanted[@]} -eq 0 ] && { echo "system-deps: nothing to install"; exit 0; }

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system-deps: all ${#wanted[@]} Debian packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages must not start services on install: tests start their own on loopback.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT
$SUDO flock /tmp/shopguard-apt.lock apt-get update -qq
$SUDO flock /tmp/shopguard-apt.lock apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: done"
