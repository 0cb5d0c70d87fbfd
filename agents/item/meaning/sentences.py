"""Meaning checks of one-sentence items: gap fill, open gap, word formation, error correction, reorder.

Each asks the question a teacher asks before photocopying the item, of the local model's log-probabilities (the
sum over the rest of the sentence, so every candidate is judged in its whole context):

- gap fill: the key is the model's clear favourite; no distractor comes within `MARGIN` nats of it (a distractor
  that close may also be correct).
- open gap: no other word of the gapped class (or of any class, for items from elsewhere) fits nearly as well
  unless the item lists it among its accepted answers.
- word formation: the base word does not fit the gap unchanged, and the key fits clearly better than it.
- error correction: the corrected sentence is clearly more likely than the one with the planted error.
- reorder: no other natural order (two noun phrases or two adverbials swapped, a phrase fronted) reads as well.

Every item also gets its topic similarity (MiniLM) as evidence; below `TOPIC_FLOOR` the item is marked general
(a warning: reviewers accept sound general items, but the teacher should know).
"""

from __future__ import annotations

from agents.item.meaning.base import DEFAULT_THRESHOLDS, Judge, fluency, kindred, mentions_word, problem
from knowledge.items import (
    GAP,
    ErrorCorrectionItem,
    GapFillItem,
    Item,
    OpenGapItem,
    ReorderItem,
    WordFormationItem,
    fill_gap,
)
from knowledge.nlp import Token, analyze
from knowledge.violations import Violation

#: Nats by which the key must beat every other candidate for it to be the only answer (calibrated on the
#: reviewed items: distractors the reviewers called "also plausible" came within 2 nats of the key).
MARGIN = DEFAULT_THRESHOLDS.gap_margin
#: Nats by which a corrected sentence must beat the sentence with the planted error. Zero: the small model
#: prefers "She eats an apple" to "She eat an apple" by only 0.7 nats, but never prefers the planted error.
CORRECTION_GAIN = 0.0
#: Nats by which the key order must beat another order: grammatical orders score within about 5 nats of each
#: other ("My sister gave the book to my brother" is 2.3 below its mirror), broken ones 15-30 below.
REORDER_MARGIN = DEFAULT_THRESHOLDS.reorder_margin
#: A preposition gap outside a fixed phrase needs this margin: the small model rates prepositions that also fit
#: ("played around the garden", "across Australia") 4-6 nats below the original one.
FREE_PREPOSITION_MARGIN = DEFAULT_THRESHOLDS.free_preposition_margin
#: Words that take one preposition and no other (dependent prepositions): a gap after them has one answer.
FIXED_PREPOSITIONS: dict[str, str] = {
    "afraid": "of", "proud": "of", "full": "of", "fond": "of", "aware": "of", "capable": "of", "tired": "of",
    "care": "of", "consist": "of", "interested": "in", "believe": "in", "succeed": "in", "involved": "in",
    "depend": "on", "rely": "on", "insist": "on", "concentrate": "on", "focus": "on", "good": "at", "bad": "at",
    "listen": "to", "belong": "to", "similar": "to", "married": "to", "wait": "for", "famous": "for",
    "responsible": "for", "apologise": "for", "apologize": "for", "pay": "for", "thank": "for",
    "suffer": "from", "different": "from", "agree": "with",
}  # fmt: skip
#: Below this MiniLM similarity between the item's sentence and its topic the item counts as general.
TOPIC_FLOOR = 0.2
#: Grammar words an open gap may hold, by the class the item says it tests.
FUNCTION_WORDS: dict[str, tuple[str, ...]] = {
    # A gapped article competes with every determiner that can stand there: "in _____ gun" takes 'his' too.
    "article": ("a", "an", "the", "his", "her", "their", "my", "your", "our", "its", "this", "that", "every"),
    "preposition": (
        "in", "on", "at", "to", "for", "with", "from", "of", "by", "about", "into", "across", "throughout",
        "over", "under", "during", "after", "before", "through", "around", "near",
    ),
    "pronoun": (
        "he", "she", "it", "they", "we", "you", "i", "his", "her", "their", "its", "our", "my", "your", "the", "a",
        "this", "that",
    ),
    "auxiliary": (
        "is", "are", "was", "were", "has", "have", "had", "do", "does", "did", "will", "can", "would", "could",
        "should", "must", "may", "might",
    ),
    "conjunction": ("and", "but", "or", "because", "so", "when", "if", "although", "while", "as", "since", "until"),
}  # fmt: skip


