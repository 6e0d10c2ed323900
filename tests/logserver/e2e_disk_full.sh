#!/bin/bash
# e2e_disk_full.sh KT_LOGD: kt-logd with its data folder on a 3 MiB tmpfs
# that fills up. Writes must then get 503 with Retry-After and a JSON
# error saying so, /healthz 503 naming the reason, kt_writable 0 and
# kt_no_space 1, a few log lines however many writes fail, nothing
# acknowledged lost; and once the filesystem has room again, the next
# write must succeed and /healthz turn 200 by itself. The tmpfs lives in a
# private mount namespace (unshare -m), gone with the server; where
# mounting is not permitted the test is skipped (exit 77), saying so.
. "$(dirname "$0")/../harness/e2e.sh"
LOGD=$1
e2e_init kt-disk-full
mkdir "$T/data" "$T/probe"
if ! unshare -m --propagation private sh -c \
	"mount -t tmpfs -o size=1m kt-probe '$T/probe'" 2>/dev/null; then
	echo "SKIP: cannot mount a tmpfs in a private mount namespace here" \
		"(unshare -m needs CAP_SYS_ADMIN or user namespaces)"
	exit 77
fi
"$LOGD" keygen --origin e2e.example/disk-full --out "$T/key" > /dev/null || exit 1
e2e_start "$T/logd.out" unshare -m --propagation private sh -c \
	"mount -t tmpfs -o size=3m kt-data '$T/data' && exec '$LOGD' serve \
	--data '$T/data' --key '$T/key' --listen 127.0.0.1:0 --allow-anonymous-writes"
e2e_wait_line "$T/logd.out" ' listen=127\.0\.0\.1:[0-9]+' ||
	{ echo "kt-logd did not start"; cat "$T/logd.out.err"; exit 1; }
U=http://127.0.0.1:$(sed -n 's/.* listen=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/logd.out")
# The server itself: the child of timeout (e2e_start), in the namespace.
SPID=$(ps -o pid= --ppid "$E2E_PID" | tr -d ' ')

KEY=$(head -c 4096 /dev/zero | base64 -w0)
batch() { # batch N: 20 publications of 4 KiB keys; status, headers, body
	local i body="{\"entries\":["
	for i in $(seq 20); do
		body+="{\"label\":\"b$1-$i\",\"key_type\":\"other\",\"key\":\"$KEY\"}"
		[ "$i" -lt 20 ] && body+=","
	done
	body+="]}"
	curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "$body" "$U/v1/keys:batch"
}
acked=0 st=200 n=0
while [ "$st" = 200 ] && [ $n -lt 200 ]; do
	st=$(batch $n); n=$((n + 1))
	[ "$st" = 200 ] && acked=$((acked + 20))
done
echo "disk full: $acked entries in 3 MiB, then $st"
[ "$st" = 503 ] || fail "a write on a full disk answered $st: $(cat "$T/body")"
grep -qi '^Retry-After: [1-9]' "$T/hdr" || fail "no Retry-After"
grep -q '^{"error":"no space left' "$T/body" || fail "error body: $(cat "$T/body")"
h=$(curl -s -w ' %{http_code}' "$U/healthz")
case $h in *'"writes failing"'*'no space left'*' 503') ;; *) fail "healthz: $h" ;; esac
m=$(curl -s "$U/metrics")
grep -q '^kt_writable 0$' <<< "$m" || fail "kt_writable is not 0"
grep -q '^kt_no_space 1$' <<< "$m" || fail "kt_no_space is not 1"
# More writes on the full disk. One may still fit, in pages LMDB freed
# (copy-on-write leaves some free in the file): it is acknowledged, and
# counted, like any other.
failed=1 xacked=0
for i in $(seq 20); do
	if [ "$(batch "x$i")" = 200 ]; then
		xacked=$((xacked + 20))
	else
		failed=$((failed + 1))
	fi
done
lines=$(grep -c '"batch_failed"' "$T/logd.out.err")
[ "$lines" -le 2 ] || fail "$lines batch_failed lines for $failed failed writes"
size=$(curl -s "$U/healthz" | sed -n 's/.*"size":\([0-9]*\).*/\1/p')
# One client: each acknowledged batch is its 20 updates and one map head,
# after the empty map's head (leaf 0); a refused batch left nothing.
want=$((1 + (acked + xacked) / 20 * 21))
[ "$size" = "$want" ] || fail "size $size, acknowledged $((acked + xacked)) ($want leaves)"
st=$(curl -s -o "$T/look" -w '%{http_code}' "$U/v1/keys/b$((acked / 20 - 1))-20")
[ "$st" = 200 ] && grep -q '"present":true' "$T/look" ||
	fail "the last acknowledged label: $st $(head -c 300 "$T/look")"
st=$(curl -s -o "$T/look" -w '%{http_code}' "$U/v1/keys/b$((acked / 20))-1")
[ "$st" = 404 ] && grep -q '"present":false' "$T/look" ||
	fail "a refused label: $st $(head -c 300 "$T/look")"

# Room again (as freeing space would): /healthz is 200 before any write
# comes (a load balancer that took the log out sends none), the next write
# succeeds, with no restart.
nsenter -t "$SPID" -m mount -o remount,size=80m "$T/data" || fail "remount"
h=$(curl -s -w ' %{http_code}' "$U/healthz")
case $h in *'"ok"'*' 200') ;; *) fail "healthz once space is back, before a write: $h" ;; esac
st=$(batch again)
[ "$st" = 200 ] || fail "a write after space came back answered $st: $(cat "$T/body")"
h=$(curl -s -w ' %{http_code}' "$U/healthz")
case $h in *'"ok"'*' 200') ;; *) fail "healthz after: $h" ;; esac
grep -q '^kt_writable 1$' <<< "$(curl -s "$U/metrics")" || fail "kt_writable is not 1 again"
[ $fails -eq 0 ] && echo "disk full: ok"
exit $((fails > 0))
