#!/usr/bin/env python3
"""
check_cycles.py: no call cycles between the files of one library, and no
include cycles between headers.

  check_cycles.py SRCROOT UNIT...

Calls: a unit is a static library (.a) or a program (its objects, which
meson keeps in PROGRAM.p/). For each unit nm says which object (one per
source file) defines each global symbol and which symbols each object uses;
an object that uses a symbol another object defines depends on it. Any
strongly connected group of two or more members is a cycle: two files that
call each other, directly or round a ring, cannot be read or tested one
below the other. Static functions are not seen (they cannot cross files).

Includes: every #include "..." of the tracked .c/.h files, resolved against
the including file's folder and the project's include roots; a header that
includes itself round a ring is reported.
"""
import os, re, subprocess, sys

def sccs(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index: visit(v)
    return out

def nm(args):
    return subprocess.run(['nm'] + args, capture_output=True, text=True,
                          check=True).stdout

def unit_cycles(path):
    if path.endswith('.a'):
        args = [path]
    else:
        d = path + '.p'
        args = sorted(os.path.join(d, f) for f in os.listdir(d)
                      if f.endswith('.o'))
    defs, uses = {}, {}
    for line in nm(['-A', '-g'] + args).splitlines():
        # "archive.a:member.o: [addr] T symbol" or "file.o: [addr] T symbol"
        m = re.match(r'^(?:[^:]+\.a:)?([^:]+):\s*(?:[0-9a-f]+)?\s+(\w)\s+(\S+)$',
                     line)
        if not m: continue
        mem, kind, sym = m.groups()
        mem = os.path.basename(mem)
        if kind == 'U':
            uses.setdefault(mem, set()).add(sym)
        else:
            defs[sym] = mem
    graph = {}
    for mem, syms in uses.items():
        for s in syms:
            d = defs.get(s)
            if d and d != mem:
                graph.setdefault(mem, set()).add(d)
    return sccs(graph)

def include_cycles(root):
    files = subprocess.run(['git', '-C', root, 'ls-files', '*.c', '*.h'],
                           capture_output=True, text=True, check=True).stdout.split()
    roots = ['proto/include', 'guard/include', 'verifier/lib/include',
             'verifier/lib', 'logserver', 'verifier/witness']
    graph = {}
    for f in files:
        if not f.endswith('.h'): continue
        for inc in re.findall(r'^#include\s+"([^"]+)"',
                              open(os.path.join(root, f)).read(), re.M):
            for base in [os.path.dirname(f)] + roots:
                cand = os.path.normpath(os.path.join(base, inc))
                if os.path.exists(os.path.join(root, cand)):
                    graph.setdefault(f, set()).add(cand); break
    return sccs(graph)

def main():
    root, archives = sys.argv[1], sys.argv[2:]
    bad = 0
    for a in archives:
        for c in unit_cycles(a):
            print('call cycle in %s: %s' % (os.path.basename(a), ' <-> '.join(c)))
            bad = 1
    for c in include_cycles(root):
        print('include cycle: %s' % ' <-> '.join(c)); bad = 1
    if not bad:
        print('cycles: none (%d libraries and programs, and the headers)' % len(archives))
    return bad

sys.exit(main())
