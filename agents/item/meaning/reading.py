"""Meaning checks of reading items: questions ask about the text in other words, and each key is the one answer.

They judge any reading item (ours or another chatbot's) from its text and questions alone:

- a question or statement must not copy a sentence of the text, whole, with one word gapped, or as a run of
  `COPY_RUN` or more consecutive words: that tests matching shapes, not reading;
- a true/false statement must not be a sentence of the text with one or two words swapped (the answer is then
  always False and nothing is understood);
- a multiple-choice answer must be stated in the text (every content word of it is found there), and no other
  option may be; a main-idea option is judged by its similarity to the whole text (MiniLM), the key clearly first.

The lexical helpers are shared with the reading builder, which checks its own questions the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agents.item.meaning.base import DEFAULT_THRESHOLDS, Judge, problem
from knowledge.items import GAP, Item, Question, ReadingItem
from knowledge.nlp import analyze, sentences
from knowledge.violations import Violation

#: A question sharing this many consecutive words with a sentence of the text copies it.
COPY_RUN = 6
#: At most this many words changed (on each side) make a statement "a text sentence with a word swapped".
SWAP_WORDS = 2
#: The main-idea key must be this much more similar to the text than every other option.
MAIN_IDEA_MARGIN = DEFAULT_THRESHOLDS.main_idea_margin
#: A key in other words than the text must be at least this similar to a sentence of it.
PARAPHRASE_MIN = 0.5
_CONTENT_UPOS = frozenset({"NOUN", "VERB", "ADJ", "ADV", "PROPN", "NUM"})
_NOT_CONTENT = frozenset(
    {"be", "have", "do", "very", "really", "too", "so", "also", "just", "not", "because", "then", "there", "which"}
)
_NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
_NUMBERS = {w: str(i) for i, w in enumerate(_NUMBER_WORDS)}
_MAIN_IDEA = re.compile(r"\b(mainly about|main idea|best title|mostly about)\b", re.IGNORECASE)


def words(text: str) -> list[str]:
    """The lower-cased words and numbers of a text, in order (punctuation and the gap left out)."""
    found = (t.lower.strip("'") for t in analyze(text.replace(GAP, " ")))
    return [w for w in found if any(c.isalnum() for c in w)]


def content_lemmas(text: str) -> set[str]:
    """Lemmas of the content words of a text (numbers as digits), what 'stated in the text' compares."""
    found = set()
    for t in analyze(text):
        if (t.is_word or t.upos == "NUM") and t.upos in _CONTENT_UPOS and t.lemma.lower() not in _NOT_CONTENT:
            found.add(_NUMBERS.get(t.lower, t.lemma.lower()))
    return found


def _text_lemmas(text: str) -> set[str]:
    """Every lemma and word form of a text (numbers also as digits), to look content words up in."""
    found = set()
    for t in analyze(text):
        found |= {t.lower, t.lemma.lower(), _NUMBERS.get(t.lower, t.lower)}
    return found


def supported(option: str, text: str) -> bool:
    """Whether the text states the option: every content word of it occurs in the text (as a word or lemma)."""
    needed = content_lemmas(option)
    return bool(needed) and needed <= _text_lemmas(text)


def copied_run(question: str, sentence: str, run: int = COPY_RUN) -> bool:
    """Whether the question contains `run` consecutive words of the sentence (or all of a shorter sentence)."""
    q, s = words(question), words(sentence)
    if not q or not s:
        return False
    if len(s) < run:
        return " ".join(s) in " ".join(q) and len(s) >= max(3, len(q) - 1)
    grams = {tuple(s[i : i + run]) for i in range(len(s) - run + 1)}
    return any(tuple(q[i : i + run]) in grams for i in range(len(q) - run + 1))


def gapped_copy(question: str, sentence: str) -> bool:
    """Whether the question is the sentence with a word or short phrase replaced by a gap."""
    if GAP not in question:
        return False
    before, _, after = question.partition(GAP)
    b, a, s = words(before), words(after), words(sentence)
    middle = len(s) - len(b) - len(a)
    return 1 <= middle <= 3 and s[: len(b)] == b and (not a or s[-len(a) :] == a)


def swapped_copy(statement: str, sentence: str) -> bool:
    """Whether the statement is the sentence with one or two words changed (and everything else the same)."""
    q, s = words(statement), words(sentence)
    if len(s) < 4 or q == s:
        return False
    prefix = 0
    while prefix < min(len(q), len(s)) and q[prefix] == s[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(q), len(s)) - prefix and q[-1 - suffix] == s[-1 - suffix]:
        suffix += 1
    return len(q) - prefix - suffix <= SWAP_WORDS and len(s) - prefix - suffix <= SWAP_WORDS


def copies_text(question: str, text: str) -> str | None:
    """The sentence of the text the question copies (whole, gapped or as a long run), or None."""
    for sentence in sentences(text):
        if copied_run(question, sentence) or gapped_copy(question, sentence):
            return sentence
    return None


def swaps_text(statement: str, text: str) -> str | None:
    """The sentence of the text the statement repeats with a word or two swapped, or None."""
    return next((s for s in sentences(text) if swapped_copy(statement, s)), None)


def is_main_idea(question: Question) -> bool:
    """Whether the question asks what the whole text is about."""
    return question.slot == "main_idea" or bool(_MAIN_IDEA.search(question.question))


def check(judge: Judge, item: Item) -> list[Violation]:
    """What makes a reading item unusable for a learner although its form is right."""
    if not isinstance(item, ReadingItem):
        return []
    found: list[Violation] = []
    for number, question in enumerate(item.questions, 1):
        found += _question(judge, number, question, item.text)
    found += _balance(item.questions)
    return found


def _question(judge: Judge, number: int, question: Question, text: str) -> list[Violation]:
    """The problems of one question."""
    copied = copies_text(question.question, text)
    if copied is not None:
        message = f"question {number} copies a sentence of the text instead of asking about it in other words"
        return [problem("meaning", message, question=question.question, sentence=copied)]
    if question.kind == "true_false":
        swapped = swaps_text(question.question, text)
        if swapped is not None:
            message = f"question {number} is a sentence of the text with a word swapped, not a statement to judge"
            return [problem("meaning", message, question=question.question, sentence=swapped)]
        return []
    if GAP in question.question:
        return []
    if is_main_idea(question):
        return _main_idea(judge, number, question, text)
    return _detail(judge, number, question, text)


def _detail(judge: Judge, number: int, question: Question, text: str) -> list[Violation]:
    """A detail question: the key stated in the text (or clearly its closest option), and no other option stated."""
    also = [o for o in question.options if o != question.answer and supported(o, text)]
    if also:
        message = f"question {number}: the text also supports {', '.join(repr(o) for o in also)}"
        return [problem("ambiguous_key", message, question=question.question, options=also)]
    if not supported(question.answer, text) and not _closest(judge, question, text):
        message = f"question {number}: the text does not state the answer '{question.answer}'"
        return [problem("meaning", message, question=question.question, answer=question.answer)]
    return []


def _closest(judge: Judge, question: Question, text: str) -> bool:
    """Whether a key in other words than the text is clearly the option closest to one of its sentences (MiniLM)."""
    best: dict[str, float] = {}
    for option in question.options:
        scores = [judge.similarity(f"{question.question} {option}", s) for s in sentences(text)]
        if any(s is None for s in scores):
            return False
        best[option] = max(s or 0.0 for s in scores)
    rivals = [v for o, v in best.items() if o != question.answer]
    return best[question.answer] >= PARAPHRASE_MIN and all(
        best[question.answer] - v >= judge.thresholds.main_idea_margin for v in rivals
    )


def _main_idea(judge: Judge, number: int, question: Question, text: str) -> list[Violation]:
    """A main-idea question: the key clearly the option closest to the whole text (when MiniLM is available)."""
    scores = {o: judge.similarity(text, o) for o in question.options}
    if any(s is None for s in scores.values()):
        return []
    key = scores[question.answer] or 0.0
    rivals = {o: round(s or 0.0, 3) for o, s in scores.items() if o != question.answer}
    close = {o: s for o, s in rivals.items() if s >= key - judge.thresholds.main_idea_margin}
    if close:
        message = f"question {number}: {', '.join(repr(o) for o in close)} describes the text as well as the key"
        return [problem("ambiguous_key", message, question=question.question, key=round(key, 3), rivals=close)]
    return []


def _balance(questions: Sequence[Question]) -> list[Violation]:
    """Advice when three or more true/false statements all have the same key (a learner can guess the pattern)."""
    keys = [q.answer for q in questions if q.kind == "true_false"]
    if len(keys) >= 3 and len(set(keys)) == 1:
        return [problem("meaning", f"every true/false statement is {keys[0]}", warning=True, keys=keys)]
    return []
