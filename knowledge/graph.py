"""The pedagogical knowledge graph: levels, words, grammar constructions, can-do descriptors, competences, topics.

Built from the vendored resources (CEFR-J Wordlist 1.5 + Octanove C1/C2, WordNet 3.0, CEFR-J Grammar Profile,
our can-do descriptors) into a networkx MultiDiGraph whose edge keys are the edge types. Every node and edge
carries `source`, the resource (and row) it comes from, so every judgement made with the graph can be traced.

The graph is built once and kept as compact JSON in the cache directory the caller passes in (see
`knowledge.store`); it is rebuilt automatically when a vendored source file changes (fingerprint).

Node keys: `level:B1`, `word:colour|noun`, `grammar:62-1`, `descriptor:B1-04`, `competence:pragmatic`,
`topic:noun.food` (WordNet lexicographer file), `domain:cooking` (WordNet topic domain).
Edge types: next_level, at_level, in_topic, synonym, related (WordNet hypernym), requires, variant_of,
has_competence.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.descriptors import COMPETENCES
from knowledge.errors import UserInputError
from knowledge.levels import Level, parse_level
from knowledge.lexicon import normalize_pos
from knowledge.store import GraphDocument, load_or_build
from knowledge.wordnet import SOURCE as WORDNET_SOURCE
from knowledge.wordnet import WordNet

if TYPE_CHECKING:
    import networkx as nx

    from knowledge.descriptors import Descriptors
    from knowledge.grammar import GrammarProfile
    from knowledge.lexicon import LexEntry, Lexicon

DESCRIPTOR_SOURCE = "Pedagogical Forge can-do descriptors (paraphrasing the CEFR illustrative scales)"
GRAMMAR_SOURCE = "CEFR-J Grammar Profile 20180315"

NODE_TYPES = ("level", "word", "construction", "descriptor", "competence", "topic", "domain")
EDGE_TYPES = (
    "next_level", "at_level", "in_topic", "synonym", "related", "requires", "variant_of", "has_competence",
)  # fmt: skip
CEFR_SOURCE = "Common European Framework of Reference for Languages (Council of Europe)"
#: Everyday topic words mapped to WordNet words whose hyponyms make up the topic (editorial, see docs).
TOPIC_ANCHORS: dict[str, tuple[str, ...]] = {
    "job": ("worker", "professional", "occupation", "skilled worker"),
    "work": ("worker", "professional", "occupation", "workplace"),
    "travel": ("travel", "journey", "vehicle", "lodging", "traveler"),
    "sport": ("sport", "athlete", "contestant"),
    "family": ("relative", "family", "kin"),
    "clothes": ("clothing", "garment", "footwear"),
    "health": ("illness", "disease", "medicine", "health professional"),
    "school": ("educator", "student", "school", "educational institution"),
    "weather": ("weather", "atmospheric phenomenon", "precipitation"),
    "home": ("room", "furniture", "housing", "home appliance"),
    "music": ("musical instrument", "musician", "music"),
    "animal": ("animal",),
    "food": ("food", "foodstuff", "dish", "beverage"),
}
_MAX_TOPIC_WORDS = 300
#: Bump when the way the graph is built changes, so caches built by older code are rebuilt.
GRAPH_VERSION = "3"


@dataclass(frozen=True)
class Node:
    """A node of the graph: its key, type, label, level (if it has one) and all attributes."""

    key: str
    type: str
    label: str
    level: Level | None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The resource the node comes from."""
        return str(self.attrs.get("source", ""))


@dataclass(frozen=True)
class TopicHit:
    """A graph node that matches a free-text topic, and why."""

    key: str
    kind: str
    reason: str


def word_key(form: str, pos: str) -> str:
    """The node key of a word: lower-cased spelling and list POS."""
    return f"word:{form.strip().lower()}|{pos}"


# --- building -------------------------------------------------------------------------------------------------


