"""The chromadb retrieval index: level- and topic-filtered semantic search over the pedagogical knowledge.

Four collections hold generic documents (`Doc`): lexicon entries, grammar constructions, can-do descriptors and
exemplar texts. Whoever owns the content calls `RetrievalIndex.sync()` with the full current set of documents;
sync embeds only what is new or changed (a content hash per document) and deletes what disappeared, and a
fingerprint of the whole corpus makes an unchanged corpus a no-op. `query()` embeds the query text with the same
offline MiniLM model and filters by CEFR level (`level_rank <= target`) and topic (`topics` array contains).

The index lives either in an embedded database directory (`chromadb.PersistentClient`) or on a Chroma server
(`chromadb.HttpClient`); the application passes which. Telemetry is always off and nothing is downloaded.
chromadb's HTTP client never times out on its own: every server call here is bounded (CONNECT_TIMEOUT_S,
READ_TIMEOUT_S) and a server that refuses, hangs or drops a call raises `ServerUnreachable`, one sentence naming it.
`FallbackIndex` is the server index the application uses: while the server is unreachable it serves reads from the
machine's embedded index (when one was built) and reports each such read, and it goes back to the server when the
server answers again.

Filtered queries on small collections rank in memory: the first one in a process loads that collection's vectors,
documents and metadata once (under a lock, so parallel sessions share one load). Reading them back from chromadb
takes about a second for the lexicon, so an embedded index also keeps a snapshot of that in-memory copy beside its
directory (`<dir>-memory/<collection>-<fingerprint>.npz`), named by the corpus fingerprint and therefore never
stale; it is read in tens of milliseconds and is rewritten whenever the fingerprint changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TypeAlias, cast
from urllib.parse import urlsplit

import chromadb
import httpx
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings
from numpy.typing import NDArray

from knowledge.embeddings import MODEL_ID, ForgeEmbeddingFunction, Vectors, embed
from knowledge.errors import ResourceError, UserInputError
from knowledge.levels import Level, parse_level

_log = logging.getLogger(__name__)

LEXICON: Final = "lexicon"
CONSTRUCTIONS: Final = "constructions"
DESCRIPTORS: Final = "descriptors"
EXEMPLARS: Final = "exemplars"
#: The collections of the index, in build order.
COLLECTIONS: Final = (LEXICON, CONSTRUCTIONS, DESCRIPTORS, EXEMPLARS)

#: Bump when the stored layout changes, so every collection re-syncs.
SCHEMA_VERSION: Final = 1
#: Metadata keys the index manages itself; documents may not set them.
HASH_KEY: Final = "content_hash"
LEVEL_KEY: Final = "level"
LEVEL_RANK_KEY: Final = "level_rank"
TOPICS_KEY: Final = "topics"
_RESERVED = frozenset({HASH_KEY, LEVEL_RANK_KEY})
_FINGERPRINT_KEY = "forge_fingerprint"
_BATCH = 256
#: Over-fetch factor for unfiltered neighbours when the filter lets many documents through ...
_OVERFETCH = 3.0
#: ... up to this many neighbours (ids and distances only: about 7 ms for 1,000 on 2 cores).
_MAX_OVERFETCH = 1000
#: Tighter filters search within the allowed ids, up to this many; beyond that chromadb filters itself.
_MAX_ID_FILTER = 5000
#: Collections up to this size keep their vectors and documents in memory beside the filter fields, and filtered
#: queries rank exactly with numpy instead of going back to chromadb.
_MAX_IN_MEMORY = 50_000

#: chromadb's HttpClient waits forever (httpx timeout=None): bound connecting and each read so a server that is
#: gone costs at most this long, then the call fails (and a `FallbackIndex` serves it from its embedded copy).
CONNECT_TIMEOUT_S: Final = 2.0
#: The longest single read: loading the 10,000-entry lexicon's vectors from a server took 2.8 s on 2 cores (the
#: largest read there is); a hung server costs a tutoring turn (20 s deadline) this much once, then reads degrade.
READ_TIMEOUT_S: Final = 8.0
#: How long a heartbeat (the reachability check when opening, and when retrying a server that was down) may take.
PROBE_TIMEOUT_S: Final = 1.0
#: While degraded, how often a read first checks whether the server is back.
RETRY_S: Final = 5.0

Scalar: TypeAlias = str | int | float | bool
MetadataValue: TypeAlias = Scalar | list[str]
Metadata: TypeAlias = dict[str, MetadataValue]
#: Called as progress(done, total) while sync() embeds documents.
Progress: TypeAlias = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Doc:
    """A document to index: a stable id, the text to embed and filterable metadata.

    Metadata values are str, int, float, bool or a list of str (`topics`). A `level` value ("A2", "B1.1", ...) is
    parsed and stored with a derived integer `level_rank` so queries can filter "at or below a level".
    """

    id: str
    text: str
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit:
    """One query result: the document, its metadata and its cosine similarity to the query (higher is closer)."""

    id: str
    text: str
    metadata: Metadata
    score: float


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync changed; `skipped` means the corpus fingerprint matched and nothing was read or written."""

    collection: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: bool = False


