"""Structural validators: what makes an exercise well formed, checked independently of how it was built.

Each validator returns the violations it finds (empty = structurally valid). They use the offline NLP and the
lexicon only, so they are fast and deterministic; checks that need a model (do distractors also fit?) live with
the agents. The same checks run on escalated output, which is why builders and validators are separate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from knowledge.items import (
    ErrorCorrectionItem,
    GapFillItem,
    MatchingItem,
    OpenGapItem,
    ReadingItem,
    ReorderItem,
    WordFormationItem,
    fill_gap,
    gap_count,
)
from knowledge.lexicon import Lexicon, normalize_pos
from knowledge.nlp import Token, analyze
from knowledge.violations import Violation

MIN_WORDS, MAX_WORDS = 4, 30


def _violation(message: str, **evidence: Any) -> Violation:
    """A blocking structural violation."""
    return Violation(kind="structure", message=message, evidence=evidence)


def _words(text: str) -> list[Token]:
    """Word tokens of a text."""
    return [t for t in analyze(text) if t.is_word]


def _sentence_shape(text: str, what: str) -> list[Violation]:
    """A stem must be one sentence-like string of sensible length ending in . ! or ?."""
    found = []
    words = _words(text)
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        found.append(_violation(f"{what} has {len(words)} words; {MIN_WORDS}-{MAX_WORDS} are accepted", text=text))
    if not text.rstrip().endswith((".", "!", "?")):
        found.append(_violation(f"{what} does not end with . ! or ?", text=text))
    return found


def _one_gap(stem: str) -> list[Violation]:
    """Exactly one gap."""
    count = gap_count(stem)
    return [] if count == 1 else [_violation(f"the stem has {count} gaps; exactly one is accepted", stem=stem)]


def _answer_hidden(stem: str, answer: str) -> list[Violation]:
    """The answer must not be visible elsewhere in the stem."""
    lowered = answer.lower()
    if any(t.lower == lowered for t in analyze(stem)):
        return [_violation(f"the answer '{answer}' is visible in the stem", stem=stem)]
    return []


def _fits(stem: str, answer: str, lexicon: Lexicon, pos: str | None) -> list[Violation]:
    """The answer, put in the gap, is tagged with the part of speech the item claims (it fits grammatically)."""
    filled = fill_gap(stem, answer)
    start = stem.find("_")
    tokens = [t for t in analyze(filled) if t.start >= start and t.lower == answer.lower().split()[0]]
    if not tokens:
        return [_violation("the answer does not fit the gap", stem=stem, answer=answer)]
    wanted = normalize_pos(pos) if pos else None
    got = normalize_pos(tokens[0].tag)
    if wanted and got and wanted != got and not {wanted, got} <= {"verb", "be-verb", "do-verb", "have-verb"}:
        return [_violation(f"in the gap '{answer}' reads as a {got}, not a {wanted}", stem=stem, tag=tokens[0].tag)]
    return []


def validate_gap_fill(item: GapFillItem, lexicon: Lexicon) -> list[Violation]:
    """One gap; answer among 4 distinct options exactly once; same POS distractors; answer hidden and fitting."""
    found = _one_gap(item.stem) + _sentence_shape(item.stem, "the stem") + _answer_hidden(item.stem, item.answer)
    lowered = [o.strip().lower() for o in item.options]
    if len(item.options) != 4:
        found.append(_violation(f"{len(item.options)} options; exactly 4 are accepted", options=item.options))
    if len(set(lowered)) != len(lowered):
        found.append(_violation("the options are not distinct", options=item.options))
    if lowered.count(item.answer.strip().lower()) != 1:
        found.append(_violation("the answer is not among the options exactly once", options=item.options))
    found += _fits(item.stem, item.answer, lexicon, item.pos)
    found += _distractor_pos(item, lexicon)
    return found


def _distractor_pos(item: GapFillItem, lexicon: Lexicon) -> list[Violation]:
    """Every distractor can be the same part of speech as the answer (by its lexicon entries)."""
    wanted = normalize_pos(item.pos)
    found = []
    for option in item.options:
        if option.lower() == item.answer.lower():
            continue
        known = lexicon.level_of(option, wanted)
        entries = lexicon.lookup(known.lemma) or lexicon.lookup(option)
        if entries and wanted and not any(normalize_pos(e.pos) == wanted for e in entries):
            found.append(_violation(f"the distractor '{option}' is not a {wanted}", option=option))
    return found


def validate_open_gap(item: OpenGapItem, lexicon: Lexicon) -> list[Violation]:
    """One gap, one-word answer, hidden, fitting."""
    found = _one_gap(item.stem) + _sentence_shape(item.stem, "the stem")
    if len(item.answer.split()) != 1:
        found.append(_violation("the answer must be one word", answer=item.answer))
    return found + _fits(item.stem, item.answer, lexicon, None)


def validate_word_formation(item: WordFormationItem, lexicon: Lexicon) -> list[Violation]:
    """One gap; the answer differs from the base word but shares its family; the base word is shown."""
    sentence = item.stem.replace(f"({item.base_word})", "").strip()
    found = _one_gap(item.stem) + _sentence_shape(sentence, "the stem")
    if item.answer.lower() == item.base_word.lower():
        found.append(_violation("the answer is the base word itself", answer=item.answer))
    if item.base_word not in item.stem:
        found.append(_violation("the base word is not shown in the stem", base=item.base_word))
    return found + _answer_hidden(sentence, item.answer) + _fits(sentence, item.answer, lexicon, None)


def validate_reorder(item: ReorderItem, lexicon: Lexicon) -> list[Violation]:
    """The chunks are exactly the answer's words, shuffled, and the answer is a sentence."""
    found = _sentence_shape(item.answer, "the answer")
    answer_words = sorted(w.lower() for w in item.answer.rstrip(".!?").replace(",", " ,").split() if w != ",")
    chunk_words = sorted(w.lower() for c in item.chunks for w in c.replace(",", " ,").split() if w != ",")
    if answer_words != chunk_words:
        found.append(_violation("the chunks are not exactly the words of the answer", chunks=item.chunks))
    joined = " ".join(item.chunks).lower()
    if joined == item.answer.rstrip(".!?").lower():
        found.append(_violation("the chunks are not shuffled", chunks=item.chunks))
    if len(item.chunks) < 4:
        found.append(_violation(f"only {len(item.chunks)} chunks; at least 4 are accepted", chunks=item.chunks))
    return found


