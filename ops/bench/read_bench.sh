#!/bin/bash
# ops/bench/read_bench.sh [LABELS]: reads at scale, in one run.
#
# A data folder of LABELS labels (default 1000000; logserver/dir_fill,
# batches of 1000, 64 of them with real VRF proofs for lookups) is served
# by one kt-logd writer and two read replicas (--read-only) on the same
# folder, with Debian's nginx in front (ops/nginx/kt.conf with loopback
# addresses, no TLS and no per-client limits: the benchmark is one client),
# beside the libmicrohttpd ceiling server (../shared/bench/ceiling.c). wrk
# (-t2, KT_BENCH_CONNS connections, KT_BENCH_DURATION s, medians of
# KT_BENCH_ROUNDS rounds) measures:
#   ceiling   GET / of the ceiling server
#   tiles     random full tiles (3 of 4 hash tiles of level 0, 1 of 4 entry
#             bundles; http_tiles.lua) from the writer directly
#   nginx     the same through nginx (cache hits after a warm-up; the
#             writer's and replicas' tile request counters show whether
#             any reached them)
#   tiles2    the same from the two replicas at once (one wrk each, summed)
#   lookup    GET /v1/keys/<label> from the writer
#   lookup2   the same from the two replicas at once (summed)
# then `kt-verify audit` of the whole log through the writer (entry bundles
# and map audit paths): seconds, updates/s, bytes per update.
#
# Needs wrk (ops/deps --bench), nginx (ops/deps --nginx; without it the
# nginx phase is skipped), jq. Loopback and a temporary folder only; every
# server is stopped by its PID on exit. Environment: KT_SHARED (default
# ../shared), KT_BUILD (default build-rel, configured as a release build if
# missing).
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
shared=${KT_SHARED:-$root/../shared}
B=${KT_BUILD:-build-rel}
N=${1:-1000000}
dur=${KT_BENCH_DURATION:-10}
rounds=${KT_BENCH_ROUNDS:-3}
conns=${KT_BENCH_CONNS:-64}
command -v wrk >/dev/null || { echo "read_bench: wrk missing (ops/deps --bench)" >&2; exit 1; }
command -v jq >/dev/null || { echo "read_bench: jq missing" >&2; exit 1; }
[ -f "$shared/bench/ceiling.c" ] || { echo "read_bench: no $shared/bench/ceiling.c (set KT_SHARED)" >&2; exit 1; }
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)

work=$(mktemp -d "${TMPDIR:-/tmp}/kt-read-bench.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$B/build.ninja" ] || meson setup "$B" --buildtype=release >/dev/null
ninja -C "$B" logserver/kt-logd logserver/dir_fill verifier/kt-verify >/dev/null
cc -O2 -o "$work/ceiling" "$shared/bench/ceiling.c" \
	$(pkg-config --cflags --libs libmicrohttpd)
logd=$B/logserver/kt-logd

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo "reads at scale: $(nproc) cores, $cpu; $N labels"
"$logd" keygen --origin bench.example/read --out "$work/key" >/dev/null
t0=$(date +%s)
# every map kept, so that the audit below can start from leaf 0
DIR_FILL_RETENTION_MS=86400000 "$B/logserver/dir_fill" "$work/key" "$work/data" \
	"$N" 64 1000 >"$work/fill.out"
echo "filled in $(($(date +%s) - t0)) s"

