"""The knowledge graph's on-disk form: compact JSON in the caller's cache directory, keyed by a fingerprint.

The fingerprint hashes the vendored source files (and the format version), so editing any of them rebuilds the
graph on the next load. The file is written atomically; a corrupt or foreign file is simply rebuilt. No pickle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from knowledge.errors import ResourceError
from knowledge.files import write_atomically

FORMAT_VERSION = 1
CACHE_FILE = "knowledge-graph.json"
#: The vendored files the graph is built from; a change to any of them changes the fingerprint.
SOURCE_FILES = (
    "cefrj-vocabulary-profile-1.5.csv",
    "octanove-vocabulary-profile-c1c2-1.0.csv",
    "cefrj-grammar-profile-20180315.csv",
    "grammar-detectors.yaml",
    "descriptors.yaml",
    "wordnet-lexicon.json.gz",
)


@dataclass
class GraphDocument:
    """Nodes (key -> attributes) and edges (from, to, type, source) as plain data."""

    nodes: dict[str, dict[str, Any]]
    edges: list[tuple[str, str, str, str]]


def fingerprint(extra: str = "") -> str:
    """SHA-256 over the format version, the graph code's version string and every vendored source file."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}:{extra}".encode())
    for name in SOURCE_FILES:
        try:
            digest.update(name.encode() + b"\0" + (files("knowledge") / "data" / name).read_bytes())
        except OSError as exc:
            raise ResourceError(f"Vendored file knowledge/data/{name} is missing; reinstall the package.") from exc
    return digest.hexdigest()


def encode(document: GraphDocument, stamp: str) -> bytes:
    """The JSON bytes of a document: nodes by key, type and source tables, edges as four parallel int arrays."""
    index = {key: i for i, key in enumerate(document.nodes)}
    types: dict[str, int] = {}
    sources: dict[str, int] = {}
    columns: dict[str, list[int]] = {"u": [], "v": [], "t": [], "s": []}
    for u, v, kind, src in document.edges:
        if u in index and v in index:
            columns["u"].append(index[u])
            columns["v"].append(index[v])
            columns["t"].append(types.setdefault(kind, len(types)))
            columns["s"].append(sources.setdefault(src, len(sources)))
    payload = {
        "format": FORMAT_VERSION, "fingerprint": stamp, "nodes": document.nodes, "types": list(types),
        "sources": list(sources), "edges": columns,
    }  # fmt: skip
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(raw: bytes, stamp: str) -> GraphDocument | None:
    """The document in `raw`, or None if it is unreadable, of another format or built from other sources."""
    try:
        payload = json.loads(raw)
        if payload.get("format") != FORMAT_VERSION or payload.get("fingerprint") != stamp:
            return None
        nodes: dict[str, dict[str, Any]] = payload["nodes"]
        keys, types, sources, cols = list(nodes), payload["types"], payload["sources"], payload["edges"]
        columns = zip(cols["u"], cols["v"], cols["t"], cols["s"], strict=True)
        edges = [(keys[u], keys[v], types[t], sources[s]) for u, v, t, s in columns]
        return GraphDocument(nodes=nodes, edges=edges)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def load_or_build(cache_dir: Path, build: Callable[[], GraphDocument], version: str = "") -> tuple[GraphDocument, str]:
    """The cached document if it matches the sources, else a fresh build written to the cache."""
    stamp = fingerprint(version)
    path = cache_dir / CACHE_FILE
    if path.is_file():
        document = decode(path.read_bytes(), stamp)
        if document is not None:
            return document, stamp
    document = build()
    _write_atomically(path, encode(document, stamp))
    return document, stamp


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename over it (readers never see half a file)."""
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise ResourceError(f"Cannot write the knowledge-graph cache in {path.parent}: {exc.strerror}.") from exc
