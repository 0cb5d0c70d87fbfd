"""Wiring: turn the settings into the objects the commands use (models, knowledge, graphs, stores).

Everything is built lazily, so `forge config show` never loads a model and `forge models` never builds an index.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents import telemetry
from agents.models.base import ChatModel
from agents.models.llamacpp import LlamaCppConfig
from agents.models.ollama import OllamaConfig
from agents.models.registry import BackendConfig, ModelRegistry
from forge.settings import Settings
from forge.telemetry import setup_tracing
from knowledge.levels import parse_level

if TYPE_CHECKING:
    from agents.context import AgentContext
    from forge.sessions import SessionStore
    from knowledge.aci import AlignmentChecker
    from knowledge.corpus import Progress
    from knowledge.graph import KnowledgeGraph
    from knowledge.level_estimator import LevelEstimator
    from knowledge.retrieval import RetrievalIndex, SyncReport


class Services:
    """The application's long-lived objects for one process, built from one `Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        telemetry.set_capture_content(settings.trace_content)
        self.tracing = setup_tracing(settings)

    @property
    def cache_dir(self) -> Path:
        """The cache directory (knowledge-graph cache, embedded index), created on first use."""
        path = self.settings.resolved_cache_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def data_dir(self) -> Path:
        """The data directory, created on first use, readable only by the account running the program."""
        from knowledge.files import make_private

        return make_private(self.settings.data_dir.expanduser())

    @cached_property
    def backend_config(self) -> BackendConfig:
        """Backend options taken from the settings."""
        s = self.settings
        return BackendConfig(
            llamacpp=LlamaCppConfig(
                n_ctx=s.n_ctx, n_threads=s.n_threads, timeout_s=s.local_timeout_s, lora_adapters=s.lora_adapters
            ),
            ollama=OllamaConfig(
                host=s.resolved_ollama_host,
                hosts=s.ollama_hosts,
                timeout_s=s.ollama_timeout_s,
                retries=s.ollama_retries,
                backoff_s=s.ollama_backoff_s,
                backoff_max_s=s.ollama_backoff_max_s,
            ),
        )

    @cached_property
    def models(self) -> ModelRegistry:
        """Models by string, each resolved once."""
        return ModelRegistry(self.backend_config)

    @cached_property
    def knowledge_graph(self) -> KnowledgeGraph:
        """The pedagogical knowledge graph, cached under the data dir and rebuilt when its sources change."""
        from knowledge.graph import KnowledgeGraph

        return KnowledgeGraph.load(self.cache_dir / "knowledge")

    @cached_property
    def level_estimator(self) -> LevelEstimator:
        """The CEFR level estimator (vendored lexicon, grammar profile and trained weights)."""
        from knowledge.level_estimator import LevelEstimator

        return LevelEstimator.default()

    @cached_property
    def alignment_checker(self) -> AlignmentChecker:
        """The Alignment Consistency Index checker, sharing the level estimator."""
        from knowledge.aci import AlignmentChecker

        return AlignmentChecker.default()

    @cached_property
    def retrieval_index(self) -> RetrievalIndex:
        """The chromadb index: a Chroma server if chroma_url is set, else embedded in the cache dir.

        With a server, reads fall back to the embedded index in the cache dir (when one was built) while the server
        is unreachable; each read so served is a `retrieval_index` decision on the trace.
        """
        from agents import telemetry
        from knowledge.retrieval import FallbackIndex, RetrievalIndex

        def degraded(reason: str) -> None:
            telemetry.record_decision(None, "retrieval_index", "embedded", reason)

        if self.settings.chroma_url:
            return FallbackIndex(self.settings.chroma_url, fallback=self.cache_dir / "index", on_fallback=degraded)
        return RetrievalIndex(path=self.cache_dir / "index")

    def ensure_index(self, progress: Progress | None = None) -> list[SyncReport]:
        """Build or update the retrieval index from the knowledge graph (a quick no-op when up to date).

        A collection that changed has its in-memory copy for filtered queries loaded and snapshotted here, as part
        of building the index, so no later process's first query reads every vector back from chromadb.
        """
        from knowledge.corpus import build_index

        reports = build_index(self.retrieval_index, self.knowledge_graph, progress)
        for report in reports:
            if not report.skipped:
                self.retrieval_index.load_in_memory(report.collection)
        return reports

    @cached_property
    def agent_context(self) -> AgentContext:
        """Models, knowledge and policy for the agents, as the settings say."""
        from agents.context import AgentContext, ItemPolicy
        from agents.item.meaning.base import Thresholds
        from agents.models.fallback import EscalationChain
        from forge.reviews import calibrate
        from knowledge.exemplars import Exemplars

        s = self.settings
        fitted = calibrate.load(self.data_dir)
        use_fitted_aci = fitted is not None and "aci_threshold" not in s.model_fields_set
        policy = ItemPolicy(
            max_local_attempts=s.max_local_attempts,
            max_escalated_attempts=s.max_escalated_attempts,
            escalate_at=parse_level(s.escalate_at),
            aci_threshold=fitted.aci_threshold if fitted and use_fitted_aci else s.aci_threshold,
            thresholds=fitted.thresholds if fitted else Thresholds(),
        )
        return AgentContext(
            local=self.model(),
            escalation=EscalationChain.from_specs(s.escalation_chain, self.models),
            graph=self.knowledge_graph,
            index=self.retrieval_index,
            checker=self.alignment_checker,
            estimator=self.level_estimator,
            exemplars=Exemplars.load(),
            policy=policy,
        )

    @cached_property
    def item_graph(self) -> Any:
        """The compiled item graph over this process's agent context."""
        from graphs.item.graph import build_item_graph

        self.agent_context.preload()
        return build_item_graph(self.agent_context)

    @cached_property
    def sessions(self) -> SessionStore:
        """The session store: PostgreSQL when postgres_url is set, else SQLite in the data dir."""
        from forge.sessions import open_store

        return open_store(self.data_dir, self.settings.postgres_url)

    def model(self, spec: str | None = None) -> ChatModel:
        """A model by string; the configured local model when none is given."""
        return self.models.get(spec or self.settings.local_model)

    def configured_models(self) -> list[str]:
        """The local model followed by the escalation chain, without duplicates."""
        return list(dict.fromkeys([self.settings.local_model, *self.settings.escalation_chain]))

    def close(self) -> None:
        """Release models and flush stores."""
        if "models" in self.__dict__:
            self.models.close()
        if "sessions" in self.__dict__:
            self.sessions.close()
        if self.tracing is not None:
            self.tracing.release()
