#!/bin/sh
# ops/bench/mirror_bench.sh [BUILD_DIR [SIZES...]]: kt-mirror catching up
# with a local kt-logd. For each size N (default 100000 1000000) it fills
# a fresh data folder with N labels through the real store and sequencer
# (ops/bench/dir_fill.c, batches of 1000, random map indexes: the log's
# tree then holds N update leaves and N/1000 map heads), serves it with
# kt-logd, starts kt-mirror on a fresh folder and times its catch-up from
# size 0 in one round, twice: as a plain tlog-tiles mirror, then with
# --map (the directory map rebuilt from the leaves too): entries/s as
# kt-mirror reports them (read every entry bundle over HTTP, hash every
# entry into the tree's edge, stage the bundles and tiles in LMDB, check
# the root, cosign, commit), the CPU time of kt-mirror and of kt-logd
# during it, and the mirror's data file.
#
# BUILD_DIR (default build-rel) should be a release build
# (meson setup build-rel --buildtype=release): the figures are for one.
# KT_BENCH_MODES (default "plain --map") picks the modes. Everything runs
# on 127.0.0.1 in a temporary folder; the servers are stopped by their
# PIDs on exit.
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build-rel}
[ $# -gt 0 ] && shift
sizes=${*:-100000 1000000}
modes=${KT_BENCH_MODES:-plain --map}
bt=$(meson introspect --buildoptions "$B" 2>/dev/null |
	jq -r '.[] | select(.name == "buildtype") | .value')
echo "build: $B ($bt)"
[ "$bt" = release ] || echo "note: not a release build; the figures are for one"
ninja -C "$B" logserver/kt-logd logserver/dir_fill verifier/kt-mirror >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/kt-mirror-bench.XXXXXX")
lpid='' mpid=''
stop() {
	if [ -n "$1" ]; then
		kill -TERM "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
}
cleanup() { stop "$mpid"; stop "$lpid"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# port FILE: the port a server's start-up line names (up to 30 s)
port() {
	i=0
	while ! grep -qE "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 300 ] || { cat "$1" >&2; exit 1; }
		sleep 0.1
	done
	sed -nE "s/.*$2.*/\\1/p" "$1" | head -1
}
# cpu PID: user + system CPU seconds of PID so far
cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

"$B/logserver/kt-logd" keygen --origin bench.example/mirror --out "$work/key" > "$work/kg"
vk=$(tail -1 "$work/kg")
"$B/verifier/kt-mirror" keygen --name mirror.bench.example --out "$work/m.key" >/dev/null
cpu_model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo "kt-mirror catching up from size 0; $(nproc) cores, $cpu_model"
for n in $sizes; do
	rm -rf "$work/data" "$work/md"
	echo "== $n labels"
	"$B/logserver/dir_fill" "$work/key" "$work/data" "$n" 1 1000 >/dev/null
	"$B/logserver/kt-logd" serve --key "$work/key" --data "$work/data" \
		--listen 127.0.0.1:0 >"$work/lout" 2>"$work/llog" &
	lpid=$!
	url=http://127.0.0.1:$(port "$work/lout" 'listen=127\.0\.0\.1:([0-9]+)')
	size=$(curl -sf "$url/checkpoint" | sed -n 2p)
	for mode in $modes; do
	rm -rf "$work/md" "$work/mlog"
	l0=$(cpu "$lpid")
	# shellcheck disable=SC2046
	"$B/verifier/kt-mirror" serve --data "$work/md" --key "$work/m.key" \
		--listen 127.0.0.1:0 --log "$url=$vk" \
		$([ "$mode" = --map ] && echo --map) >"$work/mout" 2>"$work/mlog" &
	mpid=$!
	i=0
	while ! grep -qs "mirrored size $size " "$work/mlog"; do
		i=$((i + 1)); [ $i -lt 6000 ] || { cat "$work/mlog" >&2; exit 1; }
		sleep 0.1
	done
	mc=$(cpu "$mpid") lc=$(cpu "$lpid")
	sed -n "s/.*mirrored size $size (from 0: \\([0-9]*\\) bundles fetched.*; \\([0-9.]*\\) s, \\([0-9]*\\) entries\\/s).*/  $mode: $size entries (\\1 bundles) in \\2 s: \\3 entries\\/s/p" "$work/mlog"
	echo "    CPU: kt-mirror ${mc} s (with start-up), kt-logd $(echo "$lc - $l0" | bc) s"
	echo "    mirror data file: $(du -k "$work/md/data.mdb" | cut -f1) KiB; the log's: $(du -k "$work/data/data.mdb" | cut -f1) KiB"
	stop "$mpid"; mpid=
	done
	stop "$lpid"; lpid=
done
