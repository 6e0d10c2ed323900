#!/bin/bash
# e2e_replica.sh KT_LOGD KT_VERIFY
#
# Read replicas on one host, with the real binaries: a writer (kt-logd
# serve) and two replicas (kt-logd serve --read-only) on its data folder.
# Every write is read back from a replica at once (the replica sees each
# commit as soon as the writer acknowledged it); every GET endpoint
# answers a replica exactly as the writer does (status and body compared
# byte for byte, errors included); writes to a replica are refused with
# 405 naming the writer; kt-verify's lookup, monitor and audit verify
# against a replica; a replica killed with SIGKILL loses the other
# nothing and comes back; a replica refuses a folder with no log.
set -u
LOGD=$1
KV=$2
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-replica

logd_keys "$LOGD" e2e.example/ro || { echo "keygen failed"; cat "$T/kg"; exit 1; }

# A replica before the writer made the folder: refused, saying why.
timeout 10 "$LOGD" serve --data "$T/data" --key "$T/key" --listen 127.0.0.1:0 \
	--read-only > "$T/early.out" 2>&1 && fail "a replica started on no log"
grep -q "start the writer" "$T/early.out" &&
	echo "ok: a replica on an empty folder is refused, naming the writer" ||
	{ fail "early replica: $(cat "$T/early.out")"; }

start_logd "$LOGD" || { echo "kt-logd did not start"; cat "$T/logd.out.err"; exit 1; }
W=$U

# kill9 PID: SIGKILL to the kt-logd that e2e_start's `timeout` runs (the
# process itself, not the timeout wrapper), then reaps the wrapper
kill9() {
	local c
	c=$(cat "/proc/$1/task/$1/children" 2>/dev/null || pgrep -P "$1")
	[ -n "$c" ] || { echo "no process under $1 to kill"; exit 1; }
	kill -9 $c
	wait "$1" 2>/dev/null
	! kill -0 $c 2>/dev/null || { echo "$c survived SIGKILL"; exit 1; }
}
# start_replica NAME: kt-logd serve --read-only on the writer's folder;
# sets RPORT and RPID.
start_replica() {
	e2e_start "$T/$1.out" "$LOGD" serve --data "$T/data" --key "$T/key" \
		--listen 127.0.0.1:0 --read-only --writer "$W"
	RPID=$E2E_PID
	e2e_wait_line "$T/$1.out" " listen=127\.0\.0\.1:[0-9]+ .* read-only$" ||
		{ echo "replica $1 did not start"; cat "$T/$1.out.err"; exit 1; }
	RPORT=$(sed -n 's/.* listen=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/$1.out" | head -1)
}
start_replica r1; R1=http://127.0.0.1:$RPORT
start_replica r2; R2=http://127.0.0.1:$RPORT; R2PID=$RPID

post() { # PATH BODY: a write to the writer; the answer in $T/post
	curl -sf -H "Authorization: Bearer $TOKEN" -d "$2" "$W$1" > "$T/post" ||
		{ echo "write $1 failed"; exit 1; }
}
publish() { post /v1/keys "{\"label\":\"$1\",\"key_type\":\"ed25519\",\"key\":\"$2\"}"; }
# seen LABEL VERSION: both replicas answer the label's lookup with VERSION
# right after the writer acknowledged it
seen() {
	local r v
	for r in "$R1" "$R2"; do
		v=$(curl -s "$r/v1/keys/$(uri "$1")" | jq -r '.version // 0')
		[ "$v" = "$2" ] || fail "$r: $1 at version $v right after the write (want $2)"
	done
}

K1=$(key); K2=$(key); K3=$(key)
publish alice@e2e.example "$K1"; seen alice@e2e.example 1
# 300 labels in one batch: a full tile, and index records in the writer's
# memory only
jq -cn '{entries: [range(0; 300) | {label: "u\(.)@e2e.example",
	key_type: "ed25519", key: (("\(.)" + "................................")[0:32] | @base64)}]}' \
	> "$T/batch.json"
post /v1/keys:batch "@$T/batch.json"
seen u299@e2e.example 1
OLD=$(curl -sf "$W/checkpoint" | sed -n 2p)
publish alice@e2e.example "$K2"; seen alice@e2e.example 2
publish bob@e2e.example "$K3"; seen bob@e2e.example 1
post /v1/keys '{"label":"bob@e2e.example","revoke":true}'; seen bob@e2e.example 2
curl -sf -X DELETE -H "Authorization: Bearer $TOKEN" "$W/v1/keys/bob%40e2e.example/openings" > /dev/null ||
	fail "erasure"
echo "ok: every write read back from both replicas at once"

N=$(curl -sf "$W/checkpoint" | sed -n 2p)
HEAD=$((N - 1))
IDX=$(curl -s "$W/v1/keys/alice%40e2e.example" | jq -r .map_index | base64 -d | od -An -v -tx1 | tr -d ' \n')
LEAF=$( (printf '\000'; curl -s "$W/v1/entries?start=1&end=2" | jq -r '.entries[0]' | base64 -d) |
	sha256sum | cut -c1-64 | tr a-f A-F | basenc --base16 -d | base64 | jq -sRr @uri)
