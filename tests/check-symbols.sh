#!/bin/sh
# The library must export exactly the symbols listed in the version script.
set -eu
lib=$1 map=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort -u)
listed=$(sed -n 's/^[[:space:]]*\(pd_[A-Za-z0-9_]*\);.*/\1/p' "$map" | sort -u)
if [ "$exported" != "$listed" ]; then
  echo "exported symbols differ from $map:"
  printf '%s\n' "$exported" > /tmp/pd-exported.$$
  printf '%s\n' "$listed" | diff - /tmp/pd-exported.$$ || true
  rm -f /tmp/pd-exported.$$
  exit 1
fi
echo "$(printf '%s\n' "$exported" | wc -l) symbols, all listed"
