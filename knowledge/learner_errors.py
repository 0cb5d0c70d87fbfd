"""Rule-based detectors of common learner errors: candidates with a span, a type and ranked suggestions.

The detectors read the tagged tokens of `knowledge.nlp` and lemminflect's word readings (which parts of speech a
spelling can be), not the tags alone: the tagger was trained on edited English and often mistags learner English
("He like fish" tags `like` as a preposition). So each rule is written to over-generate slightly, and every candidate
carries the margin by which a language model must find a suggestion more likely than the learner's form before it is
reported (`agents.tutor.errors` does that check). A candidate marked `certain` needs no check ("i" -> "I").

Error types (and the family the feedback policy uses):

| type | family | examples |
|---|---|---|
| subject-verb agreement | rule | he like -> likes, they was -> were, he don't -> doesn't |
| verb tense | rule | yesterday I go -> went |
| verb form | rule | can swims -> swim, didn't went -> go, buyed -> bought, I am agree -> I agree |
| singular/plural noun | rule | three cat -> cats, two childs -> children |
| article | rule | a apple -> an apple, an dog -> a dog |
| comparative | rule | more taller -> taller |
| preposition | lexical | good in -> good at, listen music -> listen to music |
| word choice | lexical | their/there, then/than, me to. -> me too. |
| spelling | slip | freind -> friend, alot -> a lot |
| capitalisation | slip | i -> I, sentence start, english -> English |
| verb pattern | lexical | looking forward to meet -> meeting, enjoy to swim -> enjoy swimming, let me to go |
| countability | rule | informations -> information, a news -> news, much people -> many people |
| pronoun | rule | for we -> for us, between you and I -> me, me and my friend went -> my friend and I went |
| word order | rule | like very much football -> like football very much, tell me where is it -> where it is |
| false friend | lexical | I have 25 years -> I am 25, make homework -> do homework, say me -> tell me |
| punctuation | slip | For example we -> For example, we (a comma after an opening phrase) |

Besides the detectors written in code, the rules simple enough to be token patterns ("despite of", "since three
years", "If I would have") are data in knowledge/data/learner-errors.yaml (`knowledge.error_patterns`), which also
holds every rule's explanation for the learner and its source (the Cambridge Learner Corpus error codes, Swan and
Smith's *Learner English*, Swan's *Practical English Usage*).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from lemminflect import getAllLemmas, getInflection
from pydantic import BaseModel, ConfigDict
from wordfreq import top_n_list, zipf_frequency

from knowledge import error_patterns
from knowledge.nlp import Token, analyze

ErrorType = Literal[
    "subject-verb agreement", "verb tense", "verb form", "singular/plural noun", "article", "comparative",
    "preposition", "word choice", "spelling", "capitalisation", "verb pattern", "countability", "pronoun",
    "word order", "false friend", "punctuation",
]  # fmt: skip
ErrorFamily = Literal["rule", "lexical", "slip"]
ERROR_TYPES: tuple[ErrorType, ...] = (
    "subject-verb agreement", "verb tense", "verb form", "singular/plural noun", "article", "comparative",
    "preposition", "word choice", "spelling", "capitalisation", "verb pattern", "countability", "pronoun",
    "word order", "false friend", "punctuation",
)  # fmt: skip
#: Rule-governed errors (a rule the learner can apply), lexical ones (collocations, confusable words), slips.
FAMILY: dict[ErrorType, ErrorFamily] = {
    "subject-verb agreement": "rule", "verb tense": "rule", "verb form": "rule", "singular/plural noun": "rule",
    "article": "rule", "comparative": "rule", "preposition": "lexical", "word choice": "lexical",
    "spelling": "slip", "capitalisation": "slip", "verb pattern": "lexical", "countability": "rule",
    "pronoun": "rule", "word order": "rule", "false friend": "lexical", "punctuation": "slip",
}  # fmt: skip

#: Log-probability (nats) by which a suggestion must beat the learner's form, by how reliable the rule is.
MARGIN_RULE = 0.75
MARGIN_LEXICAL = 1.0
MARGIN_CONFUSABLE = 3.0
#: After 'a lot of' and 'most' a singular noun is often an uncountable use (a lot of opportunity).
MARGIN_VAGUE_QUANTIFIER = 2.0
#: Misspellings: a known word this much more frequent (Zipf) than the learner's spelling, which is below the ceiling.
SPELLING_ZIPF_GAP = 1.5
SPELLING_ZIPF_CEILING = 3.0
SPELLING_MIN_ZIPF = 3.0
#: Regular endings on irregular words (buyed, childs) are looked for below this Zipf frequency ('childs' is 3.2).
REGULARISED_ZIPF_CEILING = 3.5
#: A short adjective's -er/-est form must be at least this frequent to be suggested (bigger yes, funner no).
SHORT_FORM_MIN_ZIPF = 3.0
#: Both halves of a run-together spelling must be at least this frequent (in many: yes; pre sent: no).
SPLIT_MIN_ZIPF = 4.5
SPELLING_VOCABULARY = 50_000
MAX_SPELLING_SUGGESTIONS = 3


class ErrorCandidate(BaseModel):
    """A possible error: the learner's text at `span`, its type, and replacements for it, best first."""

    model_config = ConfigDict(frozen=True)

    span: tuple[int, int]
    """Character offsets in the text given to `find_candidates`."""
    text: str
    error_type: ErrorType
    suggestions: tuple[str, ...]
    rule: str
    """Which detector fired, e.g. 'agreement.3sg' (the feedback templates are keyed by it)."""
    margin: float = MARGIN_RULE
    """How much more likely (nats) a suggestion must be than the learner's text."""
    certain: bool = False
    """No model check needed."""


def _words(text: str) -> frozenset[str]:
    """A set of words written as one space-separated string (keeps long word lists readable)."""
    return frozenset(text.split())


# --- word readings --------------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def readings(word: str) -> dict[str, tuple[str, ...]]:
    """The parts of speech a spelling can have, with their lemmas (lemminflect's lexicon)."""
    return dict(getAllLemmas(word.lower()))


