"""The exercise-session graph: a set of exercises refined over turns."""