def validate_error_correction(item: ErrorCorrectionItem, lexicon: Lexicon) -> list[Violation]:
    """The stem differs from the corrected sentence in exactly the one marked place."""
    found = _sentence_shape(item.answer, "the corrected sentence")
    stem_tokens = analyze(item.stem)
    marked = [t for t in stem_tokens if t.lower == item.error.lower().split()[0]]
    if item.stem == item.answer:
        found.append(_violation("the stem has no mistake", stem=item.stem))
    if len(marked) != 1:
        found.append(_violation(f"the mistake '{item.error}' is not in the stem exactly once", stem=item.stem))
        return found
    start = marked[0].start
    corrected = item.stem[:start] + item.correction + item.stem[start + len(item.error) :]
    if item.stem[start : start + len(item.error)] != item.error or corrected != item.answer:
        found.append(_violation("correcting the marked mistake does not give the answer", error=item.error))
    return found


def validate_matching(item: MatchingItem, lexicon: Lexicon) -> list[Violation]:
    """Distinct words and meanings, matched one to one, no meaning giving its word away."""
    found = []
    if not 4 <= len(item.words) <= 8:
        found.append(_violation(f"{len(item.words)} words; 4-8 are accepted", words=item.words))
    if len({w.lower() for w in item.words}) != len(item.words) or len(set(item.options)) != len(item.options):
        found.append(_violation("words or meanings are not distinct"))
    if set(item.answer) != set(item.words) or sorted(item.answer.values()) != sorted(item.options):
        found.append(_violation("the key does not match each word to exactly one of the meanings"))
    for word, meaning in item.answer.items():
        if word.lower() in meaning.lower().split():
            found.append(_violation(f"the meaning of '{word}' contains the word", meaning=meaning))
    return found


def validate_reading(item: ReadingItem, lexicon: Lexicon) -> list[Violation]:
    """3-5 questions, each answerable from the text: its evidence is a sentence of the text."""
    found = []
    if not 3 <= len(item.questions) <= 5:
        found.append(_violation(f"{len(item.questions)} questions; 3-5 are accepted"))
    if len(_words(item.text)) < 25:
        found.append(_violation("the text is shorter than 25 words", text=item.text))
    for number, question in enumerate(item.questions, 1):
        found += _question(number, question, item.text)
    return found


def _question(number: int, question: Any, text: str) -> list[Violation]:
    """One question: evidence in the text, distinct options with the answer once, and the form of its kind."""
    found = []
    if question.evidence not in text:
        found.append(_violation(f"question {number} is not answerable from the text", evidence=question.evidence))
    if question.options and [o.lower() for o in question.options].count(question.answer.lower()) != 1:
        found.append(_violation(f"question {number}: the answer is not among the options exactly once"))
    if len({o.strip().lower() for o in question.options}) != len(question.options):
        found.append(_violation(f"question {number}: options repeat", options=question.options))
    if question.kind == "multiple_choice":
        found += _multiple_choice(number, question)
    if question.kind == "true_false":
        found += _true_false(number, question)
    return found


def _multiple_choice(number: int, question: Any) -> list[Violation]:
    """A gapped sentence restored by its answer, or a question (ending in '?') with at least three options."""
    if gap_count(question.question):
        if fill_gap(question.question, question.answer) != question.evidence:
            return [_violation(f"question {number}: the answer does not restore the sentence of the text")]
        return []
    if not question.question.rstrip().endswith("?") or len(question.options) < 3:
        return [_violation(f"question {number}: a question ending in '?' with three or more options is expected")]
    return []


def _true_false(number: int, question: Any) -> list[Violation]:
    """True/False options; a statement that repeats its evidence must be keyed True."""
    if sorted(question.options) != ["False", "True"]:
        return [_violation(f"question {number}: a true/false question has the options True and False")]
    if question.question == question.evidence and question.answer != "True":
        return [_violation(f"question {number}: the true/false key disagrees with the text")]
    return []


VALIDATORS: dict[str, Callable[[Any, Lexicon], list[Violation]]] = {
    "gap_fill": validate_gap_fill,
    "open_gap": validate_open_gap,
    "word_formation": validate_word_formation,
    "reorder": validate_reorder,
    "error_correction": validate_error_correction,
    "matching": validate_matching,
    "reading": validate_reading,
}


def validate(item: Any, lexicon: Lexicon) -> list[Violation]:
    """The structural violations of any exercise item."""
    return VALIDATORS[item.type](item, lexicon)
