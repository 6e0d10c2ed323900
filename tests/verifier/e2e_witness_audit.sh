#!/bin/bash
# e2e_witness_audit.sh KT_WITNESS KT_LOGD ATTACK_LOGD KT_VERIFY
#
# kt-witness --audit, an auditing witness, end to end.
# (1) attack_logd: the test submits each checkpoint (C2SP tlog-witness
# add-checkpoint) to a witness auditing that log: honest batches are
# cosigned; a log whose map audit answers do not verify gets 503 and no
# cosignature; a map head that does not follow (a changed leaf) gets 422,
# a log line naming the evidence file, and that file checks offline with
# kt-verify evidence; the witness's cosigned checkpoint stays where it was.
# (2) the real kt-logd submitting to an auditing witness (--witness,
# every second) while labels are published, rotated and revoked: every
# checkpoint is cosigned, nothing is refused, and the witnessed
# checkpoint catches up with the log.
set -u
KW=$1
LOGD=$2
AD=$3
KV=$4
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-witness-audit

freeport() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# witness NAME LOGKEY URL: an auditing kt-witness; sets WURL, WKEY, WOUT
witness() {
	"$KW" keygen --name "$1.e2e" --out "$T/$1.key" > "$T/$1.kg" || { echo "keygen"; exit 1; }
	WKEY=$(tail -1 "$T/$1.kg")
	WOUT=$T/$1.out
	e2e_start "$WOUT" "$KW" serve --data "$T/$1.d" --key "$T/$1.key" \
		--listen 127.0.0.1:0 --log "$2" --log-url "$3" --audit
	e2e_wait_line "$WOUT" "listening on port" || { echo "witness did not start"; cat "$WOUT.err"; exit 1; }
	WURL=http://127.0.0.1:$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$WOUT")
}

# ---- (1) attack_logd ---------------------------------------------------------
start_attack_logd "$AD"
ctl "bulk?view=0&n=20&prefix=user"
ctl "client?name=wit&view=0"
witness w1 "$VK" "$U/c/wit"
grep -q "auditing" "$WOUT" || fail "the witness does not say it audits"
WSIZE=0
# submit WANT WHAT: the log's current checkpoint to the witness, from
# WSIZE; the status must be WANT (200 moves WSIZE)
submit() {
	local note size hashes code
	note=$(curl -sf "$U/c/wit/checkpoint")
	size=$(printf '%s\n' "$note" | sed -n 2p)
	hashes=
	if [ "$WSIZE" -gt 0 ] && [ "$WSIZE" -lt "$size" ]; then
		hashes=$(curl -sf "$U/c/wit/v1/proof/consistency?old=$WSIZE&new=$size" |
			jq -r '.hashes[]')
	fi
	{ printf 'old %s\n' "$WSIZE"; [ -n "$hashes" ] && printf '%s\n' "$hashes"
	  printf '\n%s\n' "$note"; } > "$T/body"
	code=$(curl -s -o "$T/resp" -w '%{http_code}' --data-binary @"$T/body" \
		"$WURL/add-checkpoint")
	if [ "$code" = "$1" ]; then echo "ok: $2 ($code)"
	else echo "FAIL: $2: HTTP $code (want $1): $(cat "$T/resp")"; fails=$((fails + 1)); fi
	[ "$code" = 200 ] && WSIZE=$size
	return 0
}
add() { curl -sf "$U/ctl/add?view=0&label=$1&key=$(uri "$(key)")${2:-}" > /dev/null ||
	{ echo "add $*"; exit 1; }; }
submit 200 "audit: the first checkpoint (every batch from leaf 0)"
add alice; add alice; add user3 "&revoke=1"
submit 200 "audit: honest batches since the last cosigned size"
submit 200 "audit: the same checkpoint again"
add bob
ctl "client?name=wit&view=0&mode=audit-badpath"
submit 503 "audit: map audit answers that do not verify: cannot audit, not cosigned"
ctl "client?name=wit&view=0"
submit 200 "audit: the same checkpoint, honest answers"
good=$WSIZE
add carol "&change=alice"
submit 422 "audit: a map head that does not follow is refused"
ev=$(sed -n 's/.*(evidence: \([^)]*\)).*/\1/p' "$WOUT.err" | head -1)
grep -q "add-checkpoint: 422: the log's map heads do not follow (evidence: " "$WOUT.err" &&
	echo "ok: the witness's log line names the evidence" || fail "no log line naming the evidence"
