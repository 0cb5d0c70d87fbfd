"""The item graph's agents: intake, retrieval, constraints, tools, generation, validation, escalation."""
