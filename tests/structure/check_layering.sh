#!/bin/sh
# The architecture as rules a test can check (README, "Map of the code"):
# proto/ is pure; guard/ sits on proto/ alone; logserver/ and verifier/
# never include each other (both may include guard/); inside each program
# one file (or folder) owns each foreign library; only a program's main may
# exit.
root=${1:-.}
bad=0
fail() { echo "layering: $*" >&2; bad=1; }

# proto/: no I/O, clock, randomness or exit; no foreign I/O libraries.
if grep -rnE '#include[[:space:]]*<(lmdb|microhttpd|curl/curl|sys/socket|netinet/in|arpa/inet|pthread|fcntl|unistd)\.h>' "$root/proto"; then
	fail "proto/ includes a forbidden header"
fi
if grep -rnE '\b(fopen|open|socket|time|clock_gettime|exit|randombytes_buf|printf|fprintf)[[:space:]]*\(' "$root/proto" --include='*.c' | grep -v '^\s*/\*'; then
	fail "proto/ does I/O, reads the clock or exits"
fi

# logserver/ and verifier/ sit side by side on proto/ and guard/.
if grep -rn 'logserver/' "$root/verifier" --include='*.[ch]' ||
    grep -rn 'verifier/' "$root/logserver" --include='*.[ch]'; then
	fail "logserver/ and verifier/ must not include each other"
fi

# guard/ (the connection guard both servers share) sits on proto/ alone:
# its project headers are "kt/*.h" ones that proto/ or guard/ itself
# provides, and it includes no foreign library.
for f in $(grep -rlE '#include[[:space:]]*"' "$root/guard" --include='*.[ch]'); do
	rel=${f#"$root"/}
	grep -nE '#include[[:space:]]*"' "$f" | grep -vE '"kt/[a-z_]+\.h"' |
		sed "s|^|$rel:|" | grep . && fail "$rel includes outside proto/ and guard/"
	for h in $(grep -oE '#include[[:space:]]*"kt/[a-z_]+\.h"' "$f" | grep -oE 'kt/[a-z_]+\.h'); do
		[ -f "$root/proto/include/$h" ] || [ -f "$root/guard/include/$h" ] ||
			fail "$rel includes $h, which is neither proto/'s nor guard/'s"
	done
done
if grep -rnE '#include[[:space:]]*<(lmdb|microhttpd|curl/curl|jansson|sodium)\.h>' "$root/guard"; then
	fail "guard/ includes a foreign library (it takes descriptors, not a server)"
fi

# only() HEADER ALLOWED...: the files that may include <HEADER>.
only() {
	h=$1; shift
	for f in $(grep -rlE "#include[[:space:]]*<$h>" "$root/proto" "$root/guard" "$root/logserver" "$root/verifier" --include='*.[ch]'); do
		rel=${f#"$root"/}
		ok=0
		for a in "$@"; do
			case $rel in $a) ok=1 ;; esac
		done
		[ $ok -eq 1 ] || fail "$rel includes <$h> (only $* may)"
	done
}
only lmdb.h 'logserver/store/*' 'verifier/witness/witness.c' 'verifier/mirror/mirror_store.c'
only microhttpd.h 'logserver/http/http.c' 'verifier/witness/witness_http.c' 'verifier/mirror/mirror_http.c'
only curl/curl.h 'logserver/witness_client/transport.c' 'verifier/lib/fetch.c'
only 'openssl/[a-z_]*\.h' 'proto/sha256.c'

# Only the programs' main files end the process (assert aborts too).
for f in $(grep -rlE '\b(exit|_exit|abort|assert)[[:space:]]*\(' "$root/guard" "$root/logserver" "$root/verifier" --include='*.c'); do
	rel=${f#"$root"/}
	case $rel in
	logserver/main.c | verifier/cli/main.c | verifier/witness/main.c | verifier/mirror/main.c) ;;
	*) grep -nE '\b(exit|_exit|abort|assert)[[:space:]]*\(' "$f" | grep -vE '^\s*[0-9]+:\s*(/\*|\*)' >/dev/null &&
		fail "$rel ends the process (only a program's main may)" ;;
	esac
done

[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
