"""Estimate the CEFR level of a sentence or a text, with the evidence behind the estimate.

A sentence is described by numbers computed from our own knowledge resources: the levels of its words in the
CEFR-J / Octanove lists (`knowledge.lexicon`), their wordfreq Zipf frequencies, its length and its parts of speech
(48 features in the shipped model). A multinomial logistic regression, trained at development time on CEFR-SP
(Wiki-Auto part; Arase, Uchida & Kajiwara, EMNLP 2022, CC BY-SA 3.0) by `knowledge/build/train_level_model.py`,
turns them into a probability for each level A1..C2; the weights are plain JSON in `knowledge/data/level_model.json`.
The CEFR-J grammar constructions found (`knowledge.grammar`) are reported as evidence; the shipped model does not
use them as features (see docs/level-and-aci.md). Every word keeps its level and source row, every construction its
profile item, and the features and probabilities are part of the answer: nothing about an estimate is hidden.

A text of several sentences is estimated sentence by sentence; its probabilities are the word-weighted mean of its
sentences' probabilities (the chance that a word picked at random sits in a sentence of that level) and its level
is their most probable level.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from knowledge.errors import ResourceError, UserInputError
from knowledge.levels import TARGET_LEVELS, Level
from knowledge.lexicon import ESTIMATE_SOURCE, Lexicon
from knowledge.nlp import Token, analyze, is_probably_english, penn_to_upos

if TYPE_CHECKING:
    from knowledge.grammar import GrammarProfile

MODEL_FILE = "level_model.json"
MODEL_FORMAT = 1
#: Longest text `estimate` accepts (about eight pages); longer input is refused rather than silently cut.
MAX_TEXT_CHARS = 20_000
#: Longest single line `estimate_lines` judges; a longer line gets "unknown" with the reason.
MAX_LINE_CHARS = 2_000
#: Share of words found in the vocabulary lists from which a text counts as English whatever the language check says.
MIN_LISTED_SHARE = 0.5
#: The levels the model distinguishes, in order (CEFR-SP's labels 1..6).
MODEL_LEVELS: tuple[Level, ...] = TARGET_LEVELS

WordKind = Literal["listed", "estimated", "name", "unknown"]

# Universal POS tags the lexicon accepts as a part of speech (others, e.g. SYM or X, are looked up without one).
_LEXICON_UPOS = frozenset(
    {"NOUN", "PROPN", "VERB", "AUX", "ADJ", "ADV", "PRON", "ADP", "DET", "CCONJ", "SCONJ", "NUM", "INTJ", "PART"}
)
_NAME_TAGS = frozenset({"NNP", "NNPS"})
_CONTENT_UPOS = frozenset({"NOUN", "VERB", "ADJ", "ADV"})
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_ALLOWED_CONTROLS = frozenset("\t\n\r")


# --- results --------------------------------------------------------------------------------------------------


class WordEvidence(BaseModel):
    """One word of a sentence with its CEFR level and where that level comes from."""

    model_config = ConfigDict(frozen=True)

    text: str
    """The word as written."""
    start: int
    """Offset of its first character in the text given to the estimator."""
    end: int
    """Offset one past its last character."""
    lemma: str
    pos: str | None
    """Part of speech of the list entry (noun, verb ...), or the one asked for."""
    level: Level | None
    kind: WordKind
    """listed (a vocabulary-list row), estimated (from frequency), name (proper noun: no level), unknown (no level)."""
    source: str
    """The list, 'frequency-estimate' or 'unknown'."""
    evidence: str
    """The citation (list, file, line), the Zipf value used, or why the word has no level."""
    node: str | None = None
    """Knowledge-graph key of the word node (`word:lemma|pos`) for listed words."""
    zipf: float | None = None


class ConstructionEvidence(BaseModel):
    """A CEFR-J Grammar Profile construction found in a sentence."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    name: str
    level: Level | None
    span: tuple[int, int]
    """Character span in the text given to the estimator."""
    text: str
    node: str
    """Knowledge-graph key of the construction node (`grammar:ID`)."""
    source: str
    """Citation of the profile row."""


