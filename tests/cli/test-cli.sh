#!/bin/sh
# Tests of the pd command-line tool, run by meson (suite 'cli'):
#   tests/cli/test-cli.sh PATH/TO/pd
# Checks exit codes (0 ok, 1 runtime, 2 usage), messages, determinism of
# pd gen, and that what pd reports agrees with the files it was given.
set -u
PD=${1:?usage: test-cli.sh PATH/TO/pd}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
n=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { n=$((n + 1)); }
# expect CODE CMD...: runs CMD, stdout in $T/out, stderr in $T/err
expect() {
  want=$1; shift
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" != "$want" ]; then
    fail "exit $got (want $want): $*"; sed 's/^/  stderr: /' "$T/err" | head -5
  else ok; fi
}
# grep_in FILE PATTERN: FILE must contain PATTERN
grep_in() {
  if grep -q -- "$2" "$1"; then ok; else fail "$1 lacks \"$2\""; sed 's/^/  | /' "$1" | head -5; fi
}
same() { # same A B WHAT
  if cmp -s "$1" "$2"; then ok; else fail "$3: $1 and $2 differ"; diff "$1" "$2" | head -5; fi
}
eq() { # eq GOT WANT WHAT
  if [ "$1" = "$2" ]; then ok; else fail "$3: got \"$1\", want \"$2\""; fi
}

# ---- top level ------------------------------------------------------------
expect 2 "$PD"
expect 0 "$PD" --help
grep_in "$T/out" "usage: pd COMMAND"
grep_in "$T/out" "gen"
expect 0 "$PD" --version
grep_in "$T/out" "^pd (libprivdomain) [0-9]"
expect 2 "$PD" no-such-command
grep_in "$T/err" 'unknown command "no-such-command"'

# ---- gen: options and usage ----------------------------------------------
expect 0 "$PD" gen --help
grep_in "$T/out" "usage: pd gen"
grep_in "$T/out" "\-\-users N"
expect 0 "$PD" gen --version
expect 2 "$PD" gen --bogus
grep_in "$T/err" "pd gen: unknown option --bogus"
expect 2 "$PD" gen --users
grep_in "$T/err" "needs a value"
expect 2 "$PD" gen --users ten
grep_in "$T/err" 'expected an integer, got "ten"'
expect 2 "$PD" gen --start 2024-02-30
grep_in "$T/err" "pd gen: --start: expected a day 01-29"
expect 2 "$PD" gen --quiet=yes
expect 2 "$PD" gen extra-argument
grep_in "$T/err" 'unexpected argument "extra-argument"'
expect 2 "$PD" gen --out a.csv --store s
expect 1 "$PD" gen --users 10 --out "$T/no/such/dir/ev.csv"
grep_in "$T/err" "^pd gen: cannot write"

# ---- gen: determinism and shape -------------------------------------------
mkdir -p "$T/a" "$T/b" "$T/c"
expect 0 "$PD" gen --users 2000 --seed 7 --out "$T/a/ev.csv"
expect 0 "$PD" gen --users=2000 -s 7 -q -o "$T/b/ev.csv"
same "$T/a/ev.csv" "$T/b/ev.csv" "same seed, same bytes"
same "$T/a/touchpoints.csv" "$T/b/touchpoints.csv" "same touchpoints"
expect 0 "$PD" gen --users 2000 --seed 8 --out "$T/c/ev.csv"
if cmp -s "$T/a/ev.csv" "$T/c/ev.csv"; then fail "different seeds gave the same bytes"; else ok; fi
expect 0 "$PD" gen --users 300 --seed 7
head -n1 "$T/out" >"$T/hdr"
eq "$(cat "$T/hdr")" "ts,user,event,touchpoint,amount,referrer" "CSV header"
# every row: ISO 8601 UTC time, a user, a built-in event, amounts with two decimals
bad=$(awk -F, 'NR > 1 && ($1 !~ /^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$/ || $2 !~ /^u[0-9]+$/ ||
  $3 !~ /^(acquire|activate|visit|message_send|message_open|purchase|refund|invite|referral_signup|member_join|stored_value|churn)$/ ||
  ($5 != "" && $5 !~ /^-?[0-9]+\.[0-9][0-9]$/))' "$T/a/ev.csv" | grep -v '"' | head -3)
eq "$bad" "" "malformed rows"
# time order
sorted=$(tail -n +2 "$T/a/ev.csv" | cut -c1-20 | sort -c 2>&1 && echo sorted)
eq "$sorted" "sorted" "events in time order"
users=$(tail -n +2 "$T/a/ev.csv" | cut -d, -f2 | sort -u | wc -l)
eq "$users" 2000 "distinct users"
acq=$(grep -c ',acquire,' "$T/a/ev.csv")
eq "$acq" 2000 "one acquire per user"
# every kind of event occurs; CJK touchpoints survive
for e in acquire activate visit message_send message_open purchase refund invite referral_signup member_join stored_value churn; do
  grep -q ",$e," "$T/a/ev.csv" && ok || fail "no $e event"
