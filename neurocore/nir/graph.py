"""Reading a NIR graph: the file (with one-line errors for what is not one) and its nested
graphs flattened into one level of named nodes and edges.

A node of a subgraph `g` is named `g.node`. An edge into `g` goes to its Input node (or to
`g.<input>` when it names one), an edge out of `g` leaves from its Output node. After
flattening, an Input that something feeds and an Output that feeds something are plain
pass-throughs; an Input that nothing feeds is a spike source, an Output that feeds nothing
is read out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError

NodeMap = dict[str, Any]
Edge = tuple[str, str]


def known_types() -> set[str]:
    import nir
    return set(nir.ir.__all__) - {"NIRNode", "str2NIRNode", "dict2NIRNode"}


def read_graph(path: str | Path):
    """The nir.NIRGraph stored in a NIR (HDF5) file; anything else is a one-line ConfigError."""
    import h5py
    import nir

    p = Path(path)
    if not p.is_file():
        raise ConfigError("file not found", source=str(p))
    try:
        with h5py.File(p, "r") as f:
            if "node" not in f or not isinstance(f["node"], h5py.Group):
                raise ConfigError("an HDF5 file, but not a NIR graph (it has no 'node' group)", source=str(p))
            known = known_types()
            for name, kind in _stored_types(f["node"]):
                if kind not in known:
                    raise ConfigError(f"node '{name}' has type '{kind}', which NIR {nir.version} does not define "
                                      f"(NIR types: {', '.join(sorted(known))})", source=str(p))
    except OSError as exc:
        raise ConfigError(f"not a NIR file: cannot read it as HDF5 ({exc.__class__.__name__})", source=str(p)) from None
    try:
        import inspect  # nir < 1.0.5 has no type_check

        return nir.read(p, **({"type_check": False} if "type_check" in inspect.signature(nir.read).parameters else {}))
    except Exception as exc:  # noqa: BLE001 - the nir package raises assorted errors on malformed graphs
        msg = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise ConfigError(f"not a readable NIR graph: {msg}", source=str(p)) from None


def _stored_types(group, prefix: str = ""):
    """(node name, type) of every node stored under a NIR 'node' group, nested graphs included."""
    import h5py

    kind = group["type"][()] if "type" in group else None
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    yield (prefix or "<graph>"), kind
    if "nodes" in group:
        for name, sub in group["nodes"].items():
            if isinstance(sub, h5py.Group):
                yield from _stored_types(sub, f"{prefix}.{name}" if prefix else name)


def flatten(graph, source: str) -> tuple[NodeMap, list[Edge]]:
    """Every non-graph node of `graph` and its subgraphs, named by path, and the edges between them."""
    import nir

    nodes: NodeMap = {}
    edges: list[Edge] = []

    def visit(g, prefix: str) -> None:
        for name, node in g.nodes.items():
            if isinstance(node, nir.NIRGraph):
                visit(node, f"{prefix}{name}.")
            else:
                nodes[f"{prefix}{name}"] = node
        for a, b in g.edges:
            edges.append((_endpoint(g, str(a), prefix, "out", source), _endpoint(g, str(b), prefix, "in", source)))

    visit(graph, "")
    return nodes, edges


def _endpoint(g, name: str, prefix: str, side: str, source: str) -> str:
    """The flat name an edge end refers to (into a subgraph: its Input; out of one: its Output)."""
    import nir

    node = g.nodes.get(name)
    if node is None and "." in name:
        head, rest = name.split(".", 1)
        sub = g.nodes.get(head)
        if isinstance(sub, nir.NIRGraph):
            return _endpoint(sub, rest, f"{prefix}{head}.", side, source)
    if node is None:
        raise ConfigError(f"an edge names node '{prefix}{name}', which the graph does not have", source=source)
    if not isinstance(node, nir.NIRGraph):
        return prefix + name
    want = nir.Input if side == "in" else nir.Output
    ends = [k for k, v in node.nodes.items() if isinstance(v, want)]
    if len(ends) != 1:
        what = "Input" if side == "in" else "Output"
        raise ConfigError(f"an edge {'into' if side == 'in' else 'out of'} subgraph '{prefix}{name}', which has "
                          f"{len(ends)} {what} nodes: name one as '{name}.<{what.lower()}>'", source=source)
    return _endpoint(node, ends[0], f"{prefix}{name}.", side, source)
