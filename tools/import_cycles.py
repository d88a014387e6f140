#!/usr/bin/env python3
"""Lists the circles of imports between source files, crate by crate.

A file imports another when it names one of its items by path: `use
crate::a::b::Item`, an inline `crate::a::b::f()`, `super::x`, `self::x`, or a
child module declared with `mod x;`. Each path is resolved to the deepest
module file that exists (`src/a/b.rs`, `src/a/b/mod.rs`, or an inline module
of a file, which counts as that file). Circles are the strongly connected
components of more than one file. Cargo already forbids circles between
crates, so each crate is read on its own.

Usage: python3 tools/import_cycles.py [ROOT]   (exit status 1 if any circle)
"""

import os
import re
import sys

PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+)")
USE_GROUP = re.compile(r"((?:\bpub(?:\([^)]*\))?\s+)?)\buse\s+(crate|super|self)((?:::\w+)*)::\{([^;]*)\}\s*;", re.S)
MOD_DECL = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", re.M)
LINE_COMMENT = re.compile(r"//[^\n]*")
INLINE_TESTS = re.compile(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{")
REEXPORT = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+(crate|super|self)((?:::\w+)+)(?:\s+as\s+(\w+))?\s*;")


def crates(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("target", ".git", "node_modules")]
        if "Cargo.toml" in filenames and os.path.isdir(os.path.join(dirpath, "src")):
            yield os.path.join(dirpath, "src")


def module_files(src):
    """Maps each module path (a tuple of names) to its file."""
    files = {}
    for dirpath, _, filenames in os.walk(src):
        for f in filenames:
            if not f.endswith(".rs"):
                continue
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, src)[:-3].split(os.sep)
            if rel in (["lib"], ["main"]):
                mod = ()
            elif rel[-1] == "mod":
                mod = tuple(rel[:-1])
            else:
                mod = tuple(rel)
            # main.rs and lib.rs are separate crate roots; keep lib.rs as ().
            if rel == ["main"] and () in files:
                mod = ("<main>",)
            files[mod] = full
    return files


def resolve(files, base, segments):
    """The deepest module file along `base + segments`."""
    path = list(base) + list(segments)
    while path:
        if tuple(path) in files:
            return tuple(path)
        path.pop()
    return ()


def expand_groups(text):
    """`use crate::a::{b::C, d}` becomes `crate::a::b::C crate::a::d`."""
    def repl(m):
        vis = m.group(1)
        head = m.group(2) + m.group(3)
        parts = []
        depth, cur = 0, ""
        for ch in m.group(4):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        out = []
        for p in parts:
            p = re.sub(r"\s+", "", p)
            if not p or p == "self":
                out.append(f"{vis}use {head};")
                continue
            name = re.match(r"([\w:]+)(?:as(\w+))?$", p)
            if name:
                alias = f" as {name.group(2)}" if name.group(2) else ""
                out.append(f"{vis}use {head}::{name.group(1)}{alias};")
        return "\n".join(out)
    return USE_GROUP.sub(repl, text)


def source(path):
    """A file's code without comments and without its inline test module
    (`#[cfg(test)] mod tests { ... }`, by convention at the end)."""
    with open(path, encoding="utf-8") as fh:
        text = LINE_COMMENT.sub("", fh.read())
    test = INLINE_TESTS.search(text)
    if test:
        text = text[: test.start()]
    # `use child::x` names a module declared here: the same as `self::child::x`.
    for child in MOD_DECL.findall(text):
        text = re.sub(r"(\buse\s+)" + child + r"::", r"\1self::" + child + "::", text)
    return expand_groups(text)


def start(mod, kind, segs):
    """The module a `crate::`/`super::`/`self::` path starts from, and the rest."""
    if kind == "crate":
        return (), segs
    if kind == "self":
        return mod, segs
    base = mod[:-1]
    while segs and segs[0] == "super":
        base = base[:-1]
        segs = segs[1:]
    return base, segs


def reexports(files, texts):
    """(module, name) -> the module a `pub use` there takes `name` from."""
    out = {}
    for mod, text in texts.items():
        for m in REEXPORT.finditer(text):
            kind, rest = m.group(1), m.group(2)
            segs = rest.strip(":").split("::")
            base, segs = start(mod, kind, segs)
            alias = m.group(3) or segs[-1]
            out[(mod, alias)] = resolve(files, base, segs)
    return out


def target_of(files, rexp, base, segs):
    """Resolves a path, following re-exports to the file that defines the item."""
    target = resolve(files, base, segs)
    full = list(base) + list(segs)
    rest = full[len(target):]
    seen = set()
    while rest and (target, rest[0]) in rexp and (target, rest[0]) not in seen:
        seen.add((target, rest[0]))
        target, rest = rexp[(target, rest[0])], rest[1:]
    return target


def edges(files):
    graph = {m: set() for m in files}
    texts = {m: source(p) for m, p in files.items()}
    rexp = reexports(files, texts)
    for mod in files:
        # A re-export is a table-of-contents line, not a use.
        text = REEXPORT.sub("", texts[mod])
        children = set(MOD_DECL.findall(text))
        for kind, rest in PATH.findall(text):
            segs = rest.strip(":").split("::")
            base, segs = start(mod, kind, segs)
            target = target_of(files, rexp, base, segs)
            if target != mod and target in files:
                graph[mod].add(target)
        for child in children:
            # `mod x;` declares a child; naming `x::Item` uses it.
            if re.search(r"(?<![\w:])" + child + r"::", text):
                target = resolve(files, mod, [child])
                if target != mod:
                    graph[mod].add(target)
    return graph


def circles(graph):
    """Tarjan's strongly connected components with more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                out.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    found = 0
    for src in sorted(crates(root)):
        files = module_files(src)
        graph = edges(files)
        for comp in circles(graph):
            found += 1
            names = sorted(os.path.relpath(files[m], root) for m in comp)
            print(f"circle of {len(names)} files:")
            for n in names:
                deps = sorted(os.path.relpath(files[t], root) for t in graph[[m for m in comp if files[m] == os.path.join(root, n) or os.path.relpath(files[m], root) == n][0]] if t in comp)
                print(f"  {n} -> {', '.join(deps)}")
    if found:
        print(f"{found} circle(s)")
        return 1
    print("no circles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
