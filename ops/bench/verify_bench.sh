#!/bin/bash
# ops/bench/verify_bench.sh [BUILD_DIR] [ENTRIES]
#
# kt-verify figures: inclusion proof verifications/s at 10^7 entries (one
# core), then against a local kt-logd holding ENTRIES (default 10^6) keys:
# `monitor` (entries/s, from an empty cursor) and a full `audit` (seconds).
# Uses a temporary folder and a loopback port; stops kt-logd at the end.
set -eu
B=${1:-build}
N=${2:-1000000}
cd "$(dirname "$0")/../.."
ninja -C "$B" -j2 verifier/kt-verify logserver/kt-logd verifier/verify_bench > /dev/null
T=$(mktemp -d /tmp/kt-verify-bench.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID && wait $PID; rm -rf "$T"' EXIT

"$B/verifier/verify_bench" proofs 10000000

"$B/logserver/kt-logd" keygen --origin bench.example/kt --out "$T/key" > "$T/kg"
VK=$(tail -1 "$T/kg")
"$B/logserver/kt-logd" token > "$T/tok"
sed -n 2p "$T/tok" > "$T/tokens"
PORT=$((20000 + RANDOM % 40000))
"$B/logserver/kt-logd" serve --data "$T/data" --key "$T/key" \
	--listen 127.0.0.1:$PORT --tokens "$T/tokens" > /dev/null 2> "$T/logd.err" &
PID=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
U=http://127.0.0.1:$PORT
"$B/verifier/verify_bench" populate "$U" "$(sed -n 1p "$T/tok")" "$N"

KV="$B/verifier/kt-verify"
"$KV" --state "$T/m" init --log "$U" --key "$VK" > /dev/null
"$KV" --state "$T/a" init --log "$U" --key "$VK" > /dev/null
start=$(date +%s.%N)
"$KV" --state "$T/m" --json monitor bench7@kt.example --expect-b64 \
	BwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= > "$T/mon.json"
end=$(date +%s.%N)
jq -r '"monitor: \(.to) entries checked in \(.seconds) s of reading = \(.to / .seconds | floor) entries/s (status \(.status))"' "$T/mon.json"
echo "monitor: whole command $(awk "BEGIN{print $end - $start}") s"
start=$(date +%s.%N)
"$KV" --state "$T/a" --json audit > "$T/audit.json"
end=$(date +%s.%N)
jq -r '"audit: \(.entries) entries in \(.seconds) s = \(.entries / .seconds | floor) entries/s (status \(.status))"' "$T/audit.json"
echo "audit: whole command $(awk "BEGIN{print $end - $start}") s"
