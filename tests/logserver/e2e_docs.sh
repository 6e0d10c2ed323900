#!/bin/bash
# e2e_docs.sh SOURCE_ROOT BUILD_ROOT
#
# The documentation's examples run as a reader would run them: a log
# started by ops/run (KT_HOME=kt-data in a temporary checkout-like folder
# whose build/ is BUILD_ROOT, a free loopback port), then the sh block of
# the README's "A first log in one minute", then every ```sh block of
# docs/api.md in order, in one shell's variables (LOG and TOKEN as the
# first block sets them). The one change made to a block: the documented
# address 127.0.0.1:8080 becomes the port ops/run got. Each block must
# exit 0 (set -e, pipefail) and every curl in it must get a 2xx: each
# example shows a success, unless the block says otherwise with a line
# "# expect HTTP 404" (an absence that the answer proves is an example
# too). Blocks that are not meant to run are fenced as ```text in the
# docs.
set -u
SRC=$1
BUILD=$2
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-docs

co=$T/co # where the reader stands: the README's commands are run from there
mkdir -p "$co" "$T/blocks"
ln -s "$BUILD" "$co/build"

# ---- the log, as the README starts it -------------------------------------
e2e_start "$T/run.out" env KT_HOME="$co/kt-data" KT_LISTEN=127.0.0.1:0 \
	KT_BUILD="$BUILD" "$SRC/ops/run"
addr=
for _ in $(seq 1200); do # up to 60 s: ops/deps and a no-op ninja first
	addr=$(sed -n 's|.*listening on http://\([^ ]*\).*|\1|p' "$T/run.out")
	[ -n "$addr" ] && break
	kill -0 "$E2E_PID" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$addr" ]; then
	echo "FAIL: ops/run did not start the log:"
	cat "$T/run.out" "$T/run.out.err"
	exit 1
fi
lpid=$(sed -n 's/.*(kt-logd pid \([0-9]*\);.*/\1/p' "$T/run.out")
[ -n "$lpid" ] && E2E_PIDS+=("$lpid")
echo "log at $addr"

# extract FILE PREFIX [SECTION]: each ```sh block of FILE (of its "## SECTION"
# only, if given) into $T/blocks/PREFIX.N.sh, with the port substituted;
# the file names, in order, on stdout.
extract() {
	awk -v dir="$T/blocks" -v prefix="$2" -v section="${3:-}" \
		-v addr="$addr" '
	BEGIN { in_section = (section == "") }
	/^## / { in_section = (section == "" || substr($0, 4) == section) }
	/^```/ && inblock { inblock = 0; close(out); next }
	/^```sh$/ && in_section { n++; inblock = 1
		out = sprintf("%s/%s.%02d.sh", dir, prefix, n); print out; next }
	inblock { gsub(/127\.0\.0\.1:8080/, addr); print > out }
	' "$1"
}

# run_block FILE: in a subshell with the variables the blocks before it
# set; curl also reports each status on stderr.
run_block() {
	(
		cd "$co" || exit 1
		set -eo pipefail
		curl() {
			command curl -w '%{stderr}\nkt-docs-status %{http_code}\n' "$@"
		}
		[ -f "$T/vars" ] && . "$T/vars"
		. "$1"
		for v in LOG TOKEN; do declare -p "$v" 2>/dev/null || :; done > "$T/vars"
	) > "$T/out" 2> "$T/err"
}

ran=0
check_blocks() { # FILE PREFIX [SECTION]
	local f rc bad
	for f in $(extract "$@"); do
		ran=$((ran + 1))
		run_block "$f"; rc=$?
		# A block may expect other statuses: a line "# expect HTTP 404".
		ok='^2'
		for st in $(sed -n 's/^# expect HTTP \([0-9]\{3\}\).*/\1/p' "$f"); do
			ok="$ok|^$st\$"
		done
		bad=$(sed -n 's/^kt-docs-status //p' "$T/err" | grep -Ev "$ok" | head -1)
		if [ "$rc" = 0 ] && [ -z "$bad" ]; then
			echo "ok: $(basename "$f")"
		else
			fail "$(basename "$f"): exit $rc${bad:+, HTTP $bad}; the block:"
			cat "$f"; echo "-- its output:"; cat "$T/out" "$T/err"
		fi
	done
}

check_blocks "$SRC/README.md" readme "A first log in one minute"
check_blocks "$SRC/docs/api.md" api
# A docs change that fences every block otherwise would pass unnoticed.
[ "$ran" -ge 10 ] || fail "only $ran blocks found"

echo "e2e_docs: $ran blocks, $fails failure(s)"
[ "$fails" = 0 ]
