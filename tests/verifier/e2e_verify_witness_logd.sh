#!/bin/bash
# e2e_verify_witness_logd.sh KT_VERIFY KT_LOGD KT_WITNESS
#
# Issue 5 end to end with the real servers: kt-logd with three kt-witness
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
T=$(mktemp -d /tmp/kt-verify-wlogd.XXXXXX)
PIDS=()
fails=0
stop() { # stop PID: SIGTERM, bounded wait, then SIGKILL
	kill "$1" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	for p in "${PIDS[@]}"; do stop "$p"; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$LOGD" keygen --origin e2e.example/wkt --out "$T/key" > "$T/kg" 2>&1 ||
	{ echo "keygen failed"; cat "$T/kg"; exit 1; }
VK=$(tail -1 "$T/kg")
"$LOGD" token > "$T/tok" || exit 1
TOKEN=$(sed -n 1p "$T/tok"); sed -n 2p "$T/tok" > "$T/tokens"

WK=(); WU=(); WPID=()
for i in 1 2 3; do
	"$KW" keygen --name "w$i.e2e" --out "$T/w$i.key" > "$T/wkg$i" || exit 1
	WK+=("$(tail -1 "$T/wkg$i")")
	timeout 300 "$KW" serve --data "$T/wd$i" --key "$T/w$i.key" \
		--listen 127.0.0.1:0 --log "$VK" > "$T/w$i.out" 2>&1 &
	PIDS+=($!); WPID+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 50); do grep -q "listening on port" "$T/w$i.out" && break; sleep 0.1; done
	p=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/w$i.out")
	[ -n "$p" ] || { echo "witness $i did not start"; exit 1; }
	WU+=("http://127.0.0.1:$p")
done

LPID=
for _ in 1 2 3 4 5; do
	PORT=$((20000 + RANDOM % 40000))
	timeout 300 "$LOGD" serve --data "$T/data" --key "$T/key" \
		--listen 127.0.0.1:$PORT --tokens "$T/tokens" \
		--witness "${WU[0]}=${WK[0]}" --witness "${WU[1]}=${WK[1]}" \
		--witness "${WU[2]}=${WK[2]}" --witness-interval 1s \
		--witness-quorum 2 > "$T/logd.out" 2> "$T/logd.err" &
	LPID=$!
	for _ in $(seq 50); do
		curl -s "http://127.0.0.1:$PORT/healthz" > /dev/null && break
		kill -0 "$LPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$LPID" 2>/dev/null; then PIDS+=($LPID); break; fi
	wait "$LPID" 2>/dev/null; LPID=
done
[ -n "$LPID" ] || { echo "kt-logd did not start"; cat "$T/logd.err"; exit 1; }
U=http://127.0.0.1:$PORT

key() { head -c32 /dev/urandom | base64; }
publish() { # LABEL KEY: must be acknowledged within 3 s
	local t0=$SECONDS
	curl -sf --max-time 3 -H "Authorization: Bearer $TOKEN" \
		-d "{\"label\":\"$1\",\"key_type\":\"ed25519\",\"key\":\"$2\"}" \
		"$U/v1/keys" > /dev/null || fail "publish $1 was not acknowledged in 3 s"
	[ $((SECONDS - t0)) -le 3 ] || fail "publish $1 took $((SECONDS - t0)) s"
}
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

kv init --log "$U" --key "$VK" --witness "${WK[0]}" --witness "${WK[1]}" \
	--witness "${WK[2]}" --quorum 2 || { cat "$T/out"; exit 1; }
K1=$(key); K2=$(key)
publish alice@e2e.example "$K1"
publish pad1@e2e.example "$(key)"
until_ok 20 lookup alice@e2e.example && echo "ok: lookup verified against a checkpoint with quorum" ||
	fail "lookup never verified with quorum 2"
n=$(cosigs); [ "$n" -ge 2 ] && echo "ok: $n cosignatures" || fail "only $n cosignatures"

# one witness dies; writes go on and checkpoints still reach the quorum
stop "${WPID[2]}"
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
stop "${WPID[1]}"
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