done
grep_in "$T/a/ev.csv" ",视频号直播,"
grep_in "$T/a/touchpoints.csv" '^"Pop-up, Hangzhou",semi,store,'
# referral_signup rows carry a referrer that is a user acquired earlier
norefs=$(awk -F, '$3 == "referral_signup" && $6 == ""' "$T/a/ev.csv" | wc -l)
eq "$norefs" 0 "referral_signup without referrer"
# referral depth: 1..3 present, nothing deeper
depths=$(awk -F, '$3 == "acquire" { d[$2] = ($6 == "" ? 0 : d[$6] + 1); if (d[$2] > m) m = d[$2]; c[d[$2]]++ }
  END { print (c[1] > 0) (c[2] > 0) m }' "$T/a/ev.csv")
case $depths in 11[23]) ok ;; *) fail "referral depths (has1 has2 max): $depths" ;; esac

# ---- helpers: durations, dates, formats (through any command) --------------
expect 2 "$PD" gen --start 2024-13-01
expect 0 "$PD" gen --users 5 --start 2023-06-15T00:00:00Z --months 1 -q -o "$T/s.csv"
range=$(tail -n +2 "$T/s.csv" | cut -c1-10 | sort | sed -n '1p;$p' | tr '\n' ' ')
inside=$(echo "$range" | awk '{ print ($1 >= "2023-06-15" && $2 < "2023-07-16") }')
eq "$inside" 1 "--start/--months: dates span $range"

# ---- store commands without ingest: gen --store, info, compact, export ------
expect 1 "$PD" info "$T/no-such-store"
grep_in "$T/err" "^pd info: ."
expect 2 "$PD" info
grep_in "$T/err" "missing arguments"
expect 2 "$PD" info "$T/x" "$T/y"
expect 2 "$PD" info --format xml "$T/x"
grep_in "$T/err" 'expected table, csv or json, got "xml"'
expect 1 "$PD" compact "$T/no-such-store"
expect 1 "$PD" export "$T/no-such-store"
expect 0 "$PD" gen --users 2000 --seed 7 --store "$T/gs"
# info agrees with the CSV of the same seed
expect 0 "$PD" info --format csv "$T/gs"
cp "$T/out" "$T/info.csv"
info() { awk -F, -v k="$1" '$1 == k { print $2 }' "$T/info.csv"; }
eq "$(info users)" 2000 "info users"
eq "$(info events)" "$(($(wc -l <"$T/a/ev.csv") - 1))" "info events"
eq "$(info touchpoints)" "$(($(wc -l <"$T/a/touchpoints.csv") - 1))" "info touchpoints"
for e in acquire visit purchase refund invite referral_signup churn; do
  eq "$(info "events:$e")" "$(grep -c ",$e," "$T/a/ev.csv")" "info events:$e"
done
expect 0 "$PD" info "$T/gs"
grep_in "$T/out" "^key  *value"
grep_in "$T/out" "^events:purchase "
expect 0 "$PD" info -f json "$T/gs"
grep_in "$T/out" '"key": *"users"'
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 -c 'import json,sys; rows=json.load(open(sys.argv[1])); assert any(r["key"]=="users" and r["value"]==2000 for r in rows)' "$T/out" && ok || fail "info --format json does not parse"
fi
# export: the events of gen --store are the CSV's, user by user, in time order
expect 0 "$PD" export "$T/gs" --out "$T/exp.csv" --touchpoints "$T/exp-tp.csv"
(head -n1 "$T/a/ev.csv"; tail -n +2 "$T/a/ev.csv" | sort -s -t, -k2.2,2n) >"$T/by-user.csv"
same "$T/by-user.csv" "$T/exp.csv" "export of gen --store vs gen CSV by user"
same "$T/a/touchpoints.csv" "$T/exp-tp.csv" "exported touchpoints"
expect 0 "$PD" compact "$T/gs"
grep_in "$T/out" "compacted .* 2000 users"
expect 0 "$PD" info --format csv "$T/gs"
grep_in "$T/out" "^segments,1,"
grep_in "$T/out" "^events_in_log,0,"
expect 0 "$PD" export "$T/gs"
same "$T/exp.csv" "$T/out" "export after compaction"