# serve NAME ARGS...: a kt-logd on a free loopback port; its URL in $url
serve() {
	local name=$1 i=0
	shift
	"$logd" serve --key "$work/key" --data "$work/data" --listen 127.0.0.1:0 \
		"$@" >"$work/$name.out" 2>"$work/$name.log" &
	pids="$pids $!"
	while ! grep -q 'identity:' "$work/$name.out" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 600 ] || { cat "$work/$name.log" >&2; exit 1; }
		sleep 0.1
	done
	url=http://$(sed -n 's/.* listen=\([^ ]*\).*/\1/p' "$work/$name.out" | head -1)
}
serve writer
W=$url
serve r1 --read-only --writer "$W"
R1=$url
serve r2 --read-only --writer "$W"
R2=$url
port() { echo "${1##*:}"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cport=$(free_port)
"$work/ceiling" pool "$cport" &
pids="$pids $!"
C=http://127.0.0.1:$cport

NG=
if [ -n "$NGINX" ]; then
	np=$(free_port)
	mkdir -p "$work/nginx"
	sed -e "s|127\.0\.0\.1:8080|127.0.0.1:$(port "$W")|g" \
		-e "s|127\.0\.0\.1:8081|127.0.0.1:$(port "$R1")|" \
		-e "s|127\.0\.0\.1:8082|127.0.0.1:$(port "$R2")|" \
		-e "s|/var/cache/nginx/kt|$work/nginx/cache|" \
		-e '/listen \[::\]:443 ssl http2;/d' \
		-e "s|listen 443 ssl http2;|listen 127.0.0.1:$np;|" \
		-e '/^ *ssl_/d' -e '/^ *limit_req /d' -e '/^ *limit_conn /d' \
		ops/nginx/kt.conf >"$work/kt.conf"
	cat >"$work/nginx.conf" <<-EOF
	$([ "$(id -u)" = 0 ] && echo "user root;")
	worker_processes 1;
	pid $work/nginx/nginx.pid;
	error_log $work/nginx/error.log;
	events { worker_connections 1024; }
	http {
	    access_log off;
	    client_body_temp_path $work/nginx/body;
	    proxy_temp_path $work/nginx/proxy;
	    fastcgi_temp_path $work/nginx/fastcgi;
	    uwsgi_temp_path $work/nginx/uwsgi;
	    scgi_temp_path $work/nginx/scgi;
	    include $work/kt.conf;
	}
	EOF
	"$NGINX" -p "$work/nginx" -c "$work/nginx.conf" -e "$work/nginx/error.log" \
		-g 'daemon off;' 2>"$work/nginx.err" &
	pids="$pids $!"
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$np/checkpoint" && break
		sleep 0.1
	done
	NG=http://127.0.0.1:$np
else
	echo "nginx not installed (ops/deps --nginx): its phase is skipped"
fi

size=$(curl -s "$W/checkpoint" | sed -n 2p)
ntiles=$((size / 256))
echo "tree size $size: $ntiles full tiles per level-0 row"
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
ok2xx() { ! grep -q "Non-2xx" "$1"; }
one() { # OUT URL SCRIPT ARGS...
	local out=$1 url=$2 s=$3
	shift 3
	timeout $((dur + 30)) wrk -t2 -c"$conns" -d"${dur}s" ${s:+-s "$s"} "$url" -- "$@" \
		>"$out" 2>&1 || true
	ok2xx "$out" || echo "  note: non-2xx answers in $(basename "$out")" >&2
}
two() { # OUT URL1 URL2 SCRIPT ARGS...: one wrk per URL at once, summed
	local out=$1 u1=$2 u2=$3 s=$4
	shift 4
	timeout $((dur + 30)) wrk -t1 -c$((conns / 2)) -d"${dur}s" -s "$s" "$u1" -- "$@" \
		>"$out.a" 2>&1 &
	timeout $((dur + 30)) wrk -t1 -c$((conns / 2)) -d"${dur}s" -s "$s" "$u2" -- "$@" \
		>"$out.b" 2>&1 || true
	wait $! || true
	echo "Requests/sec: $(awk -v a="$(rps "$out.a")" -v b="$(rps "$out.b")" 'BEGIN { print a + b }')" >"$out"
}
tilereqs() { # URL: tile requests it answered (kt_http_requests_total, tile routes)
	curl -s "$1/metrics" | awk '/^kt_http_requests_total\{route="tile/ { s += $2 } END { print s + 0 }'
}

T=ops/bench/http_tiles.lua
L=ops/bench/http_lookup.lua
if [ -n "$NG" ]; then
	timeout 30 wrk -t2 -c"$conns" -d5s -s "$T" "$NG" -- "$ntiles" >/dev/null 2>&1 || true
fi
for r in $(seq "$rounds"); do
	one "$work/ceil.$r" "$C/" ""
	one "$work/tiles.$r" "$W" "$T" "$ntiles"
	if [ -n "$NG" ]; then
		before=$(($(tilereqs "$W") + $(tilereqs "$R1") + $(tilereqs "$R2")))
		one "$work/nginx.$r" "$NG" "$T" "$ntiles"
		after=$(($(tilereqs "$W") + $(tilereqs "$R1") + $(tilereqs "$R2")))
		echo "$((after - before))" >"$work/nginx.miss.$r"
	fi
	two "$work/tiles2.$r" "$R1" "$R2" "$T" "$ntiles"
	one "$work/lookup.$r" "$W" "$L" 64
	two "$work/lookup2.$r" "$R1" "$R2" "$L" 64
done
med() { for r in $(seq "$rounds"); do rps "$work/$1.$r"; done | median; }
ceil=$(med ceil)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '%-44s %10s/s  (%s of the ceiling)\n' "ceiling GET /" "$ceil" "1.00"
for p in tiles nginx tiles2 lookup lookup2; do
	[ -f "$work/$p.1" ] || continue
	v=$(med "$p")
	case $p in
	tiles) what="tiles, writer directly" ;;
	nginx) what="tiles through nginx (cache)" ;;
	tiles2) what="tiles, two replicas at once" ;;
	lookup) what="lookups, writer" ;;
	lookup2) what="lookups, two replicas at once" ;;
	esac
	printf '%-44s %10s/s  (%s of the ceiling)\n' "$what" "$v" "$(ratio "$v" "$ceil")"
done
if [ -n "$NG" ]; then
	echo "tile requests that reached a kt-logd during the nginx rounds: $(cat "$work"/nginx.miss.* | tr '\n' ' ')"
fi

VK=$(sed -n 's/.* vkey=\([^ ]*\).*/\1/p' "$work/writer.out")
VRF=$(sed -n 's/.* vrf=\([^ ]*\).*/\1/p' "$work/writer.out")
KV=$B/verifier/kt-verify
"$KV" --state "$work/aud" init --log "$W" --key "$VK" --vrf-key "$VRF" >/dev/null
t0=$(date +%s.%N)
"$KV" --state "$work/aud" --json audit >"$work/audit.json" || true
t1=$(date +%s.%N)
jq -r --arg s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
	'"audit of the whole log over entry bundles: \($s) s, status \(.status); \(.message)"' \
	"$work/audit.json"
