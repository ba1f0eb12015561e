#!/bin/sh
# Installs what building and testing need on a fresh Debian 12 machine
# (only Debian's packages; npm is used by the benchmarks alone).
# Sourced by tests/run.sh and examples/demo.sh; a no-op when all is there.
PD_DEBS="meson ninja-build pkg-config gcc g++ libc6-dev libglib2.0-dev libjson-glib-dev zlib1g-dev check \
tzdata python3 python3-pandas python3-numpy python3-scipy sqlite3 binutils valgrind chromium fonts-noto-cjk ${PD_EXTRA_DEBS:-}"
pd_missing=""
for p in $PD_DEBS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pd_missing="$pd_missing $p"
done
if [ -n "$pd_missing" ]; then
  echo "installing:$pd_missing" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pd_missing >&2
fi