paths=(
	/v1/log /checkpoint
	/v1/keys/alice%40e2e.example /v1/keys/ALICE%40e2e.example /v1/keys/nobody%40e2e.example
	"/v1/keys/alice%40e2e.example?format=tlog-proof"
	"/v1/keys/alice%40e2e.example?checkpoint_size=$OLD"
	"/v1/keys/alice%40e2e.example?checkpoint_size=2"
	/v1/keys/alice%40e2e.example/history "/v1/keys/alice%40e2e.example/history?from=2"
	/v1/keys/bob%40e2e.example/history /v1/keys/nobody%40e2e.example/history
	"/v1/map/$IDX" "/v1/map/$IDX?since=0" "/v1/map/$IDX?checkpoint_size=$OLD"
	"/v1/map/audit/$HEAD" "/v1/map/audit/$((OLD - 1))" /v1/map/audit/1 /v1/map/xyz
	"/v1/proof/inclusion?index=1&size=$N" "/v1/proof/inclusion?leaf_hash=$LEAF&size=$N"
	"/v1/proof/inclusion?index=$N&size=$N"
	"/v1/proof/consistency?old=3&new=$N" "/v1/proof/consistency?old=$OLD&new=$N"
	"/v1/entries?start=0&end=$N" "/v1/entries?start=250&end=260" "/v1/entries?start=0&end=99999"
	/tile/0/000 "/tile/0/001.p/$((N - 256))" /tile/0/000.p/7 /tile/1/000.p/1
	/tile/entries/000 "/tile/entries/001.p/$((N - 256))" /tile/0/002 /no/such/path
)
same=0
codes=
for p in "${paths[@]}"; do
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$W$p")"
	for r in "$R1" "$R2"; do
		a=$(curl -s -w '\n%{http_code}' "$W$p" | sha256sum)
		b=$(curl -s -w '\n%{http_code}' "$r$p" | sha256sum)
		[ "$a" = "$b" ] && same=$((same + 1)) ||
			fail "$p: $r answers otherwise than the writer"
	done
done
echo "ok: $same answers of the replicas identical to the writer's (status and body; the writer's:$codes)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$W/tile/0/000")
[ "$code" = 200 ] || fail "the full tile was not served ($code): the comparison proved little"

# Writes on a replica: 405 from the headers, naming the writer.
for m in "POST /v1/keys" "POST /v1/keys:batch" "DELETE /v1/keys/alice%40e2e.example/openings"; do
	set -- $m
	code=$(curl -s -o "$T/w405" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
		-d '{"label":"carol@e2e.example","key_type":"ed25519","key":"'"$K1"'"}' "$R1$2")
	[ "$code" = 405 ] && jq -e --arg w "$W" '.error | contains("read-only replica") and contains($w)' \
		"$T/w405" > /dev/null && echo "ok: $m on a replica: 405 naming the writer" ||
		fail "$m on a replica: $code $(cat "$T/w405")"
done
[ "$(curl -s "$W/v1/keys/carol%40e2e.example" | jq -r .present)" = false ] ||
	fail "a write sent to a replica reached the log"
curl -s "$R1/healthz" | jq -e '.status == "ok" and .read_only == true' > /dev/null &&
	echo "ok: a replica's /healthz says read_only" || fail "replica healthz: $(curl -s "$R1/healthz")"
curl -s "$R1/metrics" | grep -qx 'kt_replica 1' && curl -s "$W/metrics" | grep -qx 'kt_replica 0' &&
	! curl -s "$R1/metrics" | grep -q '^kt_writable' &&
	echo "ok: /metrics says kt_replica 1 on a replica, 0 on the writer" || fail "replica metrics"

# kt-verify against a replica alone.
VRF=$(curl -sf "$R1/v1/log" | jq -r .vrf_public_key)
expect 0 "" "kt-verify init against a replica" c init --log "$R1" --key "$VK" --vrf-key "$VRF"
expect 0 "pinned on first use" "a lookup from a replica verifies" c lookup u7@e2e.example
expect 7 "ABSENT, verified" "an absence from a replica verifies" c lookup nobody@e2e.example
expect 0 "every key expected" "a monitor from a replica verifies" c monitor alice@e2e.example \
	--expect-b64 "$K1" --expect-b64 "$K2"
expect 0 "" "an audit from a replica verifies" c audit

# A replica killed mid-service: the other answers, the writer writes, and
# it comes back with the same answers.
kill9 "$R2PID"
publish dave@e2e.example "$K1"
v=$(curl -s "$R1/v1/keys/dave%40e2e.example" | jq -r .version)
[ "$v" = 1 ] && echo "ok: one replica killed, the other reads the next write" || fail "after kill: $v"
start_replica r2b; R2=http://127.0.0.1:$RPORT
for p in /checkpoint /v1/keys/dave%40e2e.example "/v1/map/$IDX?since=0"; do
	[ "$(curl -s "$W$p" | sha256sum)" = "$(curl -s "$R2$p" | sha256sum)" ] ||
		fail "restarted replica: $p differs"
done
expect 0 "" "kt-verify against the restarted replica" c lookup dave@e2e.example

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
