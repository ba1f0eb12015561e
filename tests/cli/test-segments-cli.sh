#!/bin/sh
# pd tag, pd segment and the --segment / --by segment:... options of the
# analysis commands, run by meson (suite 'cli'):
# tests/cli/test-segments-cli.sh PATH/TO/pd. Hand-worked numbers in the comments.
set -u
PD=${1:?usage: test-segments-cli.sh PATH/TO/pd}
. "$(dirname "$0")/common.sh"

# u1 (ad) buys 100.00 and invites; u2 (group, referred by u1) buys 50.00;
# u3 (group) visits; u4 (ad, referred by u1) does nothing more.
# Tags: vip = {u1, u2}, new = {u3, u4}.
cat >"$T/ev.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-03-01T10:00:00Z,u1,acquire,ad,,
2024-03-01T11:00:00Z,u2,acquire,group,,u1
2024-03-02T10:00:00Z,u1,purchase,ad,100.00,
2024-03-02T12:00:00Z,u3,acquire,group,,
2024-03-03T10:00:00Z,u1,invite,,,
2024-03-03T11:00:00Z,u3,visit,group,,
2024-03-05T10:00:00Z,u4,acquire,ad,,u1
2024-03-10T10:00:00Z,u2,purchase,group,50.00,
CSV
printf 'user,tag\nu1,vip\nu2,vip\nu3,new\nu4,new\n' >"$T/tags.csv"
expect 0 "$PD" ingest "$T/store" "$T/ev.csv"

# ---- pd tag
expect 0 "$PD" tag "$T/store" --file "$T/tags.csv"
has "$T/err" '4 rows tagged'
expect 0 "$PD" tag "$T/store" --list --format csv
has "$T/out" '^tag,users$'
has "$T/out" '^vip,2$'
has "$T/out" '^new,2$'
expect 0 "$PD" tag "$T/store" u3 vip
expect 0 "$PD" tag "$T/store" --list -f csv
has "$T/out" '^vip,3$'
expect 0 "$PD" tag "$T/store" u3 vip --remove
expect 0 "$PD" tag "$T/store" --list -f csv
has "$T/out" '^vip,2$'
expect 1 "$PD" tag "$T/store" nobody vip
has "$T/err" 'unknown user "nobody"'
expect 2 "$PD" tag "$T/store"
expect 2 "$PD" tag "$T/store" u1
printf 'user,tag\nu1,x\nghost,x\n' >"$T/bad.csv"
expect 1 "$PD" tag "$T/store" --file "$T/bad.csv"
has "$T/err" 'bad.csv:3:1: expected a known user'

# ---- pd segment: revenue u1 10000, u2 5000, u3 and u4 0
expect 0 "$PD" segment "$T/store" define big 'revenue >= 5000'
expect 0 "$PD" segment "$T/store" define bigvip 'big and vip'
expect 0 "$PD" segment "$T/store" list -f csv
has "$T/out" '^segment,expr$'
has "$T/out" '^big,revenue >= 5000$'
expect 0 "$PD" segment "$T/store" show big -f csv
has "$T/out" '^user,external_id$'
has "$T/out" '^0,u1$'
has "$T/out" '^1,u2$'
grep -q 'u3' "$T/out" && fail "big holds u3"
expect 0 "$PD" segment "$T/store" show 'new or revenue > 5000' --count
has "$T/out" '^3$'
expect 0 "$PD" segment "$T/store" show bigvip --count
has "$T/out" '^2$'
expect 1 "$PD" segment "$T/store" define broken 'revenue >= and vip'
has "$T/err" 'segment broken: column 12: expected an integer, got "and"'
expect 1 "$PD" segment "$T/store" show 'vip and ('
has "$T/err" 'column 10: expected a tag, a comparison, "not" or "(", got end of expression'
expect 1 "$PD" segment "$T/store" show 'vip or gold'
has "$T/err" 'column 8: no segment or tag "gold"'
expect 0 "$PD" segment "$T/store" drop bigvip
expect 1 "$PD" segment "$T/store" drop bigvip
expect 2 "$PD" segment "$T/store" rename big
expect 2 "$PD" segment "$T/store" define big

