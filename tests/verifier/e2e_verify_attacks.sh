#!/bin/bash
# e2e_verify_attacks.sh KT_VERIFY ATTACK_LOGD
#
# The attacks on a key directory's clients, mounted for real: attack_logd
# holds the log's signing key and its VRF key and serves honest, forked,
# rolled-back or lying directories per client (every part validly signed);
# the real kt-verify binary must catch each one with the right exit
# status, and the evidence it writes must check offline (or be refused
# offline when it cannot prove anything on its own). The honest directory
# raises no alarm.
set -u
KV=$1
AD=$2
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-verify-attacks
start_attack_logd "$AD"
VRF=$(curl -sf "$U/v1/log" | jq -r .vrf_public_key)
[ -n "$VRF" ] && [ "$VRF" != null ] || { echo "no vrf_public_key"; exit 1; }

# init NAME VIEW: a client of attack_logd seeing VIEW, with its state
init() {
	ctl "client?name=$1&view=$2"
	kv "$1" init --log "$U/c/$1" --key "$VK" --vrf-key "$VRF" ||
		{ echo "init $1"; cat "$T/out"; exit 1; }
}
# add VIEW LABEL KEY [CTL ARGS]: prints the update's leaf index
add() {
	curl -sf "$U/ctl/add?view=$1&label=$2&key=$(uri "$3")${4:-}" | jq -e .index ||
		{ echo "add $*" >&2; exit 1; }
}
# size VIEW: the view's tree size (its latest checkpoint)
size() { ctl "client?name=probe&view=$1"; curl -sf "$U/c/probe/checkpoint" | sed -n 2p; }
# no_pin NAME LABEL VERSION: the client's pin of LABEL is not past VERSION
no_pin() {
	local v
	v=$(jq -r --arg l "$2" '.labels[$l].version // 0' "$T/$1/pins.json" 2>/dev/null || echo 0)
	[ "${v:-0}" -le "$3" ] || fail "$1: pinned version $v of $2 after an attack"
}

K1=$(key); K2=$(key); K3=$(key); G=$(key)

# ---- the directory: 20 labels, then alice ------------------------------------
ctl "bulk?view=0&n=20&prefix=user"
A1=$(add 0 alice "$K1")                               # alice version 1
H1=$((A1 + 1))                                         # its map head

# ---- honest: no alarm ---------------------------------------------------------
init hon 0
expect 0 "pinned on first use" "honest: lookup" hon lookup alice
expect 7 "ABSENT, verified" "honest: a verified absence" hon lookup nobody
expect 0 "every key expected" "honest: monitor" hon monitor alice --expect-b64 "$K1"
expect 0 "unchanged" "honest: monitor again, the map path only" hon monitor alice
expect 0 "wrote tlog-proof" "honest: proof" hon proof alice --out "$T/alice.proof"
expect 0 "VALID lookup proof" "honest: the tlog-proof checks offline" \
	nostate evidence "$T/alice.proof" --key "$VK" --vrf-key "$VRF"

# ---- ghost key: a version the owner never published ---------------------------
ctl "fork?from=0&to=2"
add 2 alice "$G" > /dev/null
init own 2
expect 3 "did not publish" "ghost: the owner's monitor finds it" own monitor alice --expect-b64 "$K1"
grep -q "NOT EXPECTED" "$T/out" || fail "ghost: version not listed"
f=$(evfile)
expect_ev 0 "PROVEN.*not among" "ghost: evidence verifies offline" "$f"
jq --arg g "$G" '.expected_keys += [$g]' "$f" > "$T/ev1.json"
expect_ev 2 "proves nothing" "ghost: evidence listing the key as expected" "$T/ev1.json"
jq '.leaf.index += 1' "$f" > "$T/ev2.json"
expect_ev 2 "does not verify|proves nothing|not" "ghost: evidence with a wrong index" "$T/ev2.json"
jq '.checkpoint |= sub("\n[0-9]+\n"; "\n999\n")' "$f" > "$T/ev3.json"
expect_ev 2 "signed|well-formed|verify" "ghost: evidence with an altered checkpoint" "$T/ev3.json"
[ "$(jq -r '.labels.alice.version // 0' "$T/own/monitor.json" 2>/dev/null || echo 0)" = 0 ] ||
	fail "ghost: cursor advanced after an attack"
