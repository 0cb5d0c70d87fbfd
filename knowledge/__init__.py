"""Pedagogical knowledge: the bottom layer, which imports nothing of the other packages.

CEFR levels, errors, NLP, lexicon, WordNet, grammar profile, can-do descriptors, the knowledge graph, level
estimation, the Alignment Consistency Index, exercise schemas and validators, and the retrieval index.
"""
