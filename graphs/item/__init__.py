"""The item graph: one exercise request through retrieval, constraints, tools, generation and validation."""
