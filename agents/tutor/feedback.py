"""The feedback agent: corrective feedback on each error, pitched at the learner's level (no model involved).

Policy — which kind of feedback, by the learner's estimated level, the error's family and whether it is repeated
(an error type counts as repeated once the learner model has seen it `REPEATED` times, this turn included):

| level | slip | rule-governed | lexical |
|---|---|---|---|
| A1-A2 | recast | recast; short explanation when repeated | recast |
| B1-B2 | recast | hint (the learner corrects it); short explanation when repeated | recast; explanation when repeated |
| C1-C2 | recast | short explanation | short explanation |

Slips are spelling and the capital I; rule-governed errors are agreement, tense, verb forms, plurals, articles and
comparatives; lexical ones are prepositions and confusable words.

Why: beginners gain most from recasts, the correct form given back without interrupting the conversation; from B1
learners can use a metalinguistic hint to correct rule-governed errors themselves, which they retain better; slips
need no teaching; an error that keeps coming back, and errors at C1+, are worth a short explanation of the rule.

A recast also goes into the reply itself: the learner's sentence given back corrected, as the tutor's words ("Oh,
you went to school yesterday."), with I/my/we turned into you/your; a sentence that already speaks to "you", or a
question, is quoted instead ('Better: "Did you go to the cinema?"'). Every text here is a template in A2 English
(tests check them with the ACI) filled with the learner's own words and the correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from agents.tutor.errors import LearnerError
from agents.tutor.learner import ErrorStat
from knowledge.learner_errors import ErrorFamily, ErrorType, apply
from knowledge.levels import Level
from knowledge.nlp import Token, analyze, sentence_spans

Strategy = Literal["recast", "hint", "explanation"]
#: Occurrences (this one included) from which an error type counts as repeated.
REPEATED = 3
#: Sentences recast in one reply at most.
MAX_RECASTS = 1


class Correction(BaseModel):
    """One error with the feedback chosen for it; `public()` is what the CLI's JSON shows."""

    span: tuple[int, int]
    text: str
    error_type: ErrorType
    suggestion: str
    explanation: str = Field(description="The feedback text, pitched at the level (a recast, hint or explanation).")
    strategy: Strategy
    rule: str
    family: ErrorFamily
    repeats: int = Field(description="How often the learner model has seen this error type, this one included.")
    gain: float | None = None
    why: str = Field(default="", description="The full explanation, given when the learner asks why.")

    def public(self) -> dict[str, object]:
        """The correction as `forge tutor --json` prints it."""
        return {"span": list(self.span), "error_type": self.error_type, "suggestion": self.suggestion,
                "explanation": self.explanation}  # fmt: skip


class Feedback(BaseModel):
    """The feedback of one turn: the corrections and the recast that opens the reply (empty if none)."""

    corrections: list[Correction] = Field(default_factory=list)
    recast: str = ""


def choose_strategy(level: Level, family: ErrorFamily, repeats: int) -> Strategy:
    """The kind of feedback for an error (see the policy table in the module docstring)."""
    repeated = repeats >= REPEATED
    if family == "slip":
        return "recast"
    if level <= Level.A2:
        return "explanation" if family == "rule" and repeated else "recast"
    if level <= Level.B2:
        if repeated:
            return "explanation"
        return "hint" if family == "rule" else "recast"
    return "explanation"


def give_feedback(text: str, errors: Sequence[LearnerError], level: Level, stats: dict[str, ErrorStat]) -> Feedback:
    """Corrections with feedback for every error, and the recast of the first sentence that needs one."""
    corrected = apply(text, [(e.span, e.suggestion) for e in errors])
    corrections = []
    for error in errors:
        repeats = stats[error.error_type].count if error.error_type in stats else 1
        strategy = choose_strategy(level, error.family, repeats)
        context = _context(text, error)
        explanation = explain(error, strategy, context, level)
        corrections.append(
            Correction(
                span=error.span,
                text=error.text,
                error_type=error.error_type,
                suggestion=error.suggestion,
                explanation=explanation,
                strategy=strategy,
                rule=error.rule,
                family=error.family,
                repeats=repeats,
                gain=error.gain,
                why=why(error, context, level),
            )
        )
    recast = _recast(text, corrected, [c for c in corrections if c.strategy == "recast"], errors)
    return Feedback(corrections=corrections, recast=recast)


