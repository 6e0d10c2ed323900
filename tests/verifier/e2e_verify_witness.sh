#!/bin/bash
# e2e_verify_witness.sh KT_VERIFY ATTACK_LOGD KT_WITNESS
#
# kt-verify's witness policy, on loopback with three real kt-witness
# processes:
#  (a) a forked directory (attack_logd holds the log key and VRF key) gets at most one branch
#      cosigned; a kt-verify client with quorum 2 accepts the cosigned
#      branch and refuses the other for lack of quorum (exit 2; exit 3 with
#      provable evidence when it already holds the cosigned branch);
#      lookups are proven into the witnessed checkpoint, newer entries are
#      "not yet witnessed" (exit 6), an old witnessed time is stale (exit 5);
#  (b) gossip between two monitors that saw different branches (and with a
#      witness) produces evidence that `kt-verify evidence` accepts; a
#      consistent larger view advances the stored one.
# Every process is started and stopped by ../harness/e2e.sh.
set -u
KV=$1
AD=$2
KW=$3
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-verify-witness
start_attack_logd "$AD"
VRF=$(curl -sf "$U/v1/log" | jq -r .vrf_public_key)

# ---- three witnesses ----------------------------------------------------------
start_witnesses "$KW" 3 "$VK" test
WOPTS=(--witness "${WK[0]}" --witness "${WK[1]}" --witness "${WK[2]}")

# submit WITNESS_URL OLD NOTEFILE: prints the HTTP status; body in $T/resp
submit() {
	{ printf 'old %s\n\n' "$2"; cat "$3"; } > "$T/body"
	curl -s -o "$T/resp" -w '%{http_code}' --max-time 10 \
		--data-binary @"$T/body" "$1/add-checkpoint"
}

# ---- a forked directory: view 0 (branch A) and view 1 (branch B) ----------
# Each change is a batch: an update leaf, then the map head that closes it
# (checkpoints are signed at map heads only).
K1=$(key); K2=$(key); G=$(key)
ctl "bulk?view=0&n=20&prefix=user"
ctl "add?view=0&label=alice&key=$(uri "$K1")"
ctl "fork?from=0&to=1"
ctl "add?view=0&label=alice&key=$(uri "$K2")"            # A: alice version 2
ctl "add?view=1&label=alice&key=$(uri "$G")"             # B: version 2, a ghost
for c in a:0 b:1 a2:0 ma:0 mb:1; do ctl "client?name=${c%%:*}&view=${c##*:}"; done
curl -sf "$U/c/a/checkpoint" > "$T/A.cp"; curl -sf "$U/c/b/checkpoint" > "$T/B.cp"
S=$(sed -n 2p "$T/A.cp")
[ "$(sed -n 2p "$T/B.cp")" = "$S" ] && [ "$(sed -n 3p "$T/A.cp")" != "$(sed -n 3p "$T/B.cp")" ] ||
	fail "branches are not two trees of one size"

# (a) each witness cosigns branch A; none cosigns branch B after that
for i in 0 1 2; do
	s=$(submit "${WU[$i]}" 0 "$T/A.cp")
	[ "$s" = 200 ] || fail "witness $((i+1)) did not cosign branch A ($s)"
	cp "$T/resp" "$T/cosig$i"
	s=$(submit "${WU[$i]}" 0 "$T/B.cp")
	[ "$s" = 409 ] || fail "witness $((i+1)): branch B with old 0 gave $s"
	s=$(submit "${WU[$i]}" "$S" "$T/B.cp")
	[ "$s" = 422 ] || fail "witness $((i+1)): branch B gave $s, not 422"
done
echo "ok: the witnesses cosigned branch A only"
for c in a a2; do
	for i in 0 1 2; do
		ctl "cosig?name=$c&size=$S&line=$(uri "$(cat "$T/cosig$i")")"
	done
done

# a quorum-2 client on branch A accepts it
kv qa init --log "$U/c/a" --key "$VK" --vrf-key "$VRF" "${WOPTS[@]}" --quorum 2 ||
	{ echo "init qa"; cat "$T/out"; exit 1; }
expect 0 "witness quorum" "a: cosigned branch accepted with quorum 2" qa checkpoint
kv qa --json checkpoint
grep -q '"cosignatures":3' "$T/out" || fail "a: --json does not show 3 cosignatures"
expect 0 "pinned on first use" "a: lookup verified in the witnessed tree" qa lookup alice
grep -q "witness" "$T/qa/config.json" || fail "a: policy not stored"

