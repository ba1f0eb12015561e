#!/bin/sh
# Every public header compiles on its own as C11 -pedantic and as C++.
set -eu
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for h in "$src"/privdomain.h "$src"/privdomain/*.h; do
  rel=${h#"$src"/}
  printf '#include "%s"\nint pd_header_test_%d;\n' "$rel" "$n" > "$tmp/t.c"
  cc -std=c11 -pedantic -Wall -Wextra -Werror -I"$src" -I"$build" -c "$tmp/t.c" -o "$tmp/t.o"
  if command -v c++ >/dev/null 2>&1; then
    cp "$tmp/t.c" "$tmp/t.cpp"
    c++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$src" -I"$build" -c "$tmp/t.cpp" -o "$tmp/t.o"
  fi
  if grep -n '#include <\(glib\|gio\|json-glib\|zlib\)' "$h"; then echo "$rel includes a non-standard header"; exit 1; fi
  n=$((n + 1))
done
echo "$n headers compile standalone"
