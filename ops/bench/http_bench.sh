#!/bin/sh
# ops/bench/http_bench.sh: kt-logd's HTTP throughput and latency beside the
# libmicrohttpd ceiling server, under the same load generator (wrk) in the
# same run, reported as medians of ROUNDS rounds and as kt/ceiling ratios.
#
#   ops/bench/http_bench.sh            (needs wrk: ops/deps --bench)
#
# Environment: KT_SHARED (default ../shared, holds bench/ceiling.c and
# bench/post.lua), KT_BUILD (default build), KT_BENCH_DURATION (seconds per
# wrk run, default 10), KT_BENCH_ROUNDS (default 3), KT_BENCH_CONNS (64).
#
# First KT_BENCH_LABELS (20000) labels are published, and the VRF prove
# rate of both cores is measured (proto_bench vrf twice at once). Phases
# per round, beside their references in the same round:
#   rotate  single-key POST /v1/keys giving a published label a new key
#           (http_rotate.lua), beside the floor commit server
#   unique  single-key POST /v1/keys, every label new (http_post.lua): a
#           VRF prove each, beside the floor and the VRF rate
#   brot    POST /v1/keys:batch rotating 1000 published labels
#   batch   POST /v1/keys:batch of 1000 new labels
#   lookup  GET /v1/keys/<published label> (http_lookup.lua): a lookup
#           proof each, beside the ceiling's GET
#   proof   GET /v1/proof/inclusion for random leaves (http_proof.lua)
# Beside the ceiling, two floor servers (ops/bench/floor.c) show what the
# issue's write API costs before any kt code runs, in the same rounds:
#   unique  floor commit: suspend the connection, one durable LMDB commit per
#           hand-off batch (one 200-byte record per request), resume
#   batch   floor batch: jansson parse of the 1000 entries and an answer of
#           kt's size and shape (no hashing, no store)
# Then, kt-logd only, p99 submission->integration latency at half the
# median peak unique-POST rate: wrk has no rate limit (wrk2 is not in
# Debian), so http_paced.lua gives each connection a fixed pause between
# requests. The pause is calibrated with one short run (rate = conns /
# (pause + latency), solved for the pause), then wrk runs with --latency
# and we read its 99th percentile. kt-logd answers a write only after the
# commit that made it durable, so the HTTP latency bounds submission ->
# integration from above; the server's own view (kt_submit_seconds in
# /metrics, bucketed) is printed beside it.
#
# Everything runs on 127.0.0.1 in a temporary folder; both servers are
# stopped (SIGTERM, then SIGKILL) on exit, whatever happens.
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
shared=${KT_SHARED:-$root/../shared}
build=${KT_BUILD:-build}
dur=${KT_BENCH_DURATION:-10}
rounds=${KT_BENCH_ROUNDS:-3}
conns=${KT_BENCH_CONNS:-64}
# Batch phases: fewer connections. 64 batches of 1000 new labels in flight
# need ~10 s of VRF proving before the first answer (past wrk's timeout).
bconns=${KT_BENCH_BATCH_CONNS:-8}
bench=$root/ops/bench

command -v wrk >/dev/null || { echo "http_bench: wrk missing (ops/deps --bench)" >&2; exit 1; }
[ -f "$shared/bench/ceiling.c" ] || { echo "http_bench: no $shared/bench/ceiling.c (set KT_SHARED)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/kt-http-bench.XXXXXX")
kt_pid= ceil_pid= fc_pid= fb_pid=
stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	stop_pid "$kt_pid"; kt_pid=
	stop_pid "$ceil_pid"; ceil_pid=
	stop_pid "$fc_pid"; fc_pid=
	stop_pid "$fb_pid"; fb_pid=
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" logserver/kt-logd >/dev/null
cc -O2 -o "$work/ceiling" "$shared/bench/ceiling.c" \
	$(pkg-config --cflags --libs libmicrohttpd)
cc -O2 -o "$work/floor" "$bench/floor.c" \
	$(pkg-config --cflags --libs libmicrohttpd jansson lmdb) -lpthread
logd=$build/logserver/kt-logd

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + $$ % 20000))
}