# a quorum-2 client handed branch B (signed by the log only) refuses it
kv qb init --log "$U/c/b" --key "$VK" --vrf-key "$VRF" "${WOPTS[@]}" --quorum 2 ||
	{ echo "init qb"; exit 1; }
expect 2 "0 valid cosignature\(s\).*quorum is 2" "a: branch B refused for lack of quorum" qb checkpoint
[ -f "$T/qb/checkpoint" ] && fail "a: branch B was stored"
expect 2 "quorum is 2" "a: lookup on branch B refused too" qb lookup alice
[ -f "$T/qb/pins.json" ] && grep -q alice "$T/qb/pins.json" && fail "a: ghost key pinned"

# a quorum client that holds branch A, then handed branch B: proven fork
kv qa2 init --log "$U/c/a2" --key "$VK" --vrf-key "$VRF" "${WOPTS[@]}" --quorum 2 || exit 1
expect 0 "witness quorum" "a: second client stores branch A" qa2 checkpoint
ctl "client?name=a2&view=1"
ctl "cosig?name=a2&clear=1"
expect 3 "ATTACK.*same size" "a: branch B after branch A is a fork (exit 3)" qa2 checkpoint
f=$(evfile)
expect_ev 0 "PROVEN.*two different trees of size $S" "a: its evidence checks offline" "$f"

# cosignatures by witnesses outside the policy are ignored
kv q3 init --log "$U/c/a" --key "$VK" --vrf-key "$VRF" --witness "${WK[0]}" --witness "${WK[1]}" --quorum 2 || exit 1
expect 0 "witness quorum" "a: unknown (third) witness ignored, 2 of 2 known" q3 checkpoint

# a label published after the witnessed tree is not yet witnessed (its
# absence there is verified, its version at the newest checkpoint too);
# alice is proven in the witnessed tree although the log's newest
# checkpoint is larger
ctl "add?view=0&label=bob&key=$(uri "$(key)")"            # A: S + 2
expect 6 "NOT YET WITNESSED" "a: a label past the witnessed tree is exit 6" qa lookup bob
expect 0 "matches the pinned" "a: alice proven into the witnessed tree" qa lookup alice

# stale: the witnessed time is older than --max-age
kv qs init --log "$U/c/a" --key "$VK" --vrf-key "$VRF" "${WOPTS[@]}" --quorum 2 --max-age 1s || exit 1
sleep 2.2
expect 5 "STALE" "a: a checkpoint witnessed more than 1 s ago is stale (exit 5)" qs checkpoint
kv qs --json checkpoint
grep -q '"stale":true' "$T/out" || fail "a: --json does not say stale"
expect 1 "bad --max-age" "a: bad --max-age is a usage error" qx init --log "$U/c/a" --key "$VK" --vrf-key "$VRF" "${WOPTS[@]}" --quorum 2 --max-age 5x
expect 1 "bad witness policy" "a: the same witness twice is refused" qz init --log "$U/c/a" --key "$VK" --witness "${WK[0]}" --quorum 1 --witness "${WK[0]}"
expect 1 "bad arguments" "a: --quorum above the number of witnesses is a usage error" qz init --log "$U/c/a" --key "$VK" --witness "${WK[0]}" --quorum 2
expect 1 "bad witness policy" "a: a log key given as a witness is refused" qy init --log "$U/c/a" --key "$VK" --witness "${WK[0]}" --quorum 1 --witness "$VK"

# ---- (b) gossip --------------------------------------------------------------
# ma saw branch A (size S: client ma is pinned there), mb branch B
ctl "client?name=ma&view=0&size=$S"
kv ma init --log "$U/c/ma" --key "$VK" --vrf-key "$VRF" || exit 1
kv mb init --log "$U/c/mb" --key "$VK" --vrf-key "$VRF" || exit 1
expect 0 "first checkpoint" "b: monitor A stores branch A" ma checkpoint
expect 0 "first checkpoint" "b: monitor B stores branch B" mb checkpoint
expect 0 "wrote this client's view" "b: monitor A publishes its view" ma view --out "$T/ma.view"
cmp -s "$T/ma/checkpoint" "$T/ma.view" || fail "b: the view is not the stored checkpoint"
expect 3 "ATTACK.*two different trees of size $S" "b: gossip with A's view catches the fork" mb gossip --peer "$T/ma.view"
f=$(evfile)
expect_ev 0 "PROVEN" "b: gossip evidence checks offline" "$f"
expect 3 "ATTACK" "b: gossip with a witness (base URL) catches it" mb gossip --peer "${WU[1]}"
f=$(evfile)
expect_ev 0 "PROVEN" "b: witness gossip evidence checks offline" "$f"
expect 3 "ATTACK" "b: file:// peer works too" mb gossip --peer "file://$T/ma.view"
expect 0 "3 view\(s\) consistent" "b: monitor A agrees with two witnesses" ma gossip --peer "${WU[0]}" --peer "${WU[2]}"
sed "s/^$S\$/$((S - 1))/" "$T/A.cp" > "$T/junk.view"
expect 2 "not signed by the log" "b: a peer view not signed by the log is refused" ma gossip --peer "$T/junk.view"
expect 1 "unreachable" "b: an unreachable peer is exit 1" ma gossip --peer http://127.0.0.1:1/x