# ---- ingest -------------------------------------------------------------
expect 2 "$PD" ingest
expect 2 "$PD" ingest "$T/st"
grep_in "$T/err" "no input FILE"
expect 2 "$PD" ingest "$T/st" "$T/a/ev.csv" --rejects "$T/rej"
grep_in "$T/err" "needs --lenient"
expect 2 "$PD" ingest "$T/st" "$T/a/ev.csv" --tz Nowhere/Atlantis
grep_in "$T/err" "pd ingest: --tz: unknown time zone"
expect 2 "$PD" ingest "$T/st" "$T/a/ev.csv" --input-format xls
expect 1 "$PD" ingest "$T/st" "$T/no-such-file.csv"
grep_in "$T/err" "^pd ingest: .*no-such-file.csv"
# gen -> ingest -> info agrees with the CSV; the store equals gen --store's
expect 0 "$PD" ingest "$T/st" "$T/a/ev.csv" --touchpoints "$T/a/touchpoints.csv"
grep_in "$T/out" "ingested $(($(wc -l <"$T/a/ev.csv") - 1)) rows"
expect 0 "$PD" info --format csv "$T/st"
cp "$T/out" "$T/info.csv"
eq "$(info users)" 2000 "ingest: info users"
eq "$(info events)" "$(($(wc -l <"$T/a/ev.csv") - 1))" "ingest: info events"
eq "$(info touchpoints)" "$(($(wc -l <"$T/a/touchpoints.csv") - 1))" "ingest: info touchpoints"
for e in acquire activate visit message_send message_open purchase refund invite referral_signup member_join stored_value churn; do
  eq "$(info "events:$e")" "$(grep -c ",$e," "$T/a/ev.csv")" "ingest: info events:$e"
done
expect 0 "$PD" export "$T/st" -o "$T/exp2.csv" -t "$T/exp2-tp.csv"
same "$T/exp.csv" "$T/exp2.csv" "export of ingested CSV vs of gen --store"
same "$T/a/touchpoints.csv" "$T/exp2-tp.csv" "touchpoints after ingest"
# export -> re-ingest round trip (after compaction, into a fresh store)
expect 0 "$PD" compact "$T/st"
expect 0 "$PD" ingest -q "$T/st2" "$T/exp2.csv" --touchpoints "$T/exp2-tp.csv"
expect 0 "$PD" export "$T/st2" -o "$T/exp3.csv" -t "$T/exp3-tp.csv"
same "$T/exp2.csv" "$T/exp3.csv" "export -> ingest -> export"
same "$T/exp2-tp.csv" "$T/exp3-tp.csv" "touchpoints round trip"
# strict: a bad row fails the file with file:line:column, nothing committed
before=$("$PD" info --format csv "$T/st2" | awk -F, '$1 == "events" { print $2 }')
printf 'ts,user,event,touchpoint,amount,referrer\n2024-03-01T08:00:00Z,zz1,visit,,,\n2024-03-01T09:00:00Z,zz1,purchase,,12.345,\n' >"$T/bad.csv"
expect 1 "$PD" ingest "$T/st2" "$T/bad.csv"
grep_in "$T/err" "^pd ingest: .*bad.csv:3:"
after=$("$PD" info --format csv "$T/st2" | awk -F, '$1 == "events" { print $2 }')
eq "$after" "$before" "strict ingest committed nothing"
# lenient: the good row commits, the bad one goes to the rejects file
expect 0 "$PD" ingest "$T/st2" "$T/bad.csv" --lenient --rejects "$T/rejects.txt"
grep_in "$T/out" "1 committed, 1 rejected"
grep_in "$T/err" "1 rows rejected"
grep_in "$T/rejects.txt" "12.345"
after=$("$PD" info --format csv "$T/st2" | awk -F, '$1 == "events" { print $2 }')
eq "$after" "$((before + 1))" "lenient ingest committed the good row"
# progress bar: only when stderr is a terminal
expect 0 "$PD" ingest -q "$T/st4" "$T/a/ev.csv"
eq "$(cat "$T/err")" "" "no progress output when stderr is not a terminal"
if command -v script >/dev/null; then
  script -qec "'$PD' ingest -q '$T/st5' '$T/a/ev.csv'" /dev/null </dev/null | tr '\r' '\n' >"$T/tty" 2>&1
  grep_in "$T/tty" "ev.csv \[#*\] 100%"
fi
# local times in a zone
printf 'when,who,what\n2024-03-01 08:00:00,tz1,visit\n' >"$T/local.csv"
expect 0 "$PD" ingest -q "$T/st3" "$T/local.csv" --tz Asia/Shanghai --col-ts when --col-user who --col-event what
expect 0 "$PD" export "$T/st3"
grep_in "$T/out" "^2024-03-01T00:00:00Z,tz1,visit,,,$"

echo "cli tests: $n passed, $fails failed"
[ "$fails" = 0 ]