# kt-logd on loopback with anonymous writes (loopback only), port from its
# start-up line.
"$logd" keygen --origin bench.example/log --out "$work/log.key" >/dev/null
"$logd" serve --data "$work/db" --key "$work/log.key" \
	--listen 127.0.0.1:0 --allow-anonymous-writes \
	>"$work/kt.out" 2>"$work/kt.log" &
kt_pid=$!
i=0
while ! grep -q 'listen=' "$work/kt.out" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$work/kt.log" >&2; exit 1; }
	sleep 0.1
done
kt_port=$(sed -n 's/.*listen=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/kt.out")
kt=http://127.0.0.1:$kt_port

ceil_port=$(free_port)
"$work/ceiling" pool "$ceil_port" &
ceil_pid=$!
sleep 0.3
kill -0 "$ceil_pid" || { echo "http_bench: ceiling did not start" >&2; exit 1; }
ceil=http://127.0.0.1:$ceil_port

mkdir "$work/floordb"
fc_port=$(free_port)
"$work/floor" commit "$fc_port" "$work/floordb" &
fc_pid=$!
fb_port=$(free_port)
"$work/floor" batch "$fb_port" &
fb_pid=$!
sleep 0.3
kill -0 "$fc_pid" && kill -0 "$fb_pid" || { echo "http_bench: floor did not start" >&2; exit 1; }
fc=http://127.0.0.1:$fc_port
fb=http://127.0.0.1:$fb_port

# rps FILE: the Requests/sec figure of a wrk report.
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
# p99 FILE: wrk's 99th percentile latency, in ms.
p99() {
	awk '$1 == "99%" { v = $2;
		if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v) }
		else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
		printf "%.2f\n", v }' "$1"
}
metric() { curl -s "$kt/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
size() { curl -s "$kt/healthz" | sed -n 's/.*"size":\([0-9]*\).*/\1/p'; }
run_wrk() { # out, script, url, [args...]
	out=$1 script=$2 url=$3; shift 3
	c=$conns
	case $out in *batch|*brot) c=$bconns ;; esac
	timeout $((dur + 30)) wrk -t2 -c"$c" -d"${dur}s" --timeout 10s \
		-s "$script" "$url" -- "$@" >"$out" 2>&1 || true
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }

: >"$work/res"
# The labels rotations and lookups use: r0..r(N-1)@example.com, published
# once in batches of 1000 before the rounds.
nseed=${KT_BENCH_LABELS:-20000}
echo "publishing $nseed labels ..." >&2
i=0
while [ "$i" -lt "$nseed" ]; do
	awk -v a="$i" -v n="$nseed" 'BEGIN { b = a + 1000; if (b > n) b = n
		printf "{\"entries\":["
		for (j = a; j < b; j++)
			printf "%s{\"label\":\"r%d@example.com\",\"key_type\":\"ed25519\",\"key\":\"%042dA=\"}", (j > a ? "," : ""), j, j
		printf "]}" }' >"$work/seed.json"
	curl -sf -o /dev/null -H 'Content-Type: application/json' \
		--data-binary @"$work/seed.json" "$kt/v1/keys:batch" ||
		{ echo "http_bench: seeding failed" >&2; exit 1; }
	i=$((i + 1000))
done

# The VRF prove rate of the 2 cores, in the same run: proto_bench's
# one-core figure measured on both cores at once, summed.
ninja -C "$build" proto/proto_bench >/dev/null
pb=$build/proto/proto_bench
vrf2=0
if [ -x "$pb" ]; then
	"$pb" vrf >"$work/vrf1" 2>&1 & v1=$!
	"$pb" vrf >"$work/vrf2" 2>&1 & v2=$!
	wait "$v1" "$v2" || true
	vrf2=$(sed -n 's/.*prove \([0-9]*\)\/s.*/\1/p' "$work/vrf1" "$work/vrf2" |
		awk '{ s += $1 } END { printf "%.0f", s }')
fi

