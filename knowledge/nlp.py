"""Offline English NLP: sentences, Penn-style tokens, POS tags (Penn and universal), lemmas and inflection.

Everything runs from vendored data and installed packages: the averaged-perceptron tagger (`knowledge.tagger`),
`lemminflect` for lemmas and inflections, `wordfreq` for the English-language check. `analyze()` is the entry
point; it is cached, so the many components that look at the same text pay for it once.

Tokenisation follows Penn-Treebank conventions because the tagger was trained on them: clitics are split
(`don't` -> `do` `n't`, `can't` -> `ca` `n't`, `I'm` -> `I` `'m`), hyphenated words and numbers such as `1,000.5`
stay whole, abbreviations keep their full stop. Each token keeps its character offsets in the original text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from lemminflect import getAllLemmas, getInflection, getLemma
from wordfreq import zipf_frequency

from knowledge.errors import UserInputError
from knowledge.tagger import default_tagger

__all__ = [
    "PENN_TAGS",
    "UPOS_TAGS",
    "Token",
    "analyze",
    "inflect",
    "is_probably_english",
    "lemmatize",
    "penn_to_upos",
    "sentence_spans",
    "sentences",
    "word_tokens",
]


@dataclass(frozen=True, slots=True)
class Token:
    """One token of an analysed text, with its Penn tag, universal POS, lemma and place in the text."""

    text: str
    """The token exactly as written (a slice of the input, e.g. `ca` of `can't`)."""
    lower: str
    """Lower-cased text with typographic apostrophes made ASCII (`n't`, `'s`)."""
    lemma: str
    """Dictionary form: `went` -> `go`, `n't` -> `not`, `'m` -> `be`; proper nouns keep their case."""
    tag: str
    """Penn-Treebank tag (NN, VBD, ...)."""
    upos: str
    """Universal POS (NOUN, VERB, AUX, ...), mapped from the Penn tag with a little context."""
    start: int
    """Offset of the first character in the input text."""
    end: int
    """Offset one past the last character, so `text == input[start:end]`."""
    sentence: int
    """Index of the sentence the token belongs to (0-based)."""
    index: int
    """Index of the token in the text (0-based)."""
    is_word: bool
    """True for alphabetic words (letters, inner hyphens or apostrophes); False for punctuation, numbers, symbols."""


# --- tag sets -------------------------------------------------------------------------------------------------

_PENN_TO_UPOS: dict[str, str] = {
    "CC": "CCONJ", "CD": "NUM", "DT": "DET", "EX": "PRON", "FW": "X", "IN": "ADP", "JJ": "ADJ", "JJR": "ADJ",
    "JJS": "ADJ", "LS": "X", "MD": "AUX", "NN": "NOUN", "NNS": "NOUN", "NNP": "PROPN", "NNPS": "PROPN",
    "PDT": "DET", "POS": "PART", "PRP": "PRON", "PRP$": "PRON", "RB": "ADV", "RBR": "ADV", "RBS": "ADV",
    "RP": "ADP", "SYM": "SYM", "TO": "PART", "UH": "INTJ", "VB": "VERB", "VBD": "VERB", "VBG": "VERB",
    "VBN": "VERB", "VBP": "VERB", "VBZ": "VERB", "WDT": "DET", "WP": "PRON", "WP$": "PRON", "WRB": "ADV",
    "$": "SYM", "#": "SYM", ".": "PUNCT", ",": "PUNCT", ":": "PUNCT", "``": "PUNCT", "''": "PUNCT",
    "-LRB-": "PUNCT", "-RRB-": "PUNCT",
}  # fmt: skip

#: The Penn-Treebank tags the tagger produces.
PENN_TAGS: frozenset[str] = frozenset(_PENN_TO_UPOS)
#: The universal POS tags `Token.upos` can take.
UPOS_TAGS: frozenset[str] = frozenset(_PENN_TO_UPOS.values()) | {"AUX", "SCONJ"}

_LEMMINFLECT_UPOS = frozenset({"NOUN", "VERB", "ADJ", "ADV", "AUX", "PROPN"})
_SUBORDINATORS = frozenset({"because", "although", "though", "if", "whether", "unless", "whereas", "that", "while"})
_AUX_VERBS = frozenset({"have", "do"})

# --- tokenisation ---------------------------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (keeps long word lists readable)."""
    return frozenset(words.split())


