# Shared by the CLI test scripts (sourced after PD is set): a scratch
# directory $T removed on exit, a failure counter and three checks.
#   expect CODE CMD...   run CMD (stdout -> $T/out, stderr -> $T/err), want exit CODE
#   has FILE REGEX       FILE has a line matching REGEX (grep)
#   lacks FILE REGEX     FILE has no such line
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() {
  want=$1; shift
  "$@" >"$T/out" 2>"$T/err"; got=$?
  [ "$got" = "$want" ] || { fail "exit $got (want $want): $*"; sed 's/^/  stderr: /' "$T/err" | head -5; }
}
has() { grep -q -- "$2" "$1" || { fail "$1 lacks \"$2\""; sed 's/^/  | /' "$1" | head -12; }; }
lacks() { ! grep -q -- "$2" "$1" || fail "$1 has \"$2\""; }
