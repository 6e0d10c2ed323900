#!/bin/bash
# audit_bench.sh [BUILD_DIR] [LABELS] [SECONDS]
#
# The stateless auditor's figures (docs/verify.md, "Performance"):
# (1) kt-verify audit of a kt-logd holding LABELS labels (default 100000,
#     batches of 1000) and 10% rotations: updates/s (wall clock and the
#     auditor's own CPU, user + system of all its threads), bytes fetched
#     per update, resident memory, and the time kt-logd takes for one
#     GET /v1/map/audit of a 1,000-update batch;
# (2) an auditing kt-witness (--audit) behind a kt-logd taking ~1,000
#     writes/s (batches of 100 every 0.1 s) for SECONDS (default 30),
#     kt-logd submitting every second: how far the witnessed checkpoint
#     lags the log's newest, sampled every 0.5 s (leaves and seconds).
# BUILD_DIR (default build-rel) should be a release build
# (meson setup build-rel --buildtype=release): the figures are for one.
set -u
B=${1:-build-rel}
N=${2:-100000}
DUR=${3:-30}
B=$(cd "$B" && pwd)
bt=$(meson introspect --buildoptions "$B" 2>/dev/null |
	jq -r '.[] | select(.name == "buildtype") | .value')
echo "build: $B ($bt)"
[ "$bt" = release ] || echo "note: not a release build; the figures are for one"
KV=$B/verifier/kt-verify
LOGD=$B/logserver/kt-logd
KW=$B/verifier/kt-witness
. "$(dirname "$0")/../../tests/harness/e2e.sh"
e2e_init kt-audit-bench

batch() { # FROM TO PREFIX
	jq -cn --argjson a "$1" --argjson b "$2" --arg p "$3" \
		'{entries: [range($a; $b) | {label: "\($p)\(.)@bench.example",
		  key_type: "ed25519",
		  key: ("k\(.)-\(now)" + "................................")[0:32] | @base64}]}' \
		> "$T/b.json"
	curl -sf -H "Authorization: Bearer $TOKEN" --data-binary @"$T/b.json" \
		"$U/v1/keys:batch" > "$T/b.out"
}

# ---- (1) audit rate ----------------------------------------------------------
logd_keys "$LOGD" bench.example/audit && start_logd "$LOGD" || { echo "kt-logd"; exit 1; }
for s in $(seq 0 1000 $((N - 1))); do batch "$s" $((s + 1000)) u || exit 1; done
for s in $(seq 0 1000 $((N / 10 - 1))); do batch "$s" $((s + 1000)) u || exit 1; done
"$KV" --state "$T/s" init --log "$U" --key "$VK" > /dev/null
/usr/bin/time -v "$KV" --state "$T/s" --json audit > "$T/a.json" 2> "$T/time"
jq -r '"audit: \(.updates) updates, \(.map_heads) batches, \(.seconds) s wall: \(.updates / .seconds | floor) updates/s; \(.bytes) bytes: \(.bytes / .updates | floor) B per update"' "$T/a.json"
u=$(sed -n 's/.*User time (seconds): //p' "$T/time")
sy=$(sed -n 's/.*System time (seconds): //p' "$T/time")
echo "auditor CPU: $u s user + $sy s system: $(jq -r --argjson u "$u" --argjson s "$sy" '.updates / ($u + $s) | floor' "$T/a.json") updates/s"
sed -n 's/.*Maximum resident set size (kbytes): /max RSS KB: /p' "$T/time"
# kt-logd's side: one map audit answer of a 1,000-update batch, 5 times
h=$(jq -r '.to - 1' "$T/a.json")
for _ in 1 2 3 4 5; do
	curl -s -o /dev/null -w "%{time_total}\n" "$U/v1/map/audit/$((h - 1001))"
done | sort -n | awk '{ t[NR] = $1 } END { printf "kt-logd: GET /v1/map/audit of 1000 paths: median %.1f ms\n", t[3] * 1000 }'
e2e_stop "$LPID"

# ---- (2) an auditing witness behind ~1,000 writes/s --------------------------
rm -rf "$T/data" "$T"/key* "$T/tokens"
logd_keys "$LOGD" bench.example/wit || exit 1
P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$KW" keygen --name w.bench --out "$T/w.key" > "$T/w.kg"
WKEY=$(tail -1 "$T/w.kg")
e2e_start "$T/w.out" "$KW" serve --data "$T/wd" --key "$T/w.key" \
	--listen 127.0.0.1:0 --log "$VK" --log-url "http://127.0.0.1:$P" --audit
e2e_wait_line "$T/w.out" "listening on port" || exit 1
WURL=http://127.0.0.1:$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/w.out")
e2e_start "$T/logd.out" "$LOGD" serve --data "$T/data" --key "$T/key" \
	--listen "127.0.0.1:$P" --tokens "$T/tokens" --witness "$WURL=$WKEY" \
	--witness-interval 1s --witness-quorum 1
U=http://127.0.0.1:$P
for _ in $(seq 100); do curl -s "$U/healthz" > /dev/null && break; sleep 0.1; done
batch 0 10000 pre > /dev/null
( i=0; end=$((SECONDS + DUR))
  while [ $SECONDS -lt $end ]; do
	batch $((i * 100)) $((i * 100 + 100)) w; i=$((i + 1)); sleep 0.1
  done ) &
wpid=$!
: > "$T/lag"
while kill -0 "$wpid" 2>/dev/null; do
	newest=$(curl -sf "$U/v1/keys/pre1@bench.example" | jq -r .checkpoint_size)
	witnessed=$(curl -sf "$U/checkpoint" | sed -n 2p)
	echo "$(date +%s.%N) $newest $witnessed" >> "$T/lag"
	sleep 0.5
done
awk 'NR > 4 { d = $2 - $3; if (d > m) m = d; s += d; n++ }
     END { printf "witness lag over %d samples: mean %.0f leaves, max %d leaves\n", n, s / n, m }' "$T/lag"
# seconds behind: when did the log first reach the size now witnessed
awk '{ t[NR] = $1; nw[NR] = $2; w[NR] = $3 }
     END { for (i = 5; i <= NR; i++) { for (j = 1; j <= i; j++) if (nw[j] >= w[i]) break;
           d = t[i] - t[j]; if (d > m) m = d; s += d; n++ }
           printf "witness lag: mean %.1f s, max %.1f s\n", s / n, m }' "$T/lag"
grep -cE "add-checkpoint: (422|503)" "$T/w.out.err" | sed 's/^/refusals: /'
