#!/bin/bash
# e2e_verify_honest.sh KT_VERIFY KT_LOGD ATTACK_LOGD
#
# The honest path against the real kt-logd: a log of more than 10,000
# entries; publish, rotate, revoke, look up, monitor, audit, proof; no
# false alarm (no exit 3, no evidence file). If kt-logd does not start,
# the same path runs against attack_logd in honest mode and the test says
# so.
set -u
KV=$1
LOGD=${2:-}
AD=${3:-}
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-verify-honest

N=${KT_E2E_ENTRIES:-10000}
server=none
if [ -x "$LOGD" ] && logd_keys "$LOGD" e2e.example/kt && start_logd "$LOGD"; then
	server=kt-logd
fi
if [ "$server" = none ]; then
	echo "NOTE: kt-logd did not start; running against attack_logd (honest mode)"
	start_attack_logd "$AD"
	curl -sf "$U/ctl/client?name=all&view=0" > /dev/null
	U=$U/c/all
	server=attack_logd
fi
echo "server: $server at $U"

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

K1=$(key); K2=$(key); K3=$(key)
kv bob init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
kv alice init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
kv aud init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
bulk "$N" user
publish alice@e2e.example "$K1"
expect 0 "pinned on first use" "7: bob looks up alice" bob lookup alice@e2e.example
expect 0 "every key expected" "7: alice monitors (>= $N entries)" alice monitor alice@e2e.example --expect-b64 "$K1"
expect 0 "matches the pinned state" "7: lookup again" bob lookup alice@e2e.example
# Another spelling of the same name is the same label; a confusable is refused.
expect 0 "matches the pinned state" "7: lookup as Alice@E2E.Example" bob lookup Alice@E2E.Example
expect 1 "not a label kt accepts" "7: a Cyrillic a is refused" bob lookup "$(printf '\320\260lice@e2e.example')"
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
expect 0 "--log URL and --key VERIFIERKEY are required" \
	"7: init --help says which flags are required" bob init --help
expect 0 "global options: --state DIR" \
	"7: a command's --help names the global options" bob lookup --help
# A client set up with a key that is not this log's (another log's key of
# the same origin): exit 2, and the message points at the key given at
# init rather than at a lying server.
if [ "$server" = kt-logd ]; then
	"$LOGD" keygen --origin e2e.example/kt --out "$T/key2" > "$T/kg2" &&
		kv wrongkey init --log "$U" --key "$(tail -1 "$T/kg2")" ||
		{ cat "$T/out"; exit 1; }
	expect 2 "not signed by the log key .*check the key given with 'kt-verify init --key'" \
		"7: a key that is not the log's: check the key given at init" \
		wrongkey lookup alice@e2e.example
fi
kv bob --json lookup alice@e2e.example
[ "$(jq -r .status "$T/out")" = 0 ] || { echo "FAIL: --json"; cat "$T/out"; fails=$((fails+1)); }
for s in bob alice aud; do
	[ -d "$T/$s/evidence" ] && { echo "FAIL: 7: false alarm in $s"; fails=$((fails+1)); }
done
echo "server: $server; $fails failure(s)"
[ "$fails" -eq 0 ]