if [ -n "$ev" ] && [ -f "$ev" ]; then
	"$KV" --state "$T/nostate" evidence "$ev" --key "$VK" > "$T/out" 2>&1
	check 0 $? "PROVEN.*map-root" "the witness's evidence checks offline"
else
	fail "no evidence file ($ev)"
fi
submit 422 "audit: refused again on the next submission"
hex=$(printf %s "attack.example/log" | sha256sum | cut -d' ' -f1)
gsize=$(curl -sf "$WURL/$hex/checkpoint" | sed -n 2p)
[ "$gsize" = "$good" ] && echo "ok: the cosigned checkpoint stays at $good" ||
	fail "the cosigned checkpoint moved to $gsize (want $good)"

# ---- (2) the real kt-logd with an auditing witness ------------------------------
N=${KT_E2E_AUDIT_WRITES:-3000}
logd_keys "$LOGD" e2e.example/akt || { echo "kt-logd keygen failed"; exit 1; }
P=$(freeport)
witness w2 "$VK" "http://127.0.0.1:$P"
e2e_start "$T/logd.out" "$LOGD" serve --data "$T/data" --key "$T/key" \
	--listen "127.0.0.1:$P" --tokens "$T/tokens" --witness "$WURL=$WKEY" \
	--witness-interval 1s --witness-quorum 1
U=http://127.0.0.1:$P
for _ in $(seq 100); do curl -s "$U/healthz" > /dev/null && break; sleep 0.1; done
batch() { # FROM TO PREFIX [revoke]
	jq -cn --argjson a "$1" --argjson b "$2" --arg p "$3" --arg r "${4:-}" \
		'{entries: [range($a; $b) | if $r == "" then
		    {label: "\($p)\(.)@e2e.example", key_type: "ed25519",
		     key: ("k\(.)-\(now)" + "................................")[0:32] | @base64}
		  else {label: "\($p)\(.)@e2e.example", revoke: true} end]}' > "$T/batch.json"
	curl -sf -H "Authorization: Bearer $TOKEN" --data-binary @"$T/batch.json" \
		"$U/v1/keys:batch" > "$T/batch.out" || { echo "batch failed"; exit 1; }
}
for s in $(seq 0 500 $((N - 1))); do batch "$s" $((s + 500)) u; done
batch 0 300 u              # rotations
batch 300 400 u revoke     # revocations
batch 0 50 u               # keys again after rotation
last=$(jq -r .checkpoint_size "$T/batch.out")
ok=0
for _ in $(seq 120); do
	w=$(curl -sf "$U/checkpoint" | sed -n 2p)
	[ "${w:-0}" -ge "$last" ] && { ok=1; break; }
	sleep 0.5
done
[ $ok = 1 ] && echo "ok: kt-logd's checkpoint of size $last is cosigned by the auditing witness" ||
	fail "the witnessed checkpoint stayed at ${w:-?}, the log is at $last"
# 422 is a refusal with evidence: never for an honest log. A 503 (could
# not audit now: kt-logd's first submission can come before its own port
# answers the witness's reads) only delays the cosignature checked above.
grep -E "add-checkpoint: 422" "$WOUT.err" && fail "the auditing witness refused an honest kt-logd"
curl -sf "$U/checkpoint" | grep -q "^— w2.e2e " && echo "ok: its cosignature is on /checkpoint" ||
	fail "no cosignature of the auditing witness on /checkpoint"
[ -d "$T/w2.d/audit" ] && [ -z "$(find "$T/w2.d/audit" -path '*evidence*' -type f)" ] &&
	echo "ok: no evidence written for the honest log" || fail "evidence for an honest log"

if [ "$fails" -gt 0 ]; then
	# what the witnesses said (a crash shows here)
	for f in "$T"/*.out.err; do
		[ -s "$f" ] && { echo "--- $f (last 30 lines)"; tail -30 "$f"; }
	done
fi
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
