"""The one direction of flow, checked on the sources: no import cycle among neurocore's files, and no
module importing one of a higher layer.

Every import statement counts, those inside functions too (read with `ast`, nothing is imported);
only the imports under `if TYPE_CHECKING:` are left out, since they never run. `from .pkg import name`
counts as an import of the submodule `pkg.name` when there is one, else of `pkg` (its `__init__`).

The layers, lowest first (a module may import its own layer and those below it):

    base -> config -> netlist / NIR import -> mapping -> engine -> counters / traces -> cost
         -> simulate -> training runs -> methods -> sweep -> commands / cli

Methods sit beside the engine: they drive it (and are priced by the cost model), and nothing from
the config up to the run folders imports them; the leaf registry (`neurocore.registry`) names each
method's pieces by 'module:function' strings, so the experiment loader knows the methods without
importing them. A new module must be given a layer here (the test says which is missing).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "neurocore"

#: layer name -> the modules (dotted names under neurocore; a package stands for everything in it
#: unless a longer entry names a part of it)
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("neurocore", "errors", "words", "files", "resolve", "compile_notice", "registry", "spikegen")),
    ("config", ("config", "connections", "neurons", "devices", "chip", "loihi", "data",
                "traces.schema", "traces.selection")),
    ("netlist / NIR import", ("netlist", "nir.graph", "nir.maps", "nir.writers", "nir.importer", "nir.exporter")),
    ("mapping", ("mapping", "report")),
    ("engine", ("engine", "crossbar", "nir", "nir.run")),
    ("counters / traces", ("traces", "recording")),
    ("cost", ("cost",)),
    ("simulate", ("simulate",)),
    ("training runs", ("experiment", "runfolder", "runs")),
    ("methods", ("methods", "baseline")),
    ("sweep", ("study", "sweep")),
    ("commands / cli", ("commands", "cli", "cliargs", "bench", "__main__")),
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ("neurocore",) + path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _runtime_imports(tree: ast.AST):
    """The import nodes of a module, less those under `if TYPE_CHECKING:`."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in skip]


def import_graph() -> dict[str, set[str]]:
    """module -> the neurocore modules it imports (dotted names)."""
    mods = _modules()

    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        targets = set()
        for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    pkg = ".".join(base + ([node.module] if node.module else []))
                else:
                    pkg = node.module or ""
                names = [f"{pkg}.{a.name}" if f"{pkg}.{a.name}" in mods else pkg for a in node.names]
            targets.update(t for t in map(known, names) if t and t != mod)
        graph[mod] = targets
    return graph


def layer_of(mod: str) -> int | None:
    """The layer index of a module: its longest entry in LAYERS."""
    best, rank = -1, None
    rel = mod[len("neurocore."):] if mod != "neurocore" else "neurocore"
    for i, (_, entries) in enumerate(LAYERS):
        for e in entries:
            if (rel == e or rel.startswith(e + ".")) and len(e) > best:
                best, rank = len(e), i
    return rank


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
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


def test_every_module_has_a_layer():
    missing = sorted(m for m in _modules() if layer_of(m) is None)
    assert not missing, f"give these modules a layer in tests/test_layers.py LAYERS: {missing}"


def test_no_import_cycle_among_files():
    assert _cycles(import_graph()) == []


def test_no_module_imports_one_of_a_higher_layer():
    bad = []
    for mod, targets in sorted(import_graph().items()):
        for t in sorted(targets):
            if layer_of(t) is not None and layer_of(mod) is not None and layer_of(t) > layer_of(mod):
                bad.append(f"{mod} ({LAYERS[layer_of(mod)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_imports_inside_functions_and_skips_type_checking(tmp_path):
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import b\n"
                     "def f():\n    from .c import d\n")
    seen = [n.module for n in _runtime_imports(tree) if isinstance(n, ast.ImportFrom)]
    assert seen == ["typing", "c"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_registry_names_pieces_that_exist():
    from neurocore.registry import METHODS, load

    for m in METHODS.values():
        net_spec, train_spec = m.specs()
        assert isinstance(net_spec, type) and isinstance(train_spec, type)
        proto = m.protocol()
        for fn in ("describe", "train", "infer_report", "placement", "export", "study_point"):
            assert callable(getattr(proto, fn)), (m.name, fn)
        for path in (m.trainer_at, m.requires_at):
            if path is not None:
                assert callable(load(path)), (m.name, path)