class _Builder:
    """Collects nodes and edges as plain data (the on-disk form), then hands them to networkx."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: list[tuple[str, str, str, str]] = []
        self._seen: set[tuple[str, str, str]] = set()

    def node(self, key: str, **attrs: Any) -> None:
        """Add (or extend) a node."""
        self.nodes.setdefault(key, {}).update(attrs)

    def edge(self, u: str, v: str, kind: str, source: str) -> None:
        """Add an edge between existing nodes (once per pair and type: the first source found is kept)."""
        if (u, v, kind) not in self._seen:
            self._seen.add((u, v, kind))
            self.edges.append((u, v, kind, source))


def build_document(
    lexicon: Lexicon, wordnet: WordNet, grammar: GrammarProfile, descriptors: Descriptors
) -> GraphDocument:
    """The graph as plain nodes and edges, from the loaded resources."""
    b = _Builder()
    _add_levels(b)
    words = _add_words(b, lexicon, wordnet)
    _add_word_links(b, words, wordnet)
    _add_grammar(b, grammar)
    _add_descriptors(b, descriptors)
    return GraphDocument(nodes=b.nodes, edges=b.edges)


def _add_levels(b: _Builder) -> None:
    """Level nodes Pre-A1..C2 with next_level edges."""
    levels = list(Level)
    for level in levels:
        b.node(f"level:{level}", type="level", label=str(level), level=str(level), rank=level.rank, source=CEFR_SOURCE)
    for lower, higher in itertools.pairwise(levels):
        b.edge(f"level:{lower}", f"level:{higher}", "next_level", CEFR_SOURCE)


def _add_words(b: _Builder, lexicon: Lexicon, wordnet: WordNet) -> dict[str, list[LexEntry]]:
    """One node per spelling+POS (the lowest level among its rows wins; every row is cited)."""
    grouped: dict[str, list[LexEntry]] = defaultdict(list)
    for entry in lexicon.entries():
        grouped[word_key(entry.headword, entry.pos)].append(entry)
    for key, entries in grouped.items():
        best = min(entries, key=lambda e: (e.level.rank, e.row))
        senses = wordnet.senses(best.headword, best.pos)
        b.node(
            key, type="word", label=best.headword, level=str(best.level), pos=best.pos,
            variants=list(best.variants), source="; ".join(dict.fromkeys(f"{e.source}, line {e.row}" for e in entries)),
            gloss=senses[0].gloss if senses else None, notes=[e.note for e in entries if e.note],
        )  # fmt: skip
        b.edge(key, f"level:{best.level}", "at_level", best.source)
    return grouped


def _add_word_links(b: _Builder, words: dict[str, list[LexEntry]], wordnet: WordNet) -> None:
    """Topic, synonym and hypernym edges from the main WordNet senses of each word."""
    by_form: dict[str, list[str]] = defaultdict(list)
    for key in words:
        by_form[key[5:].rsplit("|", 1)[0]].append(key)
    for key, entries in words.items():
        form, pos = entries[0].headword, entries[0].pos
        for sense in wordnet.main_senses(form, pos):
            source = f"{WORDNET_SOURCE} {sense.lexname}"
            _topic_edges(b, key, sense.lexname, sense.domains, source)
            for name in sense.words:
                _word_edges(b, key, name, pos, by_form, "synonym", source)
            for name in sense.hypernyms:
                _word_edges(b, key, name, pos, by_form, "related", source)


def _topic_edges(b: _Builder, key: str, lexname: str, domains: Iterable[str], source: str) -> None:
    """Edges from a word to its lexicographer file and topic domains (nodes made on first use)."""
    b.node(f"topic:{lexname}", type="topic", label=lexname, source=WORDNET_SOURCE + " lexicographer file")
    b.edge(key, f"topic:{lexname}", "in_topic", source)
    for domain in domains:
        b.node(f"domain:{domain.lower()}", type="domain", label=domain, source=WORDNET_SOURCE + " topic domain")
        b.edge(key, f"domain:{domain.lower()}", "in_topic", source)


def _word_edges(
    b: _Builder, key: str, name: str, pos: str, by_form: dict[str, list[str]], kind: str, source: str
) -> None:
    """Edges to listed words spelt `name` with the same POS (not to the word itself)."""
    for other in by_form.get(name.lower(), []):
        if other != key and other.endswith(f"|{pos}"):
            b.edge(key, other, kind, source)


def _add_grammar(b: _Builder, grammar: GrammarProfile) -> None:
    """Construction nodes with level, variant and prerequisite edges."""
    detected = grammar.detected_items()
    for item in grammar.items():
        key = f"grammar:{item.id}"
        b.node(
            key, type="construction", label=f"{item.id} {item.name}", level=str(item.level) if item.level else None,
            item_id=item.id, code=item.code, name=item.name, sentence_type=item.sentence_type,
            level_source=item.level_source, raw_levels=item.raw_levels, detector=item.id in detected,
            source=item.citation,
        )  # fmt: skip
        if item.level is not None:
            b.edge(key, f"level:{item.level}", "at_level", f"{GRAMMAR_SOURCE}, level from {item.level_source}")
    for item in grammar.items():
        if item.parent:
            b.edge(f"grammar:{item.id}", f"grammar:{item.parent}", "variant_of", GRAMMAR_SOURCE + " item ids")
        for other in grammar.prerequisites(item.id):
            if other != item.parent:
                b.edge(f"grammar:{item.id}", f"grammar:{other}", "requires", "Pedagogical Forge prerequisite rule")


def _add_descriptors(b: _Builder, descriptors: Descriptors) -> None:
    """Descriptor and competence nodes with level and competence edges."""
    for name in COMPETENCES:
        b.node(f"competence:{name}", type="competence", label=name, source=CEFR_SOURCE + " (competence model)")
    for d in descriptors.all():
        key = f"descriptor:{d.id}"
        b.node(
            key, type="descriptor", label=d.id, level=str(d.level), text=d.text, area=d.area,
            competences=list(d.competences), source=DESCRIPTOR_SOURCE,
        )  # fmt: skip
        b.edge(key, f"level:{d.level}", "at_level", DESCRIPTOR_SOURCE)
        for name in d.competences:
            b.edge(key, f"competence:{name}", "has_competence", DESCRIPTOR_SOURCE)


def build_from_resources() -> GraphDocument:
    """Build the graph document from the vendored resources (a few seconds)."""
    from knowledge.descriptors import Descriptors
    from knowledge.grammar import GrammarProfile
    from knowledge.lexicon import Lexicon

    lexicon = Lexicon.load()
    return build_document(lexicon, lexicon.wordnet, GrammarProfile.load(), Descriptors.load())


# --- the loaded graph -----------------------------------------------------------------------------------------


class KnowledgeGraph:
    """The loaded graph and the queries the rest of the system uses.

    Queries run on compact adjacency indexes made straight from the cache file; `graph` materialises the same
    data as a networkx MultiDiGraph (edge key = edge type) on first use, for callers that want its algorithms.
    """

    def __init__(self, document: GraphDocument, fingerprint: str = "") -> None:
        self.fingerprint = fingerprint
        self._nodes = document.nodes
        self._out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        self._in: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for u, v, kind, source in document.edges:
            self._out[u].append((v, kind, source))
            self._in[v].append((u, kind, source))
        self._edge_count = len(document.edges)
        self._graph: nx.MultiDiGraph | None = None
        self._labels: dict[str, list[str]] | None = None

    @classmethod
    def load(cls, cache_dir: Path) -> KnowledgeGraph:
        """The graph from its cache in `cache_dir`, built (and cached) first if missing or out of date."""
        document, fingerprint = load_or_build(Path(cache_dir), build_from_resources, GRAPH_VERSION)
        return cls(document, fingerprint)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The graph as a networkx MultiDiGraph (built on first use, about a second)."""
        if self._graph is None:
            import networkx as nx

            graph = nx.MultiDiGraph()
            graph.add_nodes_from(self._nodes.items())
            graph.add_edges_from(
                (u, v, kind, {"source": source}) for u, out in self._out.items() for v, kind, source in out
            )
            self._graph = graph
        return self._graph

    def __contains__(self, key: object) -> bool:
        return key in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    # generic access

    def node(self, key: str) -> Node:
        """A node by key; UserInputError naming the accepted forms if there is none."""
        attrs = self._nodes.get(key)
        if attrs is None:
            raise UserInputError(
                f"No node {str(key)[:60]!r} in the knowledge graph; keys look like 'word:house|noun', 'grammar:62', "
                "'level:B1', 'descriptor:B1-04', 'topic:noun.food'."
            )
        level = attrs.get("level")
        return Node(key, attrs.get("type", ""), str(attrs.get("label", key)), Level(level) if level else None, attrs)

    def neighbors(self, key: str, edge_type: str | None = None, incoming: bool = False) -> list[Node]:
        """Nodes linked from `key` (or to it, with incoming=True), optionally by one edge type."""
        self.node(key)
        if edge_type is not None and edge_type not in EDGE_TYPES:
            raise UserInputError(f"Unknown edge type {edge_type[:30]!r}; accepted are {', '.join(EDGE_TYPES)}.")
        links = self._in.get(key, []) if incoming else self._out.get(key, [])
        found = (other for other, kind, _ in links if edge_type is None or kind == edge_type)
        return [self.node(k) for k in dict.fromkeys(found)]

    def edges(self, key: str) -> list[tuple[str, str, str, str]]:
        """All edges touching a node as (from, to, type, source)."""
        self.node(key)
        out = [(key, v, kind, src) for v, kind, src in self._out.get(key, [])]
        return out + [(u, key, kind, src) for u, kind, src in self._in.get(key, [])]

    def resolve(self, query: str) -> list[str]:
        """Node keys a user's query names: a key, a word (any POS, or its lemma), a grammar id/code, a label."""
        text = " ".join(str(query).split())
        if not text:
            raise UserInputError("The query is empty; give a word, a grammar item id such as '62', or a node key.")
        if text in self._nodes:
            return [text]
        labels = self._label_index()
        found = list(labels.get(text.lower(), []))
        if not found:
            found = [k for lemma in _lemmas(text) for k in labels.get(lemma, []) if k.startswith("word:")]
        return list(dict.fromkeys(found))

    def _label_index(self) -> dict[str, list[str]]:
        """Lower-cased labels, spellings, grammar ids and codes -> node keys."""
        if self._labels is None:
            index: dict[str, list[str]] = defaultdict(list)
            for key, attrs in self._nodes.items():
                names = {str(attrs.get("label", "")).lower(), key.split(":", 1)[-1].lower()}
                if attrs.get("type") == "word":
                    names = {str(attrs["label"]).lower()}
                elif attrs.get("type") == "construction":
                    names = {str(attrs["item_id"]).lower(), str(attrs["code"]).lower()}
                for name in names:
                    index[name].append(key)
            self._labels = dict(index)
        return self._labels

    # statistics

    def stats(self) -> dict[str, Any]:
        """Counts by node type, edge type and level, plus the coverage figures the project reports."""
        types = Counter(a.get("type") for a in self._nodes.values())
        edges = Counter(kind for out in self._out.values() for _, kind, _ in out)
        by_level: dict[str, Counter[str]] = {str(level): Counter() for level in Level}
        for attrs in self._nodes.values():
            if attrs.get("level") and attrs.get("type") != "level":
                by_level[attrs["level"]][attrs["type"]] += 1
        words = [a for a in self._nodes.values() if a.get("type") == "word"]
        glossed = sum(1 for a in words if a.get("gloss"))
        constructions = [a for a in self._nodes.values() if a.get("type") == "construction"]
        return {
            "nodes": {t: types.get(t, 0) for t in NODE_TYPES},
            "edges": {t: edges.get(t, 0) for t in EDGE_TYPES},
            "by_level": {level: dict(counts) for level, counts in by_level.items()},
            "vocabulary": {
                "entries_with_level": sum(1 for a in words if a.get("level")),
                "with_wordnet_gloss": glossed,
                "gloss_coverage": round(glossed / len(words), 4) if words else 0.0,
            },
            "grammar": {
                "items": len(constructions),
                "with_level": sum(1 for a in constructions if a.get("level")),
                "with_detector": sum(1 for a in constructions if a.get("detector")),
            },
            "descriptors": types.get("descriptor", 0),
            "fingerprint": self.fingerprint,
        }

    # convenience queries

    def words(
        self,
        level: str | Level | None = None,
        max_level: str | Level | None = None,
        topic: str | None = None,
        pos: str | None = None,
    ) -> list[Node]:
        """Word nodes at exactly `level` or at most `max_level`, in a topic (free text or node key), of a POS."""
        exact = parse_level(level) if level is not None else None
        ceiling = parse_level(max_level) if max_level is not None else None
        wanted = normalize_pos(pos)
        keys = self._topic_words(topic) if topic is not None else self._nodes_of_type("word")
        chosen = [self.node(k) for k in keys]
        return [
            n
            for n in chosen
            if (exact is None or n.level == exact)
            and (ceiling is None or (_at_most(n.level, ceiling)))
            and (wanted is None or n.attrs.get("pos") == wanted)
        ]

    def synonyms(self, word: str, max_level: str | Level | None = None, pos: str | None = None) -> list[Node]:
        """Listed synonyms of a word (WordNet), at or below `max_level` when given: 'use a simpler word'."""
        ceiling = parse_level(max_level) if max_level is not None else None
        wanted = normalize_pos(pos)
        keys = [k for k in self.resolve(word) if k.startswith("word:") and (wanted is None or k.endswith(f"|{wanted}"))]
        found = [n for k in keys for n in self.neighbors(k, "synonym")]
        found = [n for n in found if ceiling is None or (_at_most(n.level, ceiling))]
        return sorted(dict((n.key, n) for n in found).values(), key=lambda n: (n.level.rank if n.level else 9, n.key))

    def constructions(self, level: str | Level | None = None, max_level: str | Level | None = None) -> list[Node]:
        """Grammar constructions at exactly `level` or at most `max_level`."""
        return self._by_level("construction", level, max_level)

    def descriptors(self, level: str | Level | None = None, competence: str | None = None) -> list[Node]:
        """Can-do descriptors of a level, optionally of one competence."""
        found = self._by_level("descriptor", level, None)
        if competence is None:
            return found
        name = competence.strip().lower()
        if name not in COMPETENCES:
            raise UserInputError(f"Unknown competence {competence[:30]!r}; accepted are {', '.join(COMPETENCES)}.")
        return [n for n in found if name in n.attrs.get("competences", [])]

    def _by_level(self, node_type: str, level: str | Level | None, max_level: str | Level | None) -> list[Node]:
        """Nodes of a type filtered by exact or highest level."""
        exact = parse_level(level) if level is not None else None
        ceiling = parse_level(max_level) if max_level is not None else None
        nodes = [self.node(k) for k in self._nodes_of_type(node_type)]
        return [
            n
            for n in nodes
            if (exact is None or n.level == exact) and (ceiling is None or (_at_most(n.level, ceiling)))
        ]

    def _nodes_of_type(self, node_type: str) -> list[str]:
        """Keys of every node of a type, in insertion order."""
        return [k for k, a in self._nodes.items() if a.get("type") == node_type]

    # topics

    def topics_for(self, text: str, wordnet: WordNet | None = None) -> list[TopicHit]:
        """Graph nodes for a free-text topic such as 'food' or 'jobs': topic files, domains, then member words."""
        terms = _topic_terms(text)
        hits: dict[str, TopicHit] = {}
        for term in terms:
            for key in (f"topic:noun.{term}", f"topic:verb.{term}", f"domain:{term}"):
                if key in self._nodes:
                    kind = "topic" if key.startswith("topic:") else "domain"
                    hits.setdefault(key, TopicHit(key, kind, f"its name matches {term!r}"))
        for key, hit in self._member_words(terms, wordnet or WordNet.load()).items():
            hits.setdefault(key, hit)
        return list(hits.values())

    def _member_words(self, terms: list[str], wordnet: WordNet) -> dict[str, TopicHit]:
        """Words under a term in WordNet's hierarchy first, then words whose gloss mentions it."""
        anchors = {a for t in terms for a in (t, *TOPIC_ANCHORS.get(t, ()))}
        gloss_re = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")s?\b")
        under: dict[str, TopicHit] = {}
        mentions: dict[str, TopicHit] = {}
        for key, attrs in self._nodes.items():
            if attrs.get("type") != "word":
                continue
            kinds = (
                anchors.intersection(wordnet.ancestors(str(attrs["label"]), "noun")) if attrs["pos"] == "noun" else ()
            )
            if kinds:
                under[key] = TopicHit(key, "word", f"a kind of {sorted(kinds)[0]!r} in WordNet")
            elif gloss_re.search(str(attrs.get("gloss") or "").lower()):
                mentions[key] = TopicHit(key, "word", "its WordNet gloss mentions the topic")
        return dict(list({**under, **mentions}.items())[:_MAX_TOPIC_WORDS])

    def _topic_words(self, topic: str) -> list[str]:
        """Word keys in a topic: members of matching topic/domain nodes and words matched directly."""
        hits = [topic] if topic in self._nodes else [h.key for h in self.topics_for(topic)]
        keys: list[str] = []
        for key in hits:
            if key.startswith("word:"):
                keys.append(key)
            else:
                keys += [u for u, kind, _ in self._in.get(key, []) if kind == "in_topic"]
        return list(dict.fromkeys(keys))