# different sizes: B grows by a batch of two. The log's consistency proof
# from S (on B's branch) reaches B's signed root from another size-S root
# than A's: that binds B's prefix, a fork proven offline
ctl "bulk?view=1&n=2&prefix=more"
B2=$((S + 3))
expect 0 "$S -> $B2" "b: monitor B moves to $B2 on its branch" mb checkpoint
expect 3 "ATTACK.*prefix of size $S" "b: A's smaller view vs B's larger one: proven fork" mb gossip --peer "$T/ma.view"
f=$(evfile)
expect_ev 0 "PROVEN.*first $S leaves" "b: the prefix-claim evidence checks offline" "$f"
jq '.views[1].claim.prefix_root = .views[1].claim.hashes[0]' "$f" > "$T/ev1.json"
expect_ev 2 "does not reach" "b: forged prefix root refused" "$T/ev1.json"
jq '.views[1].claim.hashes |= .[1:]' "$f" > "$T/ev2.json"
expect_ev 2 "does not reach" "b: truncated prefix proof refused" "$T/ev2.json"
jq --argjson s "$((S - 1))" '.views[1].claim.prefix_size = $s' "$f" > "$T/ev3.json"
expect_ev 2 "other \\(smaller" "b: prefix claim for another size refused" "$T/ev3.json"
jq '.views[0].claim = .views[1].claim' "$f" > "$T/ev4.json"
expect_ev 2 "stands alone|prefix claim must" "b: two claims refused" "$T/ev4.json"
jq '.views[1].claim = null' "$f" > "$T/ev5.json"
expect_ev 2 "proves nothing" "b: no claim, different sizes: refused" "$T/ev5.json"

# a larger consistent view advances the stored one
A2=$((S + 2))
ctl "client?name=mc&view=0"
kv mc init --log "$U/c/mc" --key "$VK" --vrf-key "$VRF" || exit 1
expect 0 "tree size $A2" "b: monitor C sees branch A at $A2" mc checkpoint
kv mc view --out "$T/mc.view" || fail "b: view mc"
ctl "client?name=ma&view=0"
expect 0 "advanced from $S to $A2" "b: gossip adopts a larger consistent view" ma gossip --peer "$T/mc.view"
[ "$(sed -n 2p "$T/ma/checkpoint")" = "$A2" ] || fail "b: stored view not advanced"
expect 0 "consistent with tree size $A2" "b: a smaller consistent peer is fine" ma gossip --peer "${WU[0]}"
# with a quorum policy, an uncosigned larger view is checked, not adopted
expect 0 "not adopted" "b: quorum client does not adopt an uncosigned view" qa gossip --peer "$T/mc.view"

# a power-of-two smaller view: a consistency proof then holds no prefix
# root, and this client has no material: exit 3 with a record that is
# refused offline (a failing proof alone proves nothing)
ctl "bulk?view=0&n=$((32 - A2 - 1))&prefix=grow"          # A: 32
ctl "client?name=m32&view=0"
kv m32 init --log "$U/c/m32" --key "$VK" --vrf-key "$VRF" || exit 1
expect 0 "tree size 32" "b: monitor sees branch A at 32" m32 checkpoint
kv m32 view --out "$T/m32.view" || fail "view m32"
ctl "bulk?view=1&n=16&prefix=grow"                        # B: B2 + 17
expect 0 "$B2 -> $((B2 + 17))" "b: monitor B moves to $((B2 + 17))" mb checkpoint
expect 3 "ATTACK.*no fork proof" "b: power-of-two view vs B: exit 3, record" mb gossip --peer "$T/m32.view"
f=$(evfile)
expect_ev 2 "NOT PROVEN" "b: that record is refused offline" "$f"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
