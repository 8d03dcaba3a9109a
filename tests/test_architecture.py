"""The package's structure (docs/architecture.md): import layers, no cycles, small modules.

Read from the source with ``ast`` (nothing is imported), so a rule broken anywhere fails here with
the module and line that break it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "contrastomics"

#: a module may import only from its own layer or a lower one
LAYERS = {
    "errors": 0, "_io": 0, "_gc": 0,
    "data": 1,
    "enrichment": 2,
    "models": 3, "losses": 3,
    "evaluate": 4,
    "training": 5,
    "cluster": 6,
    "report": 7,
    "cli": 8,
}
#: deprecated aliases at the package root take the layer of what they alias
ROOT_ALIASES = {"train": "training", "gsea_run": "enrichment"}
#: code that pulls in torch; other code may import it lazily (inside a function) when only one of
#: its paths needs torch, so that `import contrastomics.cli` and `--method overlap` stay light
TORCH_ROOMS = ("models", "training", "losses")
MAX_LINES = 620
MAX_DOCSTRING_LINES = 12


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _room(module: str) -> str:
    top = module.split(".")[0] if module else ""
    return ROOT_ALIASES.get(top, top)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    """Our modules named by an import statement (``contrastomics.``-relative dotted names)."""
    if isinstance(node, ast.Import):
        return [a.name.removeprefix("contrastomics.") for a in node.names
                if a.name == "contrastomics" or a.name.startswith("contrastomics.")]
    if node.level == 0:
        if not (node.module or "").startswith("contrastomics"):
            return []
        base = (node.module or "").removeprefix("contrastomics").lstrip(".")
    else:
        pkg = module.split(".") if is_package else module.split(".")[:-1]
        pkg = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
        base = ".".join([*pkg, *([node.module] if node.module else [])])
    found = []
    for a in node.names:  # `from . import cal` names a module; `from .x import f` names x
        sub = f"{base}.{a.name}" if base else a.name
        found.append(sub if sub in MODULES else base)
    return found


def _imports(module: str, path: Path):
    """(target module, line, where) per import; where is 'top', 'function' or 'alias'
    (inside a module-level ``__getattr__``: a deprecated alias)."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    out = []

    def visit(node, where):
        for child in ast.iter_child_nodes(node):
            w = where
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                w = "alias" if (where == "top" and child.name == "__getattr__") else (
                    "alias" if where == "alias" else "function")
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.extend((t, child.lineno, w) for t in _resolve(module, is_package, child))
            visit(child, w)

    visit(tree, "top")
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_imports_follow_the_layers():
    bad = []
    for m, edges in GRAPH.items():
        if _room(m) not in LAYERS:
            continue
        for target, line, where in edges:
            if where == "alias" or _room(target) not in LAYERS:
                continue
            if LAYERS[_room(target)] > LAYERS[_room(m)]:
                bad.append(f"{MODULES[m].relative_to(SRC)}:{line} ({_room(m)}) imports {target} ({_room(target)})")
    assert not bad, "imports against the layers:\n" + "\n".join(sorted(set(bad)))


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    counter = [0]

    def strongconnect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            strongconnect(v)
    return cycles


def test_no_import_cycle():
    """Function-local imports count too (they hid a data.builtin <-> data.genes cycle); a package's
    ``__init__`` re-exporting its own modules and deprecated-alias ``__getattr__`` do not."""
    edges = {m: {t for t, _, w in e if w != "alias" and t in MODULES and t != m and not m.startswith(t + ".")}
             for m, e in GRAPH.items()}
    assert not find_cycles(edges), f"import cycles: {find_cycles(edges)}"


def test_cycle_finder_and_resolver():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []
    rel = ast.parse("from ..data.genesets import x\nfrom . import embed\n").body
    assert _resolve("cluster.api", False, rel[0]) == ["data.genesets"]
    assert _resolve("cluster.api", False, rel[1]) == ["cluster.embed"]


def test_local_imports_only_where_allowed():
    bad = []
    for m, edges in GRAPH.items():
        if _room(m) == "cli":
            continue  # commands import their implementation lazily: `contrastomics --help` stays fast
        for target, line, where in edges:
            if where == "function" and _room(target) not in TORCH_ROOMS:
                bad.append(f"{MODULES[m].relative_to(SRC)}:{line} imports {target} inside a function")
    assert not bad, "function-local imports of our own modules (move them to the top):\n" + "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small(module):
    path = MODULES[module]
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(SRC)} has {n} lines (split it; limit {MAX_LINES})"
    doc = ast.get_docstring(ast.parse(path.read_text()))
    if doc:
        assert len(doc.splitlines()) <= MAX_DOCSTRING_LINES, (
            f"{path.relative_to(SRC)}: module docstring of {len(doc.splitlines())} lines (history goes to docs/)")


def test_public_api_is_lazy_and_complete():
    """`import contrastomics` and `import contrastomics.cli` load neither torch nor pandas; every
    name the package promises resolves to the object in its home module."""
    import subprocess
    import sys

    code = ("import sys, contrastomics, contrastomics.cli; "
            "print(sorted(m for m in ('torch', 'pandas', 'sklearn', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"heavy modules loaded on import: {out}"

    import importlib

    import contrastomics
    for name, module in contrastomics._LAZY.items():
        home = importlib.import_module(f"contrastomics.{module}")
        assert getattr(contrastomics, name) is getattr(home, name), name
