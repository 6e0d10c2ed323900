#!/bin/sh
# kt-verify's own boundaries (docs/verify.md): in libktverify only fetch.c
# includes curl/curl.h, nothing includes logserver/ or microhttpd/lmdb, only
# the CLI (verifier/cli/) may exit, and the files call each other only
# downwards in the order of verify_internal.h, so there is no call cycle.
root=${1:-.}
v=$root/verifier/lib
# Bottom to top, as listed at the top of verify_internal.h.
order="util.c result.c fetch.c state.c parse.c check.c map_paths.c quorum.c handle.c prefetch.c
logread.c evidence_write.c evidence_lookup.c evidence_map.c accept.c view.c history.c
lookup.c monitor.c map_audit.c audit.c gossip.c evidence_check.c"
files="$order verify_internal.h include/kt/verify.h"
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
for f in "$v"/*.c; do
	case " $(echo $order) " in
	*" $(basename "$f") "*) ;;
	*) echo "layering: $f is not placed in the order above" >&2; bad=1 ;;
	esac
done

# Calls: a file may call the functions (defined with the name at the start
# of a line, as the style has it) of files before it in $order only.
# Comments are stripped first so that naming a function is not a call.
strip() { sed -e 's#/\*.*\*/##g' -e '/\/\*/,/\*\//d' "$1"; }
defs() { grep -oE '^kt_[a-z0-9_]+\(' "$1" | tr -d '('; }
pos=0
for f in $order; do
	pos=$((pos + 1))
	[ -f "$v/$f" ] || continue
	later=$(echo $order | tr ' ' '\n' | tail -n +$((pos + 1)))
	for g in $later; do
		[ -f "$v/$g" ] || continue
		for fn in $(defs "$v/$g"); do
			if strip "$v/$f" | grep -qE "\\b$fn[[:space:]]*\\("; then
				echo "layering: $f calls $fn of $g, a later file" \
				    "(a call upwards)" >&2
				bad=1
			fi
		done
	done
done
[ $bad -eq 0 ] && echo "kt-verify layering: ok"
exit $bad