def check(judge: Judge, item: Item) -> list[Violation]:
    """What makes a one-sentence item unusable for a learner although its form is right."""
    found: list[Violation] = []
    if isinstance(item, GapFillItem):
        found = _gap_fill(judge, item)
    elif isinstance(item, OpenGapItem):
        found = _open_gap(judge, item)
    elif isinstance(item, WordFormationItem):
        found = _word_formation(judge, item)
    elif isinstance(item, ErrorCorrectionItem):
        found = _error_correction(judge, item)
    elif isinstance(item, ReorderItem):
        found = _reorder(judge, item)
    return found + _mention(item) + _natural(judge, item) + _topic(judge, item)


def _mention(item: Item) -> list[Violation]:
    """A sentence about a word ('The word "_____" is ...') tests nothing a learner needs."""
    sentence = correct_sentence(item)
    if sentence and mentions_word(sentence):
        return [problem("meaning", "the sentence talks about a word instead of using it", sentence=sentence)]
    return []


def correct_sentence(item: Item) -> str | None:
    """The sentence the learner ends up with when the item is answered right (None for multi-sentence types)."""
    if isinstance(item, GapFillItem | OpenGapItem):
        return fill_gap(item.stem, item.answer)
    if isinstance(item, WordFormationItem):
        return fill_gap(_gap_stem(item.stem), item.answer)
    if isinstance(item, ErrorCorrectionItem | ReorderItem):
        return item.answer
    return None


def _natural(judge: Judge, item: Item) -> list[Violation]:
    """The answered sentence must read as natural English to the local model (mean log-probability per word)."""
    sentence = correct_sentence(item)
    value = fluency(judge.score, sentence) if sentence else None
    floor = judge.thresholds.fluency_floor
    if value is None or value >= floor:
        return []
    return [
        problem(
            "unnatural",
            f"the sentence reads as unnatural (log-probability {value:.2f} per word, floor {floor})",
            sentence=sentence,
            fluency=round(value, 3),
        )
    ]


def gap_scores(judge: Judge, stem: str, words: list[str]) -> dict[str, float] | None:
    """Log-probability of the sentence's rest with each word in the stem's gap (None without a scorer)."""
    cut = stem.find(GAP)
    if cut < 0:
        return None
    prefix, suffix = stem[:cut], stem[cut + len(GAP) :]
    unique = list(dict.fromkeys(w for w in words if w))
    scores = judge.score(prefix, [w + suffix for w in unique])
    return dict(zip(unique, scores, strict=True)) if scores is not None else None


def rivals(scores: dict[str, float], key: str, allowed: set[str], margin: float = MARGIN) -> list[str]:
    """Candidates within `margin` nats of the key (or above it), other than the key and allowed answers."""
    best = scores[key]
    return [w for w, s in scores.items() if w != key and w.lower() not in allowed and s > best - margin]


def _gap_stem(stem: str) -> str:
    """The stem without a trailing "(BASE)" cue, so the gap is scored in the sentence alone."""
    head, sep, tail = stem.rpartition(" (")
    return head if sep and tail.endswith(")") and tail[:-1].isupper() else stem


def _gap_fill(judge: Judge, item: GapFillItem) -> list[Violation]:
    """No distractor may be the same kind of thing as the key, and the key must be the clear favourite."""
    for option in item.options:
        kind = (
            kindred(judge.lexicon, item.target_word or item.answer, option, item.pos) if option != item.answer else None
        )
        if kind:
            return [problem("ambiguous_key", f"'{option}' is, like '{item.answer}', a kind of {kind}: it may fit too")]
    scores = gap_scores(judge, item.stem, [item.answer, *item.options])
    if scores is None:
        return []
    close = rivals(scores, item.answer, set(), judge.thresholds.gap_margin)
    if not close:
        return []
    return [
        problem(
            "ambiguous_key",
            f"'{close[0]}' fits the gap about as well as the key '{item.answer}'",
            scores={k: round(v, 2) for k, v in scores.items()},
            margin=judge.thresholds.gap_margin,
        )
    ]


