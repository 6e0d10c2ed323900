#!/bin/bash
# e2e_verify_labels.sh KT_VERIFY KT_LOGD
#
# Confusable variants of Alice's label against the real kt-logd and the
# real kt-verify (threats.md, "Confusable labels"): each variant is either
# refused by both, or canonicalised by both to the same label (the same
# canonical bytes, hence the same VRF map index). A variant one side
# accepts and the other refuses, or that both accept as another label
# than Alice's while it looks like hers, is what this test is here to
# catch. Both sides run proto/label.c (kt_label_canonical); this checks
# that they run it on the same bytes: the server on the URL path or the
# JSON body, the client on its argument.
set -u
KV=$1
LOGD=${2:-}
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-verify-labels

if ! { [ -x "$LOGD" ] && logd_keys "$LOGD" labels.example/kt && start_logd "$LOGD"; }; then
	echo "kt-logd did not start"; exit 1
fi
VRF=$(curl -sf "$U/v1/log" | jq -r .vrf_public_key)
ALICE=alice@example.com
K1=$(key)

# post LABEL KEY: POST /v1/keys; the body in $T/post, the status printed
post() {
	jq -cn --arg l "$1" --arg k "$2" '{label: $l, key_type: "ed25519", key: $k}' > "$T/body"
	curl -s -o "$T/post" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		--data-binary @"$T/body" "$U/v1/keys"
}
# get LABEL: GET /v1/keys/<label>, escaped; the body in $T/get, the status printed
get() {
	curl -s -o "$T/get" -w '%{http_code}' "$U/v1/keys/$(uri "$1")"
}

[ "$(post "$ALICE" "$K1")" = 200 ] || { echo "publish $ALICE failed"; cat "$T/post"; exit 1; }
IDX=$(jq -r .map_index "$T/post")
kv bob init --log "$U" --key "$VK" --vrf-key "$VRF" || { cat "$T/out"; exit 1; }
expect 0 "pinned on first use" "labels: bob pins $ALICE" bob lookup "$ALICE"

u() { printf "$1"; } # a label with \u escapes, as UTF-8 bytes

# refused VARIANT WHY: kt-logd refuses it (400, also on a lookup) and so
# does kt-verify (exit 1, the label cannot be made canonical)
refused() {
	local s
	s=$(post "$1" "$(key)")
	[ "$s" = 400 ] || fail "labels: $2: kt-logd answered $s to the publish, not 400: $(cat "$T/post")"
	s=$(get "$1")
	[ "$s" = 400 ] || fail "labels: $2: kt-logd answered $s to the lookup, not 400"
	expect 1 "not a label kt accepts|label" "labels: $2: kt-verify refuses it" bob lookup "$1"
}
# same VARIANT WHY: both canonicalise it to Alice's label (her map index
# on the server; kt-verify shows her pinned state under the variant)
same() {
	local s
	s=$(get "$1")
	[ "$s" = 200 ] && [ "$(jq -r .label "$T/get")" = "$ALICE" ] &&
		[ "$(jq -r .map_index "$T/get")" = "$IDX" ] ||
		fail "labels: $2: kt-logd does not look it up as $ALICE ($s: $(head -c 200 "$T/get"))"
	expect 0 "matches the pinned state" "labels: $2: kt-verify looks it up as $ALICE" bob lookup "$1"
	kv bob --json lookup "$1"
	[ "$(jq -r .label "$T/out")" = "$ALICE" ] ||
		fail "labels: $2: kt-verify's canonical label is $(jq -r .label "$T/out")"
}

# ---- refused by both -------------------------------------------------------------
refused "$(u '\xd0\xb0lice@example.com')"        "Cyrillic a (U+0430) in the local part"
refused "$(u 'alic\xd0\xb5@example.com')"        "Cyrillic e (U+0435) in the local part"
refused "$(u 'alice\xe2\x80\x8d@example.com')"   "zero-width joiner (U+200D)"
refused "$(u 'ali\xe2\x80\x8bce@example.com')"   "zero-width space (U+200B)"
refused "$(u 'ali\xc2\xadce@example.com')"       "soft hyphen (U+00AD)"
refused "$(u '\xe2\x80\xaealice@example.com')"   "right-to-left override (U+202E)"
refused "$(u 'alice@ex\xd0\xb0mple.com')"        "Cyrillic a in the domain (mixed scripts)"
refused "$(u 'alice@\xd0\xb0\xd1\x80\xd1\x80\xd3\x8f\xd0\xb5.com')" \
	"a whole-script Cyrillic domain that looks ASCII (appie)"
