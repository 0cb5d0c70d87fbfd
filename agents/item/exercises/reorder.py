"""Sentence reordering: a model-written sentence at the level, cut into word chunks and shuffled."""

from __future__ import annotations

from agents.item.exercises.base import HUMAN_TARGETS, BuildContext, failure, sentences_for
from knowledge.items import ReorderItem
from knowledge.nlp import Token

#: Shorter sentences are trivial, longer ones have several valid orders.
MIN_CHUNKS, MAX_CHUNKS = 5, 11
INSTRUCTIONS = "Put the words in the right order to make a sentence."


_CLITICS = frozenset({"n't", "'s", "'m", "'re", "'ve", "'ll", "'d"})


def chunks_of(sentence: str, tokens: list[Token]) -> list[str]:
    """Words of the sentence as learners move them: clitics and commas stay on their word, the final mark goes."""
    chunks: list[str] = []
    body = tokens[:-1] if tokens and not tokens[-1].is_word else tokens
    for token in body:
        attached = token.index > 0 and token.start == tokens[token.index - 1].end
        if chunks and attached and (token.lower in _CLITICS or not token.is_word):
            chunks[-1] += sentence[tokens[token.index - 1].end : token.end]
        else:
            chunks.append(token.text)
    return chunks


def _display(chunks: list[str], tokens: list[Token]) -> list[str]:
    """Chunks as shown: the first word lower-cased (a capital would give the start away) unless it is a name or I."""
    first = tokens[0]
    if first.upos == "PROPN" or first.text == "I" or not chunks:
        return list(chunks)
    return [chunks[0][:1].lower() + chunks[0][1:], *chunks[1:]]


def build(build: BuildContext) -> ReorderItem:
    """Find a sentence of 5-11 chunks and shuffle its chunks so that no chunk stays in place at the start."""
    for _, picked in sentences_for(build, build.constraints.targets()[:HUMAN_TARGETS], gap_target=False):
        chunks = chunks_of(picked.sentence, picked.tokens)
        if not MIN_CHUNKS <= len(chunks) <= MAX_CHUNKS:
            build.note("rejected", {"sentence": picked.sentence, "reason": f"{len(chunks)} chunks"})
            continue
        shuffled = _shuffle(build, _display(chunks, picked.tokens))
        return ReorderItem(
            level=build.level,
            topic=build.constraints.topic,
            instructions=INSTRUCTIONS,
            stem=" / ".join(shuffled),
            chunks=shuffled,
            answer=picked.sentence,
        )
    raise failure("no sentence of a suitable length to reorder")


def _shuffle(build: BuildContext, chunks: list[str]) -> list[str]:
    """A seeded shuffle that differs from the original order and does not keep the first chunk first."""
    shuffled = list(chunks)
    for _ in range(20):
        build.rng.shuffle(shuffled)
        if shuffled[0] != chunks[0] and shuffled != chunks:
            break
    return shuffled
