#!/bin/bash
# e2e_mirror.sh KT_MIRROR KT_LOGD KT_VERIFY PROXY ATTACK_LOGD
#
# kt-mirror end to end against the real kt-logd (PROXY is
# mirror_proxy.py, between the mirror and the log), following it with
# --map (the directory map rebuilt from the leaves):
# (1) it catches up with a log of a few thousand labels; every tile and
#     entry bundle it serves is byte for byte kt-logd's, narrower partial
#     tiles too; the cosigned checkpoint verifies with the mirror's key;
#     kt-verify audit, reading the checkpoint and the bundles through the
#     mirror (and the map audit answers from kt-logd) under a witness
#     policy that names the mirror's key, verifies; the map paths it
#     serves are kt-logd's, and kt-verify monitor reading them (and the
#     checkpoint) from the mirror verifies an owner's key;
# (2) killed with SIGKILL in the middle of a slow catch-up, it serves
#     only the old checkpoint's tiles meanwhile, and once restarted it
#     resumes (reusing the bundles it had staged) and catches up;
# (3) a log that serves a tampered entry bundle is refused: an error
#     logged, the checkpoint stays, nothing stored past it;
# (4) attack_logd: a map head that does not follow from its batch is
#     refused as a tampered bundle is.
set -u
KM=$1
LOGD=$2
KV=$3
PROXY=$4
AD=$5
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-mirror-e2e

logd_keys "$LOGD" e2e.example/mirrored || { echo "kt-logd keygen failed"; exit 1; }
start_logd "$LOGD" || { echo "kt-logd did not start"; cat "$T/logd.out.err"; exit 1; }
LOGU=$U
VRF=$(curl -sf "$LOGU/v1/log" | jq -r .vrf_public_key)
HEX=$(printf %s "e2e.example/mirrored" | sha256sum | cut -d' ' -f1)

# batch FROM TO: labels uFROM..uTO-1 published in one request
batch() {
	jq -cn --argjson a "$1" --argjson b "$2" \
		'{entries: [range($a; $b) | {label: "u\(.)@e2e.example",
		  key_type: "ed25519",
		  key: ("k\(.)-\(now)" + "................................")[0:32] | @base64}]}' > "$T/batch.json"
	curl -sf -H "Authorization: Bearer $TOKEN" --data-binary @"$T/batch.json" \
		"$LOGU/v1/keys:batch" > "$T/batch.out" || { echo "batch failed"; exit 1; }
}
# write FROM TO: in batches of 500
write() { local s; for s in $(seq "$1" 500 $(($2 - 1))); do batch "$s" $((s + 500 < $2 ? s + 500 : $2)); done; }
logsize() { curl -sf "$LOGU/checkpoint" | sed -n 2p; }

# proxy OUT BACKEND [TILES]: a mirror_proxy.py; sets PX (its URL)
proxy() {
	e2e_start "$T/$1" python3 "$PROXY" "${@:2}"
	e2e_wait_line "$T/$1" '^[0-9]+$' || { echo "proxy did not start"; cat "$T/$1.err"; exit 1; }
	PX=http://127.0.0.1:$(head -1 "$T/$1")
}
"$KM" keygen --name mirror.e2e.example --out "$T/m.key" > "$T/mkg" || { echo "mirror keygen"; exit 1; }
MK=$(tail -1 "$T/mkg")
# the command line: help, usage errors, a key file others may read
"$KM" serve --help > "$T/h.out" 2>&1; code=$?
[ $code = 0 ] && grep -q -- "--map" "$T/h.out" && echo "ok: serve --help" || fail "serve --help: exit $code"
"$KM" keygen --name m.e2e --out "$T/m.key" > /dev/null 2>&1; code=$?
[ $code = 1 ] && echo "ok: keygen never overwrites a key" || fail "keygen over a key: exit $code"
for args in "serve" "serve --map" "serve --log http://x/nokey" "serve --interval 0" \
	"serve --stage-bundles 5000" "frob"; do
	# shellcheck disable=SC2086
	"$KM" $args > /dev/null 2>&1; code=$?
	[ $code = 2 ] || fail "kt-mirror $args: exit $code (want 2)"