expect 3 "did not publish" "ghost: the cursor stays until it is dealt with" own monitor alice --expect-b64 "$K1"

# ---- a rotation; the stale key served after it ---------------------------------
init bob 0
expect 0 "pinned on first use" "stale: bob pins version 1" bob lookup alice
A2=$(add 0 alice "$K2")                               # alice version 2
for m in stale stale-update; do
	ctl "client?name=bob&view=0&mode=$m&label=alice"
	expect 2 "does NOT verify" "stale: $m (version 1 under the new checkpoint)" bob lookup alice
	no_pin bob alice 1
done
ctl "client?name=bob&view=0"
expect 4 "KEY CHANGED" "stale: the honest answer shows the rotation" bob lookup alice
expect 0 "new key pinned" "stale: bob accepts version 2" bob lookup alice --accept

# ---- hidden revocation -----------------------------------------------------------
ctl "fork?from=0&to=1"                                   # view 1: before the revocation
add 0 alice "" "&revoke=1" > /dev/null                  # view 0: version 3 revokes
ctl "client?name=bob&view=0&mode=stale&label=alice"
expect 2 "does NOT verify" "revocation: version 2 served after it" bob lookup alice
no_pin bob alice 2
ctl "client?name=bob&view=0"
expect 4 "KEY CHANGED.*REVOKED" "revocation: the honest answer shows it" bob lookup alice
# the same revocation logged, but left out of the map: a fresh lookup
# cannot see it (the map is what it is proven against); the owner's
# monitor, a lookup walking the history and the audit can
init own1 1
expect 0 "every key expected" "revocation: the owner checks versions 1..2" own1 monitor alice \
	--expect-b64 "$K1" --expect-b64 "$K2"
init ivy 1
ctl "client?name=ivy&view=1&size=$((A1 + 2))"
expect 0 "pinned on first use" "revocation: ivy pins version 1" ivy lookup alice
add 1 alice "" "&revoke=1&omit=alice" > /dev/null
init bob1 1
expect 0 "version 2" "revocation: a map that hides it fools a fresh lookup" bob1 lookup alice
expect 3 "HIDDEN VERSION.*PROVEN" "revocation: the owner's monitor finds the version the map hides" \
	own1 monitor alice
f=$(evfile)
grep -q '"type": "hidden-version"' "$f" || fail "revocation: not a hidden-version file"
expect_ev 0 "PROVEN.*hidden version" "revocation: that evidence checks with the log key alone" "$f"
jq '.update.index -= 1' "$f" > "$T/hv1.json"
jq '.head.index += 1' "$f" > "$T/hv2.json"
jq '.map_proof |= (.[0:20] + (if .[20:21] == "A" then "B" else "A" end) + .[21:])' "$f" > "$T/hv3.json"
jq '.checkpoint |= sub("\n[0-9]+\n"; "\n999\n")' "$f" > "$T/hv4.json"
jq '.update.entry |= (.[0:10] + (if .[10:11] == "A" then "B" else "A" end) + .[11:])' "$f" > "$T/hv5.json"
for x in 1:"update leaf's inclusion" 2:"map head leaf's inclusion" 3:"map path|map_proof" \
	 4:"hidden-version evidence: .*(sign|note|checkpoint)" 5:"update leaf"; do
	expect_ev 2 "${x#*:}" "revocation: tampered hidden-version copy ${x%%:*} refused" \
		"$T/hv${x%%:*}.json"
done
[ "$(jq -r '.labels.alice.version' "$T/own1/monitor.json")" = 2 ] ||
	fail "revocation: the owner's cursor moved after an attack"
ctl "client?name=ivy&view=1"
expect 3 "HIDDEN VERSION.*PROVEN" "revocation: a lookup walking the history from its pin finds it too" \
	ivy lookup alice