def _open_gap(judge: Judge, item: OpenGapItem) -> list[Violation]:
    """No grammar word but the key and the accepted answers may fit the gap nearly as well."""
    if item.answer.lower() in MODALS:
        return [problem("ambiguous_key", f"a modal gap takes other modals too ('{item.answer}': could, may, will...)")]
    pool = FUNCTION_WORDS.get(item.focus) or tuple(w for words in FUNCTION_WORDS.values() for w in words)
    like = item.answer[:1].isupper()
    forms = [item.answer, *((w.capitalize() if like else w) for w in pool)]
    scores = gap_scores(judge, item.stem, forms)
    if scores is None:
        return []
    allowed = {a.lower() for a in item.accepted_answers} | {item.answer.lower()}
    free = item.focus == "preposition" and not fixed_phrase(item)
    margin = judge.thresholds.free_preposition_margin if free else judge.thresholds.gap_margin
    close = rivals(scores, item.answer, allowed, margin)
    if not close:
        return []
    return [
        problem(
            "ambiguous_key",
            f"the gap also takes {', '.join(repr(w) for w in close[:3])}, not listed as accepted answers",
            scores={k: round(v, 2) for k, v in scores.items() if k in close or k == item.answer},
            margin=margin,
        )
    ]


#: Nats by which the key must beat a base word that could stand in the gap as it is (same part of speech).
SAME_POS_MARGIN = DEFAULT_THRESHOLDS.same_pos_margin
_POS_NAMES = {"NOUN": "noun", "VERB": "verb", "ADJ": "adjective", "ADV": "adverb"}


def fixed_phrase(item: OpenGapItem) -> bool:
    """Whether the gapped preposition is the one its head word always takes (interested in, afraid of)."""
    return takes_only(item.stem.split(GAP)[0], item.answer)


def takes_only(before: str, preposition: str) -> bool:
    """Whether the last word of `before` takes `preposition` and no other (dependent prepositions)."""
    tokens = [t for t in analyze(before) if t.is_word]
    return bool(tokens) and FIXED_PREPOSITIONS.get(tokens[-1].lemma.lower()) == preposition.lower()


def _word_formation(judge: Judge, item: WordFormationItem) -> list[Violation]:
    """The base word must not fit the gap unchanged; the key must beat it clearly (more so if it could stand there)."""
    base = item.base_word.lower()
    if base == item.answer.lower():
        return [problem("ambiguous_key", f"the key '{item.answer}' is the base word unchanged")]
    stem = _gap_stem(item.stem)
    scores = gap_scores(judge, stem, [item.answer, base])
    if scores is None or base not in scores:
        return []
    same = _shared_pos(judge, fill_gap(stem, item.answer), item.answer, base)
    margin = judge.thresholds.same_pos_margin if same else judge.thresholds.gap_margin
    if scores[base] <= scores[item.answer] - margin:
        return []
    why = f"'{base}' is a {same} too and" if same else f"the base word '{base}'"
    return [
        problem(
            "ambiguous_key",
            f"{why} fits the gap unchanged about as well as '{item.answer}'",
            scores={k: round(v, 2) for k, v in scores.items()},
            margin=margin,
        )
    ]


def _shared_pos(judge: Judge, sentence: str, answer: str, base: str) -> str | None:
    """The key's part of speech in the sentence, if the word lists give the base word that part of speech too."""
    token = next((t for t in analyze(sentence) if t.lower == answer.lower()), None)
    pos = _POS_NAMES.get(token.upos) if token else None
    if pos is None:
        return None
    return pos if any(e.pos == pos for e in judge.lexicon.lookup(base)) else None