def _at_most(level: Level | None, ceiling: Level) -> bool:
    """Whether a level is known and at or below the ceiling (by rank: Level's str ordering is not CEFR order)."""
    return level is not None and level.rank <= ceiling.rank


#: Function words of topics ("a visit to the dentist"): a gloss containing "a" or "to" says nothing about a topic,
#: and matching them made every word a topic word (the alphabetically first ones won).
_TOPIC_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "from",
        "with",
        "by",
        "about",
        "into",
        "over",
        "under",
        "after",
        "before",
        "during",
        "and",
        "or",
        "but",
        "my",
        "your",
        "his",
        "her",
        "its",
        "our",
        "their",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "me",
        "him",
        "us",
        "them",
    ]
)


def _topic_terms(text: str) -> list[str]:
    """Lower-case content words of a topic and their noun lemmas ('jobs' -> 'jobs', 'job')."""
    words = re.findall(r"[a-z][a-z-]*", str(text).lower())
    if not words:
        raise UserInputError(f"The topic {str(text)[:40]!r} has no words; give an English topic such as 'food'.")
    words = [w for w in words if w not in _TOPIC_STOPWORDS] or words
    terms: list[str] = []
    for word in words:
        terms += [word, *_lemmas(word)]
    return list(dict.fromkeys(terms))


def _lemmas(word: str) -> list[str]:
    """Lemmas of a word under any POS (lemminflect)."""
    from lemminflect import getAllLemmas

    return [lemma.lower() for found in getAllLemmas(word).values() for lemma in found]