class SentenceEstimate(BaseModel):
    """The level of one sentence (or one line) with its probabilities, words, constructions and features."""

    model_config = ConfigDict(frozen=True)

    text: str
    span: tuple[int, int]
    level: Level | None
    """None when the sentence cannot be judged; `reason` says why."""
    probabilities: dict[str, float]
    """Model probability of each level A1..C2 (empty when the level is unknown)."""
    expected_rank: float | None
    """Probability-weighted mean rank, A1 = 1 .. C2 = 6: where between two levels the sentence sits."""
    words: list[WordEvidence]
    constructions: list[ConstructionEvidence]
    features: dict[str, float]
    """The model's input features by name (see docs/level-and-aci.md)."""
    reason: str = ""


class LevelEstimate(BaseModel):
    """The level of a text: aggregated over its sentences, with every sentence's estimate as evidence."""

    model_config = ConfigDict(frozen=True)

    level: Level | None
    probabilities: dict[str, float]
    expected_rank: float | None
    hardest: Level | None
    """The highest level of any of its sentences."""
    word_count: int
    sentences: list[SentenceEstimate]
    aggregation: str
    model: str
    """Identifier of the trained weights used."""
    reason: str = ""

    @property
    def words(self) -> list[WordEvidence]:
        """Every word of every sentence, in text order."""
        return [w for s in self.sentences for w in s.words]

    @property
    def constructions(self) -> list[ConstructionEvidence]:
        """Every construction found in every sentence, in text order."""
        return [c for s in self.sentences for c in s.constructions]


AGGREGATION = (
    "word-weighted mean of the sentences' level probabilities; the level is the most probable one "
    "(a single sentence keeps its own estimate)"
)


