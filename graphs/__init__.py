"""LangGraph state machines, one package each with the same modules: the item graph, tutoring, exercise sessions.

`graphs.common` holds what they share (decisions, timed nodes, attempt facts, lazy sub-graphs) and `graphs.turns`
the session turn log. Each package: `state.py`, `nodes.py`, `routing.py`, `graph.py` (see CONTRIBUTING.md).
"""