# ---- funnel: acquire -> purchase within 30 days: u1 and u2 convert (vip), u3 and u4 do not (new)
expect 0 "$PD" funnel "$T/store" --steps acquire,purchase --window 30d --by segment:vip,new,big -f csv
has "$T/out" '^group,step,step_name,users,'
has "$T/out" '^vip,1,acquire,2,'
has "$T/out" '^vip,2,purchase,2,1,1,0,'
has "$T/out" '^new,1,acquire,2,'
has "$T/out" '^new,2,purchase,0,0,0,2,'
has "$T/out" '^big,2,purchase,2,'
expect 1 "$PD" funnel "$T/store" --steps acquire,purchase --segment 'new or nosuch'
has "$T/err" 'no segment or tag "nosuch"'
expect 0 "$PD" funnel "$T/store" --steps acquire,purchase --window 30d --segment new -f csv
has "$T/out" '^1,acquire,2,'
has "$T/out" '^2,purchase,0,'
expect 0 "$PD" funnel "$T/store" --steps acquire,purchase --window 30d --by tags -f csv
has "$T/out" '^vip,2,purchase,2,'
expect 1 "$PD" funnel "$T/store" --steps acquire,purchase --by segment:vip,
expect 1 "$PD" funnel "$T/store" --steps acquire,purchase --by segment:vip,nosuch
has "$T/err" 'no segment or tag "nosuch"'

# ---- stages for March: new users of the segment only
expect 0 "$PD" stages "$T/store" --period 2024-03 --segment new -f csv
has "$T/out" '^acquisition,new_users,,2,2,'
has "$T/out" '^revenue,revenue,,0,0,'
expect 0 "$PD" stages "$T/store" --period 2024-03 --segment vip -f csv
has "$T/out" '^revenue,revenue,,15000,15000,'
expect 0 "$PD" stages "$T/store" --period 2024-03 --by segment:vip,new -f csv
has "$T/out" '^segment,stage,metric,breakdown,value,numerator,denominator$'
has "$T/out" '^vip,revenue,revenue,,15000,15000,'
has "$T/out" '^new,acquisition,new_users,,2,2,'
expect 2 "$PD" stages "$T/store" --period 2024-03 --by touchpoint

# ---- referral: vip as referrers: u1 referred u2 and u4, u2 nobody: users 2, referred 2, K 1
expect 0 "$PD" referral "$T/store" --segment vip --view summary -f csv
has "$T/out" '^users,2$'
has "$T/out" '^referred,2$'
has "$T/out" '^k,1$'
expect 0 "$PD" referral "$T/store" --by segment:vip,new -f csv
has "$T/out" '^segment,group,users,roots,invites,referred,i,c,k,'
has "$T/out" '^vip,all,2,1,1,2,0.5,2,1,'
has "$T/out" '^new,all,2,1,0,0,0,,0,'

# ---- the other analyses take both options
expect 0 "$PD" retention "$T/store" --period day --segment vip -f csv
expect 0 "$PD" retention "$T/store" --period day --by segment:vip,new -f csv
has "$T/out" '^segment,k,cohorts,eligible,users,rate,'
has "$T/out" '^new,0,2,2,'
expect 2 "$PD" retention "$T/store" --by nonsense
expect 0 "$PD" lifecycle "$T/store" --by segment:vip,new -f csv
has "$T/out" '^vip,2024-W09,'
expect 0 "$PD" stickiness "$T/store" --segment big -f csv
expect 0 "$PD" rfm "$T/store" --segment vip -f csv
[ "$(grep -c '^[0-9]' "$T/out")" = 2 ] || fail "rfm --segment vip: want 2 customers"
expect 0 "$PD" rfm "$T/store" --by segment:vip,big --layers -f csv
has "$T/out" '^vip,1,重要价值,'
expect 0 "$PD" ltv "$T/store" --segment vip -f csv
has "$T/out" '^ad,unknown,1,1,10000,'
expect 0 "$PD" ltv "$T/store" --by segment:vip,new -f csv
has "$T/out" '^new,ad,unknown,1,0,0,'
expect 0 "$PD" attribution "$T/store" --model last --by segment:vip -f csv
has "$T/out" '^vip,ad,unknown,1,1,10000,0.5,'
expect 0 "$PD" membership "$T/store" --by segment:vip,new -f csv
has "$T/out" '^new,membership,non-members,2,0,'

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all segment CLI checks passed"
