"""Greedy averaged-perceptron Penn-Treebank POS tagger over vendored weights (no pickle, no download).

The model is Matthew Honnibal's averaged perceptron as trained for `textblob-aptagger` 0.2.0 (MIT); the weights were
converted once to gzipped JSON by `knowledge/build/convert_aptagger.py`. The feature set below must match the one
the weights were trained with, so it follows the original implementation's features exactly, including its quirk
that the previous tags run on across sentence boundaries (training never reset them).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from knowledge.errors import ResourceError

DATA_FILE = "pos_tagger_ap.json.gz"
_START = ("-START-", "-START2-")
_END = ("-END-", "-END2-")
#: Tags assumed before the first sentence of a text: in training, sentences nearly always followed a full stop.
_TEXT_START = (".", ".")


@dataclass(frozen=True, slots=True)
class TaggerModel:
    """Weights (feature -> tag -> weight), the unambiguous-word dictionary and the tag set of a trained model."""

    weights: dict[str, dict[str, float]]
    tagdict: dict[str, str]
    classes: tuple[str, ...]


class PerceptronTagger:
    """Tags tokenised sentences with Penn-Treebank tags; tokens must use PTB conventions (n't, -LRB-, ``...)."""

    def __init__(self, model: TaggerModel) -> None:
        self._model = model

    @property
    def classes(self) -> tuple[str, ...]:
        """The Penn tags this model can predict."""
        return self._model.classes

    def knows(self, word: str) -> bool:
        """Whether the model saw this token form in training (in its tag dictionary or as a word feature)."""
        return word in self._model.tagdict or f"i word {normalize(word)}" in self._model.weights

    def tag_sentences(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """Tag consecutive sentences of one text; context tags carry across sentences as in training."""
        prev, prev2 = _TEXT_START
        tagged: list[list[str]] = []
        for words in sentences:
            tags = self._tag_words(words, prev, prev2)
            if len(tags) >= 2:
                prev, prev2 = tags[-1], tags[-2]
            elif tags:
                prev, prev2 = tags[-1], prev
            tagged.append(tags)
        return tagged

    def tag(self, words: Sequence[str]) -> list[str]:
        """Tag one tokenised sentence."""
        return self._tag_words(words, *_TEXT_START)

    def _tag_words(self, words: Sequence[str], prev: str, prev2: str) -> list[str]:
        context = [*_START, *(normalize(w) for w in words), *_END]
        tags: list[str] = []
        for i, word in enumerate(words):
            tag = self._model.tagdict.get(word)
            if tag is None:
                tag = self._predict(features(i, word, context, prev, prev2))
            tags.append(tag)
            prev2, prev = prev, tag
        return tags

    def _predict(self, feats: list[str]) -> str:
        scores = dict.fromkeys(self._model.classes, 0.0)
        weights = self._model.weights
        for feat in feats:
            for label, weight in weights.get(feat, {}).items():
                scores[label] += weight
        # Ties broken by the tag name, as the original does, so results are deterministic.
        return max(scores.items(), key=lambda item: (item[1], item[0]))[0]


def normalize(word: str) -> str:
    """Map a word to the form used for context features: hyphenated words, years and numbers are collapsed."""
    if "-" in word and word[0] != "-":
        return "!HYPHEN"
    if word.isdigit() and len(word) == 4:
        return "!YEAR"
    if word[0].isdigit():
        return "!DIGITS"
    return word.lower()


def features(i: int, word: str, context: Sequence[str], prev: str, prev2: str) -> list[str]:
    """The active binary features of word i (the same 14 templates the weights were trained with)."""
    i += len(_START)
    return [
        "bias",
        f"i suffix {word[-3:]}",
        f"i pref1 {word[0]}",
        f"i-1 tag {prev}",
        f"i-2 tag {prev2}",
        f"i tag+i-2 tag {prev} {prev2}",
        f"i word {context[i]}",
        f"i-1 tag+i word {prev} {context[i]}",
        f"i-1 word {context[i - 1]}",
        f"i-1 suffix {context[i - 1][-3:]}",
        f"i-2 word {context[i - 2]}",
        f"i+1 word {context[i + 1]}",
        f"i+1 suffix {context[i + 1][-3:]}",
        f"i+2 word {context[i + 2]}",
    ]


@lru_cache(maxsize=1)
def default_tagger() -> PerceptronTagger:
    """The tagger over the vendored weights, loaded once per process (about 0.3 s)."""
    return PerceptronTagger(load_model())


def load_model(name: str = DATA_FILE) -> TaggerModel:
    """Read the vendored weights from knowledge/data; raise ResourceError if the file is missing or corrupt."""
    resource = files("knowledge") / "data" / name
    try:
        document = json.loads(gzip.decompress(resource.read_bytes()))
    except (OSError, EOFError, ValueError) as exc:
        raise ResourceError(
            f"POS tagger data knowledge/data/{name} is missing or unreadable ({exc}); reinstall Pedagogical Forge."
        ) from exc
    return _model_from_document(document, name)


def _model_from_document(document: Any, name: str) -> TaggerModel:
    try:
        model = TaggerModel(
            weights=document["weights"], tagdict=document["tagdict"], classes=tuple(document["classes"])
        )
    except (KeyError, TypeError) as exc:
        raise ResourceError(f"POS tagger data knowledge/data/{name} has an unexpected layout ({exc}).") from exc
    if not model.classes or not isinstance(model.weights, dict) or not isinstance(model.tagdict, dict):
        raise ResourceError(f"POS tagger data knowledge/data/{name} is empty or malformed.")
    return model
