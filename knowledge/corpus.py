"""The documents of the retrieval index, made from the knowledge graph and the exemplars.

Each document's id is its graph node id (or an exemplar id), so a retrieval hit is always traceable to the node
it came from. `build_index` syncs all four collections, incrementally: unchanged documents are not re-embedded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from knowledge.exemplars import Exemplars
from knowledge.graph import KnowledgeGraph
from knowledge.retrieval import CONSTRUCTIONS, DESCRIPTORS, EXEMPLARS, LEXICON, Doc, RetrievalIndex, SyncReport

Progress = Callable[[str, int, int], None]


def _topics(graph: KnowledgeGraph, key: str) -> list[str]:
    """Topic and domain node ids a word links to."""
    return [n.key for n in graph.neighbors(key) if n.type in ("topic", "domain")]


def lexicon_docs(graph: KnowledgeGraph) -> Iterator[Doc]:
    """One document per word: headword, POS and WordNet gloss (what retrieval matches topics against)."""
    for node in graph.words():
        gloss = node.attrs.get("gloss") or ""
        text = f"{node.label} ({node.attrs.get('pos', '')}): {gloss}".strip().rstrip(":")
        yield Doc(
            id=node.key,
            text=text,
            metadata={
                "word": node.label,
                "pos": str(node.attrs.get("pos", "")),
                "level": str(node.level),
                "topics": _topics(graph, node.key) or ["none"],
                "source": str(node.attrs.get("source", "")),
            },
        )


def construction_docs(graph: KnowledgeGraph) -> Iterator[Doc]:
    """One document per CEFR-J grammar item with a level."""
    for node in graph.constructions():
        if node.level is None:
            continue
        text = f"{node.attrs.get('name', node.label)} ({node.attrs.get('sentence_type', '')})"
        yield Doc(id=node.key, text=text, metadata={"level": str(node.level), "code": str(node.attrs.get("code", ""))})


def descriptor_docs(graph: KnowledgeGraph) -> Iterator[Doc]:
    """One document per can-do descriptor."""
    for node in graph.descriptors():
        yield Doc(
            id=node.key,
            text=str(node.attrs.get("text", "")),
            metadata={
                "level": str(node.level),
                "topics": list(node.attrs.get("competences") or ["none"]),
                "area": str(node.attrs.get("area", "")),
            },
        )


def exemplar_docs(exemplars: Exemplars) -> Iterator[Doc]:
    """Exemplar sentences and texts, by level."""
    for level, sentences in exemplars.sentences.items():
        for i, s in enumerate(sentences):
            yield Doc(
                id=f"exemplar:sentence:{level}:{i}",
                text=s.sentence,
                metadata={"level": str(level), "kind": "sentence", "word": s.word, "pos": s.pos},
            )
    for level, texts in exemplars.texts.items():
        for i, t in enumerate(texts):
            yield Doc(
                id=f"exemplar:text:{level}:{i}",
                text=f"{t.title}. {t.text}",
                metadata={"level": str(level), "kind": "text", "topics": [t.topic]},
            )


def build_index(index: RetrievalIndex, graph: KnowledgeGraph, progress: Progress | None = None) -> list[SyncReport]:
    """Sync every collection from the graph and exemplars; a no-op when nothing changed."""
    corpora = {
        LEXICON: lambda: list(lexicon_docs(graph)),
        CONSTRUCTIONS: lambda: list(construction_docs(graph)),
        DESCRIPTORS: lambda: list(descriptor_docs(graph)),
        EXEMPLARS: lambda: list(exemplar_docs(Exemplars.load())),
    }
    reports = []
    for name, make in corpora.items():
        callback = (lambda done, total, name=name: progress(name, done, total)) if progress else None
        reports.append(index.sync(name, make(), progress=callback))
    return reports
