"""The exercise-session graph's agents: reading commands, planning and filling a set, exporting it."""