_TOKEN_RE = re.compile(
    r"""
    (?P<url>https?://[^\s<>"]*[^\s<>".,;:!?)\]'’])
  | (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
  | (?P<initials>(?:[^\W\d_]\.){2,})                 # U.S. e.g. i.e. a.m.
  | (?P<ordinal>\d+(?:st|nd|rd|th|s)(?![^\W_]))       # 1st 22nd 1990s
  | (?P<number>\d+(?:[.,:/]\d+)*)                   # 3.14 1,000 10:30 1/2 (a unit after it is a word: 5 km)
  | (?P<word>[^\W_]+(?:[-'’][^\W_]+)*)                # words, hyphenated words, inner apostrophes
  | (?P<ellipsis>\.{2,}|…)
  | (?P<dash>-{2,}|[—–])
  | (?P<quotes>''|``)
  | (?P<other>[^\w\s])
    """,
    re.VERBOSE,
)
_ABBREVIATIONS = _word_set(
    "mr mrs ms dr prof st jr sr vs etc inc ltd co corp mt fig approx dept est jan feb mar apr jun jul aug sep sept "
    "oct nov dec mon tue tues wed thu thur thurs fri sat sun no vol ch pp cf al gen gov sgt capt col lt rev"
)
#: Abbreviations that often end a sentence too ("... and so on etc. Then ...").
_MAY_END_SENTENCE = frozenset({"etc.", "a.m.", "p.m.", "u.s.", "u.k."})
_CLITIC_RE = re.compile(r"(?i)(?:n['’]t|['’](?:s|m|re|ve|ll|d))$")
_TERMINALS = frozenset({".", "!", "?", "...", "…"})
_CLOSERS = frozenset({'"', "'", "’", "”", ")", "]", "}", "''"})
_OPENERS = frozenset({'"', "“", "‘", "(", "[", "{", "``"})
_NO_BREAK_AFTER = frozenset({",", ";", "(", "[", "-", "--", "—", "–", "&"})


@dataclass(frozen=True, slots=True)
class _Raw:
    """A token before tagging: its text, offsets and the form the tagger expects."""

    text: str
    start: int
    end: int
    form: str


def _scan(text: str) -> Iterator[_Raw]:
    """Yield raw tokens in order: regex matches, with clitics split and abbreviations given their full stop."""
    matches = list(_TOKEN_RE.finditer(text))
    skip_dot_at = -1
    for m in matches:
        if m.start() == skip_dot_at:
            continue
        kind, start, end = m.lastgroup, m.start(), m.end()
        if kind == "word" and _takes_full_stop(text, m.group(), end):
            skip_dot_at = end
            end += 1
        if kind == "word" and end == m.end():
            yield from _split_clitics(text, start, end)
        else:
            yield _Raw(text[start:end], start, end, _tagger_form(text, start, end))


def _takes_full_stop(text: str, word: str, end: int) -> bool:
    """Whether the '.' right after a word belongs to it: known abbreviations and single-capital initials (J. K.)."""
    if end >= len(text) or text[end] != ".":
        return False
    if word.lower() in _ABBREVIATIONS:
        return not (word.lower() == "no" and not _next_is_digit(text, end + 1))
    # A single capital before a capitalised word is an initial (J. K. Rowling), but not the pronoun I ("So do I.").
    return (
        len(word) == 1 and word.isupper() and word not in "IA" and text[end + 1 : end + 2] == " "
        and text[end + 2 : end + 3].isupper()
    )  # fmt: skip


def _next_is_digit(text: str, pos: int) -> bool:
    rest = text[pos : pos + 3].lstrip()
    return bool(rest) and rest[0].isdigit()


def _split_clitics(text: str, start: int, end: int) -> Iterator[_Raw]:
    """Split Penn-style clitics off a word: n't, 's, 'm, 're, 've, 'll, 'd (several may stack: shouldn't've)."""
    pieces: list[tuple[int, int]] = []
    while True:
        match = _CLITIC_RE.search(text, start, end)
        if match is None or match.start() == start:
            break
        pieces.append((match.start(), end))
        end = match.start()
    if text[start:end].lower() == "cannot":
        pieces.append((start + 3, end))
        end = start + 3
    pieces.append((start, end))
    for s, e in reversed(pieces):
        yield _Raw(text[s:e], s, e, text[s:e].replace("’", "'"))


def _tagger_form(text: str, start: int, end: int) -> str:
    """The Penn-Treebank spelling the tagger was trained on for a punctuation token."""
    token = text[start:end]
    if token == '"':
        opening = start == 0 or text[start - 1].isspace() or text[start - 1] in "([{"
        return "``" if opening else "''"
    return _PUNCT_FORMS.get(token, token.replace("’", "'"))


