"""Agents: one package per graph (`item`, `tutor`, `exercise_session`), one module per agent or graph node.

Shared by all: `agents.context` (what the agents get), `agents.models` (the chat-model interface, its backends
and the escalation chain) and `agents.telemetry` (span helpers). Agents use `tools`, `knowledge` and `prompts`;
they never import `graphs` or `forge`.
"""
