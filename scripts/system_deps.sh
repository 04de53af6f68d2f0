#!/usr/bin/env bash
# Debian packages the tests need: PostgreSQL (backend tests on a real server) and Chromium
# (browser tests through Playwright, which uses /usr/bin/chromium and downloads no browser).
# Installs only what is missing; needs root (or sudo).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v curl >/dev/null 2>&1 || missing+=(curl)
((${#missing[@]})) || exit 0

if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
  die "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})"
fi
say "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-noto-core >/dev/null
# The distribution's own cluster is not used (tests start their own); keep it from holding ports.
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  "${sudo[@]}" pg_ctlcluster --help >/dev/null 2>&1 && "${sudo[@]}" bash -c 'for c in /etc/postgresql/*/main; do v=$(basename "$(dirname "$c")"); pg_ctlcluster "$v" main stop 2>/dev/null || true; done'
fi