class ServerUnreachable(ResourceError):
    """The Chroma server did not answer: connection refused, timed out or dropped."""

    def __init__(self, url: str, cause: BaseException) -> None:
        """Say which server and why, in one sentence with what to do."""
        self.url, self.cause = url, cause
        super().__init__(
            f"The Chroma server at {url} is unreachable ({type(cause).__name__}: {cause or 'no answer'}); start it "
            f"(chroma run --path DIR --port PORT) or point chroma_url (FORGE_CHROMA_URL) at a running server."
        )


class RetrievalIndex:
    """Semantic search over the four knowledge collections, in an embedded directory or on a Chroma server."""

    def __init__(self, *, path: str | Path | None = None, url: str | None = None) -> None:
        """Open the index at a database directory (`path`) or on a Chroma server (`url`, e.g. http://host:8000)."""
        if (path is None) == (url is None):
            raise UserInputError("Give the retrieval index either a database directory or a Chroma server URL.")
        self._where = str(path) if path is not None else str(url)
        self._client_now: ClientAPI | None = None
        self._open = lambda: _open_client(path, url)
        self._collections: dict[str, Collection] = {}
        self._filters: dict[str, _FilterCache] = {}
        #: Serialises loading the in-memory copies (threads of one process share one load per collection).
        self._load_lock = threading.Lock()
        #: Where snapshots of the in-memory copies live (embedded index only).
        self._snapshots = Path(f"{Path(path).expanduser()}-memory") if path is not None else None
        self._connect()

    @property
    def location(self) -> str:
        """The directory or server URL this index lives in."""
        return self._where

    @property
    def _client(self) -> ClientAPI:
        """The chromadb client, opened now if it could not be opened before (a server that was down)."""
        return self._connect()

    def _connect(self) -> ClientAPI:
        if self._client_now is None:
            self._client_now = self._open()
        return self._client_now

    def sync(self, collection: str, docs: Iterable[Doc], *, progress: Progress | None = None) -> SyncReport:
        """Make a collection hold exactly `docs`: embed new or changed ones, delete vanished ones, skip the rest."""
        prepared = _prepare(docs)
        fingerprint = _fingerprint(prepared)
        target = self._collection(collection)
        if self._stored_fingerprint(target) == fingerprint:
            _report_progress(progress, len(prepared), len(prepared))
            return SyncReport(collection, unchanged=len(prepared), skipped=True)
        stored = self._stored_hashes(target)
        changed = [d for d in prepared.values() if stored.get(d.id) != d.metadata[HASH_KEY]]
        vanished = [i for i in stored if i not in prepared]
        self._upsert(target, changed, progress)
        self._guarded(lambda: [target.delete(ids=vanished[i : i + _BATCH]) for i in range(0, len(vanished), _BATCH)])
        # The fingerprint is written last, so an interrupted sync is completed by the next one.
        self._guarded(lambda: target.modify(metadata={_FINGERPRINT_KEY: fingerprint}))
        docs_now = list(prepared.values())
        self._filters[collection] = _FilterCache.build(
            fingerprint, [d.id for d in docs_now], [d.metadata for d in docs_now]
        )
        added = sum(d.id not in stored for d in changed)
        return SyncReport(collection, added, len(changed) - added, len(vanished), len(prepared) - len(changed))

    def query(
        self,
        collection: str,
        text: str,
        *,
        n: int = 10,
        max_level: Level | str | None = None,
        topic: str | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """The n documents closest in meaning to `text`, at or below `max_level`, tagged `topic`, matching `where`."""
        if not text.strip():
            raise UserInputError("The search text is empty; give a word, phrase or sentence to search for.")
        if n < 1:
            raise UserInputError(f"Number of results must be at least 1, got {n}.")
        clause = build_where(max_level=max_level, topic=topic, where=where)
        target = self._collection(collection)
        vector = embed([text])
        if clause is not None and where is None:
            rank = parse_level(max_level).rank if max_level is not None else None
            fast = self._prefiltered_query(target, vector, n, rank, topic.strip() if topic else None)
            if fast is not None:
                return fast
        return self._native_query(target, vector, n, clause)

    def _native_query(self, target: Collection, vector: Vectors, n: int, clause: dict[str, Any] | None) -> list[Hit]:
        """Nearest neighbours with chromadb doing the filtering (its cost grows with the number of allowed ids)."""
        result = self._guarded(
            lambda: target.query(
                query_embeddings=vector, n_results=n, where=clause, include=["documents", "metadatas", "distances"]
            )
        )
        return _hits(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0])

    def _prefiltered_query(
        self, target: Collection, vector: Vectors, n: int, rank: int | None, topic: str | None
    ) -> list[Hit] | None:
        """Level/topic query planned on a cached copy of those two fields; None when chromadb should filter.

        chromadb's own filtered search costs a few µs for every document that passes each condition, so on a
        12,000-entry lexicon a loose level ceiling alone takes tens of milliseconds. A collection small enough to
        be held in memory is ranked exactly here with numpy. For larger ones, knowing from the cache how many
        documents pass, a loose filter is served by over-fetching unfiltered neighbours (ids and distances only,
        which is cheap) and filtering them here, and a tight one by searching within the allowed ids.
        """
        cache = self._filter_cache(target)
        if cache is None:
            return None
        mask = cache.mask(rank, topic)
        allowed = int(mask.sum())
        if allowed == 0:
            return []
        if cache.vectors is not None:
            return cache.nearest(vector, mask, n)
        fetch = min(len(cache.ids), n + math.ceil(n * len(cache.ids) / allowed * _OVERFETCH))
        if fetch <= _MAX_OVERFETCH:
            hits = self._overfetched(target, vector, n, fetch, lambda i: cache.allows(mask, i))
            if hits is not None:
                return hits
        if allowed <= _MAX_ID_FILTER:
            return self._search_within(target, vector, n, cache.ids_where(mask))
        return None

    def _overfetched(
        self, target: Collection, vector: Vectors, n: int, fetch: int, passes: Callable[[str], bool]
    ) -> list[Hit] | None:
        """The n best of `fetch` unfiltered neighbours that pass the filter; None if too few of them pass."""
        result = self._guarded(lambda: target.query(query_embeddings=vector, n_results=fetch, include=["distances"]))
        keep = [(i, d) for i, d in zip(result["ids"][0], result["distances"][0], strict=True) if passes(i)]
        if len(keep) < n and fetch < self._count_cached(target):
            return None
        return self._fetch_hits(target, keep[:n])

    def _search_within(self, target: Collection, vector: Vectors, n: int, ids: list[str]) -> list[Hit]:
        """Nearest neighbours among the given ids only."""
        result = self._guarded(
            lambda: target.query(
                query_embeddings=vector, ids=ids, n_results=min(n, len(ids)),
                include=["documents", "metadatas", "distances"],
            )
        )  # fmt: skip
        return _hits(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0])

    def _count_cached(self, target: Collection) -> int:
        cache = self._filters.get(target.name)
        return len(cache.ids) if cache is not None else 0

    def _fetch_hits(self, target: Collection, ranked: Sequence[tuple[str, float]]) -> list[Hit]:
        """Documents and metadata for ranked (id, distance) pairs, in rank order."""
        ids = [i for i, _ in ranked]
        got = self._guarded(lambda: target.get(ids=ids, include=["documents", "metadatas"]))
        by_id = dict(zip(got["ids"], zip(got["documents"], got["metadatas"], strict=True), strict=True))
        rows = [(i, *by_id[i], d) for i, d in ranked if i in by_id]
        return _hits(*(list(column) for column in zip(*rows, strict=True))) if rows else []

    def _filter_cache(self, target: Collection) -> _FilterCache | None:
        """The cached level/topic fields of a synced collection, loaded once and again only after another sync."""
        fingerprint = self._stored_fingerprint(target)
        if fingerprint is None:
            return None
        cached = self._filters.get(target.name)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        with self._load_lock:  # a thread that waited here finds the copy another thread just loaded
            cached = self._filters.get(target.name)
            if cached is None or cached.fingerprint != fingerprint:
                cached = self._load_filter_cache(target, fingerprint)
                self._filters[target.name] = cached
        return cached

    def load_in_memory(self, collection: str) -> None:
        """Load a synced collection's in-memory copy now (and snapshot it), as its first filtered query would.

        The application calls this after a sync that changed a collection, so the snapshot is written while the
        index is being built rather than by the first query of the next process.
        """
        target = self._collection(collection)
        fingerprint = self._stored_fingerprint(target)
        if fingerprint is None:
            return
        with self._load_lock:
            cached = self._filters.get(collection)
            stale = cached is None or cached.fingerprint != fingerprint
            if stale or (cached is not None and cached.vectors is None and self.count(collection) <= _MAX_IN_MEMORY):
                self._filters[collection] = self._load_filter_cache(target, fingerprint)

    def _load_filter_cache(self, target: Collection, fingerprint: str) -> _FilterCache:
        """Load a collection's filter fields (and, when small, its content) from its snapshot or from chromadb."""
        snapshot = self._snapshot_path(target.name, fingerprint)
        loaded = _FilterCache.read(snapshot, fingerprint) if snapshot is not None else None
        if loaded is not None:
            return loaded
        small = self._guarded(target.count) <= _MAX_IN_MEMORY
        stored = self._guarded(
            lambda: target.get(include=["metadatas", "documents", "embeddings"] if small else ["metadatas"])
        )
        cached = _FilterCache.build(fingerprint, stored["ids"], stored["metadatas"] or [])
        if not small:
            return cached
        cached = cached.with_content(stored["documents"] or [], stored["embeddings"], stored["metadatas"] or [])
        if snapshot is not None:
            cached.write(snapshot)
        return cached

    def _snapshot_path(self, collection: str, fingerprint: str) -> Path | None:
        """The snapshot file of a collection's in-memory copy at a fingerprint (None for a Chroma server)."""
        return self._snapshots / f"{collection}-{fingerprint[:32]}.npz" if self._snapshots is not None else None

    def count(self, collection: str) -> int:
        """How many documents a collection holds."""
        target = self._collection(collection)
        return int(self._guarded(target.count))

    def fingerprint(self, collection: str) -> str | None:
        """The corpus fingerprint of the last completed sync of a collection, or None if it was never synced."""
        return self._stored_fingerprint(self._collection(collection))

    def _stored_fingerprint(self, target: Collection) -> str | None:
        """The fingerprint as stored now (re-read: another process may have synced since we opened it)."""
        metadata = self._guarded(lambda: self._client.get_collection(target.name).metadata) or {}
        value = metadata.get(_FINGERPRINT_KEY)
        return str(value) if value is not None else None

    def is_built(self, collections: Sequence[str] = COLLECTIONS) -> bool:
        """Whether every given collection has completed a sync (an empty corpus counts as built)."""
        return all(self.fingerprint(name) is not None for name in collections)

    def _collection(self, name: str) -> Collection:
        if name not in COLLECTIONS:
            raise UserInputError(f"Unknown collection {name!r}; the index has {', '.join(COLLECTIONS)}.")
        if name not in self._collections:
            function = cast(Any, ForgeEmbeddingFunction())
            self._collections[name] = self._guarded(
                lambda: self._client.get_or_create_collection(name, embedding_function=function)
            )
        return self._collections[name]

    def _stored_hashes(self, target: Collection) -> dict[str, str]:
        stored = self._guarded(lambda: target.get(include=["metadatas"]))
        metadatas = stored["metadatas"] or [{}] * len(stored["ids"])
        return {i: str((m or {}).get(HASH_KEY, "")) for i, m in zip(stored["ids"], metadatas, strict=True)}

    def _upsert(self, target: Collection, docs: Sequence[Doc], progress: Progress | None) -> None:
        _report_progress(progress, 0, len(docs))
        for begin in range(0, len(docs), _BATCH):
            batch = docs[begin : begin + _BATCH]
            vectors = embed([d.text for d in batch])
            self._guarded(
                lambda b=batch, v=vectors: target.upsert(  # type: ignore[misc]
                    ids=[d.id for d in b],
                    embeddings=v,
                    documents=[d.text for d in b],
                    metadatas=[cast(Any, dict(d.metadata)) for d in b],
                )
            )
            _report_progress(progress, begin + len(batch), len(docs))

    def _guarded(self, call: Callable[[], Any]) -> Any:
        """Run a chromadb call, turning its failures (unreachable server, corrupt files) into ResourceError."""
        try:
            return call()
        except (UserInputError, ResourceError):
            raise
        except httpx.TransportError as exc:  # refused, timed out, dropped: the server, not the request
            raise ServerUnreachable(self._where, exc) from exc
        except Exception as exc:  # chromadb raises many unrelated types (ChromaError, httpx errors, ValueError)
            raise ResourceError(f"The retrieval index at {self._where} failed: {exc}") from exc


