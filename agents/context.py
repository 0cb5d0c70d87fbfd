"""What the agents need, built once by the application and passed to the graphs (react-agent's `context.py`).

Nothing here reads settings or the environment: the application fills `ItemPolicy` from its settings and hands in
loaded models and knowledge. Heavy resources are created lazily by the application, so building a context is cheap.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from agents.item.meaning.base import Thresholds
from agents.models.base import ChatModel
from agents.models.fallback import EscalationChain
from knowledge.aci import AlignmentChecker
from knowledge.exemplars import Exemplars
from knowledge.graph import KnowledgeGraph
from knowledge.level_estimator import LevelEstimator
from knowledge.levels import Level
from knowledge.retrieval import RetrievalIndex


class ItemPolicy(BaseModel):
    """The knobs of the item graph's routing, with the values the benchmarks were run with."""

    max_local_attempts: int = Field(default=3, ge=1, le=10, description="Local tries before escalating.")
    max_escalated_attempts: int = Field(default=2, ge=0, le=5, description="Escalated tries before giving up.")
    escalate_at: Level = Field(default=Level.C1, description="Targets at or above this level are hard cases.")
    aci_threshold: float = Field(default=0.8, ge=0, le=1, description="Lowest Alignment Consistency Index accepted.")
    max_above_share: float = Field(default=0.05, ge=0, le=1, description="Share of words allowed above the level.")
    hard_text_level: Level = Field(
        default=Level.C1, description="Learner text estimated at or above this is beyond the small model."
    )
    tool_steps: int = Field(
        default=2, ge=0, le=4, description="Tool calls the tool-calling agent makes (about 0.2 s each locally)."
    )
    reachability_ttl_s: float = Field(default=30.0, ge=0, description="How long a reachability check is trusted.")
    meaning_checks: bool = Field(
        default=True, description="Judge meaning too (key the only answer, true definitions, questions in other words)."
    )
    thresholds: Thresholds = Field(
        default_factory=Thresholds, description="The meaning checks' numbers (fitted by `forge review calibrate`)."
    )


@dataclass
class AgentContext:
    """Models, knowledge and policy for one process."""

    local: ChatModel
    escalation: EscalationChain
    graph: KnowledgeGraph
    index: RetrievalIndex | None
    checker: AlignmentChecker
    estimator: LevelEstimator
    exemplars: Exemplars
    policy: ItemPolicy = field(default_factory=ItemPolicy)
    _reachable: tuple[float, ChatModel | None] | None = field(default=None, init=False, repr=False)
    #: Results that cannot change while the process runs (retrieval per topic and level), by key.
    memo: dict[tuple[str, ...], object] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def preload(self) -> None:
        """Load now what the first item of a process would otherwise load mid-run, counted as its overhead.

        The lemma and inflection tables and the WordNet topic links (`topics_for`), and the compiled grammar
        detectors (`check`): about a second once per process, paid here at set-up instead.
        """
        self.graph.topics_for("food and drink")
        self.checker.check("We usually eat bread and cheese for lunch.", Level.A2)

    def escalation_target(self) -> ChatModel | None:
        """The first reachable escalation model, checked at most once per `reachability_ttl_s`."""
        with self._lock:
            now = time.monotonic()
            if self._reachable is None or now - self._reachable[0] > self.policy.reachability_ttl_s:
                self._reachable = (now, self.escalation.first_reachable() if self.escalation.ids else None)
            return self._reachable[1]
