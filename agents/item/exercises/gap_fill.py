"""Multiple-choice gap-fill: a model-written sentence with the target word gapped, and three graph distractors."""

from __future__ import annotations

from agents.item.exercises.base import HUMAN_TARGETS, BuildContext, failure, replace_span, sentences_for
from agents.item.exercises.options import choose_distractors
from knowledge.items import GAP, GapFillItem

#: Target words tried per attempt before giving up.
TARGETS_PER_ATTEMPT = 3
INSTRUCTIONS = "Choose the word that best completes the sentence."


def build(build: BuildContext) -> GapFillItem:
    """Try target words in order until one gives a good sentence and three distractors that do not fit."""
    targets = build.constraints.targets(("noun", "verb", "adjective", "adverb"))[:HUMAN_TARGETS]
    if not targets:
        raise failure("no target words for this level and topic", topic=build.constraints.topic)
    for choice, picked in sentences_for(build, targets, written=TARGETS_PER_ATTEMPT):
        if picked.target is None:
            continue
        target = picked.target
        options = choose_distractors(build, picked.sentence, target, choice)
        build.note(
            "option_scores",
            {
                "answer": target.text,
                "answer_score": options.answer_score,
                "scores": options.scores,
                "dropped": options.dropped,
            },
        )
        if len(options.distractors) < 3:
            continue
        all_options = [target.text, *options.distractors[:3]]
        build.rng.shuffle(all_options)
        return GapFillItem(
            level=build.level,
            topic=build.constraints.topic,
            instructions=INSTRUCTIONS,
            stem=replace_span(picked.sentence, target.start, target.end, GAP),
            options=all_options,
            answer=target.text,
            target_word=choice.word,
            pos=choice.pos,
        )
    raise failure("no sentence with three clearly wrong distractors", targets=[t.word for t in targets[:5]])