done
echo "ok: usage errors exit 2"
cp "$T/m.key" "$T/open.key"; chmod 644 "$T/open.key"
"$KM" serve --data "$T/x" --key "$T/open.key" --listen 127.0.0.1:0 --log "http://x=$VK" 2> "$T/o.err"; code=$?
[ $code = 1 ] && grep -q "chmod 600" "$T/o.err" && echo "ok: a key file others may read is refused" ||
	fail "an open key file: exit $code"
proxy p1.out "$LOGU"
P1=$PX
# mirror: kt-mirror serve on $T/md through the proxy; sets MU, MPID, MOUT
MN=0
mirror() {
	MN=$((MN + 1)); MOUT=$T/m$MN.out
	e2e_start "$MOUT" "$KM" serve --data "$T/md" --key "$T/m.key" \
		--listen 127.0.0.1:0 --log "$P1=$VK" --map --interval 1 --stage-bundles 16
	MPID=$E2E_PID
	e2e_wait_line "$MOUT" "listening on port" || { echo "mirror did not start"; cat "$MOUT.err"; exit 1; }
	MU=http://127.0.0.1:$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$MOUT")/$HEX
}
msize() { curl -sf "$MU/checkpoint" | sed -n 2p; }
# wait_size N: up to 60 s for the mirror checkpoint to reach N
wait_size() {
	for _ in $(seq 600); do [ "$(msize)" = "$1" ] && return 0; sleep 0.1; done
	return 1
}
# tile_paths N: every tile and bundle path of a tree of N leaves, and
# narrower cuts of each partial one
tile_paths() {
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
def path(l, i, w):
    s = '%03d' % (i % 1000); i //= 1000
    while i > 0:
        s = 'x%03d/' % (i % 1000) + s; i //= 1000
    return 'tile/%s/%s%s' % (l, s, '' if w == 256 else '.p/%d' % w)
for l in range(8):
    c = n >> (8 * l)
    if c == 0: break
    for i in range(c // 256): print(path(l, i, 256))
    if c % 256:
        print(path(l, c // 256, c % 256))
        if c % 256 > 1: print(path(l, c // 256, 1))
for i in range(n // 256): print(path('entries', i, 256))
if n % 256:
    print(path('entries', n // 256, n % 256))
    if n % 256 > 1: print(path('entries', n // 256, n % 256 - 1))
PY
}
# same_tiles N WHAT: every path of a tree of N byte for byte the log's
same_tiles() {
	local p bad=0 n=0
	for p in $(tile_paths "$1"); do
		n=$((n + 1))
		cmp -s <(curl -sf "$LOGU/$p") <(curl -sf "$MU/$p") || { bad=$((bad + 1)); echo "differs: $p"; }
	done
	[ $bad = 0 ] && echo "ok: $2: the $n tiles and bundles of size $1 are kt-logd's, byte for byte" ||
		fail "$2: $bad of $n tiles or bundles differ"
}
# tiles_stored: the keys of the mirror's tiles table (hex), one a line
tiles_stored() { mdb_dump -s tiles "$T/md" | sed -n '/^HEADER=END/,/^DATA=END/p' | sed -n '2~2p'; }

# ---- (1) catching up, byte for byte, the cosignature, kt-verify ---------------
OWNKEY=$(head -c32 /dev/urandom | base64)
curl -sf -H "Authorization: Bearer $TOKEN" \
	-d "{\"label\":\"owner@e2e.example\",\"key_type\":\"ed25519\",\"key\":\"$OWNKEY\"}" \
	"$LOGU/v1/keys" > /dev/null || { echo "publish failed"; exit 1; }
write 0 3000
N1=$(logsize)
mirror
wait_size "$N1" && echo "ok: the mirror caught up with size $N1" || fail "the mirror is at $(msize), the log at $N1"
e2e_wait_line "$MOUT.err" "mirrored size $N1 \(from 0" || fail "no log line for the catch-up"
same_tiles "$N1" "honest"
code=$(curl -s -o /dev/null -w '%{http_code}' "$MU/tile/0/$(printf %03d $(( (N1 >> 8) + 1 )))")
[ "$code" = 404 ] && echo "ok: a tile past the checkpoint is 404" || fail "a tile past the checkpoint: $code"
curl -sf -D "$T/h" -o /dev/null "$MU/tile/0/000"
grep -qi "cache-control: .*immutable" "$T/h" && echo "ok: full tiles are immutable" || fail "no immutable cache header"
curl -s "$MU/nothing" | jq -e .error > /dev/null && echo "ok: errors are JSON" || fail "errors are not JSON"
curl -sf "$MU/checkpoint" > "$T/cp"
grep -q "^— mirror.e2e.example " "$T/cp" && grep -q "^— e2e.example/mirrored " "$T/cp" &&
	echo "ok: the checkpoint carries the log's signature and the mirror's cosignature" ||
	fail "the mirror's checkpoint lacks a signature: $(cat "$T/cp")"
# kt-verify: checkpoint and tiles from the mirror, the rest from the log;
# a policy of one witness, the mirror, so its cosignature must verify
proxy p2.out "$LOGU" "$(dirname "$MU")/$HEX"
kv mc init --log "$PX" --key "$VK" --vrf-key "$VRF" --witness "$MK" --quorum 1 ||
	{ cat "$T/out"; exit 1; }
expect 0 "map heads each equal" "kt-verify audit through the mirror, cosigned by the mirror's key" mc audit
# a key that is not the mirror's: the same checkpoint has no quorum
"$KM" keygen --name other.e2e.example --out "$T/o.key" > "$T/okg" || exit 1
kv oc init --log "$PX" --key "$VK" --vrf-key "$VRF" --witness "$(tail -1 "$T/okg")" --quorum 1 ||
	{ cat "$T/out"; exit 1; }
kv oc audit; check 2 $? "checkpoint rejected" "another cosigner key: the mirror's checkpoint is refused"

# the map paths: kt-logd's answers at the same size, but for the checkpoint
mapidx() { curl -sf "$LOGU/v1/keys/$1" | jq -r .map_index | base64 -d | od -An -v -tx1 | tr -d ' \n'; }
# same_paths N WHAT: map paths of a few labels (present and absent) are
# kt-logd's at size N, but for the checkpoint
same_paths() {
	local l i bad=0
	for l in owner%40e2e.example u7%40e2e.example u2999%40e2e.example u4000%40e2e.example nobody%40e2e.example; do
		i=$(mapidx "$l")
		cmp -s <(curl -sf "$MU/v1/map/$i" | jq -S 'del(.checkpoint)') \
			<(curl -sf "$LOGU/v1/map/$i?checkpoint_size=$1" | jq -S 'del(.checkpoint)') ||
			{ bad=1; echo "map path of $l differs"; }
	done
	[ $bad = 0 ] && echo "ok: $2: the map paths are kt-logd's at size $1 (present and absent)" ||
		fail "$2: map paths differ"
}
same_paths "$N1" "honest"
expect 0 "." "kt-verify monitor with the checkpoint and the map path from the mirror" \
	mc monitor owner@e2e.example --expect-b64 "$OWNKEY"
code=$(curl -s -o /dev/null -w '%{http_code}' "$MU/v1/map/$(mapidx u7%40e2e.example)?checkpoint_size=5")
[ "$code" = 404 ] && echo "ok: a map path at another size is 404" || fail "a map path at another size: $code"

# ---- (2) kill -9 during a slow catch-up, restart, resume ------------------------
# the mirror stopped while the log grows, then restarted against a slow
# log: one long catch-up, killed once a transaction of bundles is staged
e2e_stop "$MPID"
write 3000 9000
N2=$(logsize)
nbefore=$(tiles_stored | wc -l)
curl -sf "$P1/ctl/delay?ms=100" > /dev/null
mirror
staged=0
for _ in $(seq 300); do
	staged=$(tiles_stored | wc -l)
	[ "$staged" -gt $((nbefore + 16)) ] && break
	sleep 0.05
done
[ "$staged" -gt $((nbefore + 16)) ] || fail "nothing staged ($staged tiles stored)"
[ "$(msize)" = "$N1" ] && echo "ok: while it catches up the mirror serves size $N1" ||
	fail "mid catch-up the mirror serves $(msize)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$MU/tile/entries/$(printf %03d $(( N1 / 256 + 2 )))")
[ "$code" = 404 ] && echo "ok: a staged bundle is not served" || fail "a staged bundle: HTTP $code"
# $MPID is timeout(1)'s: SIGKILL goes to kt-mirror itself, its child
kpid=$(pgrep -P "$MPID")
[ -n "$kpid" ] && kill -9 "$kpid" || fail "no kt-mirror process under $MPID"
wait "$MPID" 2>/dev/null
echo "killed the mirror with $staged tiles stored (catching up from $N1 to $N2)"
curl -sf "$P1/ctl/honest" > /dev/null
mirror
[ "$(msize)" = "$N1" ] || [ "$(msize)" = "$N2" ] ||
	fail "after the kill the mirror serves $(msize)"
wait_size "$N2" && echo "ok: restarted, the mirror caught up with size $N2" || fail "the mirror is at $(msize), the log at $N2"
e2e_wait_line "$MOUT.err" "mirrored size $N2 \(from $N1: [0-9]+ bundles fetched, [1-9][0-9]* staged before" &&
	echo "ok: it resumed with the bundles staged before the kill" || fail "no resume: $(cat "$MOUT.err")"
same_tiles "$N2" "after kill -9"

# ---- (3) a tampered entry bundle -----------------------------------------------
tiles_stored | sort > "$T/before"
curl -sf "$P1/ctl/tamper?bundle=$(( N2 / 256 + 1 ))" > /dev/null
write 9000 10000
N3=$(logsize)
for _ in $(seq 100); do grep -q "refused the log's checkpoint of size $N3" "$MOUT.err" && break; sleep 0.1; done
grep -q "refused the log's checkpoint of size $N3 (the mirror stays at $N2): the log's entries do not hash" "$MOUT.err" &&
	echo "ok: the tampered bundle is refused, an error logged" || fail "no refusal logged: $(tail -3 "$MOUT.err")"
[ "$(msize)" = "$N2" ] && echo "ok: the checkpoint stays at $N2" || fail "the checkpoint moved to $(msize)"
sleep 1.5 # the next round is refused too
tiles_stored | sort > "$T/after"
cmp -s "$T/before" "$T/after" && echo "ok: nothing stored past the checkpoint" ||
	fail "the mirror stored tiles past $N2: $(comm -13 "$T/before" "$T/after" | wc -l) new"
curl -sf "$P1/ctl/honest" > /dev/null
wait_size "$N3" && echo "ok: the honest log again: caught up with $N3" || fail "stuck at $(msize)"
same_tiles "$N3" "after the refusal"
same_paths "$N3" "after the kill and the refusal"
# 10,001 labels (owner, u0..u9999): a trie of n leaves has n - 1 interior
# nodes, and the mirror keeps no other map's
nodes=$(mdb_stat -s nodes "$T/md" | sed -n 's/^ *Entries: //p')
[ "$nodes" = 20001 ] && echo "ok: only the last map is kept ($nodes nodes for 10001 labels)" ||
	fail "the map store keeps $nodes nodes for 10001 labels (want 20001)"

e2e_stop "$MPID"

# ---- (4) a map head that does not follow ----------------------------------------
start_attack_logd "$AD"
ctl "bulk?view=0&n=20&prefix=user"
ctl "client?name=mir&view=0"
AHEX=$(printf %s "attack.example/log" | sha256sum | cut -d' ' -f1)
e2e_start "$T/am.out" "$KM" serve --data "$T/amd" --key "$T/m.key" \
	--listen 127.0.0.1:0 --log "$U/c/mir=$VK" --map --interval 1
e2e_wait_line "$T/am.out" "listening on port" || { echo "mirror did not start"; exit 1; }
AM=http://127.0.0.1:$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/am.out")/$AHEX
asize() { curl -sf "$AM/checkpoint" | sed -n 2p; }
good=$(curl -sf "$U/c/mir/checkpoint" | sed -n 2p)
for _ in $(seq 100); do [ "$(asize)" = "$good" ] && break; sleep 0.1; done
[ "$(asize)" = "$good" ] && echo "ok: attack_logd's honest batches mirrored (size $good)" ||
	fail "attack_logd mirrored at $(asize), want $good"
curl -sf "$U/ctl/add?view=0&label=carol&key=$(uri "$(key)")&change=user3" > /dev/null || { echo "add"; exit 1; }
bad=$(curl -sf "$U/c/mir/checkpoint" | sed -n 2p)
e2e_wait_line "$T/am.out.err" "refused the log's checkpoint of size $bad \(the mirror stays at $good\): map head [0-9]+ does not follow" &&
	echo "ok: a map head that does not follow is refused" || fail "not refused: $(tail -2 "$T/am.out.err")"
[ "$(asize)" = "$good" ] && echo "ok: the checkpoint stays at $good" || fail "moved to $(asize)"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