for r in $(seq 1 "$rounds"); do
	echo "round $r/$rounds ..." >&2
	a0=$(metric kt_entries_appended_total)
	run_wrk "$work/kt_rot" "$bench/http_rotate.lua" "$kt/v1/keys" "$nseed"
	a1=$(metric kt_entries_appended_total)
	run_wrk "$work/fl_uniq" "$bench/http_post.lua" "$fc/v1/keys"
	u0=$(metric kt_entries_appended_total)
	run_wrk "$work/kt_uniq" "$bench/http_post.lua" "$kt/v1/keys"
	u1=$(metric kt_entries_appended_total)
	run_wrk "$work/ce_uniq" "$bench/http_post.lua" "$ceil/v1/keys"
	run_wrk "$work/kt_brot" "$bench/http_batch.lua" "$kt/v1/keys:batch" 1000 "$nseed"
	run_wrk "$work/kt_batch" "$bench/http_batch.lua" "$kt/v1/keys:batch"
	run_wrk "$work/ce_batch" "$bench/http_batch.lua" "$ceil/v1/keys:batch"
	run_wrk "$work/fl_batch" "$bench/http_batch.lua" "$fb/v1/keys:batch"
	run_wrk "$work/kt_look" "$bench/http_lookup.lua" "$kt" "$nseed"
	run_wrk "$work/ce_look" "$bench/http_lookup.lua" "$ceil" "$nseed"
	n=$(size)
	run_wrk "$work/kt_proof" "$bench/http_proof.lua" "$kt" "$n"
	run_wrk "$work/ce_proof" "$bench/http_proof.lua" "$ceil" "$n"
	{
		echo "kt_rot $(rps "$work/kt_rot")"
		echo "kt_rot_appended $(awk -v a="$a0" -v b="$a1" -v d="$dur" 'BEGIN { printf "%.0f", (b - a) / d }')"
		echo "kt_uniq $(rps "$work/kt_uniq")"
		echo "kt_uniq_appended $(awk -v a="$u0" -v b="$u1" -v d="$dur" 'BEGIN { printf "%.0f", (b - a) / d }')"
		echo "ce_uniq $(rps "$work/ce_uniq")"
		echo "fl_uniq $(rps "$work/fl_uniq")"
		echo "fl_batch $(rps "$work/fl_batch")"
		echo "kt_brot $(rps "$work/kt_brot")"
		echo "kt_batch $(rps "$work/kt_batch")"
		echo "ce_batch $(rps "$work/ce_batch")"
		echo "kt_look $(rps "$work/kt_look")"
		echo "ce_look $(rps "$work/ce_look")"
		echo "kt_look_p50 $(awk '$1 == "Latency" { print $2 }' "$work/kt_look")"
		echo "kt_proof $(rps "$work/kt_proof")"
		echo "ce_proof $(rps "$work/ce_proof")"
	} >>"$work/res"
done

med() { awk -v k="$1" '$1 == k { print $2 }' "$work/res" | median; }
kt_rot=$(med kt_rot); rot_appended=$(med kt_rot_appended)
kt_brot=$(med kt_brot)
kt_batch=$(med kt_batch); ce_batch=$(med ce_batch)
kt_look=$(med kt_look); ce_look=$(med ce_look)
kt_proof=$(med kt_proof); ce_proof=$(med ce_proof)
kt_uniq=$(med kt_uniq); ce_uniq=$(med ce_uniq)
fl_uniq=$(med fl_uniq); fl_batch=$(med fl_batch)
uniq_appended=$(med kt_uniq_appended)
lower=$(awk -v a="$fl_uniq" -v b="$vrf2" 'BEGIN { print (b > 0 && b < a) ? b : a }')

# Latency at half the peak rate of durable single-key appends.
half=$(awk -v p="$kt_uniq" 'BEGIN { printf "%d", p / 2 }')
pause=$(awk -v c="$conns" -v h="$half" 'BEGIN { d = (h > 0) ? c * 1000 / h : 10; if (d < 1) d = 1; printf "%d", d }')
timeout 40 wrk -t2 -c"$conns" -d3s --timeout 10s -s "$bench/http_paced.lua" \
	"$kt/v1/keys" -- "$pause" >"$work/kt_calib" 2>&1 || true