def build_where(
    *, max_level: Level | str | None = None, topic: str | None = None, where: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The chromadb `where` clause for a level ceiling, a topic and any extra conditions (None if no filter)."""
    clauses: list[dict[str, Any]] = []
    if max_level is not None:
        clauses.append({LEVEL_RANK_KEY: {"$lte": parse_level(max_level).rank}})
    if topic is not None:
        if not topic.strip():
            raise UserInputError("The topic filter is empty; give a topic name or no topic.")
        clauses.append({TOPICS_KEY: {"$contains": topic.strip()}})
    if where:
        clauses.append(dict(where))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _open_client(path: str | Path | None, url: str | None) -> ClientAPI:
    settings = Settings(anonymized_telemetry=False)
    try:
        if path is not None:
            Path(path).mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=settings)
        parts = urlsplit(str(url))
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise UserInputError(f"Chroma server URL {url!r} is not valid; use http://HOST:PORT or https://HOST:PORT.")
        port = parts.port or (443 if parts.scheme == "https" else 8000)
        _probe(str(url))
        client = chromadb.HttpClient(host=parts.hostname, port=port, ssl=parts.scheme == "https", settings=settings)
        _bound_timeouts(client)
        return client
    except (UserInputError, ServerUnreachable):
        raise
    except httpx.TransportError as exc:
        raise ServerUnreachable(str(url), exc) from exc
    except Exception as exc:  # chromadb: ValueError when a server is unreachable, sqlite/OSError for directories
        raise ResourceError(f"Cannot open the retrieval index at {path or url}: {exc}") from exc


def _prepare(docs: Iterable[Doc]) -> dict[str, Doc]:
    """Validate documents, derive level_rank and attach each document's content hash; ids must be unique."""
    prepared: dict[str, Doc] = {}
    for doc in docs:
        if not doc.id or doc.id in prepared:
            raise UserInputError(f"Document ids must be non-empty and unique; {doc.id!r} is empty or repeated.")
        metadata = _clean_metadata(doc)
        metadata[HASH_KEY] = _content_hash(doc.text, metadata)
        prepared[doc.id] = Doc(doc.id, doc.text, metadata)
    return prepared


def _clean_metadata(doc: Doc) -> Metadata:
    """Check metadata types, drop empty lists (chromadb refuses them) and derive level_rank from level."""
    metadata: Metadata = {}
    for key, value in doc.metadata.items():
        if key in _RESERVED:
            raise UserInputError(f"Metadata key {key!r} of document {doc.id!r} is reserved by the index.")
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise UserInputError(f"Metadata list {key!r} of document {doc.id!r} must hold strings only.")
            if value:
                metadata[key] = sorted(set(value))
        elif isinstance(value, str | int | float | bool):
            metadata[key] = value
        else:
            raise UserInputError(
                f"Metadata {key!r} of document {doc.id!r} is a {type(value).__name__}; use str, int, float, bool "
                "or a list of str."
            )
    if LEVEL_KEY in metadata:
        level = parse_level(str(metadata[LEVEL_KEY]))
        metadata[LEVEL_KEY], metadata[LEVEL_RANK_KEY] = level.value, level.rank
    return metadata


def _content_hash(text: str, metadata: Metadata) -> str:
    payload = json.dumps([MODEL_ID, SCHEMA_VERSION, text, metadata], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _fingerprint(prepared: Mapping[str, Doc]) -> str:
    digest = hashlib.sha256(f"{MODEL_ID}/{SCHEMA_VERSION}".encode())
    for doc_id in sorted(prepared):
        digest.update(f"\0{doc_id}\0{prepared[doc_id].metadata[HASH_KEY]}".encode())
    return digest.hexdigest()


def _report_progress(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _hits(
    ids: Sequence[str], documents: Sequence[Any], metadatas: Sequence[Any], distances: Sequence[Any]
) -> list[Hit]:
    """Hits from parallel columns of a chromadb result (cosine distance -> similarity, internal keys removed)."""
    hits = []
    for doc_id, text, metadata, distance in zip(ids, documents, metadatas, distances, strict=True):
        public = {k: v for k, v in (metadata or {}).items() if k != HASH_KEY}
        hits.append(Hit(doc_id, text or "", public, round(1.0 - float(distance), 6)))
    return hits


@dataclass(frozen=True, slots=True)
class _FilterCache:
    """The level rank and topics of every document of one synced collection, for planning filtered queries."""

    fingerprint: str
    ids: list[str]
    positions: dict[str, int]
    level_ranks: NDArray[np.int16]
    topics: dict[str, NDArray[np.bool_]]
    #: Unit-length vectors, documents and metadata of small collections (None: chromadb searches).
    vectors: NDArray[np.float32] | None = None
    documents: list[str] | None = None
    metadatas: list[Mapping[str, Any] | None] | None = None

    @classmethod
    def build(cls, fingerprint: str, ids: Sequence[str], metadatas: Sequence[Mapping[str, Any] | None]) -> _FilterCache:
        """Index the filter fields of documents (rank -1 when a document has no level)."""
        ranks = np.array([int((m or {}).get(LEVEL_RANK_KEY, -1)) for m in metadatas], dtype=np.int16)
        topics: dict[str, NDArray[np.bool_]] = {}
        for position, metadata in enumerate(metadatas):
            for topic in _as_topics((metadata or {}).get(TOPICS_KEY)):
                topics.setdefault(topic, np.zeros(len(ids), dtype=np.bool_))[position] = True
        return cls(fingerprint, list(ids), {i: p for p, i in enumerate(ids)}, ranks, topics)

    def with_content(
        self, documents: Sequence[str | None], embeddings: Any, metadatas: Sequence[Mapping[str, Any] | None]
    ) -> _FilterCache:
        """The same cache also holding documents, metadata and unit-length vectors, for exact in-memory ranking."""
        raw = np.asarray(embeddings, dtype=np.float32).reshape(len(self.ids), -1)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        vectors = (raw / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        return replace(self, vectors=vectors, documents=[d or "" for d in documents], metadatas=list(metadatas))

    @classmethod
    def read(cls, path: Path, fingerprint: str) -> _FilterCache | None:
        """A cache with content from a snapshot written by `write`; None if there is none or it cannot be read."""
        try:
            with np.load(path, allow_pickle=False) as data:
                vectors = np.asarray(data["vectors"], dtype=np.float32)
                ids, documents, metadatas = json.loads(data["content"].tobytes().decode("utf-8"))
        except (OSError, KeyError, ValueError):  # missing, truncated or foreign: load from chromadb instead
            return None
        if len(ids) != len(vectors) or len(documents) != len(ids) or len(metadatas) != len(ids):
            return None
        built = cls.build(fingerprint, ids, metadatas)
        return replace(built, vectors=vectors, documents=documents, metadatas=metadatas)

    def write(self, path: Path) -> None:
        """Snapshot a cache with content (atomically, removing the collection's older snapshots); best effort."""
        if self.vectors is None:
            return
        content = json.dumps([self.ids, self.documents, self.metadatas], ensure_ascii=False).encode("utf-8")
        temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temp.open("wb") as out:
                np.savez(out, vectors=self.vectors, content=np.frombuffer(content, dtype=np.uint8))
            os.replace(temp, path)
            collection = path.name.rsplit("-", 1)[0]
            for old in path.parent.glob(f"{collection}-*.npz"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:  # a read-only or full disk only costs the next process the slower load
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)

    def nearest(self, query: Vectors, mask: NDArray[np.bool_], n: int) -> list[Hit]:
        """The n documents a mask lets through that are most similar to the query (exact cosine similarity)."""
        if self.vectors is None or self.documents is None or self.metadatas is None:
            raise ValueError("nearest needs a cache built with_content")
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        allowed = np.flatnonzero(mask)
        similarity = self.vectors[allowed] @ q
        k = min(n, len(allowed))
        top = np.argpartition(-similarity, k - 1)[:k]
        ranked = top[np.argsort(-similarity[top], kind="stable")]
        positions = allowed[ranked]
        return _hits([self.ids[p] for p in positions], [self.documents[p] for p in positions],
                     [self.metadatas[p] for p in positions], [1.0 - float(similarity[r]) for r in ranked])  # fmt: skip

    def mask(self, max_rank: int | None, topic: str | None) -> NDArray[np.bool_]:
        """Which documents pass the level ceiling and topic filter."""
        mask = np.ones(len(self.ids), dtype=np.bool_)
        if max_rank is not None:
            mask &= (self.level_ranks >= 0) & (self.level_ranks <= max_rank)
        if topic is not None:
            mask &= self.topics.get(topic, np.zeros(len(self.ids), dtype=np.bool_))
        return mask

    def ids_where(self, mask: NDArray[np.bool_]) -> list[str]:
        """The ids of the documents a mask lets through."""
        return [self.ids[p] for p in np.flatnonzero(mask)]

    def allows(self, mask: NDArray[np.bool_], doc_id: str) -> bool:
        """Whether a document id passes a mask (unknown ids do not)."""
        position = self.positions.get(doc_id)
        return position is not None and bool(mask[position])


def _as_topics(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [value] if isinstance(value, str) else []


def _probe(url: str) -> None:
    """Check that a Chroma server answers its heartbeat within PROBE_TIMEOUT_S (ServerUnreachable if not)."""
    try:
        httpx.get(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=PROBE_TIMEOUT_S).raise_for_status()
    except httpx.HTTPError as exc:
        raise ServerUnreachable(url, exc) from exc


def _bound_timeouts(client: ClientAPI) -> None:
    """Give chromadb's HTTP session (created with timeout=None) our connect and read timeouts."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)


class FallbackIndex(RetrievalIndex):
    """The index on a Chroma server, read from an embedded copy while the server is unreachable.

    Reads (queries, counts, fingerprints) go to the server; when it refuses, times out or drops a call, that call
    and those after it are served by the embedded index at `fallback` (when one was built there), and every read
    so served is reported through `on_fallback(reason)` (the application records it on the trace). Every RETRY_S
    a read first checks the server's heartbeat and goes back to it when it answers. Writes (`sync`) never fall
    back: building the index on a server that is gone fails with ServerUnreachable. Without an embedded copy a
    read fails with ServerUnreachable too, one sentence naming the server.
    """

    def __init__(
        self, url: str, *, fallback: Path, on_fallback: Callable[[str], None] | None = None, retry_s: float = RETRY_S
    ) -> None:
        """Open the server index at `url`, falling back to the embedded index at `fallback` when it is down."""
        self._fallback_path = Path(fallback)
        self._embedded: RetrievalIndex | None = None
        self._on_fallback = on_fallback
        self._retry_s = retry_s
        self._down: ServerUnreachable | None = None
        self._down_since = 0.0
        self._state_lock = threading.Lock()
        try:
            super().__init__(url=url)
        except ServerUnreachable as exc:
            self._mark_down(exc)

    @property
    def degraded(self) -> bool:
        """Whether reads are being served by the embedded copy."""
        return self._down is not None

    def sync(self, collection: str, docs: Iterable[Doc], *, progress: Progress | None = None) -> SyncReport:
        """As RetrievalIndex.sync, on the server only (ServerUnreachable when it is gone)."""
        report = super().sync(collection, docs, progress=progress)
        self._mark_up()
        return report

    def query(self, collection: str, text: str, **options: Any) -> list[Hit]:
        """As RetrievalIndex.query, from the embedded copy while the server is unreachable."""
        return self._read(lambda index: RetrievalIndex.query(index, collection, text, **options))

    def count(self, collection: str) -> int:
        """As RetrievalIndex.count, from the embedded copy while the server is unreachable."""
        return self._read(lambda index: RetrievalIndex.count(index, collection))

    def fingerprint(self, collection: str) -> str | None:
        """As RetrievalIndex.fingerprint, from the embedded copy while the server is unreachable."""
        return self._read(lambda index: RetrievalIndex.fingerprint(index, collection))

    def load_in_memory(self, collection: str) -> None:
        """As RetrievalIndex.load_in_memory, from the embedded copy while the server is unreachable."""
        self._read(lambda index: RetrievalIndex.load_in_memory(index, collection))

    def _read(self, call: Callable[[RetrievalIndex], Any]) -> Any:
        """Run a read on the server unless it is known down (and not due a retry); else on the embedded copy."""
        if self._down is None or self._retry_due():
            try:
                result = call(self)
            except ServerUnreachable as exc:
                self._mark_down(exc)
            else:
                self._mark_up()
                return result
        return call(self._embedded_index())

    def _retry_due(self) -> bool:
        """Whether it is time to try the server again, and it answers its heartbeat."""
        if time.monotonic() - self._down_since < self._retry_s:
            return False
        try:
            _probe(self.location)
        except ServerUnreachable:
            self._down_since = time.monotonic()
            return False
        return True

    def _embedded_index(self) -> RetrievalIndex:
        """The embedded copy, opened on first need; ServerUnreachable (the server's sentence) if there is none."""
        down = self._down
        if self._embedded is None:
            if not self._has_fallback():
                raise down or ServerUnreachable(self.location, ConnectionError("no answer"))
            self._embedded = RetrievalIndex(path=self._fallback_path)
        if self._on_fallback is not None:
            self._on_fallback(self._fallback_message(down))
        return self._embedded

    def _has_fallback(self) -> bool:
        """Whether an embedded index was built at the fallback path."""
        return (self._fallback_path / "chroma.sqlite3").is_file()

    def _fallback_message(self, down: ServerUnreachable | None) -> str:
        cause = f" ({type(down.cause).__name__})" if down is not None else ""
        return f"Chroma server at {self.location} unreachable{cause}; using the embedded index at {self._fallback_path}"

    def _mark_down(self, exc: ServerUnreachable) -> None:
        with self._state_lock:
            first = self._down is None
            self._down, self._down_since = exc, time.monotonic()
        if first and self._has_fallback():  # without one, the ServerUnreachable raised says it all
            _log.warning("%s", self._fallback_message(exc))

    def _mark_up(self) -> None:
        with self._state_lock:
            was_down, self._down = self._down is not None, None
        if was_down:
            _log.warning("Chroma server at %s reachable again; using it instead of the embedded index", self.location)
