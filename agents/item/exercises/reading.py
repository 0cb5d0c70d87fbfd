"""Reading: a short model-written text at the level, and 3-5 questions built from its sentences by code.

The writer produces a titled text; code keeps its first good sentences (no repeats, none above the level). Each
question comes from one sentence of the text, which is stored as its evidence, so every question is answerable
from the text: multiple-choice questions gap a content word of that sentence (distractors chosen as for gap-fill),
true/false statements either repeat the sentence (true) or change one content word to a distractor (false).
"""

from __future__ import annotations

import re

from agents.item.constraints import WordChoice
from agents.item.exercises.base import BuildContext, failure, replace_span
from agents.item.exercises.options import choose_distractors
from agents.item.writers import TextSpec
from knowledge.items import GAP, Question, ReadingItem
from knowledge.levels import Level
from knowledge.nlp import Token, analyze, sentences

INSTRUCTIONS = "Read the text. Then choose the word for each gap, and say if each sentence is true or false."
MIN_SENTENCES, MAX_SENTENCES = 3, 6
MIN_QUESTIONS, MAX_QUESTIONS = 3, 5
TEXT_TRIES = 3
_QUESTION_POS = {"NOUN": "noun", "VERB": "verb", "ADJ": "adjective"}
_TITLE = re.compile(r"^\s*Title:\s*(.+?)\s*\n+\s*Text:\s*(.+)$", re.DOTALL)


def _parse(draft: str) -> tuple[str, str] | None:
    """Split a "Title: ..." line and a "Text: ..." paragraph into title and body."""
    match = _TITLE.match(draft)
    return (match.group(1).strip().strip('"'), match.group(2).strip()) if match else None


def _good_sentences(build: BuildContext, body: str) -> list[str]:
    """The text's first sentences that are complete, new, 4-25 words and within the level."""
    kept: list[str] = []
    for sentence in sentences(body):
        tokens = analyze(sentence)
        words = [t for t in tokens if t.is_word]
        if not 4 <= len(words) <= 25 or tokens[-1].text not in {".", "!", "?"}:
            continue
        if sentence.lower() in {k.lower() for k in kept}:
            continue
        if build.kit.above_level(tokens, build.constraints.max_word_level):
            continue
        kept.append(sentence)
        if len(kept) == MAX_SENTENCES:
            break
    return kept


def _content_token(tokens: list[Token]) -> Token | None:
    """A content word worth asking about: noun, verb or adjective, not the first word, not a name."""
    found = [t for t in tokens[1:] if t.is_word and t.upos in _QUESTION_POS and len(t.text) > 2]
    return max(found, key=lambda t: (t.upos == "NOUN", len(t.text))) if found else None


def _word_choice(build: BuildContext, token: Token) -> WordChoice:
    """The token as a WordChoice (for distractor selection), with its lexicon level."""
    known = build.kit.word_level(token)
    return WordChoice(
        word=token.lemma,
        pos=_QUESTION_POS[token.upos],
        level=known.level or build.level,
        node=f"word:{token.lemma.lower()}|{_QUESTION_POS[token.upos]}",
    )


def _multiple_choice(build: BuildContext, sentence: str) -> Question | None:
    """'Complete the sentence from the text' with the answer and three distractors that do not fit."""
    tokens = analyze(sentence)
    token = _content_token(tokens)
    if token is None:
        return None
    options = choose_distractors(build, sentence, token, _word_choice(build, token))
    if len(options.distractors) < 3:
        return None
    choices = [token.text, *options.distractors[:3]]
    build.rng.shuffle(choices)
    stem = replace_span(sentence, token.start, token.end, GAP)
    return Question(
        kind="multiple_choice",
        question=stem,
        options=choices,
        answer=token.text,
        evidence=sentence,
    )


def _true_false(build: BuildContext, sentence: str, make_false: bool) -> Question | None:
    """A statement from the text (true) or the same statement with one word changed to a distractor (false)."""
    if not make_false:
        return Question(
            kind="true_false", question=sentence, options=["True", "False"], answer="True", evidence=sentence
        )
    tokens = analyze(sentence)
    token = _content_token(tokens)
    if token is None:
        return None
    options = choose_distractors(build, sentence, token, _word_choice(build, token), k=1)
    if not options.distractors:
        return None
    changed = replace_span(sentence, token.start, token.end, options.distractors[0])
    return Question(kind="true_false", question=changed, options=["True", "False"], answer="False", evidence=sentence)


def _questions(build: BuildContext, kept: list[str]) -> list[Question]:
    """Alternate multiple-choice and true/false questions over the sentences, one question per sentence."""
    questions: list[Question] = []
    for i, sentence in enumerate(kept):
        kind = i % 3
        if kind != 1:
            question = _multiple_choice(build, sentence)
        else:
            question = _true_false(build, sentence, make_false=i % 2 == 1)
        if question is not None:
            questions.append(question)
        if len(questions) == MAX_QUESTIONS:
            break
    return questions


def build(build: BuildContext) -> ReadingItem:
    """Ask for texts until one has enough good sentences to carry 3-5 questions."""
    words = [w.word for w in build.constraints.targets()[:5]]
    count = 4 if build.level <= Level.A2 else 5
    for attempt in range(TEXT_TRIES):
        spec = TextSpec(level=build.level, topic=build.constraints.topic, words=words, sentences=count)
        draft = build.writer.text(spec, seed=build.seed * 17 + attempt)
        parsed = _parse(draft.text)
        build.note("texts", {"draft": draft.text[:400], "parsed": parsed is not None})
        if parsed is None:
            continue
        title, body = parsed
        kept = _good_sentences(build, body)
        if len(kept) < MIN_SENTENCES:
            continue
        questions = _questions(build, kept)
        if len(questions) >= MIN_QUESTIONS:
            return ReadingItem(
                level=build.level,
                topic=build.constraints.topic,
                instructions=INSTRUCTIONS,
                title=title[:80],
                text=" ".join(kept),
                questions=questions,
            )
    raise failure("no text with enough good sentences for 3 questions")
