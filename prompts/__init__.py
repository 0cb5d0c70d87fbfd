"""Prompt templates (`*.yaml`, in tiers) and the strict loader that renders them."""
