#!/bin/sh
# Installs the build into a scratch prefix and compiles a program outside
# the tree with `cc prog.c $(pkg-config --cflags --libs privdomain)`.
set -eu
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
meson install -C "$build" --destdir "$prefix" >/dev/null
root="$prefix$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')"
libdir=$(dirname "$(find "$root" -name 'libprivdomain.so.0' | head -n1)")
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cat > "$prefix/demo.c" <<'C'
#include <privdomain.h>
#include <stdio.h>
int main(void) {
  if (pd_version_number() != PD_VERSION_NUMBER) return 1;
  printf("linked libprivdomain %s\n", pd_version_string());
  return 0;
}
C
# The .pc file names the install prefix; point it at the scratch copy.
cc "$prefix/demo.c" -o "$prefix/demo" $(pkg-config --define-variable=prefix="$root" --cflags --libs privdomain)
LD_LIBRARY_PATH="$libdir" "$prefix/demo"
# The CRM embedding example builds the same way and runs against the installed copy.
src=$(cd "$(dirname "$0")/.." && pwd)
cc "$src/examples/crm-example.c" -o "$prefix/crm" $(pkg-config --define-variable=prefix="$root" --cflags --libs privdomain)
LD_LIBRARY_PATH="$libdir" "$prefix/crm" "$prefix/crm-store" wx:zhao | grep -q '^wx:zhao .*win-back'
echo "crm-example built and ran against the installed library"
