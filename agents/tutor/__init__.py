"""The tutoring agents: error detection, feedback, the learner model, the reply writer and exercise offers."""
