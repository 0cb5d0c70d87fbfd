"""Meaning checks per exercise type: does the item work for a learner, beyond its form (see `base`)."""
