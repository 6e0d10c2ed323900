#!/bin/sh
# ops/bench/dir_bench.sh [SIZES...]: the key directory at several sizes.
# For each size N (default 10000 100000 1000000) it fills a fresh data
# folder with N labels through the real store and sequencer
# (ops/bench/dir_fill.c: batches of 1000, one version each; 10000 of them,
# or N if fewer, with real VRF proofs so they can be looked up), then
# serves it with kt-logd and measures lookups with wrk: GET
# /v1/keys/<label> of random real labels, p50/p99 and req/s, and the
# lookup proof's size. It prints, per size: bytes per label on disk (by
# database), the sequencer's insert and rotation rates, the lookup figures.
#
# Needs wrk (ops/deps --bench). Everything runs on 127.0.0.1 in a temporary
# folder; kt-logd is stopped by its PID on exit. Environment: KT_BUILD
# (default build), KT_BENCH_DURATION (seconds of wrk per size, default 10),
# KT_BENCH_CONNS (default 32).
set -eu
cd "$(dirname "$0")/../.."
build=${KT_BUILD:-build}
dur=${KT_BENCH_DURATION:-10}
conns=${KT_BENCH_CONNS:-32}
sizes=${*:-10000 100000 1000000}
command -v wrk >/dev/null || { echo "dir_bench: wrk missing (ops/deps --bench)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/kt-dir-bench.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" logserver/kt-logd logserver/dir_fill >/dev/null
logd=$build/logserver/kt-logd
"$logd" keygen --origin bench.example/dir --out "$work/key" >/dev/null

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo "key directory at several sizes; $(nproc) cores, $cpu"
for n in $sizes; do
	real=10000
	[ "$n" -lt "$real" ] && real=$n
	rm -rf "$work/data"
	echo "== $n labels"
	"$build/logserver/dir_fill" "$work/key" "$work/data" "$n" "$real" 1000 |
		sed 's/^/  /'
	"$logd" serve --key "$work/key" --data "$work/data" \
		--listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
	pid=$!
	i=0
	while ! grep -q 'listen=' "$work/out" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 300 ] || { cat "$work/log" >&2; exit 1; }
		sleep 0.1
	done
	port=$(sed -n 's/.*listen=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/out")
	url=http://127.0.0.1:$port
	bytes=$(curl -s "$url/v1/keys/r0@example.com" |
		sed -n 's/.*"lookup_proof":"\([^"]*\)".*/\1/p' | base64 -d | wc -c)
	absent=$(curl -s "$url/v1/keys/nobody@example.com" |
		sed -n 's/.*"lookup_proof":"\([^"]*\)".*/\1/p' | base64 -d | wc -c)
	timeout $((dur + 30)) wrk -t2 -c"$conns" -d"${dur}s" --latency \
		-s ops/bench/http_lookup.lua "$url" -- "$real" >"$work/wrk" 2>&1 || true
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$work/wrk")
	p50=$(awk '$1 == "50%" { print $2 }' "$work/wrk")
	p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk")
	echo "  lookups: $rps req/s (wrk -t2 -c$conns on the same cores), p50 $p50, p99 $p99"
	echo "  lookup proof: $bytes bytes (present), $absent bytes (absent)"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
done
