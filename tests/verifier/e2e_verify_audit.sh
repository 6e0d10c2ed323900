#!/bin/bash
# e2e_verify_audit.sh KT_VERIFY ATTACK_LOGD KT_LOGD
#
# The stateless audit against attack_logd: honest batches raise no alarm
# and a second run checks only what is new; a log whose map audit answers
# do not verify is exit 2 (its bad answer, no evidence); every kind of map
# head that does not follow from its batch (a changed leaf, a vanished
# index, a reused version, version 1 again for an existing index, two
# versions in one batch with a broken chain, hidden updates, lost
# versions, a wrong label count, link, log size or time) is exit 3 with
# "wrong-map" evidence that kt-verify evidence accepts offline, and every
# tampered copy of that evidence is refused (exit 2).
# Then the real kt-logd after thousands of writes (new labels, rotations,
# revocations; KT_E2E_AUDIT_LABELS, default 5000): an audit interrupted
# (kill -9) after a saved position resumes from it, and the honest log
# raises no alarm. The leaves come from entry bundles: a partial last
# bundle, a resumed audit starting inside a bundle, a partial bundle gone
# (the full one's prefix serves) pass; a bundle short of entries or that
# does not hash to the checkpoint is exit 2, no evidence.
set -u
KV=$1
AD=$2
LOGD=$3
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-verify-audit
start_attack_logd "$AD"

# init NAME VIEW: a client of attack_logd seeing VIEW (no VRF key needed)
init() {
	ctl "client?name=$1&view=$2"
	kv "$1" init --log "$U/c/$1" --key "$VK" ||
		{ echo "init $1"; cat "$T/out"; exit 1; }
}
# add VIEW LABEL [CTL ARGS]: prints the update's leaf index
add() {
	curl -sf "$U/ctl/add?view=$1&label=$2&key=$(uri "$(key)")${3:-}" | jq -e .index ||
		{ echo "add $*" >&2; exit 1; }
}
audited() { jq -r .size "$T/$1/audit.json" 2>/dev/null || echo 0; }
# attack VIEW RULE WHAT: a fresh auditor of VIEW finds RULE (exit 3) and
# its evidence checks offline; the evidence file's path in $EV
attack() {
	init "a$1" "$1"
	expect 3 "ATTACK.*\"$2\"" "$3: the audit finds it" "a$1" audit
	EV=$(evfile)
	[ -n "$EV" ] && grep -q '"type": "wrong-map"' "$EV" || fail "$3: no wrong-map evidence"
	expect_ev 0 "PROVEN.*\"$2\"" "$3: the evidence checks offline" "$EV"
}

# ---- honest: 30 labels, rotations, a revocation; no alarm ----------------------
ctl "bulk?view=0&n=30&prefix=user"
A1=$(add 0 alice)
A2=$(add 0 alice)
add 0 user3 "&revoke=1" > /dev/null
init hon 0
expect 0 "map heads each equal" "honest: audit from leaf 0" hon audit
s1=$(audited hon)
expect 0 "nothing new" "honest: again, nothing new" hon audit
U1=$(add 0 user1)
add 0 user1 "&hold=1" > /dev/null
add 0 user2 > /dev/null
expect 0 "replayed \(leaves $s1\.\." "honest: a second run resumes where the first stopped" hon audit
[ "$(audited hon)" -gt "$s1" ] || fail "honest: the position did not move"

# ---- the log's bad answers: exit 2, no evidence, the position kept ------------
add 0 user4 > /dev/null
s2=$(audited hon)
for m in audit-badpath audit-nopath; do
	ctl "client?name=hon&view=0&mode=$m"
	expect 2 "paths do not verify|do not cover" "bad answer: $m" hon audit
	[ "$(audited hon)" = "$s2" ] || fail "bad answer: $m moved the position"
done
init hid 0
ctl "client?name=hid&view=0&mode=hide-entries&label=alice"
expect 2 "entry|do not hash|disagree" "bad answer: entries that are not the signed tree's" hid audit
ctl "client?name=hon&view=0"
expect 0 "map heads each equal" "honest: the audit again" hon audit
[ -d "$T/hon/evidence" ] && fail "false alarm: evidence in hon"

