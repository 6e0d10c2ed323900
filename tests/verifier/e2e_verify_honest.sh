#!/bin/bash
# e2e_verify_honest.sh KT_VERIFY KT_LOGD ATTACK_LOGD
#
# Issue 4 scenario 7, the honest path, against the real kt-logd: a log of
# more than 10,000 entries; publish, rotate, revoke, look up, monitor,
# audit, proof; no false alarm (no exit 3, no evidence file). If kt-logd
# does not start, the same path runs against attack_logd in honest mode
# and the test says so.
set -u
KV=$1
LOGD=${2:-}
AD=${3:-}
T=$(mktemp -d /tmp/kt-verify-honest.XXXXXX)
PID=
fails=0
cleanup() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

N=${KT_E2E_ENTRIES:-10000}
server=none
if [ -x "$LOGD" ]; then
	"$LOGD" keygen --origin e2e.example/kt --out "$T/key" > "$T/kg" 2>&1 &&
	VK=$(tail -1 "$T/kg") &&
	"$LOGD" token > "$T/tok" &&
	TOKEN=$(sed -n 1p "$T/tok") && sed -n 2p "$T/tok" > "$T/tokens" &&
	for _ in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 40000))
		"$LOGD" serve --data "$T/data" --key "$T/key" \
			--listen 127.0.0.1:$PORT --tokens "$T/tokens" \
			> "$T/logd.out" 2> "$T/logd.err" &
		PID=$!
		for _ in $(seq 50); do
			curl -s "http://127.0.0.1:$PORT/healthz" > /dev/null && break
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$PID" 2>/dev/null; then server=kt-logd; break; fi
		wait "$PID" 2>/dev/null; PID=
	done
fi
if [ "$server" = none ]; then
	echo "NOTE: kt-logd did not start; running against attack_logd (honest mode)"
	"$AD" --lifetime 240 > "$T/ad.out" &
	PID=$!
	for _ in $(seq 50); do [ -s "$T/ad.out" ] && break; sleep 0.1; done
	read -r VK PORT < "$T/ad.out" || { echo "no server"; exit 1; }
	curl -sf "http://127.0.0.1:$PORT/ctl/client?name=all&view=0" > /dev/null
	U=http://127.0.0.1:$PORT/c/all
	server=attack_logd
else
	U=http://127.0.0.1:$PORT
fi
echo "server: $server at $U"

uri() { printf %s "$1" | jq -sRr @uri; }
key() { head -c32 /dev/urandom | base64; }
publish() { # LABEL KEY | LABEL --revoke
	if [ "$server" = kt-logd ]; then
		if [ "$2" = --revoke ]; then body="{\"label\":\"$1\",\"revoke\":true}"
		else body="{\"label\":\"$1\",\"key_type\":\"ed25519\",\"key\":\"$2\"}"; fi
		curl -sf -H "Authorization: Bearer $TOKEN" -d "$body" "$U/v1/keys" > /dev/null
	else
		if [ "$2" = --revoke ]; then q="revoke=1"; else q="key=$(uri "$2")"; fi
		curl -sf "http://127.0.0.1:$PORT/ctl/add?view=0&label=$1&$q" > /dev/null
	fi || { echo "publish $1 failed"; exit 1; }
}
bulk() { # N PREFIX: N new labels, 1000 per batch
	if [ "$server" = kt-logd ]; then
		for s in $(seq 0 1000 $(($1 - 1))); do
			jq -cn --argjson s "$s" --arg p "$2" '{entries: [range($s; $s + 1000) |
			    {label: "\($p)\(.)@e2e.example", key_type: "ed25519",
			     key: (("\(.)" + "................................")[0:32] | @base64)}]}' \
				> "$T/batch.json"
			curl -sf -H "Authorization: Bearer $TOKEN" --data-binary @"$T/batch.json" \
				"$U/v1/keys:batch" > /dev/null || { echo "batch failed"; exit 1; }
		done
	else
		curl -sf "http://127.0.0.1:$PORT/ctl/bulk?view=0&n=$1&prefix=$2" > /dev/null
	fi
}
kv() { local n=$1; shift; "$KV" --state "$T/$n" "$@" > "$T/out" 2>&1; }
expect() {
	local want=$1 pat=$2 what=$3; shift 3
	kv "$@"; local got=$?
	if [ "$got" != "$want" ] || ! grep -qE -- "$pat" "$T/out"; then
		echo "FAIL: $what: exit $got (want $want), output:"; cat "$T/out"
		fails=$((fails + 1))
	else
		echo "ok: $what (exit $got)"
	fi
}

K1=$(key); K2=$(key); K3=$(key)
kv bob init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
kv alice init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
kv aud init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
bulk "$N" user
publish alice@e2e.example "$K1"
expect 0 "pinned on first use" "7: bob looks up alice" bob lookup alice@e2e.example
expect 0 "every key expected" "7: alice monitors (>= $N entries)" alice monitor alice@e2e.example --expect-b64 "$K1"
expect 0 "matches the pinned state" "7: lookup again" bob lookup alice@e2e.example
publish alice@e2e.example "$K2"
expect 4 "KEY CHANGED" "7: rotation is shown as a key change" bob lookup alice@e2e.example
grep -q "version 2" "$T/out" || { echo "FAIL: 7: chain not shown"; fails=$((fails+1)); }
expect 0 "new key pinned" "7: --accept pins the rotation" bob lookup alice@e2e.example --accept
expect 0 "matches the pinned state" "7: lookup after accept" bob lookup alice@e2e.example
publish alice@e2e.example --revoke
expect 4 "KEY CHANGED" "7: revocation is a key change" bob lookup alice@e2e.example
expect 0 "pinned" "7: accept the revocation" bob lookup alice@e2e.example --accept
publish alice@e2e.example "$K3"
bulk 1000 more
expect 4 "KEY CHANGED" "7: a new key after revocation" bob lookup alice@e2e.example
expect 0 "pinned" "7: accept it" bob lookup alice@e2e.example --accept
printf '# alice keys\n%s\n%s\n\n%s\n' "$K1" "$K2" "$K3" > "$T/expect"
expect 0 "every key expected" "7: monitor after rotate/revoke (--expect FILE)" alice monitor alice@e2e.example --expect "$T/expect"
expect 0 "every key expected" "7: monitor with remembered keys, nothing new" alice monitor alice@e2e.example
expect 0 "entries replayed" "7: audit of the whole log" aud audit
expect 0 "consistent|unchanged" "7: checkpoint" bob checkpoint
expect 0 "wrote tlog-proof" "7: proof" bob proof alice@e2e.example --out "$T/alice.proof"
expect 0 "VALID inclusion proof" "7: evidence accepts the tlog-proof" bob evidence "$T/alice.proof"
expect 0 "--state" "7: --help" bob --help
kv bob --json lookup alice@e2e.example
[ "$(jq -r .status "$T/out")" = 0 ] || { echo "FAIL: --json"; cat "$T/out"; fails=$((fails+1)); }
for s in bob alice aud; do
	[ -d "$T/$s/evidence" ] && { echo "FAIL: 7: false alarm in $s"; fails=$((fails+1)); }
done
echo "server: $server; $fails failure(s)"
[ "$fails" -eq 0 ]
