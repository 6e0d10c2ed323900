#!/bin/bash
# e2e_nginx.sh SRC KT_LOGD KT_VERIFY
#
# Debian's nginx with ops/nginx/kt.conf in front of a writer and two read
# replicas, all on loopback in a temporary folder, nginx as the current
# user (its addresses, cache folder and certificate rewritten; every other
# line as shipped). Shows: writes through nginx reach the writer with the
# bearer token (and without one are refused by kt-logd); a monitor, an
# audit and lookups through nginx verify; repeated full-tile reads come
# from nginx's cache (the kt-logd processes' request counters do not
# grow), partial tiles and lookups are not cached, the checkpoint is
# cached for about a second; TLS terminates at nginx; /metrics is not
# served through it; killing one replica while reads run loses none.
#
# nginx is installed only with the project's own `ops/deps --nginx`; the
# test is skipped (exit 77) with a message if that cannot be done.
set -u
SRC=$1
LOGD=$2
KV=$3
. "$(dirname "$0")/../harness/e2e.sh"
e2e_init kt-nginx

find_nginx() { NGINX=$(command -v nginx || echo /usr/sbin/nginx); [ -x "$NGINX" ]; }
if ! find_nginx; then
	"$SRC/ops/deps" --nginx > "$T/deps.out" 2>&1
	find_nginx || {
		echo "SKIP: nginx is not installed and 'ops/deps --nginx' could not install it" \
			"(it needs root or sudo and Debian's package archive): $(tail -2 "$T/deps.out" | tr '\n' ' ')"
		exit 77
	}
fi
echo "nginx: $("$NGINX" -v 2>&1)"