expect_ev 0 "PROVEN.*hidden version" "revocation: the lookup's evidence checks offline" "$(evfile)"
no_pin ivy alice 1
init aud1 1
expect 3 "map-root" "revocation: the audit finds the map head that hides it" aud1 audit
expect_ev 0 "PROVEN.*\"map-root\"" "revocation: the audit's wrong-map evidence checks offline" "$(evfile)"

# ---- downgrade below a version the client verified -------------------------------
ctl "fork?from=0&to=3"
init dan 3
expect 0 "pinned on first use" "downgrade: dan pins version 3" dan lookup alice
init own3 3
expect 0 "every key expected" "downgrade: the owner checks versions 1..3" own3 monitor alice \
	--expect-b64 "$K1" --expect-b64 "$K2"
ctl "seal?view=3&rollback=$H1"                         # the map of version 1 again
expect 3 "DOWNGRADE.*PROVEN" "downgrade: a lookup showing version 1 after 3" dan lookup alice
f=$(evfile)
grep -q '"type": "downgrade"' "$f" || fail "downgrade: not a downgrade file"
# the two signed lookups, checked with the log key and the VRF key
expect 0 "PROVEN.*a downgrade" "downgrade: the two signed lookups prove it offline" \
	nostate evidence "$f" --key "$VK" --vrf-key "$VRF"
expect_ev 2 "needs the log's VRF key" "downgrade: lookup proofs need the VRF key" "$f"
# tampered copies: refused
jq '{e: .earlier, l: .later} as $x | .earlier = $x.l | .later = $x.e' "$f" > "$T/dg1.json"
jq '.earlier.checkpoint |= sub("\n[0-9]+\n"; "\n999\n")' "$f" > "$T/dg2.json"
jq '.later.lookup_proof |= (.[0:40] + (if .[40:41] == "A" then "B" else "A" end) + .[41:])' \
	"$f" > "$T/dg3.json"
jq '.label = "user3"' "$f" > "$T/dg4.json"
jq '.later = .earlier' "$f" > "$T/dg5.json"
for x in 1:"smaller.*rollback" 2:"signed|verify|checkpoint" 3:"does not verify|malformed" \
	 4:"does not verify" 5:"proves nothing"; do
	expect 2 "${x#*:}" "downgrade: tampered copy ${x%%:*} refused" \
		nostate evidence "$T/dg${x%%:*}.json" --key "$VK" --vrf-key "$VRF"
done
expect 3 "DOWNGRADE.*PROVEN" "downgrade: the owner's monitor too" own3 monitor alice
f=$(evfile)
# the monitor keeps map paths, not lookups: no VRF key needed
expect_ev 0 "PROVEN.*a downgrade" "downgrade: the monitor's evidence checks with the log key alone" "$f"
jq '.later.map_proof |= (.[0:20] + (if .[20:21] == "A" then "B" else "A" end) + .[21:])' \
	"$f" > "$T/dg6.json"
expect_ev 2 "map path|malformed" "downgrade: a tampered map path refused" "$T/dg6.json"
jq '.later.head.index -= 1' "$f" > "$T/dg7.json"
expect_ev 2 "inclusion|not a map head" "downgrade: a moved map head refused" "$T/dg7.json"
ctl "seal?view=3&rollback=0"                           # the empty map again
expect 3 "DOWNGRADE.*absent" "downgrade: absence after version 3" dan lookup alice
expect 0 "PROVEN.*no version" "downgrade: the absence's evidence checks offline" \
	nostate evidence "$(evfile)" --key "$VK" --vrf-key "$VRF"
no_pin dan alice 3

# ---- replay of an older answer after a newer checkpoint -------------------------
init eve 0
expect 0 "pinned on first use" "replay: eve verifies the latest" eve lookup alice
ctl "client?name=eve&view=0&mode=replay&replay=$((A2 + 2))&label=alice"
expect 3 "rollback" "replay: an older, validly signed answer is a rollback" eve lookup alice
f=$(evfile)
grep -q '"type": "rollback"' "$f" || fail "replay: not a rollback record"
expect_ev 2 "NOT PROVEN" "replay: a rollback record alone is not proof" "$f"
no_pin eve alice 3