_PUNCT_FORMS = {
    "“": "``", "”": "''", "‘": "``", "’": "''", "(": "-LRB-", "[": "-LRB-", "{": "-LRB-", ")": "-RRB-",
    "]": "-RRB-", "}": "-RRB-", "…": "...", "—": "--", "–": "--", "«": "``", "»": "''",
}  # fmt: skip


# --- sentence splitting ---------------------------------------------------------------------------------------


def _sentence_starts(text: str, raw: Sequence[_Raw]) -> list[int]:
    """Indices of the tokens that begin a sentence (always including 0 when there are tokens)."""
    starts = [0] if raw else []
    for i in range(1, len(raw)):
        if _breaks_before(text, raw, i):
            starts.append(i)
    return starts


def _breaks_before(text: str, raw: Sequence[_Raw], i: int) -> bool:
    """Whether token i starts a new sentence."""
    gap = text[raw[i - 1].end : raw[i].start]
    nxt = raw[i].text
    starts_like_sentence = nxt[0].isupper() or nxt[0].isdigit() or nxt in _OPENERS or not nxt[0].isalnum()
    if "\n\n" in gap.replace("\r", "") or (
        "\n" in gap and starts_like_sentence and raw[i - 1].text not in _NO_BREAK_AFTER
    ):
        return True
    if not gap or not starts_like_sentence:
        return False
    j = i - 1
    while j > 0 and raw[j].text in _CLOSERS:
        j -= 1
    last = raw[j].text
    return last in _TERMINALS or last.lower() in _MAY_END_SENTENCE


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of a text, in order."""
    tokens = analyze(text)
    spans: list[tuple[int, int]] = []
    for token in tokens:
        if token.sentence == len(spans):
            spans.append((token.start, token.end))
        else:
            spans[-1] = (spans[-1][0], token.end)
    return spans


def sentences(text: str) -> list[str]:
    """The sentences of a text as strings (exact slices of the input, without surrounding whitespace)."""
    return [text[start:end] for start, end in sentence_spans(text)]


# --- analysis -------------------------------------------------------------------------------------------------


def analyze(text: str) -> list[Token]:
    """Tokenise, split into sentences, tag and lemmatise a text; results are cached by text (LRU)."""
    if not isinstance(text, str):
        raise UserInputError(f"Expected text as a string, got {type(text).__name__}; pass the text itself.")
    if len(text) > _CACHE_MAX_CHARS:
        return list(_analyze_cached.__wrapped__(text))  # a whole book would crowd the cache out
    return list(_analyze_cached(text))


_CACHE_MAX_CHARS = 20_000


@lru_cache(maxsize=2048)
def _analyze_cached(text: str) -> tuple[Token, ...]:
    raw = list(_scan(text))
    if not raw:
        return ()
    starts = _sentence_starts(text, raw)
    groups = [raw[a:b] for a, b in zip(starts, [*starts[1:], len(raw)], strict=True)]
    tag_lists = default_tagger().tag_sentences([[r.form for r in group] for group in groups])
    tokens: list[Token] = []
    for sentence, (group, tags) in enumerate(zip(groups, tag_lists, strict=True)):
        tokens.extend(_sentence_tokens(group, _fix_tags(group, tags), sentence, len(tokens)))
    return tuple(tokens)


def _fix_tags(group: Sequence[_Raw], tags: list[str]) -> list[str]:
    """Correct tags the WSJ-trained model cannot know: unseen symbols and words, the stems of won't/can't."""
    known = default_tagger().knows
    fixed = list(tags)
    for k, r in enumerate(group):
        if not any(c.isalnum() for c in r.text) and not known(r.form):
            fixed[k] = "$" if all(unicodedata.category(c) == "Sc" for c in r.text) else "SYM"
        elif k + 1 < len(group) and group[k + 1].form.lower() == "n't" and r.form.lower() in _CONTRACTED_STEMS:
            fixed[k] = _CONTRACTED_STEMS[r.form.lower()]
        elif r.form.islower() and not known(r.form):
            fixed[k] = _lexicon_tag(r.form, tags[k])
        elif r.form.lower() == "'s" and k > 0 and group[k - 1].form.lower() == "let":
            fixed[k] = "PRP"  # let's = let us
    return fixed


def _lexicon_tag(word: str, tag: str) -> str:
    """For a word the tagger never saw: trust lemminflect's lexicon when it allows one open class only."""
    classes = getAllLemmas(word)
    if len(classes) != 1:
        return tag
    upos, lemmas = next(iter(classes.items()))
    if upos == penn_to_upos(tag) or upos not in _UNAMBIGUOUS_TAG:
        return tag
    return "NNS" if upos == "NOUN" and word not in lemmas else _UNAMBIGUOUS_TAG[upos]


