#!/bin/bash
# e2e_run.sh SOURCE_ROOT BUILD_ROOT KT_LOGD
#
# ops/run as a new operator meets it, on a temporary KT_HOME and loopback:
#  1. the banner comes only once kt-logd listens: the address it names
#     answers /healthz at once (KT_LISTEN=127.0.0.1:0, so the banner must
#     name the port kt-logd got); SIGTERM to ops/run stops kt-logd too,
#     and ops/run exits 0;
#  2. a port that is already taken (by a kt-logd this test starts) is
#     named with KT_LISTEN, no banner, non-zero exit.
# ops/run builds nothing here (BUILD_ROOT is up to date) and installs
# nothing when the packages are there (ops/deps is then a no-op).
set -u
SRC=$1
BUILD=$2
LOGD=$3
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-ops-run

# run_ops OUT HOME LISTEN: ops/run in the background, tracked; pid in E2E_PID
run_ops() {
	e2e_start "$1" env KT_HOME="$2" KT_LISTEN="$3" KT_BUILD="$BUILD" \
		"$SRC/ops/run"
}

# ---- 1. banner after listening; stopped by SIGTERM to ops/run ------------
run_ops "$T/run.out" "$T/home" 127.0.0.1:0
TPID=$E2E_PID
url=
for _ in $(seq 1200); do # up to 60 s: ops/deps and a no-op ninja first
	url=$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$T/run.out")
	[ -n "$url" ] && break
	kill -0 "$TPID" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$url" ]; then
	fail "1: no banner; ops/run said:"; cat "$T/run.out" "$T/run.out.err"
	exit 1
fi
# One try, no retry: the banner promises the log already answers.
if curl -sf --max-time 5 "$url/healthz" > /dev/null; then
	echo "ok: 1: $url answers as soon as the banner names it"
else
	fail "1: the banner names $url, which does not answer"
fi
lpid=$(sed -n 's/.*(kt-logd pid \([0-9]*\);.*/\1/p' "$T/run.out")
rpid=
if [ -n "$lpid" ]; then
	E2E_PIDS+=("$lpid")
	# ops/run itself (not the timeout wrapper, which would signal the
	# whole group): it must pass the stop on to kt-logd.
	rpid=$(ps -o ppid= -p "$lpid" | tr -d ' ')
fi
if [ -z "$rpid" ] || [ "$rpid" = "$TPID" ]; then
	fail "1: the banner does not give kt-logd's pid (or it is not ops/run's)"
	e2e_stop "$TPID"
else
	kill -TERM "$rpid"
	for _ in $(seq 100); do kill -0 "$TPID" 2>/dev/null || break; sleep 0.1; done
fi
if [ -z "$rpid" ] || [ "$rpid" = "$TPID" ]; then
	: # said above
elif kill -0 "$lpid" 2>/dev/null || kill -0 "$TPID" 2>/dev/null; then
	fail "1: SIGTERM to ops/run did not stop it and kt-logd within 10 s"
else
	wait "$TPID"; rc=$?
	if [ "$rc" = 0 ] && grep -q '"event":"stopped"' "$T/run.out.err"; then
		echo "ok: 1: SIGTERM to ops/run stopped kt-logd cleanly (exit 0)"
	else
		fail "1: ops/run exited $rc after SIGTERM; its stderr:"
		cat "$T/run.out.err"
	fi
fi

# ---- 2. a port already in use -------------------------------------------
logd_keys "$LOGD" busy.example/log && start_logd "$LOGD" ||
	{ fail "2: the kt-logd holding the port did not start"; exit 1; }
run_ops "$T/busy.out" "$T/home2" "127.0.0.1:$PORT"
BPID=$E2E_PID
for _ in $(seq 1200); do kill -0 "$BPID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$BPID" 2>/dev/null; then
	fail "2: ops/run still runs on a port in use"
else
	wait "$BPID"; rc=$?
	want="kt: 127.0.0.1:$PORT is in use; set KT_LISTEN=127.0.0.1:PORT"
	if [ "$rc" != 0 ] && grep -qF "$want" "$T/busy.out.err" &&
		! grep -q 'listening on' "$T/busy.out"; then
		echo "ok: 2: a port in use is named with KT_LISTEN (exit $rc)"
	else
		fail "2: exit $rc, want non-zero and \"$want\" without a banner:"
		cat "$T/busy.out" "$T/busy.out.err"
	fi
fi
curl -sf "$U/healthz" > /dev/null ||
	fail "2: the kt-logd that held the port stopped answering"

echo "e2e_run: $fails failure(s)"
[ "$fails" = 0 ]
