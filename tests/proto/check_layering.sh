#!/bin/sh
# proto/ is pure: it must not include LMDB, libmicrohttpd, libcurl, sockets or
# file APIs, and logserver/ and verifier/ must not include each other.
root=${1:-.}
bad=0
if grep -rnE '#include[[:space:]]*<(lmdb|microhttpd|curl/curl|sys/socket|netinet/in|arpa/inet|pthread|fcntl|unistd)\.h>' "$root/proto"; then
	echo "layering: proto/ includes a forbidden header" >&2
	bad=1
fi
if grep -rnE '\b(fopen|open|socket|time|clock_gettime|exit|randombytes_buf|printf|fprintf)[[:space:]]*\(' "$root/proto" --include='*.c' | grep -v '^\s*/\*'; then
	echo "layering: proto/ does I/O, reads the clock or exits" >&2
	bad=1
fi
if grep -rn 'logserver/' "$root/verifier" --include='*.[ch]' || grep -rn 'verifier/' "$root/logserver" --include='*.[ch]'; then
	echo "layering: logserver/ and verifier/ must not include each other" >&2
	bad=1
fi
[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