# ---- absence claimed for a label that exists -------------------------------------
init fay 0
for m in absent absent-old; do
	ctl "client?name=fay&view=0&mode=$m&label=alice"
	expect 2 "does NOT verify" "absence: $m" fay lookup alice
done
ctl "client?name=fay&view=0&mode=absent&label=user3"
expect 2 "does NOT verify" "absence: user3 (never looked up)" fay lookup user3
[ -f "$T/fay/pins.json" ] && jq -e '.labels | length > 0' "$T/fay/pins.json" > /dev/null &&
	fail "absence: something was pinned"

# ---- forged VRF proofs ------------------------------------------------------------
init gus 0
ctl "client?name=gus&view=0&mode=vrf-forge&label=alice"
expect 2 "does NOT verify" "vrf: a forged VRF proof" gus lookup alice
expect 2 "VRF proof" "vrf: the monitor refuses it for the map index" gus monitor alice --expect-b64 "$K1"
ctl "client?name=gus&view=0&mode=vrf-other&label=alice&other=user3"
expect 2 "does NOT verify" "vrf: another label's VRF proof (and lookup)" gus lookup alice
expect 2 "VRF proof" "vrf: ... and for the monitor" gus monitor alice --expect-b64 "$K1"

# ---- rollback ----------------------------------------------------------------------
init carl 0
expect 0 "first checkpoint" "rollback: first checkpoint" carl checkpoint
ctl "client?name=carl&view=0&size=$((A1 + 2))"
expect 3 "rollback" "rollback: an older checkpoint" carl checkpoint
f=$(evfile)
grep -q '"type": "rollback"' "$f" || fail "rollback: not a rollback record"
expect_ev 2 "NOT PROVEN" "rollback: the record alone is not proof (documented)" "$f"
expect 3 "rollback" "rollback: caught by a lookup too" carl lookup user3
ctl "client?name=carl&view=0"
expect 0 "unchanged" "rollback: the honest view is accepted again" carl checkpoint

# ---- a fork: two trees of one size -------------------------------------------------
ctl "fork?from=0&to=1"
add 0 carol "$K2" > /dev/null
add 1 dave "$K2" > /dev/null
[ "$(size 0)" = "$(size 1)" ] || fail "fork: the views differ in size"
init hal 1
expect 0 "first checkpoint" "fork: hal sees view 1" hal checkpoint
ctl "client?name=hal&view=0"
expect 3 "ATTACK.*same size" "fork: the other tree of the same size" hal checkpoint
expect_ev 0 "PROVEN.*two different trees" "fork: evidence verifies offline" "$(evfile)"
# the fork of another size: view 1 grows, ian held view 0
init ian 0
expect 0 "first checkpoint|consistent|unchanged" "fork: ian sees view 0" ian checkpoint
add 1 erin "$K2" > /dev/null
ctl "client?name=ian&view=1"
expect 3 "ATTACK" "fork: a larger tree not consistent with the one held" ian checkpoint
expect_ev 0 "PROVEN" "fork: that evidence verifies offline" "$(evfile)"
# a key history served from a forked tree of the same size
init jon 0
expect 0 "pinned on first use" "history-fork: jon pins alice" jon lookup alice
ctl "fork?from=0&to=1"
add 0 alice "$K3" > /dev/null                         # version 4 in both
add 1 alice "$K3" > /dev/null
add 0 pad "$K1" > /dev/null                           # then the trees part
add 1 pat "$K1" > /dev/null
ctl "client?name=jon&view=0&mode=history-fork&label=alice"
expect 3 "two different trees" "history-fork: the pages' checkpoint is a fork" jon lookup alice
expect_ev 0 "PROVEN" "history-fork: evidence verifies offline" "$(evfile)"
no_pin jon alice 3

