#!/bin/bash
# e2e_verify_attacks.sh KT_VERIFY ATTACK_LOGD
#
# The attacks on a key transparency client, mounted for real: attack_logd
# holds the log's signing key and serves honest, forked, rolled-back or
# tampered views per client; the real kt-verify binary must catch each one
# (a substituted key outside the log, a ghost key, a split view, a
# rollback, a log hiding a label's entries, tampered and malformed
# answers, rule-breaking entries, paged histories) with the right exit
# status and message, and the evidence it writes must check offline (or be
# refused offline when it cannot prove anything).
set -u
KV=$1
AD=$2
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-verify-attacks
start_attack_logd "$AD"

init() { ctl "client?name=$1&view=$2"; kv "$1" init --log "$U/c/$1" --key "$VK" || { echo "init $1"; cat "$T/out"; exit 1; }; }

K1=$(key); K2=$(key); G=$(key)

# ---- common history: view 0 -------------------------------------------------
ctl "bulk?view=0&n=20&prefix=user"
ctl "add?view=0&label=alice&key=$(uri "$K1")"           # index 20
ctl "bulk?view=0&n=3&prefix=pad"                       # 21..23

# ---- 1. substituted key without a valid inclusion proof ----------------------
init bob1 0
ctl "client?name=bob1&view=0&mode=unlogged"
expect 3 "NOT in the log" "1: unlogged key substitution is caught" bob1 lookup alice
f=$(evfile); [ -f "$f" ] || { echo "FAIL: 1: no evidence file"; fails=$((fails+1)); }
expect_ev 2 "NOT PROVEN" "1: an unlogged-key record is refused as proof" "$f"
[ -f "$T/bob1/pins.json" ] && grep -q alice "$T/bob1/pins.json" &&
	{ echo "FAIL: 1: the substituted key was pinned"; fails=$((fails+1)); }