_UNAMBIGUOUS_TAG = {"NOUN": "NN", "ADJ": "JJ", "ADV": "RB"}


# Stems left by splitting n't that the model may not know (it never saw "wo" in training).
_CONTRACTED_STEMS = {"ca": "MD", "wo": "MD", "sha": "MD", "ai": "VBP"}


def _sentence_tokens(group: Sequence[_Raw], tags: Sequence[str], sentence: int, offset: int) -> Iterator[Token]:
    """Build the Tokens of one tagged sentence."""
    for k, (r, tag) in enumerate(zip(group, tags, strict=True)):
        lower = r.text.lower().replace("’", "'")
        lemma = _lemma(r.text, lower, tag, tags[k + 1 :])
        upos = _upos_in_context(lemma, lower, tag, tags[k + 1 :], group[k + 1 :])
        yield Token(
            text=r.text, lower=lower, lemma=lemma, tag=tag, upos=upos, start=r.start, end=r.end,
            sentence=sentence, index=offset + k, is_word=_is_word(r.text, tag),
        )  # fmt: skip


def _upos_in_context(lemma: str, lower: str, tag: str, next_tags: Sequence[str], next_raw: Sequence[_Raw]) -> str:
    """Universal POS for a Penn tag, refined as UD does: auxiliaries, subordinators, infinitival `to`."""
    upos = penn_to_upos(tag)
    if upos == "VERB":
        if lemma == "be" or (lemma in _AUX_VERBS and _verb_follows(next_tags, next_raw)):
            return "AUX"
    elif tag == "IN" and lower in _SUBORDINATORS:
        return "SCONJ"
    elif tag == "TO" and not (next_tags and next_tags[0].startswith("VB")):
        return "ADP"
    return upos


def _verb_follows(next_tags: Sequence[str], next_raw: Sequence[_Raw]) -> bool:
    """Whether the next verb-ish token (skipping adverbs, not/n't and a subject pronoun) is a verb."""
    for tag, r in zip(next_tags[:4], next_raw[:4], strict=False):
        if tag.startswith("VB"):
            return True
        if not (tag.startswith("RB") or tag == "PRP" or r.form.lower() in {"not", "n't"}):
            return False
    return False


_CLITIC_LEMMAS = {"n't": "not", "'m": "be", "'re": "be", "'ve": "have", "'ll": "will"}
_MODAL_STEMS = {"ca": "can", "wo": "will", "sha": "shall", "ai": "be"}


def _lemma(text: str, lower: str, tag: str, next_tags: Sequence[str]) -> str:
    """Lemma of a token given its tag; clitics, contracted stems and modals first, then lemminflect."""
    if lower in _CLITIC_LEMMAS:
        return _CLITIC_LEMMAS[lower]
    if lower == "'s":
        return _lemma_of_s(tag, next_tags)
    if lower == "'d":
        return "have" if tag == "VBD" or next_tags[:1] == ["VBN"] else "would"
    if lower in _MODAL_STEMS and tag in {"MD", "VBP", "VB"}:
        return _MODAL_STEMS[lower]
    upos = penn_to_upos(tag)
    if tag == "MD" or "." in lower:
        # Modals are their own lemmas for learners (lemminflect maps should -> shall); abbreviations keep the dot.
        return text if upos == "PROPN" else lower
    if upos == "PROPN":
        return _lemma_for(text, "PROPN")
    if upos in _LEMMINFLECT_UPOS:
        return _lemma_for(lower, upos)
    return "I" if lower == "i" else lower


def _lemma_of_s(tag: str, next_tags: Sequence[str]) -> str:
    """The clitic 's: possessive, us (let's), has (before a participle) or is."""
    if tag in {"POS", "PRP"}:
        return "'s" if tag == "POS" else "us"
    return "have" if next_tags[:1] == ["VBN"] else "be"


@lru_cache(maxsize=65536)
def _lemma_for(word: str, upos: str) -> str:
    """First lemma from lemminflect for a word and universal POS, or the word itself when it has none."""
    if upos not in _LEMMINFLECT_UPOS:
        return word
    lemmas = getLemma(word, upos=upos, lemmatize_oov=True)
    return lemmas[0] if lemmas else word


