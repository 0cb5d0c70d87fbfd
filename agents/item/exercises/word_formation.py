"""Word formation: a sentence with a derived word gapped; the learner forms it from the base word in capitals.

Pairs come from `knowledge.morphology` (both words listed, a derivation rule, and a WordNet link), so the answer
is always a real member of the base word's family at or below the level.
"""

from __future__ import annotations

from agents.item.constraints import WordChoice
from agents.item.exercises.base import HUMAN_TARGETS, BuildContext, failure, replace_span, sentences_for
from knowledge.items import GAP, WordFormationItem
from knowledge.morphology import Derivation, derivations_at

PAIRS_PER_ATTEMPT = 3
INSTRUCTIONS = "Use the word in capitals to form a word that fits the gap."


def _ranked(build: BuildContext) -> list[Derivation]:
    """Pairs for the level: topic words first, then derived words at the level itself, then the rest (shuffled)."""
    pairs = derivations_at(build.kit.lexicon, build.level)
    topical = {w.word.lower() for w in build.constraints.target_words}
    build.rng.shuffle(pairs)

    def key(pair: Derivation) -> tuple[int, int, int]:
        # A base word of the same part of speech (lock -> unlock) often fits the gap unchanged: try those last.
        same_pos = int(pair.base_pos == pair.derived_pos)
        on_topic = pair.derived.lower() in topical or pair.base.lower() in topical
        return (same_pos, 0 if on_topic else 1, abs(build.level.rank - pair.derived_level.rank))

    return sorted(pairs, key=key)


def build(build: BuildContext) -> WordFormationItem:
    """Try word-family pairs until one gives a good sentence using the derived word."""
    pairs = _ranked(build)[:HUMAN_TARGETS]
    if not pairs:
        raise failure("no word-family pairs at this level", level=build.level.value)
    choices = [
        WordChoice(word=p.derived, pos=p.derived_pos, level=p.derived_level,
                   node=f"word:{p.derived.lower()}|{p.derived_pos}")
        for p in pairs
    ]
    by_word = {c.node: p for c, p in zip(choices, pairs, strict=True)}
    for choice, picked in sentences_for(build, choices, written=PAIRS_PER_ATTEMPT):
        if picked.target is None:
            continue
        pair = by_word[choice.node]
        build.note("derivation", {"base": pair.base, "derived": pair.derived, "rule": pair.rule})
        target = picked.target
        stem = replace_span(picked.sentence, target.start, target.end, GAP)
        return WordFormationItem(
            level=build.level,
            topic=build.constraints.topic,
            instructions=INSTRUCTIONS,
            stem=f"{stem} ({pair.base.upper()})",
            base_word=pair.base.upper(),
            answer=target.text,
        )
    raise failure("no sentence for any word-family pair", pairs=[p.derived for p in pairs[:5]])