# ---- 6. tampered and malformed responses: each rejected with exit 2 ----------
init bob6 0
expect 0 "pinned on first use" "6: honest lookup first" bob6 lookup alice
cp "$T/bob6/checkpoint" "$T/cp.before"
for m in tamper-entry:"leaf_hash is not the hash" \
	 proof-index:"proof is for index" \
	 proof-size:"proof is for tree size|not shaped" \
	 badsig:"not signed by the log key.*check the key given with 'kt-verify init --key'" \
	 forgedsig:"signature line of the log key .* does not verify: the note was forged" \
	 truncated:"not JSON" \
	 oversized:"larger than" \
	 nonjson:"not JSON"; do
	mode=${m%%:*}; pat=${m#*:}
	ctl "client?name=bob6&view=0&mode=$mode"
	expect 2 "$pat" "6: $mode rejected" bob6 lookup alice
done
ctl "client?name=bob6&view=0&mode=badsig"
expect 2 "not signed by the log key.*check the key given with 'kt-verify init --key'" \
	"6: checkpoint signed by another key: check the key given at init" bob6 checkpoint
ctl "client?name=bob6&view=0&mode=forgedsig"
expect 2 "does not verify: the note was forged" \
	"6: a forged signature of the log key is a lie, not a wrong key" bob6 checkpoint
grep -q "init --key" "$T/out" &&
	fail "6: a forged signature is blamed on the key given at init"
cmp -s "$T/cp.before" "$T/bob6/checkpoint" ||
	{ echo "FAIL: 6: stored checkpoint changed"; fails=$((fails+1)); }
ctl "client?name=bob6&view=0&mode=stall"
expect 1 "[Tt]imeout" "6: a stalling server times out" bob6 --timeout 1 lookup alice
ctl "client?name=bob6&view=0"
# A log that cannot be reached, or answers an error, is named by its URL
# (a URL mistyped at init shows in the message). Port 1 of loopback has no
# listener.
kv net6 init --log http://127.0.0.1:1 --key "$VK" > /dev/null
expect 1 "GET http://127\.0\.0\.1:1/checkpoint: " \
	"6: an unreachable log is named by its URL" net6 checkpoint
kv net6b init --log "$U/nowhere" --key "$VK" > /dev/null
expect 1 "GET $U/nowhere/checkpoint: HTTP 404" \
	"6: an HTTP error names the URL" net6b checkpoint

# ---- 4. rollback to an older checkpoint --------------------------------------
init carl 0
expect 0 "first checkpoint" "4: first checkpoint" carl checkpoint
ctl "client?name=carl&view=0&size=10"
expect 3 "rollback" "4: rollback detected by checkpoint" carl checkpoint
f=$(evfile)
grep -q '"type": "rollback"' "$f" || { echo "FAIL: 4: not a rollback record"; fails=$((fails+1)); }
expect_ev 2 "NOT PROVEN" "4: rollback record alone is not proof (documented)" "$f"
expect 3 "rollback" "4: rollback detected by lookup" carl lookup user3
ctl "client?name=carl&view=0"
expect 0 "unchanged" "4: honest view accepted again" carl checkpoint

# ---- 2 and 5. ghost key logged; log hides it from the owner's lookups ---------
ctl "fork?from=0&to=2"
ctl "add?view=2&label=alice&key=$(uri "$G")"            # index 24 in view 2
ctl "bulk?view=2&n=2&prefix=tail"
init alice2 2
ctl "client?name=alice2&view=2&mode=hide-label&label=alice"
expect 0 "matches|pinned" "5: the log answers alice's own lookup with her key" alice2 lookup alice
grep -q "version 1," "$T/out" || { echo "FAIL: 5: lookup not hidden"; fails=$((fails+1)); }
expect 3 "did not publish" "2/5: monitor finds the ghost key anyway" alice2 monitor alice --expect-b64 "$K1"
grep -q "NOT EXPECTED" "$T/out" || { echo "FAIL: 2: version not listed"; fails=$((fails+1)); }
f=$(evfile)
expect_ev 0 "PROVEN.*not among" "2: ghost-key evidence verifies offline" "$f"
# forged variants of that evidence are refused
jq --arg g "$G" '.expected_keys += [$g]' "$f" > "$T/ev1.json"
expect_ev 2 "proves nothing" "2: evidence listing the key as expected" "$T/ev1.json"
jq '.leaf.index += 1' "$f" > "$T/ev2.json"
expect_ev 2 "does not verify" "2: evidence with a wrong index" "$T/ev2.json"
jq '.checkpoint |= sub("\n[0-9]+\n"; "\n999\n")' "$f" > "$T/ev3.json"
expect_ev 2 "signed|well-formed" "2: evidence with an altered checkpoint" "$T/ev3.json"
cursor_before=$(jq -c '.labels.alice.checkpoint' "$T/alice2/monitor.json" 2>/dev/null)
[ "$cursor_before" = "" ] || [ "$cursor_before" = "null" ] ||
	{ echo "FAIL: 2: cursor advanced after an attack"; fails=$((fails+1)); }
# a log that serves entries but refuses inclusion proofs cannot stop the
# owner from proving the ghost: kt-verify builds the proof itself
init alice5 0
expect 0 "every key expected" "2: alice5's cursor at 24 (view 0, before the ghost)" alice5 monitor alice --expect-b64 "$K1"
ctl "client?name=alice5&view=2&mode=no-proofs"
expect 3 "did not publish" "2: ghost found while the log refuses proofs" alice5 monitor alice --expect-b64 "$K1"
expect_ev 0 "PROVEN.*not among" "2: the locally built proof verifies offline" "$(evfile)"
ctl "client?name=alice2&view=2&mode=hide-entries&label=alice"
expect 2 "do not hash to its signed root" "5: entries served without the ghost are caught" alice2 monitor alice --expect-b64 "$K1"
# the log then drops the ghost by switching alice to a fork without it:
# the frontier kept from the (unclean) monitor pass proves the fork
ctl "fork?from=0&to=3"
ctl "bulk?view=3&n=4&prefix=other"
ctl "client?name=alice2&view=3"
expect 3 "ATTACK.*different hashes for leaves \[24, 26\)" "3/5: switching the owner to a ghost-free fork is proven" alice2 checkpoint
expect_ev 0 "PROVEN.*fork" "3/5: that fork evidence verifies offline" "$(evfile)"

# ---- 3. split view -----------------------------------------------------------
# view 1 (shown to bob3): the ghost key for alice at index 24.
# view 0 (shown to alice3): an entry for carol at index 24, then more.
ctl "fork?from=0&to=1"
ctl "add?view=1&label=alice&key=$(uri "$G")"            # view 1: 25 entries
ctl "add?view=0&label=carol&key=$(uri "$K2")"           # view 0: 24
ctl "add?view=0&label=dave&key=$(uri "$K2")"            # view 0: 26 entries
init bob3 1
init alice3 0
expect 0 "pinned on first use" "3: bob is shown the ghost key (view 1)" bob3 lookup alice
expect 0 "every key expected" "3: alice's view (view 0) has no ghost" alice3 monitor alice --expect-b64 "$K1"
# bob checks against alice's view
ctl "client?name=bob3&view=0"
expect 3 "ATTACK.*different entries at index 24" "3: bob detects the fork" bob3 checkpoint
expect_ev 0 "PROVEN.*fork" "3: bob's fork evidence verifies offline" "$(evfile)"
# alice checks against bob's (grown) view
ctl "add?view=1&label=erin&key=$(uri "$K2")"            # view 1: 26
ctl "add?view=1&label=fred&key=$(uri "$K2")"            # view 1: 27
ctl "client?name=alice3&view=1"
expect 3 "ATTACK.*different hashes for leaves" "3: alice detects the fork" alice3 checkpoint
f=$(evfile)
expect_ev 0 "PROVEN.*fork" "3: alice's fork evidence verifies offline" "$f"
jq 'del(.views[1].claim.entry) | .views[1].claim.leaf_hash = .views[0].claim.frontier[0]' "$f" > "$T/ev4.json"
expect_ev 2 "does not verify|proves nothing" "3: fork evidence with a swapped hash" "$T/ev4.json"
jq '.views[1].claim = null' "$f" > "$T/ev5.json"
expect_ev 2 "proves nothing" "3: two checkpoints of different sizes alone" "$T/ev5.json"
# same size, different roots
ctl "fork?from=0&to=3"
ctl "add?view=3&label=x&key=$(uri "$K1")"
ctl "add?view=0&label=y&key=$(uri "$K1")"
init gail 3
expect 0 "first" "3: gail sees view 3" gail checkpoint
ctl "client?name=gail&view=0"
expect 3 "same size" "3: same size, different root" gail checkpoint
expect_ev 0 "PROVEN.*two different trees" "3: same-size fork evidence verifies" "$(evfile)"

# ---- audit catches rule-breaking entries -------------------------------------
init hal 0
expect 0 "entries replayed" "audit: honest log" hal audit
ctl "add?view=0&label=alice&key=$(uri "$K2")&version=2&prev=20"
ctl "add?view=0&label=alice&key=$(uri "$G")&version=2&prev=20"
expect 3 "version-order" "audit: two values for one version" hal audit
expect_ev 0 "PROVEN.*version-order" "audit: bad-entries evidence verifies" "$(evfile)"
ctl "fork?from=2&to=3"
ctl "add?view=3&label=zed&key=$(uri "$K1")&ts=1000"
init ian 3
expect 3 "timestamp" "audit: timestamp going backwards" ian audit
expect_ev 0 "PROVEN.*timestamp" "audit: timestamp evidence verifies" "$(evfile)"

# ---- paged key history: "next" must move forward ------------------------------
ctl "add?view=0&label=paula&key=$(uri "$K1")"
init pat 0
expect 0 "pinned on first use" "history: pin paula's first key" pat lookup paula
ctl "add?view=0&label=paula&key=$(uri "$K2")"
ctl "add?view=0&label=paula&key=$(uri "$G")"
ctl "client?name=pat&view=0&page=1"
expect 4 "2 verified change" "history: pages of one version are all followed" pat lookup paula
ctl "client?name=pat&view=0&page=1&mode=next-stuck"
expect 2 '"next" is not 2' "history: a \"next\" that does not move forward is refused" pat lookup paula

# ---- two entries for one version: the lookup's must be the history's -----------
q1=$(curl -sf "$U/ctl/add?view=0&label=quinn&key=$(uri "$K1")" | jq .index)
init quill 0
expect 0 "pinned on first use" "two values: pin quinn's first key" quill lookup quinn
ctl "add?view=0&label=quinn&key=$(uri "$K2")"
ctl "add?view=0&label=quinn&key=$(uri "$G")&version=2&prev=$q1"
ctl "client?name=quill&view=0&mode=history-swap"
expect 2 "two values for one version" "two values: history's version 2 is not the lookup's" quill lookup quinn

# ---- garbage evidence files ----------------------------------------------------
printf 'not json' > "$T/g1"; expect_ev 2 "not an evidence file" "evidence: not JSON" "$T/g1"
printf '{"kt_evidence":1,"type":"fork","views":[]}' > "$T/g2"; expect_ev 2 "two views" "evidence: empty fork" "$T/g2"
printf '{"kt_evidence":1,"type":"nope"}' > "$T/g3"; expect_ev 2 "unknown evidence type" "evidence: unknown type" "$T/g3"

# ---- state corruption is an error, never a reset -------------------------------
printf '{"labels":' > "$T/bob6/pins.json"
expect 1 "corrupt" "state: corrupt pins file is a clear error" bob6 lookup alice
printf 'garbage' > "$T/carl/checkpoint"
expect 1 "corrupt" "state: corrupt checkpoint file is a clear error" carl checkpoint

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