def _context(text: str, error: LearnerError) -> str:
    """The corrected words around an error (the word before it, the fix, the word after), for templates."""
    tokens = [t for t in analyze(text) if t.is_word or t.start == error.span[0]]
    before = [t.text for t in tokens if t.end <= error.span[0]][-1:]
    after = [t.text for t in tokens if t.start >= error.span[1]][:1]
    return " ".join([*before, error.suggestion, *after])


# --- texts ----------------------------------------------------------------------------------------------------

_HINTS: dict[str, str] = {
    "agreement.third": 'Look at "{text}" again: who is doing it? Check the end of the verb.',
    "agreement.first": 'Look at "{text}" again: who is doing it? Check the end of the verb.',
    "agreement.plural": 'Look at "{text}" again: who is doing it? Check the end of the verb.',
    "agreement.be": 'Look at "{text}" again: which form of "be" goes with this person?',
    "tense.past_marker": 'Look at "{text}" again: this happened in the past. Which form do you need?',
    "form.after_modal": 'Look at "{text}" again: which form of the verb comes after can, will or must?',
    "form.after_do": 'Look at "{text}" again: which form of the verb comes after do, does or did?',
    "form.after_to": 'Look at "{text}" again: which form of the verb comes after "to"?',
    "form.regularised": 'Look at "{text}" again: this word does not follow the usual rule.',
    "form.be_agree": 'Look at "{text}" again: is "agree" a verb or an adjective?',
    "plural.after_number": 'Look at "{text}" again: is there one, or more than one?',
    "article.a_an": 'Look at "{text}" and the next word: how does the next word start when you say it?',
    "comparative.double": 'Look at "{text}" again: do you need "more" here?',
}
_EXPLANATIONS: dict[str, str] = {
    "agreement.third": 'After he, she, it or one person, put -s on the verb: "{context}".',
    "agreement.first": 'After I, you, we or they, there is no -s on the verb: "{context}".',
    "agreement.plural": 'After I, you, we, they or more than one person, there is no -s on the verb: "{context}".',
    "agreement.be": 'It is I am, he is, they are, and I was, they were: "{context}".',
    "tense.past_marker": "For finished time in the past (yesterday, last week, two days ago), use the past: "
    '"{context}".',
    "form.after_modal": 'After can, will, must or should, use the verb with no ending: "{context}".',
    "form.after_do": 'After do, does or did, use the verb with no ending: "{context}".',
    "form.after_to": 'After "to", use the verb with no ending: "{context}".',
    "form.regularised": 'This word is different: the right form is "{suggestion}", not "{text}".',
    "form.be_agree": '"Agree" is a verb, so there is no "am" or "is" before it: "{context}".',
    "plural.after_number": 'After a number bigger than one, or after "many", use the plural: "{context}".',
    "article.a_an": 'Use "an" before a word that starts with a, e, i, o or u when you say it, and "a" before other '
    'words: "{context}".',
    "comparative.double": 'A word like "{suggestion}" has no "more" before it: "{context}".',
    "preposition.collocation": 'The right small word here is "{suggestion}": "{context}".',
    "preposition.missing": 'Put a small word after this verb: "{context}".',
    "preposition.time": 'Use "on" with days and "in" with the morning or the summer: "{context}".',
    "word_choice.confusable": '"{text}" and "{suggestion}" sound almost the same but they mean different things; '
    'here it is "{suggestion}".',
    "word_choice.too": '"Too" (with two o\'s) is like "also": "{context}".',
}
_METALINGUISTIC: dict[str, str] = {
    "agreement.third": 'A third-person singular subject takes the -s form in the present simple: "{context}".',
    "agreement.first": 'Only third-person singular subjects take the -s form: "{context}".',
    "agreement.plural": 'Plural subjects take the base form in the present simple: "{context}".',
    "tense.past_marker": 'A finished past time (yesterday, last week, ago) calls for the past simple: "{context}".',
    "form.after_modal": 'Modal verbs are followed by the bare infinitive: "{context}".',
    "form.after_do": 'The auxiliary do carries the tense, so the main verb stays in the base form: "{context}".',
    "form.after_to": 'The to-infinitive uses the base form of the verb: "{context}".',
    "form.regularised": 'This is an irregular form: "{suggestion}", not "{text}".',
    "plural.after_number": 'Countable nouns are plural after numbers above one and after "many": "{context}".',
    "article.a_an": 'The choice of a/an depends on the first sound of the next word, not its spelling: "{context}".',
}
_GENERIC_HINT = 'Look at "{text}" again. Can you find the mistake?'
_RECAST_TEXT = 'Better: "{context}".'


