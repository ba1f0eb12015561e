#!/bin/sh
# The CRM embedding example (examples/crm-example.c): its advice must make
# sense, not match fixed numbers. A customer who bought every week until
# yesterday must rank more alive and more valuable than one silent for a
# year, who must be sent a win-back; a second run appends nothing and
# answers the same; one customer can be asked for alone.
# Usage: crm-example.sh CRM_EXE
set -eu
crm=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
check() { # message, then a command that must succeed
  msg=$1; shift
  if "$@"; then echo "ok $msg"; else echo "FAIL $msg"; fail=1; fi
}
"$crm" "$dir/store" >"$dir/out1"
cat "$dir/out1"
# a row's field: customer, column (2 purchases, 3 days_ago, 4 p_alive, 5 next_30d, 6 clv_12m)
field() { awk -v c="$1" -v k="$2" '$1 == c { v = $k; gsub(/[%,]/, "", v); sub(/^[^0-9.-]+/, "", v); print v }' "$3"; }
advice() { awk -v c="$1" '$1 == c { sub(/^([^ ]+ +){6}/, ""); print }' "$2"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
for c in wx:lin wx:chen wx:zhao wx:wang wx:sun; do
  check "$c is listed" grep -q "^$c " "$dir/out1"
done
check "P(alive) is a percentage" awk '$1 ~ /^wx:/ { v = $4; sub(/%$/, "", v); if (v + 0 < 0 || v + 0 > 100) exit 1 }' "$dir/out1"
check "weekly-until-yesterday is more alive than silent-for-a-year" \
  gt "$(field wx:lin 4 "$dir/out1")" "$(field wx:zhao 4 "$dir/out1")"
check "weekly-until-yesterday is worth more over 12 months" \
  gt "$(field wx:lin 6 "$dir/out1")" "$(field wx:zhao 6 "$dir/out1")"
check "weekly-until-yesterday expects more purchases in 30 days than the monthly buyer" \
  gt "$(field wx:lin 5 "$dir/out1")" "$(field wx:chen 5 "$dir/out1")"
check "the monthly buyer is more alive than silent-for-a-year" \
  gt "$(field wx:chen 4 "$dir/out1")" "$(field wx:zhao 4 "$dir/out1")"
check "silent-for-a-year gets a win-back" sh -c "echo '$(advice wx:zhao "$dir/out1")' | grep -q win-back"
check "weekly-until-yesterday gets no win-back" sh -c "! echo '$(advice wx:lin "$dir/out1")' | grep -q win-back"
check "the recent one-time buyer gets a second-purchase coupon" \
  sh -c "echo '$(advice wx:sun "$dir/out1")' | grep -q second-purchase"
check "days since the last purchase: 1 for yesterday's buyer" [ "$(field wx:lin 3 "$dir/out1")" = 1 ]
check "days since the last purchase: about a year for the silent one" gt "$(field wx:zhao 3 "$dir/out1")" 300
# the store persists: a second run appends nothing and answers the same
"$crm" "$dir/store" >"$dir/out2"
check "second run: same store, same answers" cmp -s "$dir/out1" "$dir/out2"
# one customer on demand
"$crm" "$dir/store" wx:zhao >"$dir/out3"
check "asking for one customer gives one row" sh -c "[ \$(grep -c '^wx:' '$dir/out3') = 1 ]"
"$crm" "$dir/store" nobody >"$dir/out4"
check "an unknown customer is said to be unknown" grep -q "unknown or no purchase" "$dir/out4"
# --all lists every paying customer
n=$("$crm" "$dir/store" --all | grep -c '^wx:')
check "--all lists every customer ($n)" gt "$n" 50
exit $fail