def _verb_lemma(word: str) -> str | None:
    """The verb lemma of a spelling, if it can be a verb."""
    found = readings(word).get("VERB") or readings(word).get("AUX")
    return found[0] if found else None


def _form(lemma: str, tag: str) -> str | None:
    """The first inflection of a lemma for a Penn tag."""
    forms = getInflection(lemma, tag=tag)
    return forms[0] if forms else None


def is_base_verb(word: str) -> bool:
    """Whether a spelling is a verb's base form (like, go), and not also its -s form."""
    lemma = _verb_lemma(word)
    return lemma is not None and lemma == word.lower() and _form(lemma, "VBZ") != word.lower()


def is_third_person_verb(word: str) -> bool:
    """Whether a spelling is a verb's -s form (likes, goes, has)."""
    lemma = _verb_lemma(word)
    return lemma is not None and lemma != word.lower() and _form(lemma, "VBZ") == word.lower()


def _is_past_form(word: str) -> bool:
    """Whether a spelling is a verb's past form (went, played)."""
    lemma = _verb_lemma(word)
    return lemma is not None and word.lower() in getInflection(lemma, tag="VBD")


def _noun_number(word: str) -> Literal["sg", "pl"] | None:
    """Singular or plural when the spelling can be a noun."""
    lemmas = readings(word).get("NOUN")
    if not lemmas:
        return None
    return "sg" if word.lower() in lemmas else "pl"


def _like(word: str, model: str) -> str:
    """The word with the initial capital of the one it replaces."""
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


# --- subjects and their verbs ---------------------------------------------------------------------------------

Person = Literal["first", "third", "plural"]
_NOMINATIVE: dict[str, Person] = {"i": "first", "he": "third", "she": "third", "we": "plural", "they": "plural"}
_AMBIGUOUS_PRONOUNS: dict[str, Person] = {"it": "third", "you": "plural"}
_SINGULAR_DETERMINERS = frozenset({"a", "an", "this", "that", "every", "each"})
_DETERMINERS = frozenset({"the", "my", "your", "his", "her", "our", "their", "its", "these", "those"}) | {
    *_SINGULAR_DETERMINERS
}
_PLURAL_DETERMINERS = frozenset({"these", "those"})
_INDEFINITE_PRONOUNS = frozenset(
    {"everyone", "everybody", "someone", "somebody", "nobody", "anyone", "anybody", "everything", "nothing"}
)
_QUESTION_AUX = frozenset(
    {"do", "does", "did", "can", "could", "will", "would", "should", "shall", "may", "might", "must", "is", "are",
     "am", "was", "were", "have", "has", "had"}
)  # fmt: skip
_FREQUENCY_ADVERBS = frozenset(
    {"always", "often", "never", "usually", "sometimes", "also", "really", "still", "just", "only", "rarely",
     "seldom", "even", "already", "normally", "generally", "ever", "all", "both"}
)  # fmt: skip
_MODALS = frozenset({"can", "could", "will", "would", "should", "shall", "may", "might", "must"})


@dataclass(frozen=True)
class Clause:
    """A subject and the verb slot after it (the first word after the subject and any frequency adverbs)."""

    person: Person
    subject: int
    verb: Token
    conditional: bool = False
    """The subject follows 'if' or 'wish' ('if he were' is correct)."""


def _previous_word(tokens: Sequence[Token], i: int) -> str:
    return tokens[i - 1].lower if i > 0 else ""


def clauses(tokens: Sequence[Token]) -> Iterator[Clause]:
    """Subjects (nominative pronouns, names, determiner + noun) with their verb slots, in one sentence's tokens."""
    for i in range(len(tokens)):
        found = _subject_at(tokens, i)
        if found is None:
            continue
        person, after = found
        j = after
        while j < len(tokens) and tokens[j].lower in _FREQUENCY_ADVERBS:
            j += 1
        if j < len(tokens) and tokens[j].is_word:
            conditional = _previous_word(tokens, i) in {"if", "wish", "as"}
            yield Clause(person=person, subject=i, verb=tokens[j], conditional=conditional)


def _subject_at(tokens: Sequence[Token], i: int) -> tuple[Person, int] | None:
    """(person, index after the subject) if a subject starts at token i."""
    token, before = tokens[i], _previous_word(tokens, i)
    if before in _QUESTION_AUX or (i > 0 and tokens[i - 1].tag in {"MD", "TO"}):
        return None
    if token.lower in _NOMINATIVE:
        return _NOMINATIVE[token.lower], i + 1
    if token.lower in _INDEFINITE_PRONOUNS and (i == 0 or before in _BOUNDARIES):
        return "third", i + 1
    if token.lower in _AMBIGUOUS_PRONOUNS:
        starts = i == 0 or not tokens[i - 1].is_word or before in _BOUNDARIES
        return (_AMBIGUOUS_PRONOUNS[token.lower], i + 1) if starts else None
    if i == 0 and token.tag == "NNP" and len(tokens) > 1 and tokens[1].tag != "NNP":
        return "third", 1
    if token.lower in _DETERMINERS and (i == 0 or before in _BOUNDARIES):
        return _noun_phrase(tokens, i)
    return None


_BOUNDARIES = frozenset(
    {",", ";", "and", "but", "because", "so", "when", "that", "if", "then", "or", "while", "although", "after",
     "before", "where", "yesterday", "today"}
)  # fmt: skip


#: Nouns whose plural is the singular: their number cannot be read from the word.
_SAME_PLURAL = frozenset({"fish", "sheep", "deer", "species", "series", "aircraft", "means"})


def _noun_phrase(tokens: Sequence[Token], i: int) -> tuple[Person, int] | None:
    """Determiner, at most one adjective, and a noun: its number and the index after it."""
    k = i + 1
    if k < len(tokens) and tokens[k].tag in {"JJ", "JJR", "JJS"} and "NOUN" not in readings(tokens[k].text):
        k += 1
    if k >= len(tokens) or not tokens[k].is_word or tokens[k].tag.startswith("VB"):
        return None
    number = _noun_number(tokens[k].text)
    if number is None or tokens[k].lower in _SAME_PLURAL:
        return None
    det = tokens[i].lower
    if det in _SINGULAR_DETERMINERS:
        number = "sg"
    elif det in _PLURAL_DETERMINERS:
        number = "pl"
    return ("third" if number == "sg" else "plural"), k + 1