# ---- map heads that do not follow ------------------------------------------------
# each attack in its own view, forked from the honest one
v=1
fork() { ctl "fork?from=0&to=$v"; }
fork; add $v user5 "&change=user6" > /dev/null
attack $v map-root "a changed leaf (user6's chain altered by user5's batch)"
# tampered copies of that evidence are refused
tamper() { # NAME JQ-FILTER
	jq "$2" "$EV" > "$T/tampered.json" || { fail "tamper $1: jq"; return; }
	expect_ev 2 "." "tampered evidence refused: $1" "$T/tampered.json"
}
flip='(.[0:20] + (if .[20:21] == "A" then "B" else "A" end) + .[21:])'
tamper "an update's bytes" ".updates[0].entry |= $flip"
tamper "an update left out" 'del(.updates[-1])'
tamper "an update's proof" ".updates[0].hashes[0] |= $flip"
tamper "a path left out" '.paths |= .[1:]'
tamper "a path altered" ".paths[0] |= $flip"
tamper "the head's bytes" ".head.entry |= $flip"
tamper "the previous head replaced by the head" '.previous = .head'
tamper "another rule named" '.rule = "map-rules"'
tamper "the checkpoint's root" '.checkpoint |= sub("\n(?<r>[A-Za-z0-9+/]{10})"; "\nAAAAAAAAAA")'
tamper "no checkpoint" 'del(.checkpoint)'

v=2; fork; add $v user7 "&vanish=user8" > /dev/null
attack $v map-root "a vanished index (user8 dropped)"
v=3; fork; add $v alice "&version=2&prev=$A1&force=1" > /dev/null
attack $v map-rules "a reused version (alice's version 2 again)"
v=0
for case in "version=1&force=1|map-rules|version 1 for an existing index" \
	"omit=user9|map-root|hidden updates (user9's left out of the map)" \
	"rollback=$((A1 + 1))|map-root|lost versions (the map of alice's version 1)" \
	"count=5|label-count|a wrong label count" \
	"prev_head=0|head-link|a link to the wrong map head" \
	"ts=1|timestamp|a time before the previous map head's"; do
	IFS='|' read -r args rule what <<< "$case"
	rm -rf "$T/a1"
	ctl "fork?from=0&to=1"
	if [ "${args%%=*}" = version ]; then add 1 user10 "&$args" > /dev/null
	else add 1 user9 "&$args" > /dev/null; fi
	attack 1 "$rule" "$what"
done
rm -rf "$T/a1"
# two versions of one label in one batch, the second linked past the first
ctl "fork?from=0&to=1"
U11=$(add 1 user11 "&hold=1")
add 1 user11 "&version=3&prev=$((U11 - 1 > 0 ? U11 - 1 : 0))&force=1" > /dev/null
attack 1 map-rules "two versions in one batch with a broken chain"
rm -rf "$T/a1"

# an auditor that had audited the honest prefix resumes and finds the lie
ctl "fork?from=0&to=2"
init res 2
expect 0 "map heads each equal" "resume: the honest prefix" res audit
add 2 user12 "&change=user13" > /dev/null
expect 3 "\"map-root\"" "resume: the next run finds the lie" res audit
expect_ev 0 "PROVEN" "resume: its evidence checks" "$(evfile)"
expect 3 "\"map-root\"" "resume: and again on the next run (the position stays before it)" res audit

# a corrupt position is an error, never a silent restart
printf '{"size":' > "$T/hon/audit.json"
expect 1 "corrupt" "state: a corrupt audit.json is exit 1" hon audit
printf '{"size":5,"head_index":4,"head":"AAAA","frontier":[]}' > "$T/hon/audit.json"
expect 1 "corrupt" "state: an audit.json that does not hold together is exit 1" hon audit