#: Modal verbs: one fits a gap wherever another does ("The donkey _____ be a good mascot": can, could, may, will),
#: and the small model's preference among them says nothing about which one a learner must write.
MODALS = frozenset({"can", "could", "will", "would", "shall", "should", "may", "might", "must"})
#: Words before a noun that fix its number, so a plural mistake after them has one correction ('three book').
NUMBER_WORDS = frozenset({
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "many", "several", "these", "those",
    "both", "few", "various", "numerous", "all", "some",
})  # fmt: skip
#: Subjects a verb agrees with whose number a learner would not change to fix the verb.
PRONOUN_SUBJECTS = frozenset({"i", "you", "he", "she", "it", "we", "they", "this", "that", "everyone", "nobody"})
_FINITE_TAGS = frozenset({"VBZ", "VBP", "VBD", "MD"})
#: Nouns after which 'of' asks for a plural ('a number of houses', 'a couple of days').
_PLURAL_OF = frozenset({"number", "lot", "lots", "couple", "pair", "group", "dozens", "hundreds", "thousands", "one"})
#: Words that put a sentence in the past, so a verb in the base form there has one correction ('Yesterday I go').
PAST_MARKERS = frozenset({"yesterday", "ago", "last", "earlier", "once", "formerly", "previously"})


def _number_fixed(tokens: list[Token], i: int) -> bool:
    """Whether the words before token i ask for a plural: a number word, or 'a number of', 'one of my' and the like."""
    j = i - 1
    while j >= max(0, i - 3) and tokens[j].upos in ("DET", "ADJ", "PRON") and tokens[j].lower not in NUMBER_WORDS:
        j -= 1  # over 'my best' in 'one of my best friends'
    if j < 0:
        return False
    if tokens[j].lower in NUMBER_WORDS:
        return True
    return j >= 1 and tokens[j].lower == "of" and tokens[j - 1].lower in _PLURAL_OF


def _a_past_year(token: Token) -> bool:
    """A year before this one ('in 1990'), which makes the sentence past."""
    return token.text.isdigit() and len(token.text) == 4 and 1000 <= int(token.text) < 2025


def second_fix(stem: str, answer: str, error_type: str) -> str | None:
    """Why the planted mistake has another one-word correction than the key, or None when it has only the key.

    Teachers rejected "a tour from the city" (nothing wrong: a tour can start from a city) and "The refugee were
    displaced" (refugees were, or refugee was). So a preposition mistake needs a preposition its head word always
    takes (interested in); a noun-number mistake needs a word fixing the number (three book) or no verb agreeing
    with it; an agreement mistake needs a pronoun subject (she go), not a noun whose number could change.
    """
    right, wrong = [t for t in analyze(answer) if t.is_word], [t for t in analyze(stem) if t.is_word]
    if len(right) != len(wrong):
        return None
    changed = [i for i, (a, b) in enumerate(zip(right, wrong, strict=True)) if a.lower != b.lower]
    if len(changed) != 1:
        return None
    i = changed[0]
    before = right[i - 1].lower if i else ""
    if error_type == "preposition" and not takes_only(answer[: right[i].start], right[i].text):
        return f"'{wrong[i].text}' can be right here too: '{right[i].text}' is not fixed by the word before it"
    if error_type == "singular/plural noun" and not _number_fixed(right, i):
        after = right[i + 1] if i + 1 < len(right) else None
        if after is not None and after.tag in _FINITE_TAGS:
            return f"'{after.text}' could be changed instead of '{wrong[i].text}' (two corrections)"
        return f"'{wrong[i].text}' is correct English here too: nothing before it asks for the plural"
    if error_type == "verb tense" and not any(t.lower in PAST_MARKERS or _a_past_year(t) for t in right):
        return f"nothing in the sentence says it is past, so '{wrong[i].text}' has other corrections than the key"
    if error_type == "subject-verb agreement" and i and right[i - 1].upos in ("NOUN", "PROPN"):
        return f"'{right[i - 1].text}' could be changed instead of '{wrong[i].text}' (two corrections)"
    if error_type == "subject-verb agreement" and i and right[i - 1].upos == "PRON" and before not in PRONOUN_SUBJECTS:
        return f"'{right[i - 1].text}' could be changed instead of '{wrong[i].text}' (two corrections)"
    return None