# ---- tampered and malformed answers: exit 2 ----------------------------------------
init kim 0
expect 0 "pinned on first use" "tamper: honest lookup first" kim lookup alice
cp "$T/kim/checkpoint" "$T/cp.before"
for m in unlogged:"does NOT verify" \
	 badsig:"not signed by the log key.*check the key given with 'kt-verify init --key'" \
	 forgedsig:"signature line of the log key .* does not verify: the note was forged" \
	 truncated:"not JSON" \
	 oversized:"larger than" \
	 nonjson:"not JSON"; do
	mode=${m%%:*}; pat=${m#*:}
	ctl "client?name=kim&view=0&mode=$mode"
	expect 2 "$pat" "tamper: $mode rejected" kim lookup alice
done
ctl "client?name=kim&view=0&mode=forgedsig"
expect 2 "does not verify: the note was forged" "tamper: a forged log signature on /checkpoint" kim checkpoint
grep -q "init --key" "$T/out" && fail "tamper: a forged signature is blamed on the key given at init"
cmp -s "$T/cp.before" "$T/kim/checkpoint" || fail "tamper: stored checkpoint changed"
ctl "client?name=kim&view=0&mode=stall"
expect 1 "[Tt]imeout" "tamper: a stalling server times out" kim --timeout 1 lookup alice
kv net init --log http://127.0.0.1:1 --key "$VK" --vrf-key "$VRF" > /dev/null
expect 1 "GET http://127\.0\.0\.1:1/checkpoint: " "tamper: an unreachable log is named by its URL" net checkpoint

# ---- histories: hidden, tampered, paged ----------------------------------------------
init lee 0
expect 0 "every key expected" "history: the owner checks versions 1..4" lee monitor alice \
	--expect-b64 "$K1" --expect-b64 "$K2" --expect-b64 "$K3"
add 0 alice "$K1" > /dev/null                        # version 5: K1 again (a retired key)
init mon 0
ctl "client?name=mon&view=0&mode=hide-history&label=alice"
expect 2 "does not arrive" "history: versions 1..4 of 5 shown to a new monitor" mon monitor alice \
	--expect-b64 "$K1" --expect-b64 "$K2" --expect-b64 "$K3"
for m in hide-history:"HTTP 400" tamper-entry:"does not verify|inclusion"; do
	mode=${m%%:*}; pat=${m#*:}
	ctl "client?name=lee&view=0&mode=$mode&label=alice"
	expect 2 "$pat" "history: $mode" lee monitor alice
done
ctl "client?name=lee&view=0"
expect 3 "did not publish" "history: a retired key back is a ghost" lee monitor alice
# kt-verify evidence checks a ghost against the expected keys as a set, so
# a retired key coming back is refused offline (the monitor's order is not
# in the record)
expect_ev 2 "one of the expected keys" "history: the retired key's record is not proof offline" "$(evfile)"
# bob pinned version 2: versions 3, 4 and 5 come one per page
ctl "client?name=bob&view=0&page=1"
expect 4 "3 verified change" "history: pages of one version are all followed" bob lookup alice
ctl "client?name=bob&view=0&page=1&mode=next-stuck"
expect 2 '"next" is not' "history: a \"next\" that does not move forward" bob lookup alice
ctl "client?name=bob&view=0"

# ---- garbage evidence files; state corruption --------------------------------------
printf 'not json' > "$T/g1"; expect_ev 2 "not an evidence file" "evidence: not JSON" "$T/g1"
printf '{"kt_evidence":1,"type":"fork","views":[]}' > "$T/g2"; expect_ev 2 "two views" "evidence: empty fork" "$T/g2"
printf '{"kt_evidence":1,"type":"nope"}' > "$T/g3"; expect_ev 2 "unknown evidence type" "evidence: unknown type" "$T/g3"
printf '{"labels":' > "$T/kim/pins.json"
expect 1 "corrupt" "state: a corrupt pins file is an error" kim lookup alice
printf 'garbage' > "$T/carl/checkpoint"
expect 1 "corrupt" "state: a corrupt checkpoint file is an error" carl checkpoint

# ---- no false alarm in the honest clients ---------------------------------------------
for s in hon bob; do
	[ -d "$T/$s/evidence" ] && fail "false alarm: evidence in $s"
done

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
