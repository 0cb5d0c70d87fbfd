"""LangGraph state machines: the item graph (and, later, tutoring and exercise sessions)."""