def _is_word(text: str, tag: str) -> bool:
    """Letters with inner hyphens, apostrophes or abbreviation dots; never the possessive marker."""
    return tag != "POS" and any(c.isalpha() for c in text) and all(c.isalpha() or c in "-'’." for c in text)


# --- public helpers -------------------------------------------------------------------------------------------


def penn_to_upos(tag: str) -> str:
    """Universal POS for a Penn-Treebank tag, without context (AUX only for modals); 'X' for unknown tags."""
    return _PENN_TO_UPOS.get(tag, "X")


def word_tokens(tokens: Iterable[Token]) -> list[Token]:
    """Only the alphabetic words of a token sequence (no punctuation, numbers, symbols or possessive 's)."""
    return [t for t in tokens if t.is_word]


def lemmatize(word: str, upos: str) -> str:
    """Lemma of one word for a universal POS (NOUN, VERB, ADJ, ADV, AUX, PROPN); other POS give it lower-cased."""
    if upos not in UPOS_TAGS:
        raise UserInputError(f"Unknown universal POS {upos!r}; accepted: {', '.join(sorted(UPOS_TAGS))}.")
    word = word.strip()
    return _lemma_for(word if upos == "PROPN" else word.lower(), upos)


_INFLECTABLE = frozenset(
    {"NN", "NNS", "NNP", "NNPS", "VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "JJ", "JJR", "JJS", "RB", "RBR", "RBS", "MD"}
)


def inflect(lemma: str, tag: str) -> str:
    """Inflect a lemma to a Penn tag ('go', 'VBD' -> 'went'); non-inflecting tags return the lemma unchanged."""
    if tag not in PENN_TAGS:
        raise UserInputError(f"Unknown Penn-Treebank tag {tag!r}; accepted tags include NN, NNS, VB, VBD, VBZ, JJR.")
    if tag not in _INFLECTABLE or not lemma.strip():
        return lemma
    forms = getInflection(lemma.strip(), tag=tag, inflect_oov=True)
    return forms[0] if forms else lemma


# --- language check -------------------------------------------------------------------------------------------

_ENGLISH_FUNCTION_WORDS = _word_set(
    "the a an and or but if of to in on at by for with from about as into than then is are was were be been being "
    "am do does did have has had will would can could should may might must shall i you he she it we they me him "
    "her us them my your his its our their this that these those there here what which who whom whose when where "
    "why how not no yes all some any each every very so too just also only more most much many one"
)
# Frequent function words of other Latin-script languages that are not English words.
_FOREIGN_FUNCTION_WORDS = _word_set(
    "der die das und ist nicht ein eine ich sie wir mit auf für von zu den dem des le la les des et est une un "
    "pas je nous vous dans pour avec sur qui que el los las y es una por para con del al lo se su het een niet "
    "ik zijn op van il di che non per sono gli della è och att är jag det som på ni não uma os com para"
)


def is_probably_english(text: str) -> tuple[bool, str]:
    """Decide whether a text is English, cheaply; returns (verdict, a short reason a person can read)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False, "the text contains no letters"
    ascii_share = sum(c.isascii() for c in letters) / len(letters)
    if ascii_share < 0.9:
        return False, f"only {ascii_share:.0%} of its letters are English (ASCII) letters"
    words = [r.text.lower().replace("’", "'") for r in _quick_words(text)]
    if not words:
        return False, "the text contains no words"
    return _judge_words(words)


def _quick_words(text: str) -> list[_Raw]:
    """Word tokens without tagging (the language check must stay cheap on long or foreign input)."""
    return [r for r in _scan(text) if _is_word(r.text, "")]


def _judge_words(words: Sequence[str]) -> tuple[bool, str]:
    """Verdict from the share of words English knows and of English vs foreign function words."""
    known = sum(zipf_frequency(w, "en") >= 2.5 for w in words) / len(words)
    english_fw = sum(w in _ENGLISH_FUNCTION_WORDS for w in words) / len(words)
    foreign_fw = sum(w in _FOREIGN_FUNCTION_WORDS for w in words) / len(words)
    if known < 0.6:
        return False, f"only {known:.0%} of its words are known English words"
    if foreign_fw > english_fw and (len(words) >= 6 or english_fw == 0):
        return False, f"{foreign_fw:.0%} of its words are function words of another language"
    if len(words) >= 8 and english_fw < 0.1:
        return False, f"only {english_fw:.0%} of its words are English function words"
    return True, f"{known:.0%} of its words are known English words"
