#!/bin/sh
# ops/bench/proto_bench.sh [BUILD_DIR] [LABELS]
#
# The key directory's proto/ costs on one core: VRF prove and verify beside
# libsodium's scalar multiplication, map proof verification, lookup proof
# bytes, and the map's batch step per label (LABELS, default 10^6, in
# memory: about 1 GB). Prints the machine first.
set -eu
B=${1:-build}
N=${2:-1000000}
cd "$(dirname "$0")/../.."
ninja -C "$B" -j2 proto/proto_bench > /dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "build: $B ($(grep -o "buildtype: [a-z]*" "$B/meson-info/intro-buildoptions.json" 2>/dev/null || meson configure "$B" 2>/dev/null | awk '$1=="buildtype"{print $2}'))"
taskset -c 0 "$B/proto/proto_bench" vrf
taskset -c 0 "$B/proto/proto_bench" map "$N"