# --- the trained model ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelModel:
    """Standardised multinomial logistic regression over named features: p = softmax(((x - mean) / scale) W + b)."""

    features: tuple[str, ...]
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    weights: NDArray[np.float64]
    bias: NDArray[np.float64]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """A short identifier of these weights (file and training date)."""
        return f"{MODEL_FILE}@{self.meta.get('trained', 'unknown')}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LevelModel:
        """Build a model from its JSON form; ResourceError when the document is not a valid model."""
        try:
            model = cls(
                features=tuple(str(f) for f in data["features"]),
                mean=np.asarray(data["mean"], dtype=np.float64),
                scale=np.asarray(data["scale"], dtype=np.float64),
                weights=np.asarray(data["weights"], dtype=np.float64),
                bias=np.asarray(data["bias"], dtype=np.float64),
                meta=dict(data.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResourceError(f"knowledge/data/{MODEL_FILE} is not a valid level model ({exc}).") from exc
        model.validate()
        return model

    def validate(self) -> None:
        """Check the shapes agree with each other and with the feature list."""
        n, k = len(self.features), len(MODEL_LEVELS)
        shapes_ok = self.mean.shape == (n,) and self.scale.shape == (n,) and self.weights.shape == (n, k)
        if not shapes_ok or self.bias.shape != (k,) or not np.all(self.scale > 0):
            raise ResourceError(f"knowledge/data/{MODEL_FILE} has inconsistent shapes; retrain the level model.")
        unknown = sorted(set(self.features) - set(FEATURE_NAMES))
        if unknown:
            raise ResourceError(f"knowledge/data/{MODEL_FILE} uses features this code lacks: {', '.join(unknown)}.")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the inverse of `from_dict`)."""
        return {
            "format": MODEL_FORMAT,
            "levels": [str(level) for level in MODEL_LEVELS],
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(),
            "bias": self.bias.round(6).tolist(),
            "meta": self.meta,
        }

    def vector(self, features: dict[str, float]) -> NDArray[np.float64]:
        """The model's input vector from a feature dict."""
        return np.array([features[name] for name in self.features], dtype=np.float64)

    def probabilities(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Level probabilities (n, 6) for feature rows (n, features)."""
        logits = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return np.asarray(odds / odds.sum(axis=1, keepdims=True), dtype=np.float64)

    @classmethod
    def load(cls) -> LevelModel:
        """The vendored weights (read once per process)."""
        return _cached_model()


@cache
def _cached_model() -> LevelModel:
    """The process-wide level model."""
    try:
        text = (files("knowledge") / "data" / MODEL_FILE).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise ResourceError(
            f"knowledge/data/{MODEL_FILE} is missing or not JSON; run `python -m knowledge.build.train_level_model`."
        ) from exc
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ResourceError(f"knowledge/data/{MODEL_FILE} has an unknown format; retrain the level model.")
    return LevelModel.from_dict(data)


# --- words ----------------------------------------------------------------------------------------------------


def word_evidence(lexicon: Lexicon, tokens: Sequence[Token]) -> list[WordEvidence]:
    """The level of every word token (alphabetic words only; numbers and punctuation have no level)."""
    first_word = {t.sentence: t.index for t in reversed(tokens) if t.is_word}
    return [_word(lexicon, t, first_word[t.sentence] == t.index) for t in tokens if t.is_word]


def _word(lexicon: Lexicon, token: Token, sentence_initial: bool) -> WordEvidence:
    """One word's evidence; a capital that only marks a sentence start is ignored when looking the word up."""
    upos = penn_to_upos(token.tag)
    pos = token.tag if upos in _LEXICON_UPOS else None
    keep_case = token.tag in _NAME_TAGS or not sentence_initial or token.text == "I"
    found = lexicon.level_of(token.text if keep_case else token.lower, pos)
    name = found.level is None and (token.tag in _NAME_TAGS or (token.text[:1].isupper() and not sentence_initial))
    kind: WordKind = "name" if name else _kind(found.level, found.source, found.is_listed)
    node = f"word:{found.lemma.lower()}|{found.pos}" if found.is_listed else None
    return WordEvidence(
        text=token.text, start=token.start, end=token.end, lemma=found.lemma, pos=found.pos, level=found.level,
        kind=kind, source=found.source, evidence=found.evidence, node=node, zipf=found.zipf,
    )  # fmt: skip


def _kind(level: Level | None, source: str, listed: bool) -> WordKind:
    """How a word's level is known."""
    if listed:
        return "listed"
    if level is not None and source == ESTIMATE_SOURCE:
        return "estimated"
    return "unknown"


# --- features -------------------------------------------------------------------------------------------------

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "vocabulary": (
        *(f"vocab_share_{level}" for level in MODEL_LEVELS),
        "vocab_mean_rank", "vocab_max_rank", "vocab_top2_rank", "vocab_top3_rank", "vocab_content_mean_rank",
        "vocab_log_count_B1_up", "vocab_log_count_B2_up", "vocab_log_count_C1_up", "vocab_share_estimated",
        "words_share_unknown", "words_share_names",
    ),
    "frequency": (
        "zipf_mean", "zipf_min", "zipf_second_min", "zipf_std", "zipf_share_below_3", "zipf_share_below_4",
        "zipf_share_below_5",
    ),
    "length": (
        "words", "log_words", "tokens", "chars_per_word", "share_long_words", "syllables_per_word",
        "share_polysyllabic", "commas", "semicolons_colons", "numbers",
    ),
    "syntax": (
        "verbs", "past_participles", "gerunds", "modals", "wh_words", "subordinators", "coordinators",
        "prepositions", "share_nouns", "share_proper", "share_adjectives", "share_adverbs", "share_pronouns",
        "share_determiners",
    ),
    "grammar": (
        "grammar_max_rank", "grammar_mean_rank", "grammar_log_count_B1_up", "grammar_log_count_B2_up",
        "grammar_items",
    ),
}  # fmt: skip
#: Every feature this code can compute, in a fixed order; a model uses a subset (named in its JSON).
FEATURE_NAMES: tuple[str, ...] = tuple(name for group in FEATURE_GROUPS.values() for name in group)


def sentence_features(
    tokens: Sequence[Token], words: Sequence[WordEvidence], constructions: Sequence[ConstructionEvidence]
) -> dict[str, float]:
    """Every feature of one sentence (or line) from its tokens, word levels and constructions."""
    features: dict[str, float] = {}
    features.update(_vocabulary_features(tokens, words))
    features.update(_frequency_features(words))
    features.update(_length_features(tokens, words))
    features.update(_syntax_features(tokens))
    features.update(_grammar_features(constructions))
    return features


def _levelled(words: Sequence[WordEvidence]) -> list[WordEvidence]:
    """The words that have a level (listed or estimated)."""
    return [w for w in words if w.level is not None and w.kind != "name"]


def _vocabulary_features(tokens: Sequence[Token], words: Sequence[WordEvidence]) -> dict[str, float]:
    """Shares of words at each level, top and mean levels, counts above B1/B2/C1, unknown and name shares."""
    levelled = _levelled(words)
    ranks = sorted((w.level.rank for w in levelled if w.level is not None), reverse=True)
    n, total = len(ranks), max(1, len(words))
    upos = {t.start: t.upos for t in tokens}
    content = [w.level.rank for w in levelled if w.level is not None and upos.get(w.start) in _CONTENT_UPOS]
    f = {f"vocab_share_{level}": _share(sum(r == level.rank for r in ranks), n) for level in MODEL_LEVELS}
    f["vocab_mean_rank"] = _mean(ranks)
    f["vocab_max_rank"] = float(ranks[0]) if ranks else 0.0
    f["vocab_top2_rank"] = _mean(ranks[:2])
    f["vocab_top3_rank"] = _mean(ranks[:3])
    f["vocab_content_mean_rank"] = _mean(content)
    for level in (Level.B1, Level.B2, Level.C1):
        f[f"vocab_log_count_{level}_up"] = math.log1p(sum(r >= level.rank for r in ranks))
    f["vocab_share_estimated"] = _share(sum(w.kind == "estimated" for w in levelled), n)
    f["words_share_unknown"] = sum(w.kind == "unknown" for w in words) / total
    f["words_share_names"] = sum(w.kind == "name" for w in words) / total
    return f


def _frequency_features(words: Sequence[WordEvidence]) -> dict[str, float]:
    """Zipf statistics of the levelled words (how common in English their spellings are)."""
    zipfs = sorted(_zipf(w.text) for w in _levelled(words)) or [0.0]
    f = {
        "zipf_mean": _mean(zipfs),
        "zipf_min": zipfs[0],
        "zipf_second_min": zipfs[1] if len(zipfs) > 1 else zipfs[0],
        "zipf_std": float(np.std(zipfs)),
    }
    for floor in (3, 4, 5):
        f[f"zipf_share_below_{floor}"] = sum(z < floor for z in zipfs) / len(zipfs)
    return f


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    """Wordfreq Zipf frequency of a lower-cased spelling (cached: the same words recur constantly)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word.lower(), "en"))


def _length_features(tokens: Sequence[Token], words: Sequence[WordEvidence]) -> dict[str, float]:
    """Length in words, tokens, characters and syllables; commas, semicolons and numbers."""
    n = len(words)
    syllables = [_syllables(w.text) for w in words]
    texts = [t.text for t in tokens]
    return {
        "words": float(n),
        "log_words": math.log1p(n),
        "tokens": float(len(tokens)),
        "chars_per_word": _mean([len(w.text) for w in words]),
        "share_long_words": _share(sum(len(w.text) >= 7 for w in words), n),
        "syllables_per_word": _mean(syllables),
        "share_polysyllabic": _share(sum(s >= 3 for s in syllables), n),
        "commas": float(texts.count(",")),
        "semicolons_colons": float(sum(t in (";", ":") for t in texts)),
        "numbers": float(sum(t.tag == "CD" for t in tokens)),
    }


def _syllables(word: str) -> int:
    """A rough syllable count: vowel groups, less a silent final e."""
    lower = word.lower()
    count = len(_VOWEL_GROUPS.findall(lower))
    if lower.endswith("e") and not lower.endswith("le") and count > 1:
        count -= 1
    return max(1, count)


_TAG_COUNTS = {
    "verbs": ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ"), "past_participles": ("VBN",), "gerunds": ("VBG",),
    "modals": ("MD",), "wh_words": ("WDT", "WP", "WP$", "WRB"), "coordinators": ("CC",), "prepositions": ("IN",),
}  # fmt: skip
_TAG_SHARES = {
    "share_nouns": ("NN", "NNS"), "share_proper": ("NNP", "NNPS"), "share_adjectives": ("JJ", "JJR", "JJS"),
    "share_adverbs": ("RB", "RBR", "RBS"), "share_pronouns": ("PRP", "PRP$"), "share_determiners": ("DT",),
}  # fmt: skip


def _syntax_features(tokens: Sequence[Token]) -> dict[str, float]:
    """Counts and shares of parts of speech that mark clauses, passives, modality and noun-heavy style."""
    tags = [t.tag for t in tokens]
    f = {name: float(sum(t in group for t in tags)) for name, group in _TAG_COUNTS.items()}
    f["subordinators"] = float(sum(t.upos == "SCONJ" for t in tokens))
    f.update({name: _share(sum(t in group for t in tags), len(tags)) for name, group in _TAG_SHARES.items()})
    return f


def _grammar_features(constructions: Sequence[ConstructionEvidence]) -> dict[str, float]:
    """Highest and mean level of the constructions found, how many are B1+ / B2+, how many distinct items."""
    ranks = [c.level.rank for c in constructions if c.level is not None]
    return {
        "grammar_max_rank": float(max(ranks, default=0)),
        "grammar_mean_rank": _mean(ranks),
        "grammar_log_count_B1_up": math.log1p(sum(r >= Level.B1.rank for r in ranks)),
        "grammar_log_count_B2_up": math.log1p(sum(r >= Level.B2.rank for r in ranks)),
        "grammar_items": float(len({c.item_id for c in constructions})),
    }


def _mean(values: Sequence[float] | Sequence[int]) -> float:
    return float(sum(values) / len(values)) if values else 0.0


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def find_constructions(grammar: GrammarProfile | None, text: str) -> list[ConstructionEvidence]:
    """Grammar-profile constructions found in a text, with their items' levels and citations (none without grammar)."""
    if grammar is None:
        return []
    found = []
    for match in grammar.detect(text):
        item = grammar.item(match.item_id)
        found.append(
            ConstructionEvidence(
                item_id=item.id,
                name=item.name,
                level=match.level,
                span=match.span,
                text=match.text,
                node=f"grammar:{item.id}",
                source=item.citation,
            )
        )
    return found


def line_features(lexicon: Lexicon, grammar: GrammarProfile | None, text: str) -> dict[str, float]:
    """Every feature of a sentence or line judged as a whole (what training uses; `estimate_sentence` agrees)."""
    tokens = analyze(text)
    return sentence_features(tokens, word_evidence(lexicon, tokens), find_constructions(grammar, text))


# --- input checks ---------------------------------------------------------------------------------------------


def check_text(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """The text if it can be estimated; UserInputError for non-text, empty, over-long or binary input."""
    if isinstance(text, bytes):
        raise UserInputError("Expected text, got bytes; decode it as UTF-8 and pass the string.")
    if not isinstance(text, str):
        raise UserInputError(f"Expected text as a string, got {type(text).__name__}; pass the text itself.")
    if not text.strip():
        raise UserInputError("The text is empty; give at least one English sentence.")
    if len(text) > limit:
        raise UserInputError(
            f"The text has {len(text):,} characters; at most {limit:,} are accepted "
            "(split it, or give one sentence per line on standard input with `forge level -`)."
        )
    problem = binary_problem(text)
    if problem:
        raise UserInputError(f"The text {problem}; give plain English text.")
    return text


def binary_problem(text: str) -> str | None:
    """Why a string looks like binary data rather than text (control characters, undecodable bytes), or None."""
    for ch in text:
        if ch in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"contains a control character (U+{ord(ch):04X}), so it looks like binary data"
        if category == "Cs" or ch == "\ufffd":
            return "contains bytes that are not valid UTF-8, so it looks like binary data"
    return None


# --- the estimator --------------------------------------------------------------------------------------------


class LevelEstimator:
    """The CEFR level of sentences and texts from the lexicon, the grammar profile and the trained weights."""

    def __init__(self, lexicon: Lexicon, grammar: GrammarProfile | None = None, model: LevelModel | None = None):
        self.lexicon = lexicon
        self.grammar = grammar
        self.model = model or LevelModel.load()
        if self.grammar is None and any(f.startswith("grammar_") for f in self.model.features):
            raise ResourceError("This level model uses grammar features; pass the grammar profile to the estimator.")

    @classmethod
    def default(cls) -> LevelEstimator:
        """The estimator over the vendored lexicon, grammar profile and weights (built once per process)."""
        return _cached_estimator()

    def estimate(self, text: str) -> LevelEstimate:
        """The level of a text (one or more sentences) with every sentence's estimate as evidence."""
        text = check_text(text)
        english, why = self._english(text)
        if not english:
            return self._unknown_text(f"the text does not look like English: {why}")
        tokens = analyze(text)
        constructions = find_constructions(self.grammar, text)
        sentences = [self._judge(text, group, constructions) for group in _by_sentence(tokens)]
        return self._aggregate(sentences)

    def estimate_sentence(self, text: str) -> SentenceEstimate:
        """The level of one sentence or line, judged as a whole even if it holds several sentences."""
        text = check_text(text)
        english, why = self._english(text)
        if not english:
            return _unknown_sentence(text, f"the text does not look like English: {why}")
        tokens = analyze(text)
        if not tokens:
            return _unknown_sentence(text, "the text has no words")
        return self._judge(text, tokens, find_constructions(self.grammar, text))

    def estimate_lines(self, lines: Iterable[str]) -> Iterator[SentenceEstimate]:
        """One estimate per line, in order, never raising for a bad line (it gets level None and the reason)."""
        for line in lines:
            text = line.rstrip("\r\n")
            problem = _line_problem(text)
            yield _unknown_sentence(text, problem) if problem else self.estimate_sentence(text)

    def _english(self, text: str) -> tuple[bool, str]:
        """knowledge.nlp's language check, overruled when at least half the words are in the English vocabulary lists.

        The check rejects noun-heavy or technical English ("Rivers flow seaward; mountains erode slowly under
        persistent rain.", "Harvestmen are ancient arachnids."). In our trials of 18 sentences in 10 other languages
        only cognate-rich German ("Die Hand ist warm.") reached half; French reached 40 %.
        """
        english, why = is_probably_english(text)
        if english:
            return english, why
        words = [w for w in word_evidence(self.lexicon, analyze(text)) if w.kind != "name"]
        listed = sum(w.kind == "listed" for w in words) / len(words) if words else 0.0
        return listed >= MIN_LISTED_SHARE, why

    def _judge(
        self, text: str, tokens: Sequence[Token], constructions: Sequence[ConstructionEvidence]
    ) -> SentenceEstimate:
        """The estimate for one sentence's tokens (constructions of the whole text are filtered to it)."""
        span = (tokens[0].start, tokens[-1].end)
        own = [c for c in constructions if span[0] <= c.span[0] < span[1]]
        words = word_evidence(self.lexicon, tokens)
        features = sentence_features(tokens, words, own)
        if not _levelled(words):
            reason = "it has no words with a CEFR level (only names, numbers, symbols or unknown words)"
            return _unknown_sentence(text[span[0] : span[1]], reason, span, words, own)
        probs = self.model.probabilities(self.model.vector(features)[None, :])[0]
        return SentenceEstimate(
            text=text[span[0] : span[1]], span=span, level=MODEL_LEVELS[int(np.argmax(probs))],
            probabilities=_prob_dict(probs), expected_rank=_expected_rank(probs), words=words,
            constructions=own, features={k: round(v, 6) for k, v in features.items()},
        )  # fmt: skip

    def _aggregate(self, sentences: list[SentenceEstimate]) -> LevelEstimate:
        """The text's estimate from its sentences' (see AGGREGATION)."""
        judged = [s for s in sentences if s.level is not None]
        word_count = sum(len(s.words) for s in sentences)
        if not judged:
            reasons = "; ".join(dict.fromkeys(s.reason for s in sentences))
            return self._unknown_text(reasons or "no sentence could be judged", sentences, word_count)
        if len(judged) == 1:
            probs = _prob_array(judged[0].probabilities)
            level = judged[0].level
        else:
            weights = np.array([max(1, len(s.words)) for s in judged], dtype=np.float64)
            probs = (weights[:, None] * np.array([_prob_array(s.probabilities) for s in judged])).sum(0)
            probs /= weights.sum()
            level = MODEL_LEVELS[int(np.argmax(probs))]
        hardest = max((s.level for s in judged if s.level is not None), key=lambda lv: lv.rank)
        return LevelEstimate(
            level=level, probabilities=_prob_dict(probs), expected_rank=_expected_rank(probs), hardest=hardest,
            word_count=word_count, sentences=sentences, aggregation=AGGREGATION, model=self.model.name,
        )  # fmt: skip

    def _unknown_text(
        self, reason: str, sentences: list[SentenceEstimate] | None = None, word_count: int = 0
    ) -> LevelEstimate:
        """A text estimate that says the level is unknown, and why."""
        return LevelEstimate(
            level=None, probabilities={}, expected_rank=None, hardest=None, word_count=word_count,
            sentences=sentences or [], aggregation=AGGREGATION, model=self.model.name, reason=reason,
        )  # fmt: skip


@cache
def _cached_estimator() -> LevelEstimator:
    """The process-wide default estimator."""
    from knowledge.grammar import GrammarProfile

    return LevelEstimator(Lexicon.load(), GrammarProfile.load(), LevelModel.load())


def _by_sentence(tokens: Sequence[Token]) -> list[list[Token]]:
    """Tokens grouped by sentence, in order."""
    groups: dict[int, list[Token]] = {}
    for token in tokens:
        groups.setdefault(token.sentence, []).append(token)
    return list(groups.values())


def _line_problem(line: str) -> str | None:
    """Why a line of a batch cannot be judged at all (empty, too long, binary), or None."""
    if not line.strip():
        return "the line is empty"
    if len(line) > MAX_LINE_CHARS:
        return f"the line has {len(line):,} characters; at most {MAX_LINE_CHARS:,} are judged"
    problem = binary_problem(line)
    return f"the line {problem}" if problem else None


def _unknown_sentence(
    text: str,
    reason: str,
    span: tuple[int, int] | None = None,
    words: list[WordEvidence] | None = None,
    constructions: list[ConstructionEvidence] | None = None,
) -> SentenceEstimate:
    """A sentence estimate without a level, saying why."""
    return SentenceEstimate(
        text=text, span=span or (0, len(text)), level=None, probabilities={}, expected_rank=None,
        words=words or [], constructions=constructions or [], features={}, reason=reason,
    )  # fmt: skip


def _prob_dict(probs: NDArray[np.float64]) -> dict[str, float]:
    return {str(level): round(float(p), 4) for level, p in zip(MODEL_LEVELS, probs, strict=True)}


def _prob_array(probs: dict[str, float]) -> NDArray[np.float64]:
    return np.array([probs[str(level)] for level in MODEL_LEVELS], dtype=np.float64)


def _expected_rank(probs: NDArray[np.float64]) -> float:
    return round(float(probs @ np.array([level.rank for level in MODEL_LEVELS], dtype=np.float64)), 3)
