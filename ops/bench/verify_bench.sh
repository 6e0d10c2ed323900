#!/bin/bash
# ops/bench/verify_bench.sh [SIZES...]: what checking the key directory
# costs a client and a key owner.
#
# First, inclusion proof verifications/s at 10^7 entries (one core). Then,
# for each size N (default 10000 1000000), a data folder of N labels made
# through the real store and sequencer (logserver/dir_fill, batches of
# 1000; or, with KT_BENCH_DATA=DIR KT_BENCH_KEY=KEYFILE, one folder filled
# before, e.g. 10^7 labels, measured as it is), served by kt-logd on
# loopback, and:
#   - lookups: 64 lookup answers of real labels and one absence, saved,
#     then verified on one core (verify_bench lookups): lookup proof
#     verifications/s beside vrf-r255 verifications alone, in the same run;
#   - the owner's monitor: one label published with a known key, then
#     `kt-verify monitor` three times: the first check, a check with nothing
#     changed, and a check after one rotation. For each: bytes fetched (its
#     own count of response bodies) and CPU seconds (user + system of the
#     kt-verify process, with the start-up's libsodium and curl set-up).
#
# Needs jq and curl. Everything runs on 127.0.0.1 in a temporary folder
# (kept data folders are only read); kt-logd is stopped by its PID on exit.
# Environment: KT_BUILD (default build).
set -eu
cd "$(dirname "$0")/../.."
B=${KT_BUILD:-build}
sizes=${*:-10000 1000000}
[ -n "${KT_BENCH_DATA:-}" ] && sizes=kept
command -v jq >/dev/null || { echo "verify_bench: jq missing" >&2; exit 1; }

[ -f "$B/build.ninja" ] || meson setup "$B" >/dev/null
ninja -C "$B" verifier/kt-verify verifier/verify_bench logserver/kt-logd \
	logserver/dir_fill >/dev/null
T=$(mktemp -d "${TMPDIR:-/tmp}/kt-verify-bench.XXXXXX")
PID=
cleanup() {
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KV=$B/verifier/kt-verify
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo "kt-verify figures; $(nproc) cores, $cpu"
"$B/verifier/verify_bench" proofs 10000000
# What any kt-verify command costs before it does anything: the dynamic
# loading of libcurl (30 libraries with its TLS, HTTP/2, LDAP, SSH
# back-ends), ICU and libsodium. Median of 5.
for i in 1 2 3 4 5; do
	TIMEFORMAT='%3U %3S'
	{ time "$KV" --help >/dev/null 2>&1; } 2>&1 | awk '{ printf "%.3f\n", $1 + $2 }'
done | sort -n | sed -n 3p | sed 's/^/kt-verify start-up (--help): /; s/$/ s CPU/'

# runs kt-verify with the owner's state; prints "BYTES CPU STATUS" (CPU:
# user + system seconds of the kt-verify process, from bash's time)
monitor() {
	local TIMEFORMAT='%3U %3S'
	{ time "$KV" --state "$T/owner" --json monitor owner@example.com \
		--expect "$T/expect" >"$T/mon.json" 2>"$T/mon.err"; } 2>"$T/time" || true
	echo "$(jq -r .bytes "$T/mon.json") $(awk '{ printf "%.3f", $1 + $2 }' \
		"$T/time") $(jq -r .status "$T/mon.json")"
}

for n in $sizes; do
	if [ "$n" = kept ]; then
		data=$KT_BENCH_DATA key=$KT_BENCH_KEY
		echo "== the folder $data"
	else
		data=$T/data key=$T/key
		rm -rf "$data"
		[ -f "$key" ] || "$B/logserver/kt-logd" keygen --origin bench.example/verify \
			--out "$key" >/dev/null
		echo "== $n labels"
		real=64
		[ "$n" -lt "$real" ] && real=$n
		"$B/logserver/dir_fill" "$key" "$data" "$n" "$real" 1000 >/dev/null
	fi
	"$B/logserver/kt-logd" serve --key "$key" --data "$data" \
		--listen 127.0.0.1:0 --allow-anonymous-writes >"$T/out" 2>"$T/log" &
	PID=$!
	i=0
	while ! grep -q 'identity:' "$T/out" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 600 ] || { cat "$T/log" >&2; exit 1; }
		sleep 0.1
	done
	U=http://$(sed -n 's/.* listen=\([^ ]*\).*/\1/p' "$T/out")
	VK=$(sed -n 's/.* vkey=\([^ ]*\).*/\1/p' "$T/out")
	VRF=$(sed -n 's/.* vrf=\([^ ]*\).*/\1/p' "$T/out")

	rm -rf "$T/ans" && mkdir "$T/ans"
	for i in $(seq 0 63); do
		curl -sf -o "$T/ans/$i.json" "$U/v1/keys/r$i@example.com"
	done
	curl -s -o "$T/ans/absent.json" "$U/v1/keys/nobody@example.com"
	"$B/verifier/verify_bench" lookups "$VK" "$VRF" "$T"/ans/*.json |
		sed 's/^/  /'
	echo "  lookup answer: $(wc -c <"$T/ans/0.json") bytes of JSON, proof \
$(jq -r .lookup_proof "$T/ans/0.json" | base64 -d | wc -c) bytes"

	k1=$(head -c 32 /dev/urandom | base64)
	k2=$(head -c 32 /dev/urandom | base64)
	curl -sf -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"label\":\"owner@example.com\",\"key_type\":\"ed25519\",\"key\":\"$k1\"}" \
		"$U/v1/keys"
	printf '%s\n' "$k1" >"$T/expect"
	rm -rf "$T/owner"
	"$KV" --state "$T/owner" init --log "$U" --key "$VK" --vrf-key "$VRF" >/dev/null
	read -r b c s <<<"$(monitor)"
	echo "  monitor, first check: $b bytes, $c s CPU ($s)"
	: >"$T/runs"
	for i in 1 2 3 4 5; do monitor >>"$T/runs"; done
	read -r b c s <<<"$(sort -k2 -n "$T/runs" | sed -n 3p)"
	echo "  monitor, nothing changed: $b bytes, $c s CPU ($s; median of 5)"
	curl -sf -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"label\":\"owner@example.com\",\"key_type\":\"ed25519\",\"key\":\"$k2\"}" \
		"$U/v1/keys"
	printf '%s\n%s\n' "$k1" "$k2" >"$T/expect"
	read -r b c s <<<"$(monitor)"
	echo "  monitor, one rotation: $b bytes, $c s CPU ($s)"
	kill -TERM "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
done
