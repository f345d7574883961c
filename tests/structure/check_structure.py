#!/usr/bin/env python3
"""check_structure: the rooms of the code stay rooms.

Reads the object files of each product folder with nm and fails if
  - two or more .c files of one folder need each other's symbols, directly
    or around a cycle (a file may use another's API only one way), or
  - a C file of the product, its tests or its benchmark tools is longer than
    MAX_LINES lines.

Usage: check_structure.py SOURCE_ROOT BUILD_ROOT
"""
import glob
import os
import subprocess
import sys

MAX_LINES = 700
# folder -> the object directories meson writes for its sources
ROOMS = {
    'component': ['component/libxpushcore.a.p'],
    'client': ['client/libxpush_internal.a.p'],
    'cli': ['cli/xpush-client.p'],
    'tools': ['tools/libxpushctl_core.a.p', 'tools/xpushctl.p'],
    'common': ['common/libxpushcommon.a.p'],
}
LENGTH_DIRS = ['component', 'client', 'cli', 'tools', 'common', 'tests', 'bench']


def symbols(obj):
    out = subprocess.run(['nm', obj], check=True, capture_output=True, text=True).stdout
    defined, needed = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'U':
            needed.add(parts[1])
        elif len(parts) == 3 and parts[1] in 'TDBRCVWG':
            defined.add(parts[2])
    return defined, needed


def source_name(obj):
    name = os.path.basename(obj)
    if name.endswith('.o'):
        name = name[:-2]
    return name


def cycles(edges):
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, build = sys.argv[1], sys.argv[2]
    bad = 0
    for room, dirs in ROOMS.items():
        objs = [o for d in dirs for o in sorted(glob.glob(os.path.join(build, d, '*.o')))]
        if not objs:
            print(f'FAIL {room}: no object files under {dirs} (not built?)')
            bad += 1
            continue
        defs, needs = {}, {}
        for o in objs:
            name = source_name(o)
            if name.startswith('meson-generated_'):
                continue
            defs[name], needs[name] = symbols(o)
        owner = {}
        for name, syms in defs.items():
            for s in syms:
                owner[s] = name
        edges, why = {}, {}
        for name, syms in needs.items():
            for s in sorted(syms):
                o = owner.get(s)
                if o and o != name:
                    edges.setdefault(name, set()).add(o)
                    why.setdefault((name, o), []).append(s)
        for comp in cycles(edges):
            bad += 1
            print(f'FAIL {room}: these files need each other: {", ".join(comp)}')
            for a in comp:
                for b in comp:
                    if (a, b) in why:
                        print(f'  {a} -> {b}: {", ".join(why[(a, b)][:6])}')
        print(f'{room}: {len(defs)} files, {sum(len(v) for v in edges.values())} one-way uses')
    for d in LENGTH_DIRS:
        for path in sorted(glob.glob(os.path.join(src, d, '**', '*.c'), recursive=True)):
            with open(path, encoding='utf-8', errors='replace') as f:
                n = sum(1 for _ in f)
            if n > MAX_LINES:
                bad += 1
                print(f'FAIL {os.path.relpath(path, src)}: {n} lines (at most {MAX_LINES})')
    print('structure: ' + ('ok' if not bad else f'{bad} problem(s)'))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
