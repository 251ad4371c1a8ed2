"""The layers, checked on the import graph (issue 13, "The boundary, as in reality").

A real guest kernel and dom0's tools see Xen only through ``xen/include/public`` and hypercalls; Xen
never calls up into them; the hardware knows nothing of Xen. This test builds the graph of every
``import`` in xenlab/ with ``ast`` (module level and inside functions alike, relative imports resolved,
``from pkg import mod`` counted as an import of ``pkg.mod``) and checks the rules of DESIGN.md
"Layers point one way". Each failure lists the offending edges as ``importer -> imported (line)``.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import xenlab

ROOT = Path(xenlab.__file__).resolve().parent
MODEL = ("hw", "xen", "guest", "dom0", "toolstack", "machine")


@lru_cache(maxsize=1)
def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package __init__)."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts.pop()
        out[".".join(parts)] = (path, is_pkg)
    return out


def _resolve(name: str) -> str | None:
    """The xenlab module ``name`` denotes (the longest prefix that is one)."""
    mods = modules()
    parts = name.split(".")
    while parts:
        if ".".join(parts) in mods:
            return ".".join(parts)
        parts.pop()
    return None


@lru_cache(maxsize=1)
def import_graph() -> dict[str, set[tuple[str, int]]]:
    """module -> {(imported xenlab module, line)}; external imports are kept as ("ext:<top>", line)."""
    graph = {}
    for mod, (path, is_pkg) in modules().items():
        package = mod if is_pkg else mod.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [f"{target}.{a.name}" if f"{target}.{a.name}" in modules() else target
                         for a in node.names]
            else:
                continue
            for name in names:
                if name == "xenlab" or name.startswith("xenlab."):
                    resolved = _resolve(name)
                    if resolved is not None:
                        edges.add((resolved, node.lineno))
                else:
                    edges.add(("ext:" + name.split(".")[0], node.lineno))
        graph[mod] = edges
    return graph


def layer(mod: str) -> str:
    """"xen", "guest", "machine" ... of a xenlab module name ("" for the package itself)."""
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


def offending(rule) -> list[str]:
    return sorted(f"{src} -> {dst.removeprefix('ext:')} (line {line})"
                  for src, edges in import_graph().items() for dst, line in edges if rule(src, dst))


def _is_public(mod: str) -> bool:
    return mod == "xenlab.xen.public" or mod.startswith("xenlab.xen.public.")


def test_the_graph_sees_function_level_and_relative_imports():
    """The scanner itself, on modules whose imports we know: machine.py imports the toolstack inside a
    function, and xenlab/__init__ imports the machine at module level."""
    g = import_graph()
    assert ("xenlab.machine", ) and any(dst == "xenlab.machine" for dst, _ in g["xenlab"])
    assert any(dst.startswith("xenlab.toolstack") for dst, _ in g["xenlab.machine"])
    assert len(g) > 150 and sum(len(e) for e in g.values()) > 500


def test_rule1_guest_dom0_toolstack_see_only_xen_public():
    """guest/, dom0/, toolstack/ import nothing from xenlab.xen but xenlab.xen.public (the ABI)."""
    bad = offending(lambda s, d: layer(s) in ("guest", "dom0", "toolstack") and layer(d) == "xen"
                    and not _is_public(d))
    assert not bad, "imports of Xen's internals from above the boundary:\n  " + "\n  ".join(bad)


def test_rule2_xen_and_hw_import_nothing_above_them():
    """xen/ and hw/ never import guest/, dom0/, toolstack/, viz/ (nor machine.py); hw/ never imports xen/."""
    above = ("guest", "dom0", "toolstack", "viz", "machine", "grading")
    bad = offending(lambda s, d: (layer(s) in ("xen", "hw") and layer(d) in above)
                    or (layer(s) == "hw" and layer(d) == "xen"))
    assert not bad, "imports pointing up the layers:\n  " + "\n  ".join(bad)


def test_rule3_guest_does_not_import_dom0_or_toolstack():
    """A guest kernel reaches dom0 only through shared pages and event channels."""
    bad = offending(lambda s, d: layer(s) == "guest" and layer(d) in ("dom0", "toolstack"))
    assert not bad, "guest code importing dom0/toolstack:\n  " + "\n  ".join(bad)


def test_rule4_the_model_never_imports_widgets():
    """hw, xen, guest, dom0, toolstack and machine.py run headless: no viz/, ipywidgets, bqplot."""
    bad = offending(lambda s, d: layer(s) in MODEL
                    and (layer(d) == "viz" or d in ("ext:ipywidgets", "ext:bqplot", "ext:IPython")))
    assert not bad, "the model importing widget code:\n  " + "\n  ".join(bad)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of more than one module (or a self-loop)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
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
    return out


def test_strongly_connected_finds_a_known_cycle():
    """The cycle finder on a hand-made graph: a->b->c->a is one component, d alone is none."""
    g = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert strongly_connected(g) == [["a", "b", "c"]]


def test_rule5_no_import_cycle():
    """No cycle among xenlab modules (function-level imports count: they only hide a cycle)."""
    g = {src: {dst for dst, _ in edges if not dst.startswith("ext:") and dst != src}
         for src, edges in import_graph().items()}
    cycles = strongly_connected(g)
    lines = []
    for comp in cycles:
        members = set(comp)
        lines.append("cycle: " + ", ".join(comp))
        lines += [f"    {src} -> {dst} (line {line})" for src in comp
                  for dst, line in sorted(import_graph()[src]) if dst in members and dst != src]
    assert not cycles, "\n".join(lines)