logd_keys "$LOGD" e2e.example/nginx || { echo "keygen failed"; cat "$T/kg"; exit 1; }
start_logd "$LOGD" || { echo "kt-logd did not start"; cat "$T/logd.out.err"; exit 1; }
WPORT=$PORT
# kill9 PID: SIGKILL to the kt-logd that e2e_start's `timeout` runs (the
# process itself, not the timeout wrapper), then reaps the wrapper
kill9() {
	local c
	c=$(cat "/proc/$1/task/$1/children" 2>/dev/null || pgrep -P "$1")
	[ -n "$c" ] || { echo "no process under $1 to kill"; exit 1; }
	kill -9 $c
	wait "$1" 2>/dev/null
	! kill -0 $c 2>/dev/null || { echo "$c survived SIGKILL"; exit 1; }
}
start_replica() { # NAME: sets RPORT and RPID
	e2e_start "$T/$1.out" "$LOGD" serve --data "$T/data" --key "$T/key" \
		--listen 127.0.0.1:0 --read-only --writer "https://kt.example.com"
	RPID=$E2E_PID
	e2e_wait_line "$T/$1.out" " listen=127\.0\.0\.1:[0-9]+ .* read-only$" ||
		{ echo "replica $1 did not start"; cat "$T/$1.out.err"; exit 1; }
	RPORT=$(sed -n 's/.* listen=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/$1.out" | head -1)
}
start_replica r1; R1PORT=$RPORT; R1PID=$RPID
start_replica r2; R2PORT=$RPORT
LOGDS="http://127.0.0.1:$WPORT http://127.0.0.1:$R1PORT http://127.0.0.1:$R2PORT"

# ---- nginx: ops/nginx/kt.conf, rewritten for loopback ------------------
mkdir -p "$T/nginx" "$T/tls"
TLS=1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" > "$T/tls/out" 2>&1 ||
	{ TLS=0; echo "note: no openssl certificate, TLS not checked"; }
# conf TLSPORT PORT: the shipped file with only its addresses, cache
# folder and certificate changed (each change must happen)
conf() {
	sed -e "s|127\.0\.0\.1:8080|127.0.0.1:$WPORT|g" \
		-e "s|127\.0\.0\.1:8081|127.0.0.1:$R1PORT|" \
		-e "s|127\.0\.0\.1:8082|127.0.0.1:$R2PORT|" \
		-e "s|/var/cache/nginx/kt|$T/nginx/cache|" \
		-e "s|/etc/ssl/kt/fullchain.pem|$T/tls/cert.pem|" \
		-e "s|/etc/ssl/kt/privkey.pem|$T/tls/key.pem|" \
		-e '/listen \[::\]:443 ssl http2;/d' \
		-e "s|listen 443 ssl http2;|listen 127.0.0.1:$1 ssl http2; listen 127.0.0.1:$2;|" \
		"$SRC/ops/nginx/kt.conf" > "$T/kt.conf"
	[ "$TLS" = 1 ] || sed -i -e '/^ *ssl_/d' -e "s|listen 127.0.0.1:$1 ssl http2; ||" "$T/kt.conf"
	for want in ":$WPORT backup" ":$R1PORT max_fails" ":$R2PORT max_fails" "$T/nginx/cache" \
		"listen 127.0.0.1:$2;"; do
		grep -qF -- "$want" "$T/kt.conf" || { echo "kt.conf changed: no '$want' after rewriting"; exit 1; }
	done
	! grep -qE '127\.0\.0\.1:808[0-2]|/etc/ssl/kt|listen 443' "$T/kt.conf" ||
		{ echo "kt.conf changed: an address was not rewritten"; exit 1; }
	cat > "$T/nginx.conf" <<-EOF
	$([ "$(id -u)" = 0 ] && echo "user root;")
	worker_processes 1;
	pid $T/nginx/nginx.pid;
	error_log $T/nginx/error.log info;
	events { worker_connections 512; }
	http {
	    access_log $T/nginx/access.log;
	    client_body_temp_path $T/nginx/body;
	    proxy_temp_path $T/nginx/proxy;
	    fastcgi_temp_path $T/nginx/fastcgi;
	    uwsgi_temp_path $T/nginx/uwsgi;
	    scgi_temp_path $T/nginx/scgi;
	    include $T/kt.conf;
	}
	EOF
}
# nginx on two free ports (tried at random until it binds them)
for _ in $(seq 10); do
	TP=$((20000 + RANDOM % 20000)); NP=$((TP + 1))
	conf "$TP" "$NP"
	"$NGINX" -t -p "$T/nginx" -c "$T/nginx.conf" -e "$T/nginx/error.log" > "$T/nginx-t.out" 2>&1 ||
		{ echo "nginx -t refused the configuration:"; cat "$T/nginx-t.out"; exit 1; }
	e2e_start "$T/nginx.out" "$NGINX" -p "$T/nginx" -c "$T/nginx.conf" \
		-e "$T/nginx/error.log" -g 'daemon off;'
	NPID=$E2E_PID
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$NP/healthz" && break
		kill -0 "$NPID" 2>/dev/null || break
		sleep 0.1
	done
	curl -s -o /dev/null "http://127.0.0.1:$NP/healthz" && break
	e2e_stop "$NPID"; NPID=
done
[ -n "$NPID" ] || { echo "nginx did not start:"; tail -5 "$T/nginx/error.log"; exit 1; }
N=http://127.0.0.1:$NP
echo "nginx at $N (TLS on $TP) before the writer on $WPORT and replicas on $R1PORT, $R2PORT"

# ---- helpers -------------------------------------------------------------
# upstream ROUTE STATUS: that counter summed over the three kt-logd
counted() {
	local u sum=0 v
	for u in $LOGDS; do
		v=$(curl -s "$u/metrics" | sed -n "s/^kt_http_requests_total{route=\"$1\",status=\"$2\"} //p")
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
cache_status() { curl -s -o /dev/null -D - "$N$1" | tr -d '\r' | sed -n 's/^X-Cache-Status: //ip'; }
publish() { # LABEL KEY: through nginx
	curl -sf -H "Authorization: Bearer $TOKEN" \
		-d "{\"label\":\"$1\",\"key_type\":\"ed25519\",\"key\":\"$2\"}" "$N/v1/keys" > "$T/post" ||
		fail "publish $1 through nginx"
}

# ---- writes through nginx, with the bearer token ------------------------
K1=$(key); K2=$(key)
publish alice@e2e.example "$K1"
jq -e '.version == 1' "$T/post" > /dev/null && echo "ok: a write through nginx (bearer token passed on)" ||
	fail "write: $(cat "$T/post")"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '{"label":"x@e2e.example","revoke":true}' "$N/v1/keys")
[ "$code" = 401 ] && echo "ok: a write without a token is refused by kt-logd (401)" || fail "no token: $code"
jq -cn '{entries: [range(0; 300) | {label: "u\(.)@e2e.example",
	key_type: "ed25519", key: (("\(.)" + "................................")[0:32] | @base64)}]}' \
	> "$T/batch.json"
curl -sf -H "Authorization: Bearer $TOKEN" --data-binary @"$T/batch.json" "$N/v1/keys:batch" > /dev/null &&
	echo "ok: a batch of 300 through nginx" || fail "batch through nginx"
publish alice@e2e.example "$K2"
v=$(curl -s "$N/v1/keys/alice%40e2e.example" | jq -r .version)
[ "$v" = 2 ] && echo "ok: a lookup through nginx right after a rotation shows it (lookups not cached)" ||
	fail "lookup after rotation: version $v"

# ---- a client, a monitor and an audit through nginx ---------------------
VRF=$(curl -sf "$N/v1/log" | jq -r .vrf_public_key)
expect 0 "" "kt-verify init through nginx" c init --log "$N" --key "$VK" --vrf-key "$VRF"
expect 0 "pinned on first use" "a lookup through nginx verifies" c lookup u42@e2e.example
expect 0 "every key expected" "a monitor through nginx verifies" c monitor alice@e2e.example \
	--expect-b64 "$K1" --expect-b64 "$K2"