# ---- entry bundles (tlog-tiles) -------------------------------------------------
# view 3: two batches of 300 new labels; a client pinned to the checkpoint
# after the first reads a partial last bundle, whose full bundle the log
# already serves
ctl "fork?from=0&to=3"
ctl "bulk?view=3&n=300&prefix=bb"
init bun 3
S=$(curl -sf "$U/c/bun/checkpoint" | sed -n 2p)
ctl "bulk?view=3&n=300&prefix=bc"
ctl "client?name=bun&view=3&size=$S"
[ $((S % 256)) -ne 0 ] || fail "bundles: size $S ends a bundle; the test wants a partial one"
expect 0 "map heads each equal" "bundles: a partial last bundle (size $S)" bun audit
[ "$(audited bun)" = "$S" ] || fail "bundles: audited $(audited bun), want $S"
ctl "client?name=bun&view=3"
expect 0 "replayed \(leaves $S\.\." "bundles: resumed inside a bundle" bun audit
for m in nopartial bundle-short bundle-flip; do
	init "b$m" 3
	ctl "client?name=b$m&view=3&size=$S&mode=$m"
	case $m in
	nopartial) expect 0 "map heads each equal" \
		"bundles: the partial bundle gone, the full one's prefix" "b$m" audit ;;
	bundle-short) expect 2 "entry bundle [0-9]+ is not" \
		"bundles: a partial bundle one entry short" "b$m" audit ;;
	bundle-flip) expect 2 "do not hash|disagree" \
		"bundles: a bundle that does not hash to the checkpoint" "b$m" audit
		[ -d "$T/b$m/evidence" ] && fail "bundles: evidence for a bad bundle" ;;
	esac
done

# ---- the real kt-logd: thousands of writes, interrupted and resumed -----------
N=${KT_E2E_AUDIT_LABELS:-5000}
logd_keys "$LOGD" e2e.example/audit && start_logd "$LOGD" ||
	{ echo "kt-logd did not start"; exit 1; }
batch() { # FROM TO PREFIX [revoke]: one POST /v1/keys:batch
	jq -cn --argjson a "$1" --argjson b "$2" --arg p "$3" --arg r "${4:-}" \
		'{entries: [range($a; $b) | if $r == "" then
		    {label: "\($p)\(.)@e2e.example", key_type: "ed25519",
		     key: ("k\(.)-\(now)" + "................................")[0:32] | @base64}
		  else {label: "\($p)\(.)@e2e.example", revoke: true} end]}' > "$T/batch.json"
	curl -sf -H "Authorization: Bearer $TOKEN" --data-binary @"$T/batch.json" \
		"$U/v1/keys:batch" > "$T/batch.out" || { echo "batch failed"; exit 1; }
}
step=1000
for s in $(seq 0 $step $((N - 1))); do batch "$s" $((s + step)) u; done
batch 0 $((N / 5)) u                    # rotations
batch $((N / 5)) $((N / 5 + N / 20)) u revoke   # revocations
batch 0 $((N / 50)) u                   # rotations after rotations
for i in $(seq 1 20); do batch "$i" $((i + 1)) single; done
last=$(jq -r .checkpoint_size "$T/batch.out")
U0=$U
kv log init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
# interrupted: kill -9 once a position is saved (every 200 leaves)
KT_VERIFY_AUDIT_SAVE_EVERY=200 "$KV" --state "$T/log" audit > "$T/a.out" 2>&1 &
apid=$!
for _ in $(seq 500); do [ -s "$T/log/audit.json" ] && break; sleep 0.01; done
kill -STOP "$apid" 2>/dev/null; s1=$(audited log); kill -9 "$apid" 2>/dev/null; wait "$apid" 2>/dev/null
echo "interrupted at $s1 of $last leaves"
if [ "$s1" -gt 0 ] && [ "$s1" -lt "$last" ]; then
	expect 0 "replayed \(leaves $s1\.\.$last\)" "kt-logd: the audit resumes from its saved position" log audit
else
	echo "note: the audit was not caught mid-way ($s1 of $last); resuming from 0"
	expect 0 "map heads each equal" "kt-logd: the audit" log audit
fi
[ "$(audited log)" = "$last" ] || fail "kt-logd: audited $(audited log), the log is at $last"
kv full init --log "$U" --key "$VK" || { cat "$T/out"; exit 1; }
expect 0 "replayed \(leaves 0\.\.$last\).* B per update" "kt-logd: a whole audit in one run, no alarm" full audit
grep -o "[0-9]* updates/s" "$T/out"; grep -o "[0-9.]* KB fetched ([0-9]* B per update)" "$T/out"
batch 0 10 u
expect 0 "replayed \(leaves $last\.\." "kt-logd: the next run checks only the new batch" full audit
for c in log full; do [ -d "$T/$c/evidence" ] && fail "false alarm: evidence in $c"; done

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