refused "$(u '\xef\xbd\x81lice@example.com')"    "fullwidth a (U+FF41) in the local part"
refused "$(u 'alice\xef\xbc\xa0example.com')"    "fullwidth at sign (U+FF20)"
refused "alice @example.com"                      "a space"

# ---- canonicalised by both to Alice's label ----------------------------------------
same "Alice@Example.COM"                          "a case variant"
same "ALICE@EXAMPLE.COM"                          "all capitals"
same "$(u 'alice@\xef\xbd\x85\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x90\xef\xbd\x8c\xef\xbd\x85.com')" \
	"a fullwidth domain (UTS #46 maps it)"
same "$(u 'alice@example\xe3\x80\x82com')"        "an ideographic full stop (U+3002) as the dot"

# ---- ASCII lookalikes: refused as new labels beside Alice's ---------------------------
# "exarnple" (rn for m) is another ASCII domain: both sides canonicalise it
# to itself, a label that is not Alice's. UTS #39 calls the two confusable
# (the same skeleton, kt_label_skeleton), so kt-logd refuses it as a new
# label while it holds Alice's (400, nothing written), alone and in a
# batch; a label of another skeleton in the same batch goes in.
v=alice@exarnple.com
size0=$(curl -s "$U/checkpoint" | sed -n 2p)
s=$(post "$v" "$(key)")
[ "$s" = 400 ] || fail "labels: kt-logd answered $s to $v, confusable with $ALICE (want 400)"
grep -q "confusable" "$T/post" || fail "labels: the refusal of $v does not say why: $(cat "$T/post")"
[ "$(curl -s "$U/checkpoint" | sed -n 2p)" = "$size0" ] || fail "labels: the refusal of $v wrote something"
[ "$(get "$v")" = 404 ] || fail "labels: $v is published after its refusal"
jq -cn --arg a "$v" --arg b "carol@example.com" --arg k "$(key)" \
	'{entries: [{label: $a, key_type: "ed25519", key: $k}, {label: $b, key_type: "ed25519", key: $k}]}' > "$T/body"
curl -s -o "$T/post" -H "Authorization: Bearer $TOKEN" --data-binary @"$T/body" "$U/v1/keys:batch"
[ "$(jq -r '.results[0].status' "$T/post")" = 400 ] || fail "labels: a batch took $v: $(cat "$T/post")"
[ "$(jq -r '.results[1].version' "$T/post")" = 1 ] || fail "labels: a batch refused carol beside $v: $(cat "$T/post")"
# two new confusable labels in one batch: the first goes in, the second not
jq -cn --arg k "$(key)" \
	'{entries: [{label: "modern@example.net", key_type: "ed25519", key: $k}, {label: "rnodern@example.net", key_type: "ed25519", key: $k}]}' > "$T/body"
curl -s -o "$T/post" -H "Authorization: Bearer $TOKEN" --data-binary @"$T/body" "$U/v1/keys:batch"
[ "$(jq -r '[.results[0].version, .results[1].status] | join(" ")' "$T/post")" = "1 400" ] ||
	fail "labels: modern and rnodern in one batch: $(cat "$T/post")"
# kt-verify canonicalises the lookalike as its own label, and finds it absent
expect 7 "ABSENT" "labels: kt-verify looks up $v as its own label, absent" bob lookup "$v"
kv bob --json lookup "$v"
[ "$(jq -r .label "$T/out")" = "$v" ] || fail "labels: kt-verify canonicalises $v otherwise"

# ---- nothing was published under a variant ------------------------------------------
expect 0 "matches the pinned state" "labels: $ALICE unchanged" bob lookup "$ALICE"
[ -d "$T/bob/evidence" ] && fail "labels: evidence written"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
