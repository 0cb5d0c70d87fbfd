"""The tutoring graph: one learner turn through error detection, the learner model, feedback and a reply."""