def why(error: LearnerError, context: str, level: Level) -> str:
    """The explanation a learner gets on asking why: the detector's own, else the explanation template."""
    return error.explanation or explain(error, "explanation", context, level)


def explain(error: LearnerError, strategy: Strategy, context: str, level: Level) -> str:
    """The feedback text for one error and strategy."""
    values = {"text": error.text, "suggestion": error.suggestion, "context": context}
    if strategy == "hint":
        return _HINTS.get(error.rule, _GENERIC_HINT).format(**values)
    if strategy == "explanation":
        table = _METALINGUISTIC if level >= Level.C1 and error.rule in _METALINGUISTIC else _EXPLANATIONS
        if error.explanation and table is _EXPLANATIONS:
            return error.explanation  # the rule's own explanation (knowledge/data/learner-errors.yaml)
        return table.get(error.rule, _RECAST_TEXT).format(**values)
    if error.error_type == "spelling":
        return f'The spelling is "{error.suggestion}".'
    if error.error_type == "capitalisation":
        return 'We always write "I" with a capital letter.'
    return _RECAST_TEXT.format(**values)


# --- recasts --------------------------------------------------------------------------------------------------

_SHIFT = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "we": "you", "us": "you",
    "our": "your", "ours": "yours", "ourselves": "yourselves", "am": "are", "'m": "'re",
}  # fmt: skip
_SECOND_PERSON = frozenset({"you", "your", "yours", "yourself", "yourselves"})
_OPENERS = ("Oh,", "I see,", "OK,")


def _recast(
    text: str, corrected: str, recasts: Sequence[Correction], errors: Sequence[LearnerError]
) -> str:  # fmt: skip
    """The corrected first sentence with a recast error, as the tutor's words."""
    if not recasts:
        return ""
    first = min(recasts, key=lambda c: c.span[0])
    shift = sum(len(e.suggestion) - (e.span[1] - e.span[0]) for e in errors if e.span[1] <= first.span[0])
    for start, end in sentence_spans(corrected):
        if start <= first.span[0] + shift < end:
            return recast_sentence(corrected[start:end], opener=_OPENERS[first.span[0] % len(_OPENERS)])
    return ""


def recast_sentence(sentence: str, opener: str = "Oh,") -> str:
    """A corrected learner sentence given back in the tutor's voice (I -> you), or quoted when that would confuse."""
    tokens = analyze(sentence)
    words = {t.lower for t in tokens}
    if sentence.rstrip().endswith("?") or words & _SECOND_PERSON:
        return f'Better: "{sentence.strip()}"'
    out, last = [], 0
    for i, token in enumerate(tokens):
        replacement = _shifted(tokens, i)
        if replacement is not None:
            out += [sentence[last : token.start], replacement]
            last = token.end
    body = "".join([*out, sentence[last:]]).strip()
    if tokens and tokens[0].tag not in {"NNP", "NNPS"}:
        body = body[:1].lower() + body[1:]
    return f"{opener} {body}"


def _shifted(tokens: Sequence[Token], i: int) -> str | None:
    """The second-person form of a first-person token ('was' after I or we becomes 'were')."""
    token = tokens[i]
    if token.lower == "was" and i > 0 and tokens[i - 1].lower in {"i", "we"}:
        return "were"
    return _SHIFT.get(token.lower)