# --- detectors ------------------------------------------------------------------------------------------------

Detector = Callable[[Sequence[Token]], list[ErrorCandidate]]


def _candidate(
    tokens: Sequence[Token], first: int, last: int, error_type: ErrorType, suggestions: Sequence[str], rule: str,
    margin: float = MARGIN_RULE, certain: bool = False,
) -> ErrorCandidate:  # fmt: skip
    """A candidate covering tokens first..last (inclusive), suggestions capitalised like the first of them.

    `text` is filled in by `find_candidates`, which has the original text (spans may cover several tokens).
    """
    model = tokens[first].text
    if first == 0 and model[:1].islower() and tokens[0].is_word:
        model = model[:1].upper() + model[1:]  # a fix of a sentence's first word also gets its capital
    written = tokens[first].text if first == last else ""
    fixed = tuple(dict.fromkeys(_like(s, model) for s in suggestions if s and _like(s, model) != written))
    return ErrorCandidate(
        span=(tokens[first].start, tokens[last].end), text="", error_type=error_type, suggestions=fixed, rule=rule,
        margin=margin, certain=certain,
    )  # fmt: skip


_BE_PRESENT: dict[Person, str] = {"first": "am", "third": "is", "plural": "are"}
_BE_PAST: dict[Person, str] = {"first": "was", "third": "was", "plural": "were"}


