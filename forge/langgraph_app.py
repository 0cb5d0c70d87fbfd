"""The compiled item graph for LangGraph's own tooling (`langgraph dev`, LangGraph Server), named in langgraph.json.

It is built from the same settings as the CLI (forge.toml, FORGE_* variables). Models load on first use; the
retrieval index is built or updated here, at import, so the first request does not pay for it.
"""

from __future__ import annotations

from forge.services import Services
from forge.settings import load_settings

services = Services(load_settings()[0])
services.ensure_index()
#: The item graph; input {"request": {"level": "A2", "topic": "food", "type": "gap_fill"}}, output {"result": ...}.
graph = services.item_graph
