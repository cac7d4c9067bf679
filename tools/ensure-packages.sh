#!/bin/bash
# ensure-packages.sh [--optional] PACKAGE...
# Installs the Debian packages that are missing (as root), or prints the
# exact apt-get line and fails (not root). With --optional, not being root
# is not a failure: the tests that need the packages say they were skipped.
set -euo pipefail
optional=0
if [ "${1:-}" = "--optional" ]; then
  optional=1
  shift
fi
missing=()
for p in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] && [ $optional = 1 ]; then
  echo "softcheck: optional packages missing (${missing[*]}); the tests that need them will be" \
    "skipped. Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "error: missing Debian packages; install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "softcheck: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