def agreement(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Subject-verb agreement in the present (and was/were): he like, they was, he don't, I is."""
    found = []
    for clause in clauses(tokens):
        fix = _agreeing_form(clause, tokens)
        if fix:
            rule = "agreement.be" if clause.verb.lemma == "be" else f"agreement.{clause.person}"
            found.append(_candidate(tokens, clause.verb.index - tokens[0].index, clause.verb.index - tokens[0].index,
                                    "subject-verb agreement", [fix], rule))  # fmt: skip
    return found


def _agreeing_form(clause: Clause, tokens: Sequence[Token]) -> str | None:
    """The verb form that agrees with the subject, when the written one does not."""
    verb, person = clause.verb, clause.person
    word = verb.lower
    if word in {"am", "is", "are"}:
        return _BE_PRESENT[person] if word != _BE_PRESENT[person] else None
    if word in {"was", "were"}:
        return None if clause.conditional or word == _BE_PAST[person] else _BE_PAST[person]
    if word in _MODALS or verb.tag == "MD":
        return None
    if person == "third" and is_base_verb(word) and _negated_or_lexical(verb, tokens):
        return _form(_verb_lemma(word) or word, "VBZ")
    if person != "third" and is_third_person_verb(word):
        return _verb_lemma(word)
    return None


def _negated_or_lexical(verb: Token, tokens: Sequence[Token]) -> bool:
    """A base form after a third-person subject is wrong unless it is 'do' in a question-like inversion."""
    following = tokens[verb.index - tokens[0].index + 1 :]
    return verb.lower != "do" or bool(following and following[0].lower in {"n't", "not"})


_PAST_MARKER_NOUNS = frozenset(
    {"night", "week", "weekend", "month", "year", "summer", "winter", "spring", "autumn", "time", "monday",
     "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "morning", "evening", "holiday"}
)  # fmt: skip
_OTHER_TIME = frozenset({"tomorrow", "will", "next", "now", "usually", "every", "often", "always", "'ll", "going"})
_STATE_VERBS = frozenset({"think", "believe", "hope", "guess", "mean", "know", "suppose"})


def has_past_marker(tokens: Sequence[Token]) -> bool:
    """Whether a sentence says it is about the past: yesterday, ... ago, last week."""
    words = [t.lower for t in tokens]
    if any(w in _OTHER_TIME for w in words):
        return False
    if "yesterday" in words or "ago" in words:
        return True
    return any(w == "last" and nxt in _PAST_MARKER_NOUNS for w, nxt in itertools.pairwise(words))


def past_tense(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Present verb forms in a sentence with a past-time marker: yesterday I go -> went (and 'and play')."""
    if not has_past_marker(tokens):
        return []
    found = []
    for clause in clauses(tokens):
        past = _past_of(clause)
        if past is None:
            continue
        k = clause.verb.index - tokens[0].index
        found.append(_candidate(tokens, k, k, "verb tense", [past], "tense.past_marker"))
        found += _coordinated(tokens, k)
    return found


def _past_of(clause: Clause) -> str | None:
    """The past form for a present verb in the verb slot (None if it is not a present form)."""
    word, verb = clause.verb.lower, clause.verb
    if word in {"am", "is", "are"}:
        return _BE_PAST[clause.person]
    if verb.lemma in _STATE_VERBS or word in _MODALS or verb.tag == "MD":
        return None
    if is_base_verb(word) or is_third_person_verb(word):
        lemma = _verb_lemma(word) or word
        return _form(lemma, "VBD")
    return None


def _coordinated(tokens: Sequence[Token], k: int) -> list[ErrorCandidate]:
    """A second base verb joined by 'and' to a verb that should be past (go ... and play -> played)."""
    for j in range(k + 1, len(tokens) - 1):
        if tokens[j].lower == "and" and is_base_verb(tokens[j + 1].lower) and tokens[j + 1].tag.startswith("VB"):
            past = _form(_verb_lemma(tokens[j + 1].lower) or tokens[j + 1].lower, "VBD")
            return [_candidate(tokens, j + 1, j + 1, "verb tense", [past], "tense.past_marker")] if past else []
        if tokens[j].text in {",", ";"} or tokens[j].lower in {"because", "but", "that"}:
            return []
    return []


def verb_form(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Wrong forms after modals, do/does/did and infinitive 'to': can swims, didn't went, want to went."""
    found = []
    for i, token in enumerate(tokens):
        slot = _verb_after_auxiliary(tokens, i)
        if slot is None:
            continue
        word = tokens[slot].lower
        lemma = _verb_lemma(word)
        wrong = is_third_person_verb(word) or (_is_past_form(word) and "NOUN" not in readings(word))
        if lemma and wrong and lemma != word and not (token.lower == "to" and "NOUN" in readings(word)):
            found.append(_candidate(tokens, slot, slot, "verb form", [lemma], f"form.after_{_aux_kind(token)}"))
    return found + _be_agree(tokens) + _regularised(tokens)


def _aux_kind(token: Token) -> str:
    """modal, do or to."""
    if token.lower == "to":
        return "to"
    return "do" if token.lower in {"do", "does", "did"} else "modal"


def _verb_after_auxiliary(tokens: Sequence[Token], i: int) -> int | None:
    """Index of the verb that a modal, do-auxiliary or infinitive 'to' at i governs, if any."""
    word = tokens[i].lower
    if word == "to" and tokens[i].tag == "TO":
        return i + 1 if i + 1 < len(tokens) else None
    if word not in _MODALS | {"do", "does", "did"}:
        return None
    j = i + 1
    if j < len(tokens) and tokens[j].lower in {"n't", "not"}:
        j += 1
    if j < len(tokens) and (tokens[j].lower in _NOMINATIVE or tokens[j].lower in _AMBIGUOUS_PRONOUNS):
        j += 1
    while j < len(tokens) and tokens[j].lower in _FREQUENCY_ADVERBS:
        j += 1
    if j >= len(tokens) or (j == i + 1 and word in {"do", "does", "did"}):
        return None  # "I did homework": did is the main verb
    return j


def _be_agree(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """'I am agree' -> 'I agree': agree is a verb, not an adjective."""
    found = []
    for i in range(len(tokens) - 1):
        if tokens[i].lower in {"am", "is", "are"} and tokens[i + 1].lower == "agree":
            fix = "agrees" if tokens[i].lower == "is" else "agree"
            found.append(_candidate(tokens, i, i + 1, "verb form", [fix], "form.be_agree"))
    return found


def _regularised(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Regular endings on irregular verbs and nouns: buyed -> bought, childs -> children."""
    found = []
    for i, token in enumerate(tokens):
        word = token.lower
        if not token.is_word or not word.isalpha() or zipf_frequency(word, "en") >= REGULARISED_ZIPF_CEILING:
            continue
        fix = _irregular_past(word, _previous_word(tokens, i)) if word.endswith("ed") else None
        kind: ErrorType = "verb form"
        if fix is None and word.endswith("s"):
            fix, kind = _irregular_plural(word), "singular/plural noun"
        if fix:
            found.append(_candidate(tokens, i, i, kind, [fix], "form.regularised"))
    return found


def _irregular_past(word: str, before: str) -> str | None:
    """Bought for buyed, gone for goed after have: the real past form of a stem given a regular ending."""
    participle = before in {"have", "has", "had", "was", "were", "been", "be", "is", "are"}
    stems = [word[:-2], word[:-1]] + ([word[:-3]] if len(word) > 4 and word[-3] == word[-4] else [])
    for stem in stems:
        if _verb_lemma(stem) == stem:
            real = _form(stem, "VBN" if participle else "VBD")
            if real and real != word and not real.endswith("ed"):
                return real
    return None


def _irregular_plural(word: str) -> str | None:
    """Children for childs: the real plural of a noun given a regular -s."""
    stem = word[:-1]
    if _noun_number(stem) != "sg":
        return None
    real = _form(stem, "NNS")
    return real if real and real != word and not real.endswith("s") else None


_NUMBER_WORDS = _words(
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety many several these those both few "
    "various"
)
_NUMBER_UNITS = frozenset({"hundred", "thousand", "million", "billion", "dozen", "o'clock", "percent", "per"})
_UNCOUNTABLE = _words(
    "information advice furniture money homework news luggage baggage music water bread rice weather work time "
    "equipment knowledge traffic research evidence milk coffee tea food fruit hair paper fish sheep deer"
)


def plural_after_number(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """A singular noun after a number above one or a plural quantifier: three cat -> cats, many book -> books."""
    found = []
    for i, token in enumerate(tokens[:-1]):
        after = tokens[i + 1].lower if i + 1 < len(tokens) else ""
        if not _counts_more_than_one(token, _previous_word(tokens, i), after):
            continue
        k = i + 1
        if tokens[k].tag in {"JJ", "JJR"} and "NOUN" not in readings(tokens[k].text) and k + 1 < len(tokens):
            k += 1
        noun = tokens[k]
        if _needs_plural(noun, tokens[k + 1] if k + 1 < len(tokens) else None):
            plural = _form(noun.lower, "NNS")
            vague = token.lower in {"of", "most"}  # a lot of time, most time: many nouns are uncountable there
            if plural and plural != noun.lower:
                found.append(_candidate(tokens, k, k, "singular/plural noun", [plural], "plural.after_number",
                                        MARGIN_VAGUE_QUANTIFIER if vague else MARGIN_RULE))  # fmt: skip
    return found


def _counts_more_than_one(token: Token, before: str = "", after: str = "") -> bool:
    """A number word or numeral above one, a plural quantifier (many, several, these), 'lots of', 'most'."""
    if token.lower in _NUMBER_WORDS:
        return True
    if token.lower == "of" and before in {"lot", "lots", "plenty", "number"}:
        return True
    if token.lower == "most" and before not in {"the", "a", "at", "is", "are", "was", "were"} and after != "of":
        return True
    return token.tag == "CD" and token.text.isdigit() and int(token.text) > 1 and len(token.text) < 4


def _needs_plural(noun: Token, following: Token | None) -> bool:
    """A countable singular noun that does not modify a following noun (a two hour drive)."""
    if not noun.is_word or noun.lower in _UNCOUNTABLE | _NUMBER_UNITS or noun.tag in {"NNP", "NNPS", "CD"}:
        return False
    if _noun_number(noun.text) != "sg" or noun.tag.startswith("VB") or noun.tag in {"IN", "DT", "PRP", "RB"}:
        return False
    return following is None or _noun_number(following.text) is None or following.tag in {".", ",", "IN", "CC"}


_CONSONANT_SOUND_VOWELS = ("uni", "use", "usu", "uti", "eu", "one", "once", "ufo", "ukr", "ura", "uro", "ure", "ewe")
_SILENT_H = ("hour", "honest", "honour", "honor", "heir")


def wants_an(word: str) -> bool:
    """Whether 'an' (not 'a') goes before a word, by its first sound."""
    lower = word.lower()
    if lower.startswith(_SILENT_H):
        return True
    if lower.startswith(_CONSONANT_SOUND_VOWELS):
        return False
    return lower[:1] in "aeiou"


def article(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """a/an before the wrong sound: a apple -> an apple, an dog -> a dog."""
    found = []
    for i, token in enumerate(tokens[:-1]):
        after = tokens[i + 1]
        if token.lower not in {"a", "an"} or not after.is_word or (after.text.isupper() and len(after.text) > 1):
            continue
        right = "an" if wants_an(after.text) else "a"
        if token.lower != right:
            found.append(_candidate(tokens, i, i, "article", [right], "article.a_an"))
    return found


def comparative(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Double comparatives and superlatives: more taller -> taller, most biggest -> biggest."""
    found = []
    for i, token in enumerate(tokens[:-1]):
        after = tokens[i + 1]
        if token.lower in {"more", "most"} and _is_compared(after.lower):
            found.append(_candidate(tokens, i, i + 1, "comparative", [after.text], "comparative.double"))
    return found


def _is_compared(word: str) -> bool:
    """Whether a spelling is an adjective's -er or -est form (taller, biggest)."""
    lemmas = readings(word).get("ADJ")
    if not lemmas or lemmas[0] == word:
        return False
    return word in (*getInflection(lemmas[0], tag="JJR"), *getInflection(lemmas[0], tag="JJS"))


@dataclass(frozen=True)
class Collocation:
    """A head word (by lemma) and the preposition it takes; `wrong` prepositions learners use instead."""

    heads: frozenset[str]
    wrong: frozenset[str]
    right: tuple[str, ...]


def _coll(heads: str, wrong: str, right: str) -> Collocation:
    return Collocation(frozenset(heads.split()), frozenset(wrong.split()), tuple(right.split()))


COLLOCATIONS: tuple[Collocation, ...] = (
    _coll("good bad better best great terrible", "in on", "at"),
    _coll("interested", "on about for at", "in"),
    _coll("afraid scared frightened", "from", "of"),
    _coll("married", "with", "to"),
    _coll("depend", "of from", "on"),
    _coll("arrive", "to", "in at"),
    _coll("different", "of", "from"),
    _coll("similar", "with as", "to"),
    _coll("proud", "on for about", "of"),
    _coll("famous", "of with", "for"),
    _coll("responsible", "of", "for"),
    _coll("listen", "at", "to"),
    _coll("wait", "to", "for"),
    _coll("worried", "for of", "about"),
    _coll("angry", "on", "with"),
    _coll("kind nice", "with", "to"),
)
#: Verbs that need a preposition before an object learners often leave out (listen music -> listen to music).
MISSING_PREPOSITION = {"listen": "to", "wait": "for", "look": "at", "explain": "to"}
_TIME_PREPOSITIONS = {
    "in": ({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "christmas"}, "on"),
    "on": ({"morning", "afternoon", "evening", "summer", "winter", "spring", "autumn"}, "in"),
    "at": ({"morning", "afternoon", "evening", "summer", "winter", "spring", "autumn"}, "in"),
}


def preposition(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Wrong or missing prepositions in common collocations and time phrases: good in -> good at."""
    found: list[ErrorCandidate] = []
    for i, token in enumerate(tokens[:-1]):
        after = tokens[i + 1]
        for coll in COLLOCATIONS:
            if (token.lower in coll.heads or token.lemma.lower() in coll.heads) and after.lower in coll.wrong:
                found.append(_candidate(tokens, i + 1, i + 1, "preposition", coll.right, "preposition.collocation",
                                        MARGIN_LEXICAL))  # fmt: skip
        found += _missing_preposition(tokens, i) + _time_preposition(tokens, i)
    return found


def _missing_preposition(tokens: Sequence[Token], i: int) -> list[ErrorCandidate]:
    """Listen music -> listen to music (the verb directly followed by a noun or object pronoun)."""
    token, after = tokens[i], tokens[i + 1]
    prep = MISSING_PREPOSITION.get(token.lemma.lower())
    objects = {"me", "him", "her", "us", "them"} if token.lemma.lower() == "explain" else {"me", "him", "her", "us",
                                                                                            "them", "it"}  # fmt: skip
    if prep is None or (not token.tag.startswith("VB") and token.lemma.lower() != token.lower):
        return []
    is_object = after.lower in objects or (after.tag in {"NN", "NNS", "DT", "PRP$"} and token.lemma != "explain")
    if not is_object or after.lower in {"home", "here", "there", "forward", "like", "after", "up", "around"}:
        return []
    fixed = f"{token.text} {prep}"
    return [_candidate(tokens, i, i, "preposition", [fixed], "preposition.missing", MARGIN_LEXICAL)]


def _time_preposition(tokens: Sequence[Token], i: int) -> list[ErrorCandidate]:
    """In Monday -> on Monday, at the morning -> in the morning."""
    rule = _TIME_PREPOSITIONS.get(tokens[i].lower)
    if rule is None or tokens[i].tag != "IN":
        return []
    k = i + 2 if tokens[i + 1].lower == "the" and i + 2 < len(tokens) else i + 1
    nouns, right = rule
    if tokens[k].lower in nouns and (tokens[i].lower != "in" or k == i + 1):
        return [_candidate(tokens, i, i, "preposition", [right], "preposition.time", MARGIN_LEXICAL)]
    return []


#: Confusable spellings: each is checked against the others of its set by the model (with a large margin).
CONFUSABLES: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in ("their there", "then than", "were where", "lose loose", "quite quiet", "hear here", "buy by",
                  "of off", "weather whether", "advice advise", "accept except", "its it's", "whose who's")
)  # fmt: skip


def word_choice(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Confusable words (their/there, then/than ...) and 'to' that should be 'too' at the end of a clause."""
    found = []
    for i, token in enumerate(tokens):
        for group in CONFUSABLES:
            if token.lower in group and not _is_clitic_stem(tokens, i):
                others = [w for w in sorted(group - {token.lower}) if _fits_context(w, tokens, i)]
                found.append(_candidate(tokens, i, i, "word choice", others, "word_choice.confusable",
                                        MARGIN_CONFUSABLE))  # fmt: skip
        if token.lower == "to" and i > 0 and i + 1 < len(tokens) and tokens[i + 1].text in {".", "!", ",", "?"}:
            found.append(_candidate(tokens, i, i, "word choice", ["too"], "word_choice.too"))
    return found


_COMPARING = frozenset({"more", "less", "rather", "other", "fewer", "better", "worse", "different"})


def _fits_context(word: str, tokens: Sequence[Token], i: int) -> bool:
    """Whether a confusable may replace token i: 'than' only after a comparison, 'then' only without one."""
    if word not in {"than", "then"}:
        return True
    before = tokens[max(0, i - 4) : i]
    compared = any(t.tag in {"JJR", "RBR"} or t.lower in _COMPARING for t in before)
    return compared if word == "than" else not compared


def _is_clitic_stem(tokens: Sequence[Token], i: int) -> bool:
    """Whether token i is glued to a following clitic (the 'it' of it's): not a word on its own."""
    return i + 1 < len(tokens) and tokens[i + 1].start == tokens[i].end and tokens[i + 1].lower.startswith("'")


def capitalisation(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """The pronoun I written in lower case."""
    return [
        _candidate(tokens, i, i, "capitalisation", ["I"], "capitalisation.i", certain=True)
        for i, t in enumerate(tokens)
        if t.text == "i"
    ]


#: Frequent learner spellings with a known correction (no edit-distance search needed).
KNOWN_MISSPELLINGS = {
    "alot": "a lot", "borned": "born", "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "cant": "can't",
    "wont": "won't", "isnt": "isn't", "im": "I'm", "ive": "I've", "thats": "that's", "whats": "what's",
    "wanna": "want to", "gonna": "going to", "becouse": "because", "beacause": "because",
}  # fmt: skip


def spelling(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Misspelt words: rare or unknown spellings with a much more frequent known word one or two edits away."""
    found = []
    for i, token in enumerate(tokens):
        if not _spellable(tokens, i):
            continue
        word = token.lower
        if word in KNOWN_MISSPELLINGS:
            found.append(_candidate(tokens, i, i, "spelling", [KNOWN_MISSPELLINGS[word]], "spelling.known",
                                    certain=True))  # fmt: skip
            continue
        suggestions = spelling_suggestions(word) or split_suggestion(word)
        if suggestions and _after_auxiliary(tokens, i):
            suggestions = tuple(dict.fromkeys(_base_if_verb(s) for s in suggestions))
        if suggestions:
            found.append(_candidate(tokens, i, i, "spelling", suggestions, "spelling.edit_distance"))
    return found


def _after_auxiliary(tokens: Sequence[Token], i: int) -> bool:
    """Whether token i follows do/does/did, a modal or 'to' (possibly with not): a verb there is a base form."""
    j = i - 1
    if j >= 0 and tokens[j].lower in {"not", "n't"}:
        j -= 1
    return j >= 0 and (tokens[j].lower in _MODALS | {"do", "does", "did"} or tokens[j].tag == "TO")


def _base_if_verb(word: str) -> str:
    """A suggested verb form as its base form (did not developped -> develop, not developed)."""
    lemma = _verb_lemma(word)
    return lemma if lemma and "NOUN" not in readings(word) else word


@lru_cache(maxsize=4096)
def split_suggestion(word: str) -> tuple[str, ...]:
    """Two frequent words run together (inmany -> in many), for an unknown spelling."""
    if len(word) < 5 or zipf_frequency(word, "en") >= SPELLING_MIN_ZIPF - 1:
        return ()
    splits = [(word[:k], word[k:]) for k in range(2, len(word) - 1)]
    good = [f"{a} {b}" for a, b in splits if min(zipf_frequency(a, "en"), zipf_frequency(b, "en")) >= SPLIT_MIN_ZIPF]
    return tuple(good[:1])


def _spellable(tokens: Sequence[Token], i: int) -> bool:
    """A lower-case word (or a capitalised first word) of letters only, not a name and not part of a clitic."""
    token = tokens[i]
    text = token.text
    if not token.is_word or not text.isalpha() or len(text) < 3 or token.tag in {"NNP", "NNPS"}:
        return False
    if text[1:] != text[1:].lower() or (text[0].isupper() and i > 0):
        return False
    return not _is_clitic_stem(tokens, i)


@lru_cache(maxsize=4096)
def spelling_suggestions(word: str) -> tuple[str, ...]:
    """Known words near a rare spelling, nearest and most frequent first (empty when the word looks fine)."""
    own = zipf_frequency(word, "en")
    if own >= SPELLING_ZIPF_CEILING or word in _known_forms():
        return ()
    floor = max(SPELLING_MIN_ZIPF, own + SPELLING_ZIPF_GAP)
    vocabulary = _vocabulary()
    near = [w for w in _edits1(word) if w in vocabulary]
    if not near and len(word) >= 5:
        near = [w for e in _edits1(word) for w in _edits1(e) if w in vocabulary and w[:1] == word[:1]]
    ranked = sorted(set(near), key=lambda w: -zipf_frequency(w, "en"))
    return tuple(w for w in ranked if zipf_frequency(w, "en") >= floor)[:MAX_SPELLING_SUGGESTIONS]


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away (Norvig's edits1)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts)


@cache
def _vocabulary() -> frozenset[str]:
    """The commonest English words (wordfreq), letters only: the spellings suggestions are drawn from."""
    return frozenset(w for w in top_n_list("en", SPELLING_VOCABULARY) if w.isalpha())


@cache
def _known_forms() -> frozenset[str]:
    """Spellings that are never misspellings: the CEFR vocabulary lists' headwords."""
    from knowledge.lexicon import Lexicon

    return frozenset(e.headword.lower() for e in Lexicon.load().entries())


# --- detectors written as data, and the newer code rules --------------------------------------------------------

_MARGINS = {"rule": MARGIN_RULE, "lexical": MARGIN_LEXICAL, "confusable": MARGIN_CONFUSABLE}


def patterns(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """The token patterns of knowledge/data/learner-errors.yaml (despite of, since three years, I have 25 years)."""
    found = []
    info = error_patterns.rules()
    for match in error_patterns.find(tokens):
        rule = match.pattern.rule
        kind = _error_type(info[rule].error_type) if rule in info else None
        if kind is None or not match.replacements:
            continue
        certain = match.pattern.margin == "certain"
        margin = _MARGINS.get(match.pattern.margin, MARGIN_LEXICAL)
        found.append(_candidate(tokens, match.first, match.last, kind, match.replacements, rule, margin,
                                certain=certain))  # fmt: skip
    return found


def _error_type(name: str) -> ErrorType | None:
    """The error type of that name (None for a name the data file misspelt)."""
    for kind in ERROR_TYPES:
        if kind == name:
            return kind
    return None


_HAVE = frozenset({"have", "has", "'ve"})
_PERFECT_ADVERBS = frozenset({"already", "just", "ever", "never", "also", "really", "recently"})
_PLURAL_SUBJECTS = frozenset({"we", "they", "you"})
_YEAR = re.compile(r"(19|20)\d\d$")


def has_finished_time(tokens: Sequence[Token]) -> bool:
    """A finished past time: the past markers, or 'in' + a year (in 2010)."""
    if has_past_marker(tokens):
        return True
    words = [t.lower for t in tokens]
    return any(w == "in" and _YEAR.match(nxt) for w, nxt in itertools.pairwise(words))


def present_perfect(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Present perfect with a finished past time: I have went there two years ago -> I went."""
    if not has_finished_time(tokens) or any(t.lower == "since" for t in tokens):
        return []
    found = []
    for i, token in enumerate(tokens[:-1]):
        if token.lower not in _HAVE or (token.lower == "have" and i > 0 and tokens[i - 1].tag in {"MD", "TO"}):
            continue
        j = i + 1
        while j < len(tokens) - 1 and tokens[j].lower in _PERFECT_ADVERBS:
            j += 1
        verb = tokens[j]
        lemma = _verb_lemma(verb.lower)
        if not lemma or not (verb.tag in {"VBN", "VBD"} or _is_past_form(verb.lower)) or lemma == verb.lower:
            continue
        found.append(_candidate(tokens, i, j, "verb tense", _simple_past(tokens, i, j, lemma),
                                "tense.present_perfect_past_time", MARGIN_RULE))  # fmt: skip
    return found


def _simple_past(tokens: Sequence[Token], i: int, j: int, lemma: str) -> list[str]:
    """The past simple replacing have (+ adverbs) + participle at tokens i..j (been to -> went to)."""
    adverbs = [t.text for t in tokens[i + 1 : j]]
    if lemma == "be":
        after = tokens[j + 1].lower if j + 1 < len(tokens) else ""
        before = _previous_word(tokens, i)
        was = "were" if before in _PLURAL_SUBJECTS or (i > 0 and tokens[i - 1].tag == "NNS") else "was"
        past = ["went"] if after == "to" else [was]
    else:
        past = [p for p in [_form(lemma, "VBD")] if p]
    return [" ".join([*adverbs, p]) for p in past]


_CASE_PREPOSITIONS = frozenset(
    {"for", "with", "to", "from", "about", "between", "without", "of", "at", "behind", "near", "against", "among",
     "towards", "toward", "into", "onto", "upon"}
)  # fmt: skip
_OBJECT_FORMS = {"i": "me", "he": "him", "she": "her", "we": "us", "they": "them"}


def pronoun_case(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """A subject pronoun after a preposition: for we -> for us, with he -> with him."""
    found = []
    for i, token in enumerate(tokens[1:], start=1):
        before = tokens[i - 1]
        if token.lower not in _OBJECT_FORMS or before.lower not in _CASE_PREPOSITIONS:
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if after is not None and (
            after.tag.startswith(("VB", "MD", "RB")) or after.lower in {"'m", "'re", "'s", "'ve", "'ll", "'d"}
        ):
            continue  # "for they are ..." uses for as a conjunction; "so that we can"
        found.append(_candidate(tokens, i, i, "pronoun", [_OBJECT_FORMS[token.lower]], "pronoun.object_case"))
    return found


def short_comparative(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """More/most with a short adjective: more big than -> bigger than, the most easy -> the easiest."""
    found = []
    for i, token in enumerate(tokens[:-1]):
        adjective = tokens[i + 1]
        superlative = token.lower == "most" and _previous_word(tokens, i) == "the"
        if not (token.lower == "more" or superlative) or adjective.tag != "JJ":
            continue
        after = tokens[i + 2].lower if i + 2 < len(tokens) else "."
        if not superlative and after not in {"than", ".", ",", "!", "?", "and", "for", "to"}:
            continue
        form = _short_form(adjective.lower, "JJS" if superlative else "JJR")
        if form:
            found.append(_candidate(tokens, i, i + 1, "comparative", [form], "comparative.short_adjective"))
    return found


def _short_form(adjective: str, tag: str) -> str | None:
    """The -er/-est form of a short adjective, when English uses one (big -> bigger; not important)."""
    if len(adjective) > 6 and not adjective.endswith("y"):
        return None
    form = _form(adjective, tag)
    return form if form and zipf_frequency(form, "en") >= SHORT_FORM_MIN_ZIPF else None


_PROPER = _words(
    "english french spanish german italian chinese japanese korean arabic russian portuguese turkish american "
    "british european african asian indian mexican canadian brazilian monday tuesday wednesday thursday friday "
    "saturday sunday january february april june july august september october november december"
)


_NO_THE_BEFORE = frozenset(
    {"the", "a", "an", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our", "their", "at",
     "'s", "each", "every", "any", "some", "no", "of", "very", "much", "all", "whose"}
)  # fmt: skip


def missing_the(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """'The' left out before 'same' and superlatives: in same way -> in the same way, is best -> is the best."""
    found = []
    for i, token in enumerate(tokens[:-1]):
        before = tokens[i - 1] if i > 0 else None
        if before is None or before.lower in _NO_THE_BEFORE or before.tag in {"DT", "PRP$", "POS", "CD"}:
            continue
        superlative = token.tag == "JJS" and token.lower not in {"most", "least"} and tokens[i + 1].tag.startswith("NN")
        if token.lower == "same" or superlative:
            found.append(_candidate(tokens, i, i, "article", [f"the {token.text}"], "article.missing_the",
                                    MARGIN_LEXICAL))  # fmt: skip
    return found


def sentence_capitals(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """A sentence that starts with a small letter, and languages, nationalities, days, months in small letters."""
    found = []
    first = tokens[0] if tokens else None
    if first is not None and first.is_word and first.text[:1].islower() and first.text[1:] == first.text[1:].lower():
        fixed = first.text[:1].upper() + first.text[1:]
        found.append(_candidate(tokens, 0, 0, "capitalisation", [fixed], "capitalisation.sentence_start",
                                certain=True))  # fmt: skip
    for i, token in enumerate(tokens[1:], start=1):
        if token.text in _PROPER:
            found.append(_candidate(tokens, i, i, "capitalisation", [token.text.capitalize()],
                                    "capitalisation.proper", certain=True))  # fmt: skip
    return found


_TEXT_SPEAK = {"u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks", "coz": "because",
               "cuz": "because", "bcoz": "because", "bcz": "because", "becoz": "because", "b4": "before"}  # fmt: skip
#: Uncountable nouns learners make plural (CLC code CN).
UNCOUNTABLE_PLURALS = {
    "informations": "information", "advices": "advice", "furnitures": "furniture", "homeworks": "homework",
    "knowledges": "knowledge", "equipments": "equipment", "luggages": "luggage", "baggages": "baggage",
    "stuffs": "stuff", "feedbacks": "feedback", "evidences": "evidence", "researchs": "research",
}  # fmt: skip


def lexical_slips(tokens: Sequence[Token]) -> list[ErrorCandidate]:
    """Text-speak (u -> you) and uncountable nouns with a plural -s (informations -> information)."""
    found = []
    for i, token in enumerate(tokens):
        if token.lower in _TEXT_SPEAK and not _is_clitic_stem(tokens, i):
            found.append(_candidate(tokens, i, i, "spelling", [_TEXT_SPEAK[token.lower]], "spelling.text_speak",
                                    certain=True))  # fmt: skip
        elif token.lower in UNCOUNTABLE_PLURALS:
            found.append(_candidate(tokens, i, i, "countability", [UNCOUNTABLE_PLURALS[token.lower]],
                                    "countability.plural", certain=True))  # fmt: skip
    return found


DETECTORS: tuple[Detector, ...] = (
    patterns, present_perfect, pronoun_case, short_comparative, lexical_slips, agreement, past_tense, verb_form,
    plural_after_number, article, comparative, preposition, word_choice, capitalisation, spelling,
    missing_the, sentence_capitals,
)  # fmt: skip
#: When two candidates cover overlapping text, the one from the earlier type wins (after the specific rules).
PRIORITY: tuple[ErrorType, ...] = (
    "verb form", "spelling", "countability", "capitalisation", "verb tense", "subject-verb agreement",
    "singular/plural noun", "verb pattern", "pronoun", "word order", "false friend", "article", "comparative",
    "preposition", "word choice", "punctuation",
)  # fmt: skip
#: Rules more specific than the generic ones: they win overlaps whatever their type (sentence capitals lose all).
SPECIFIC_RULES = frozenset(
    {"tense.present_perfect_past_time", "pronoun.object_case", "comparative.short_adjective", "countability.plural",
     "spelling.text_speak"}
)  # fmt: skip


def _rank(candidate: ErrorCandidate) -> tuple[int, int, tuple[int, int]]:
    """Overlap order: specific rules and patterns, then by type; the sentence-start capital last."""
    if candidate.rule == "capitalisation.sentence_start":
        tier = 2
    else:
        tier = 0 if candidate.rule in SPECIFIC_RULES or candidate.rule in _pattern_rules() else 1
    return tier, PRIORITY.index(candidate.error_type), candidate.span


@cache
def _pattern_rules() -> frozenset[str]:
    """The rule ids the data file's patterns use."""
    return frozenset(p.rule for p in error_patterns.patterns())


def explanation(candidate: ErrorCandidate, suggestion: str) -> str:
    """The learner-level explanation of a correction, from the data file."""
    return error_patterns.explanation(candidate.rule, candidate.text, suggestion)


def find_candidates(text: str) -> list[ErrorCandidate]:
    """Possible errors in a learner's text, in text order, at most one per stretch of text."""
    found: list[ErrorCandidate] = []
    for sentence in _by_sentence(analyze(text)):
        for detect in DETECTORS:
            found += [_own_text(c, text) for c in detect(sentence)]
    kept = sorted(_without_overlaps([c for c in found if c.suggestions]), key=lambda c: c.span)
    return kept


def _own_text(candidate: ErrorCandidate, text: str) -> ErrorCandidate:
    """A candidate with the text it covers, and without suggestions that are that very text."""
    written = text[candidate.span[0] : candidate.span[1]]
    kept = tuple(s for s in candidate.suggestions if s != written)
    return candidate.model_copy(update={"text": written, "suggestions": kept})


def _by_sentence(tokens: Sequence[Token]) -> list[list[Token]]:
    """Tokens grouped by sentence."""
    groups: dict[int, list[Token]] = {}
    for token in tokens:
        groups.setdefault(token.sentence, []).append(token)
    return list(groups.values())


def _without_overlaps(found: list[ErrorCandidate]) -> list[ErrorCandidate]:
    """Keep, of candidates covering overlapping text, the one whose type comes first in PRIORITY."""
    kept: list[ErrorCandidate] = []
    for c in sorted(found, key=_rank):
        if all(c.span[1] <= k.span[0] or c.span[0] >= k.span[1] for k in kept):
            kept.append(c)
    return kept


def apply(text: str, corrections: Sequence[tuple[tuple[int, int], str]]) -> str:
    """The text with non-overlapping (span, replacement) corrections applied."""
    out, last = [], 0
    for (start, end), replacement in sorted(corrections):
        out += [text[last:start], replacement]
        last = end
    return "".join([*out, text[last:]])