expect 0 "" "an audit through nginx verifies" c audit

# ---- caching --------------------------------------------------------------
for t in /tile/0/000 /tile/entries/000; do curl -sf -o /dev/null "$N$t" || fail "$t through nginx"; done
before=$(counted tile 200)
hits=0
for _ in $(seq 25); do
	for t in /tile/0/000 /tile/entries/000; do
		[ "$(cache_status "$t")" = HIT ] && hits=$((hits + 1))
	done
done
after=$(counted tile 200)
[ "$hits" = 50 ] && [ "$before" = "$after" ] &&
	echo "ok: 50 full-tile reads from nginx's cache, kt-logd's tile counter stays at $after" ||
	fail "full tiles: $hits of 50 hits, kt-logd counted $before -> $after"
direct=$(curl -s "http://127.0.0.1:$WPORT/tile/entries/000" | sha256sum)
[ "$(curl -s "$N/tile/entries/000" | sha256sum)" = "$direct" ] || fail "a cached tile differs from kt-logd's"
size=$(curl -s "http://127.0.0.1:$WPORT/checkpoint" | sed -n 2p)
before=$(counted tile 200)
curl -sf -o /dev/null "$N/tile/0/001.p/$((size - 256))"
curl -sf -o /dev/null "$N/tile/0/001.p/$((size - 256))"
after=$(counted tile 200)
[ $((after - before)) = 2 ] && echo "ok: a partial tile is not cached (2 reads reach kt-logd)" ||
	fail "partial tile: kt-logd counted $before -> $after"
before=$(counted key_get 200)
curl -sf -o /dev/null "$N/v1/keys/alice%40e2e.example"
curl -sf -o /dev/null "$N/v1/keys/alice%40e2e.example"
after=$(counted key_get 200)
[ $((after - before)) = 2 ] && echo "ok: lookups are not cached" || fail "lookups: $before -> $after"
# the checkpoint: cached about a second
before=$(counted checkpoint 200)
t0=$(date +%s%N)
for _ in $(seq 30); do curl -sf -o /dev/null "$N/checkpoint" || fail "checkpoint through nginx"; done
ms=$((($(date +%s%N) - t0) / 1000000))
after=$(counted checkpoint 200)
[ $((after - before)) -le $((ms / 1000 + 2)) ] &&
	echo "ok: 30 checkpoint reads in $ms ms reached kt-logd $((after - before)) time(s)" ||
	fail "checkpoint: $((after - before)) upstream reads in $ms ms"
publish carol@e2e.example "$K1"
want=$(jq -r .checkpoint_size "$T/post")
for _ in $(seq 30); do
	[ "$(curl -s "$N/checkpoint" | sed -n 2p)" -ge "$want" ] && break
	sleep 0.1
done
[ "$(curl -s "$N/checkpoint" | sed -n 2p)" -ge "$want" ] &&
	echo "ok: a new checkpoint shows through nginx within 3 s" || fail "stale checkpoint through nginx"

# ---- TLS, and what nginx does not serve ----------------------------------
if [ "$TLS" = 1 ]; then
	curl -sf --cacert "$T/tls/cert.pem" "https://localhost:$TP/checkpoint" | head -1 | grep -q e2e.example/nginx &&
		echo "ok: TLS terminates at nginx (HTTPS with its certificate)" || fail "HTTPS through nginx"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "$N/metrics")
[ "$code" = 404 ] && echo "ok: /metrics is not served through nginx" || fail "/metrics through nginx: $code"

# ---- a replica dies while reads run: none is lost -------------------------
reads() { # N: lookups, checkpoints and entries through nginx; statuses to $T/reads
	local i
	for i in $(seq "$1"); do
		curl -s -o /dev/null -w '%{http_code}\n' "$N/v1/keys/u$((i % 300))%40e2e.example"
		curl -s -o /dev/null -w '%{http_code}\n' "$N/v1/entries?start=0&end=10"
		curl -s -o /dev/null -w '%{http_code}\n' "$N/v1/keys/alice%40e2e.example/history"
	done >> "$T/reads"
}
: > "$T/reads"
reads 60 &
RP=$!
sleep 0.5
kill9 "$R1PID"
wait "$RP"
reads 20
bad=$(grep -vc '^200$' "$T/reads")
total=$(wc -l < "$T/reads")
[ "$bad" = 0 ] && echo "ok: replica 1 killed during $total reads through nginx: none lost" ||
	fail "$bad of $total reads failed after a replica died: $(sort "$T/reads" | uniq -c | tr '\n' ' ')"
publish dave@e2e.example "$K2"
expect 0 "pinned on first use" "a lookup through nginx after the kill verifies" c lookup dave@e2e.example

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