def _error_correction(judge: Judge, item: ErrorCorrectionItem) -> list[Violation]:
    """The planted mistake has one correction, and the corrected sentence reads clearly better."""
    other = second_fix(item.stem, item.answer, item.error_type)
    if other:
        return [problem("ambiguous_key", other, error=item.error, correction=item.correction)]
    scores = judge.score("", [item.stem, item.answer])
    if scores is None:
        return []
    wrong, right = scores
    if right - wrong > CORRECTION_GAIN:
        return []
    return [
        problem(
            "ambiguous_key",
            f"'{item.error}' may not be wrong here: the corrected sentence is not clearly more natural",
            wrong=round(wrong, 2),
            corrected=round(right, 2),
            gain=CORRECTION_GAIN,
        )
    ]


def _reorder(judge: Judge, item: ReorderItem) -> list[Violation]:
    """No other plausible order of the chunks may read nearly as well as the key."""
    tokens = analyze(item.answer)
    others = [s for s in alternative_orders(item.answer, tokens) if s.lower() != item.answer.lower()]
    if not others:
        return []
    scores = judge.score("", [item.answer, *others])
    if scores is None:
        return []
    close = [s for s, v in zip(others, scores[1:], strict=True) if v > scores[0] - judge.thresholds.reorder_margin]
    if not close:
        return []
    return [
        problem(
            "ambiguous_key",
            f'another order also reads well: "{close[0]}"',
            key=round(scores[0], 2),
            alternatives={s: round(v, 2) for s, v in zip(others, scores[1:], strict=True)},
            margin=judge.thresholds.reorder_margin,
        )
    ]


_NOMINAL = frozenset({"NN", "NNS", "NNP", "NNPS", "PRP"})


def alternative_orders(sentence: str, tokens: list[Token]) -> list[str]:
    """Other orders a learner may reasonably make: two noun heads swapped, the last phrase fronted."""
    words = [t for t in tokens if t.is_word]
    if len(words) < 3:
        return []
    found: list[str] = []
    heads = [t for t in words if t.tag in _NOMINAL]
    for i, a in enumerate(heads):
        for b in heads[i + 1 :]:
            found.append(_swap(sentence, a, b))
    fronted = _fronted(sentence, tokens)
    if fronted:
        found.append(fronted)
    return list(dict.fromkeys(found))[:8]


def _swap(sentence: str, a: Token, b: Token) -> str:
    """The sentence with tokens a and b exchanged, each taking the capitalisation of its new place."""
    first, second = (a, b) if a.start < b.start else (b, a)
    one, two = _placed(second, first), _placed(first, second)
    return sentence[: first.start] + one + sentence[first.end : second.start] + two + sentence[second.end :]


def _placed(word: Token, place: Token) -> str:
    """A word as it reads at another token's place: capitalised at the start, else lower case unless a name or I."""
    if place.index == 0:
        return word.text[:1].upper() + word.text[1:]
    if word.text == "I" or word.upos == "PROPN":
        return word.text
    return word.text.lower()


def _fronted(sentence: str, tokens: list[Token]) -> str | None:
    """The final prepositional phrase moved to the front ("I swim in the morning." -> "In the morning, I swim.")."""
    words = [t for t in tokens if t.is_word]
    preps = [t for t in words[2:] if t.tag == "IN" and t.upos == "ADP"]
    if not preps or tokens[-1].is_word:
        return None
    prep = preps[-1]
    phrase = sentence[prep.start : tokens[-1].start].strip()
    rest = sentence[: prep.start].strip()
    if len(phrase.split()) > 4 or not rest:
        return None
    first = words[0]
    rest = rest if first.text == "I" or first.upos == "PROPN" else rest[:1].lower() + rest[1:]
    return f"{phrase[:1].upper()}{phrase[1:]}, {rest}{tokens[-1].text}"


def _topic(judge: Judge, item: Item) -> list[Violation]:
    """A warning when the item's sentence is not about its topic (evidence: the similarity)."""
    topic = item.topic.strip()
    if not topic or topic.lower() in {"general", "any"}:
        return []
    similarity = judge.similarity(item.learner_text(), topic)
    if similarity is None or similarity >= TOPIC_FLOOR:
        return []
    return [
        problem(
            "off_topic",
            f"general: not about '{topic}' (similarity {similarity:.2f})",
            warning=True,
            similarity=round(similarity, 3),
            floor=TOPIC_FLOOR,
        )
    ]
