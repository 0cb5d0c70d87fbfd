"""Pytest plugin for the item agents' unit tier: the real knowledge layer once per session, contexts over any model.

Use it from a test module with `pytest_plugins = ["tests.support.agent_fixtures"]` (helpers are in
`tests.support.agent_helpers`). Contexts have no retrieval index (`index=None`) unless a test asks for the built one
(`built_index`, about a minute the first time per session), and an empty escalation chain, so nothing here reaches
the network.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.context import AgentContext, ItemPolicy
from agents.models.base import ChatModel
from agents.models.fallback import EscalationChain
from agents.models.llamacpp import LlamaCppModel
from forge.services import Services
from knowledge.exemplars import Exemplars
from knowledge.retrieval import RetrievalIndex
from tests.support.agent_helpers import Knowledge, MakeContext
from tests.support.scripted_model import ScriptedModel
from tests.support.services_helpers import make_services


@pytest.fixture(scope="session")
def knowledge_services(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[Services]:
    """Services over the session cache dir (no model is loaded unless a test asks for one)."""
    svc = make_services(tmp_path_factory.mktemp("agent-data"), cache_dir)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def knowledge(knowledge_services: Services) -> Knowledge:
    """Knowledge graph, alignment checker, level estimator and exemplars."""
    svc = knowledge_services
    return Knowledge(svc.knowledge_graph, svc.alignment_checker, svc.level_estimator, Exemplars.load())


@pytest.fixture(scope="session")
def built_index(knowledge_services: Services) -> RetrievalIndex:
    """The real chromadb index, built once per session (slow: only for the tests that need it)."""
    knowledge_services.ensure_index()
    return knowledge_services.retrieval_index


_DECODE_PROBE = """
from llama_cpp import Llama
from agents.models.llamacpp import embedded_gguf
llm = Llama(model_path=str(embedded_gguf()), n_ctx=256, n_threads=1, verbose=False)
llm.create_completion("Word: dog. Sentence:", max_tokens=2, seed=1)
"""


@pytest.fixture(scope="session")
def llamacpp_decodes() -> None:
    """Skip, rather than crash the whole run, where llama.cpp cannot decode at all (it dies with SIGSEGV)."""
    try:
        done = subprocess.run([sys.executable, "-c", _DECODE_PROBE], capture_output=True, timeout=180, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("llama.cpp did not finish a 2-token completion within 180 s")
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[:1]
        pytest.skip(f"llama.cpp cannot decode here (exit {done.returncode}: {tail}); model-backed test skipped")


@pytest.fixture
def local_smollm(llamacpp_decodes: None, smollm: LlamaCppModel) -> LlamaCppModel:
    """The session's real SmolLM2, once a subprocess has shown that llama.cpp decodes in this environment."""
    return smollm


@pytest.fixture
def make_ctx(knowledge: Knowledge) -> MakeContext:
    """An AgentContext over the real knowledge, a given local model (scripted 'ok' by default) and no index."""

    def make(
        local: ChatModel | None = None,
        *,
        index: RetrievalIndex | None = None,
        policy: ItemPolicy | None = None,
        escalation: EscalationChain | None = None,
    ) -> AgentContext:
        return AgentContext(
            local=local or ScriptedModel(["ok"]),
            escalation=escalation or EscalationChain([]),
            graph=knowledge.graph,
            index=index,
            checker=knowledge.checker,
            estimator=knowledge.estimator,
            exemplars=knowledge.exemplars,
            policy=policy or ItemPolicy(),
        )

    return make
