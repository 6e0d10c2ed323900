#!/bin/bash
# e2e_verify_honest.sh KT_VERIFY KT_LOGD
#
# The key directory against the real kt-logd: a log of more than 10,000
# labels; the VRF key pinned at init; a verified absence; publish, rotate,
# revoke, look up, monitor (the map path alone when nothing changed),
# audit (the map replayed), a lookup tlog-proof; no false alarm (no exit 3,
# no evidence file). Then a ghost key the owner never published, and a
# retired key coming back: the monitor catches both, with evidence that
# checks offline.
set -u
KV=$1
LOGD=${2:-}
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-verify-honest

N=${KT_E2E_ENTRIES:-10000}
if ! { [ -x "$LOGD" ] && logd_keys "$LOGD" e2e.example/kt && start_logd "$LOGD"; }; then
	echo "kt-logd did not start"; exit 1
fi
echo "server: kt-logd at $U"
VRF=$(curl -sf "$U/v1/log" | jq -r .vrf_public_key)

publish() { # LABEL KEY | LABEL --revoke
	if [ "$2" = --revoke ]; then body="{\"label\":\"$1\",\"revoke\":true}"
	else body="{\"label\":\"$1\",\"key_type\":\"ed25519\",\"key\":\"$2\"}"; fi
	curl -sf -H "Authorization: Bearer $TOKEN" -d "$body" "$U/v1/keys" > /dev/null ||
		{ echo "publish $1 failed"; exit 1; }
}
bulk() { # N PREFIX: N new labels, 1000 per batch
	for s in $(seq 0 1000 $(($1 - 1))); do
		jq -cn --argjson s "$s" --arg p "$2" '{entries: [range($s; $s + 1000) |
		    {label: "\($p)\(.)@e2e.example", key_type: "ed25519",
		     key: (("\(.)" + "................................")[0:32] | @base64)}]}' \
			> "$T/batch.json"
		curl -sf -H "Authorization: Bearer $TOKEN" --data-binary @"$T/batch.json" \
			"$U/v1/keys:batch" > /dev/null || { echo "batch failed"; exit 1; }
	done
}

K1=$(key); K2=$(key); K3=$(key)
# The VRF key is pinned at init, never taken from the log: without it
# lookups say which option is missing; a key that is not a point is refused.
kv novrf init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
expect 1 "--vrf-key" "7: a lookup without a pinned VRF key names --vrf-key" novrf lookup alice@e2e.example
expect 1 "not a VRF public key" "7: a VRF key that is no point is refused" \
	novrf init --log "$U" --key "$VK" --vrf-key AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
expect 0 "VRF key of .* pinned" "7: init again adds the VRF key" novrf init --log "$U" --key "$VK" --vrf-key "$VRF"
kv bob init --log "$U" --key "$VK" --vrf-key "$VRF" || { cat "$T/out"; exit 1; }
kv alice init --log "$U" --key "$VK" --vrf-key "$VRF" || { cat "$T/out"; exit 1; }
kv aud init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
bulk "$N" user
expect 7 "ABSENT, verified" "7: alice before she publishes: a verified absence" bob lookup alice@e2e.example
publish alice@e2e.example "$K1"
expect 0 "pinned on first use" "7: bob looks up alice" bob lookup alice@e2e.example
expect 0 "every key expected" "7: alice monitors (>= $N entries)" alice monitor alice@e2e.example --expect-b64 "$K1"
expect 0 "unchanged.*bytes fetched" "7: alice monitors again: the map path only" alice monitor alice@e2e.example
b=$(sed -n 's/.* \([0-9]*\) bytes fetched.*/\1/p' "$T/out")
[ -n "$b" ] && [ "$b" -lt 16384 ] || { echo "FAIL: 7: an unchanged label cost $b bytes"; fails=$((fails+1)); }
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
expect 0 "entries replayed.*map heads each equal" "7: audit of the whole log and its map" aud audit
expect 0 "consistent|unchanged" "7: checkpoint" bob checkpoint
expect 0 "wrote tlog-proof" "7: proof" bob proof alice@e2e.example --out "$T/alice.proof"
expect 0 "VALID lookup proof" "7: evidence accepts the tlog-proof" bob evidence "$T/alice.proof"
expect 2 "needs the log's VRF key" "7: a tlog-proof is not checked without the VRF key" \
	nostate evidence "$T/alice.proof" --key "$VK"
expect 0 "VALID lookup proof" "7: ... and is with it, given as --vrf-key" \
	nostate evidence "$T/alice.proof" --key "$VK" --vrf-key "$VRF"
expect 0 "--state" "7: --help" bob --help
expect 0 "--log URL and --key VERIFIERKEY are required" \
	"7: init --help says which flags are required" bob init --help
expect 0 "global options: --state DIR" \
	"7: a command's --help names the global options" bob lookup --help
# A client set up with a key that is not this log's (another log's key of
# the same origin): exit 2, and the message points at the key given at
# init rather than at a lying server.
"$LOGD" keygen --origin e2e.example/kt --out "$T/key2" > "$T/kg2" &&
	kv wrongkey init --log "$U" --key "$(tail -1 "$T/kg2")" --vrf-key "$VRF" ||
	{ cat "$T/out"; exit 1; }
expect 2 "not signed by the log key .*check the key given with 'kt-verify init --key'" \
	"7: a key that is not the log's: check the key given at init" \
	wrongkey lookup alice@e2e.example
kv bob --json lookup alice@e2e.example
[ "$(jq -r .status "$T/out")" = 0 ] || { echo "FAIL: --json"; cat "$T/out"; fails=$((fails+1)); }
for s in bob alice aud; do
	[ -d "$T/$s/evidence" ] && { echo "FAIL: 7: false alarm in $s"; fails=$((fails+1)); }
done

# ---- a ghost key: the log (here: a stolen publishing token) commits a key
# for alice that she never published; her monitor finds it, with evidence
# that checks offline.
G=$(key)
publish alice@e2e.example "$G"
expect 3 "did not publish" "2: monitor finds the ghost key" alice monitor alice@e2e.example
f=$(evfile)
expect_ev 0 "PROVEN.*not among" "2: ghost-key evidence verifies offline" "$f"
jq --arg g "$G" '.expected_keys += [$g]' "$f" > "$T/ev1.json"
expect_ev 2 "proves nothing" "2: evidence listing the key as expected" "$T/ev1.json"
jq '.key = .expected_keys[0]' "$f" > "$T/ev2.json"
expect_ev 2 "does not open" "2: evidence stating another key" "$T/ev2.json"
expect 3 "did not publish" "2: the cursor stays until the ghost is dealt with" alice monitor alice@e2e.example
# a retired key coming back is a ghost too (K1 after K3)
kv alice2 init --log "$U" --key "$VK" --vrf-key "$VRF" || { cat "$T/out"; exit 1; }
publish alice@e2e.example "$K1"
expect 3 "did not publish" "2: a retired key published again" alice2 monitor alice@e2e.example \
	--expect-b64 "$K1" --expect-b64 "$K2" --expect-b64 "$K3" --expect-b64 "$G"
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
