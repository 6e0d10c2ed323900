# e2e.sh: sourced by the end-to-end shell scripts (bash). The shell
# side of the harness in proc.c: every server is started on 127.0.0.1:0
# (it picks a free port and says which on its start-up line), inside the
# script's temporary folder $T, with a lifetime (timeout 300), and is
# stopped when the script exits however it exits: SIGTERM, up to 10 s,
# then SIGKILL. The folder is removed then too.
#
#   . "$(dirname "$0")/../harness/e2e.sh"
#   e2e_init kt-verify-attacks        # makes $T
#
# Needs KV (kt-verify) for kv/expect/expect_ev. Counts failures in $fails.

fails=0
E2E_PIDS=()

# e2e_init NAME: a fresh temporary folder $T, removed at exit.
e2e_init() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
	trap e2e_cleanup EXIT
}

# e2e_stop PID: SIGTERM, up to 10 s, then SIGKILL; reaped.
e2e_stop() {
	kill "$1" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

e2e_cleanup() {
	local p
	for p in "${E2E_PIDS[@]}"; do e2e_stop "$p"; done
	rm -rf "$T"
}

# e2e_start OUT CMD ARGS...: CMD in the background (stdout to OUT, stderr
# to OUT.err), tracked for e2e_cleanup; its pid in $E2E_PID.
e2e_start() {
	local out=$1; shift
	timeout 300 "$@" > "$out" 2> "$out.err" &
	E2E_PID=$!
	E2E_PIDS+=("$E2E_PID")
}

# e2e_wait_line FILE PATTERN: up to 10 s for a line matching PATTERN.
e2e_wait_line() {
	for _ in $(seq 100); do grep -qE -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# start_attack_logd AD: the test-only malicious log; sets VK (its log
# key), PORT and U (its base URL).
start_attack_logd() {
	e2e_start "$T/ad.out" "$1" --lifetime 240
	e2e_wait_line "$T/ad.out" '^[^ ]+ [0-9]+$' &&
	read -r VK PORT < "$T/ad.out" ||
		{ echo "attack_logd did not start"; cat "$T/ad.out.err"; exit 1; }
	U=http://127.0.0.1:$PORT
}

# start_witnesses KW N LOGKEY DOMAIN: N kt-witness processes for the log
# key LOGKEY (key names w1.DOMAIN .. wN.DOMAIN); sets WK (their verifier
# keys), WU (their URLs) and WPID (their pids), one per witness.
start_witnesses() {
	local kw=$1 n=$2 vk=$3 domain=$4 i p
	WK=(); WU=(); WPID=()
	for i in $(seq "$n"); do
		"$kw" keygen --name "w$i.$domain" --out "$T/w$i.key" > "$T/kg$i.out" ||
			{ echo "keygen $i failed"; exit 1; }
		WK+=("$(tail -1 "$T/kg$i.out")")
		e2e_start "$T/w$i.out" "$kw" serve --data "$T/wd$i" --key "$T/w$i.key" \
			--listen 127.0.0.1:0 --log "$vk"
		WPID+=("$E2E_PID")
	done
	for i in $(seq "$n"); do
		e2e_wait_line "$T/w$i.out" "listening on port"
		p=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/w$i.out")
		[ -n "$p" ] || { echo "witness $i did not start"; cat "$T/w$i.out.err"; exit 1; }
		WU+=("http://127.0.0.1:$p")
	done
}

# logd_keys LOGD ORIGIN: a log key and a token in $T (key, tokens); sets VK
# and TOKEN. Returns non-zero if kt-logd cannot make them.
logd_keys() {
	"$1" keygen --origin "$2" --out "$T/key" > "$T/kg" 2>&1 &&
	VK=$(tail -1 "$T/kg") &&
	"$1" token > "$T/tok" &&
	TOKEN=$(sed -n 1p "$T/tok") && sed -n 2p "$T/tok" > "$T/tokens"
}

# start_logd LOGD ARGS...: kt-logd serve on $T/data with $T/key and
# $T/tokens and ARGS; sets PORT, U and LPID once /healthz answers.
# Returns non-zero (nothing left running) if it does not come up.
start_logd() {
	local logd=$1; shift
	e2e_start "$T/logd.out" "$logd" serve --data "$T/data" --key "$T/key" \
		--listen 127.0.0.1:0 --tokens "$T/tokens" "$@"
	LPID=$E2E_PID
	e2e_wait_line "$T/logd.out" " listen=127\.0\.0\.1:[0-9]+ " || { e2e_stop "$LPID"; return 1; }
	PORT=$(sed -n 's/.* listen=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/logd.out" | head -1)
	U=http://127.0.0.1:$PORT
	for _ in $(seq 50); do
		curl -s "$U/healthz" > /dev/null && return 0
		sleep 0.1
	done
	e2e_stop "$LPID"; return 1
}

# ---- talking to the servers and to kt-verify --------------------------------

ctl() { curl -sf "$U/ctl/$1" > /dev/null || { echo "ctl $1 failed"; exit 1; }; }
uri() { printf %s "$1" | jq -sRr @uri; }
key() { head -c32 /dev/urandom | base64; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# kv NAME ARGS...: kt-verify with client NAME's state; output in $T/out
kv() { local n=$1; shift; "$KV" --state "$T/$n" "$@" > "$T/out" 2>&1; }
# check WANT GOT PATTERN WHAT: exit status GOT must be WANT and $T/out
# must match PATTERN
check() {
	if [ "$2" != "$1" ] || ! grep -qE -- "$3" "$T/out"; then
		echo "FAIL: $4: exit $2 (want $1), output:"; cat "$T/out"
		fails=$((fails + 1))
	else
		echo "ok: $4 (exit $2)"
	fi
}
# expect CODE PATTERN WHAT NAME ARGS...: kv NAME ARGS, then check
expect() {
	local want=$1 pat=$2 what=$3; shift 3
	kv "$@"; check "$want" $? "$pat" "$what"
}
# the evidence file a kt-verify run named
evfile() { sed -n 's/^evidence: //p' "$T/out" | head -1; }
# expect_ev CODE PATTERN WHAT FILE: the offline check of an evidence file
# with only the log key $VK (no state)
expect_ev() {
	"$KV" --state "$T/nostate" evidence "$4" --key "$VK" > "$T/out" 2>&1
	check "$1" $? "$2" "$3"
}
