#!/bin/bash
# e2e_verify_witness_logd.sh KT_VERIFY KT_LOGD KT_WITNESS
#
# Witnessing end to end with the real servers: kt-logd with three kt-witness
# processes (--witness-quorum 2), a kt-verify client with quorum 2.
# Publish, wait for the witnessed checkpoint, lookup OK; kill one witness:
# writes go on, new checkpoints still get two cosignatures, lookups (and a
# key change) still verify; monitor, audit and gossip with a witness too.
# Kill a second witness: writes still go on, new entries are "not yet
# witnessed" (exit 6) and witnessed ones still verify.
# Skipped (exit 77) while kt-logd has no --witness option.
set -u
KV=$1
LOGD=$2
KW=$3
if ! "$LOGD" serve --help 2>&1 | grep -q -- "--witness"; then
	echo "SKIP: kt-logd serve has no --witness option yet; the kt-logd + 3 kt-witness e2e did not run"
	exit 77
fi
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-verify-wlogd

logd_keys "$LOGD" e2e.example/wkt || { echo "keygen failed"; cat "$T/kg"; exit 1; }
start_witnesses "$KW" 3 "$VK" e2e
start_logd "$LOGD" \
	--witness "${WU[0]}=${WK[0]}" --witness "${WU[1]}=${WK[1]}" \
	--witness "${WU[2]}=${WK[2]}" --witness-interval 1s \
	--witness-quorum 2 || { echo "kt-logd did not start"; cat "$T/logd.out.err"; exit 1; }

publish() { # LABEL KEY: must be acknowledged within 3 s
	local t0=$SECONDS
	curl -sf --max-time 3 -H "Authorization: Bearer $TOKEN" \
		-d "{\"label\":\"$1\",\"key_type\":\"ed25519\",\"key\":\"$2\"}" \
		"$U/v1/keys" > /dev/null || fail "publish $1 was not acknowledged in 3 s"
	[ $((SECONDS - t0)) -le 3 ] || fail "publish $1 took $((SECONDS - t0)) s"
}
# kv ARGS...: kt-verify with the one client's state; output in $T/out
kv() { "$KV" --state "$T/c" "$@" > "$T/out" 2>&1; }
# until_ok SECONDS ARGS...: retry a kt-verify command until exit 0
until_ok() {
	local n=$1 rc; shift
	for _ in $(seq $((n * 2))); do
		kv "$@"; rc=$?
		[ $rc -eq 0 ] && return 0
		# 1 (no cosigned checkpoint served yet), 2 (no quorum yet)
		# and 6 (not yet witnessed) are expected while the first
		# rounds run; 3, 4 or 5 is a failure
		[ $rc -le 2 ] || [ $rc -eq 6 ] || { cat "$T/out"; return $rc; }
		sleep 0.5
	done
	cat "$T/out"; return 1
}
cosigs() { # number of valid cosignatures kt-verify counted (--json)
	"$KV" --state "$T/c" --json checkpoint | jq -r '.witnesses.cosignatures // 0'
}

VRF=$(curl -sf "$U/v1/log" | jq -r .vrf_public_key)
kv init --log "$U" --key "$VK" --vrf-key "$VRF" --witness "${WK[0]}" \
	--witness "${WK[1]}" --witness "${WK[2]}" --quorum 2 ||
	{ cat "$T/out"; exit 1; }
K1=$(key); K2=$(key)
publish alice@e2e.example "$K1"
publish pad1@e2e.example "$(key)"
until_ok 20 lookup alice@e2e.example && echo "ok: lookup verified against a checkpoint with quorum" ||
	fail "lookup never verified with quorum 2"
n=$(cosigs); [ "$n" -ge 2 ] && echo "ok: $n cosignatures" || fail "only $n cosignatures"

# one witness dies; writes go on and checkpoints still reach the quorum
e2e_stop "${WPID[2]}"
echo "witness 3 stopped"
size0=$(curl -sf "$U/checkpoint" | sed -n 2p)
for i in $(seq 1 5); do publish "after$i@e2e.example" "$(key)"; done
publish alice@e2e.example "$K2"
publish bob@e2e.example "$(key)"
until_ok 20 lookup bob@e2e.example && echo "ok: a new entry verifies with two live witnesses" ||
	fail "bob never verified after a witness died"
size1=$(curl -sf "$U/checkpoint" | sed -n 2p)
[ "${size1:-0}" -gt "${size0:-0}" ] && echo "ok: witnessed size $size0 -> $size1" ||
	fail "the witnessed checkpoint did not grow ($size0 -> $size1)"
n=$(cosigs); [ "$n" -eq 2 ] && echo "ok: new checkpoint has 2 cosignatures" ||
	fail "new checkpoint has $n cosignatures (want 2)"
kv lookup alice@e2e.example; rc=$?
[ $rc -eq 4 ] && grep -q "KEY CHANGED" "$T/out" && echo "ok: rotation seen (exit 4)" ||
	{ fail "rotation: exit $rc"; cat "$T/out"; }
kv lookup alice@e2e.example --accept && echo "ok: rotation accepted" || fail "accept: $(cat "$T/out")"
kv monitor alice@e2e.example --expect-b64 "$K1" --expect-b64 "$K2" &&
	echo "ok: monitor with quorum" || { fail "monitor"; cat "$T/out"; }
kv audit && echo "ok: audit with quorum" || { fail "audit"; cat "$T/out"; }
kv gossip --peer "${WU[0]}" --peer "${WU[1]}" && echo "ok: gossip with live witnesses" ||
	{ fail "gossip"; cat "$T/out"; }
# a second witness dies: below quorum, writes still go on; new entries
# are not yet witnessed (exit 6), older ones still verify
e2e_stop "${WPID[1]}"
echo "witness 2 stopped"
publish carol@e2e.example "$(key)"
sleep 2.5 # two witness rounds: the lone witness cosigns, no quorum
kv lookup carol@e2e.example; rc=$?
[ $rc -eq 6 ] && grep -q "NOT YET WITNESSED" "$T/out" &&
	echo "ok: below quorum, a new entry is not yet witnessed (exit 6)" ||
	{ fail "carol below quorum: exit $rc"; cat "$T/out"; }
kv lookup bob@e2e.example && echo "ok: witnessed entries still verify" ||
	{ fail "bob below quorum"; cat "$T/out"; }
ls "$T/c/evidence" 2>/dev/null | grep -q . && fail "false alarm: evidence written"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
