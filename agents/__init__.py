"""Agents: one module per graph node (intake, retrieval, constraints, tools, generation, validation, escalation).

`agents.models` holds the chat-model interface and its backends; `agents.telemetry` the span helpers.
Agents use `tools`, `knowledge` and `prompts`; they never import `graphs` or `forge`.
"""