pause=$(awk -v c="$conns" -v h="$half" -v p="$pause" -v r="$(rps "$work/kt_calib")" \
	'BEGIN { if (r <= 0 || h <= 0) { print p; exit }
		lat = c * 1000 / r - p; d = c * 1000 / h - lat
		if (d < 0) d = 0; printf "%d", d + 0.5 }')
curl -s "$kt/metrics" | grep '^kt_submit_seconds_bucket' >"$work/h0"
timeout $((dur + 30)) wrk -t2 -c"$conns" -d"${dur}s" --latency --timeout 10s \
	-s "$bench/http_paced.lua" "$kt/v1/keys" -- "$pause" >"$work/kt_paced" 2>&1 || true
curl -s "$kt/metrics" | grep '^kt_submit_seconds_bucket' >"$work/h1"
paced_rps=$(rps "$work/kt_paced")
paced_p99=$(p99 "$work/kt_paced")
paced_p50=$(awk '$1 == "50%" { print $2 }' "$work/kt_paced")
# The server's p99 from the bucket deltas of kt_submit_seconds (upper bound
# of the bucket holding the 99th percentile).
srv_p99=$(paste "$work/h0" "$work/h1" | awk '
	{ le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le); d[NR] = $4 - $2; l[NR] = le }
	END { n = d[NR]; for (i = 1; i <= NR; i++) if (d[i] >= 0.99 * n) { print l[i]; exit } }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
cat <<REPORT
kt-logd HTTP benchmark (key directory): medians of $rounds rounds,
wrk -t2 -c$conns -d${dur}s (batch phases -c$bconns), $nseed labels published first; kt-logd, the
ceiling (shared/bench/ceiling.c, pool of 2) and the floors on the same
$(nproc) cores as wrk. Machine: $cpu.
VRF prove rate of the 2 cores (proto_bench vrf on both at once): $vrf2/s

                                  kt-logd    reference   ratio   target
rotations, single-key (req/s)    $(printf '%9.0f %12.0f %7s' "$kt_rot" "$fl_uniq" "$(ratio "$kt_rot" "$fl_uniq")")   >= 0.85 x floor commit
  appended entries/s             $(printf '%9.0f' "$rot_appended")
new labels, single-key (req/s)   $(printf '%9.0f %12.0f %7s' "$kt_uniq" "$lower" "$(ratio "$kt_uniq" "$lower")")   >= 0.8 x min(floor, VRF)
  appended entries/s             $(printf '%9.0f' "$uniq_appended")
batches of 1000, rotations/s     $(printf '%9.0f' "$(awk -v b="$kt_brot" 'BEGIN { print b * 1000 }')")                          >= 150000
batches of 1000, new labels/s    $(printf '%9.0f %12.0f %7s' "$(awk -v b="$kt_batch" 'BEGIN { print b * 1000 }')" "$vrf2" "$(ratio "$(awk -v b="$kt_batch" 'BEGIN { print b * 1000 }')" "$vrf2")")   >= 0.8 x VRF
lookups GET (req/s)              $(printf '%9.0f %12.0f %7s' "$kt_look" "$ce_look" "$(ratio "$kt_look" "$ce_look")")   >= 0.5 x ceiling
  mean latency                   $(med kt_look_p50)
inclusion proofs GET (req/s)     $(printf '%9.0f %12.0f %7s' "$kt_proof" "$ce_proof" "$(ratio "$kt_proof" "$ce_proof")")
references in the same run:
  floor commit (suspend + durable LMDB commit) $(printf '%9.0f' "$fl_uniq") req/s; ceiling POST $(printf '%.0f' "$ce_uniq") req/s
  floor batch (parse + answer) $(printf '%.0f' "$(awk -v b="$fl_batch" 'BEGIN { print b * 1000 }')") entries/s; ceiling batch $(printf '%.1f' "$ce_batch") req/s
latency at half the peak new-label rate (target rate $half/s, pause ${pause} ms per connection):
  achieved $paced_rps req/s; wrk p50 $paced_p50, p99 ${paced_p99} ms
  server-side submission->integration p99 <= ${srv_p99} s (kt_submit_seconds bucket)
final tree size $(size); data folder $(du -sh "$work/db" | cut -f1)
REPORT
