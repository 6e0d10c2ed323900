#!/bin/sh
# kt-verify's own boundaries (docs/verify.md): in libktverify only fetch.c
# includes curl/curl.h, nothing includes logserver/ or microhttpd/lmdb, and
# only the CLI (verifier/cli/) may exit.
root=${1:-.}
v=$root/verifier/lib
files="util.c fetch.c state.c parse.c verify.c evidence.c lookup.c monitor.c audit.c quorum.c gossip.c verify_internal.h include/kt/verify.h"
bad=0
for f in $files; do
	[ -f "$v/$f" ] || { echo "missing $v/$f" >&2; bad=1; continue; }
	if [ "$f" != fetch.c ] && grep -n '#include[[:space:]]*<curl/' "$v/$f"; then
		echo "layering: $f includes curl (only fetch.c may)" >&2; bad=1
	fi
	if grep -nE '#include[[:space:]]*[<"](lmdb|microhttpd)\.h|logserver/' "$v/$f"; then
		echo "layering: $f reaches into the server side" >&2; bad=1
	fi
	if grep -nE '\b(exit|_exit|abort)[[:space:]]*\(' "$v/$f"; then
		echo "layering: $f exits (only verifier/cli/ may)" >&2; bad=1
	fi
done
[ $bad -eq 0 ] && echo "kt-verify layering: ok"
exit $bad
