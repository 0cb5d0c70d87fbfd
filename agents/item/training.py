"""Training pairs: the prompt the local writer sends for an item, and the text it should have written after it.

Items do not keep the prompt that made them, so it is rendered again the way `CompletionWriter` renders it, with
the example rotation fixed at offset 0 so the same item always gives the same prompt:

- sentence-based types (gap_fill, open_gap, word_formation, error_correction, reorder): `prompts/sentence.yaml` in
  its completion form, four exemplar sentences at the level (same part of speech first), then the item's word; the
  completion is the whole correct sentence after "Sentence:" (the key put in the gap, the corrected sentence, the
  chunks in order), with the leading space the model writes after the colon;
- reading: `prompts/reading_text.yaml` (the exemplar texts at the level, then the item's topic); the completion is
  the title and text after "Title:";
- matching: `prompts/definition.yaml` once per word (the exemplar meanings at the level); the completion is that
  word's meaning after "Meaning:". The part of speech is the one the instructions name ("Match each noun ..."),
  else the word's listed one (see `_listed_pos`). Items matched with opposites or words of the same meaning give
  no pair: the writer's definition prompt never asked for those.

The word on the "Word:" line is the item's own where it records one (gap_fill's target word and part of speech,
word_formation's answer, matching's words). Open gap, error correction and reorder items do not record the word
their sentence was written for, so it is inferred: the sentence's content word whose listed level is nearest the
item's level from below (the item graph writes sentences for topic words at the level), the earliest among equals;
such pairs carry `target=None`, since the word is a guess and not the item's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.exemplars import Exemplars
from knowledge.items import (
    ErrorCorrectionItem,
    GapFillItem,
    Item,
    MatchingItem,
    OpenGapItem,
    ReadingItem,
    ReorderItem,
    WordFormationItem,
    fill_gap,
    item_from_record,
)
from knowledge.levels import Level
from knowledge.lexicon import Lexicon
from knowledge.nlp import Token, analyze
from prompts.loader import load_prompt

PromptName = Literal["sentence", "reading_text", "definition"]
#: The prompt files training pairs are rendered from (their versions go into the dataset card).
TRAINING_PROMPTS: tuple[PromptName, ...] = ("sentence", "reading_text", "definition")
#: Example rotation of every rendered prompt; the writer rotates by its seed, a fixed one keeps pairs reproducible.
OFFSET = 0
#: Exemplar sentences in a sentence prompt, as `CompletionWriter.sentences` asks for.
SENTENCE_EXAMPLES = 4

#: The writer's part of speech for each universal tag of a content word.
_WRITER_POS = {"NOUN": "noun", "VERB": "verb", "ADJ": "adjective", "ADV": "adverb"}
#: Matching instructions that name one part of speech ("Match each noun with its meaning.").
_NAMED_POS = re.compile(r"\beach (noun|verb|adjective|adverb)\b", re.IGNORECASE)
#: Matching instructions whose options are not meanings (opposites, words of the same meaning).
_NOT_MEANINGS = re.compile(r"\bopposites?\b|\bmeans? the same\b", re.IGNORECASE)


class TrainingPair(BaseModel):
    """One prompt the local writer sends and the completion it should have produced for it."""

    model_config = ConfigDict(frozen=True)

    prompt: str = Field(description="The few-shot completion prompt, ending where the model continues.")
    completion: str = Field(description="What the model should have written there (leading space included).")
    prompt_name: PromptName = Field(description="The prompt file the prompt was rendered from.")
    word: str | None = Field(default=None, description="The word on the prompt's 'Word:' line (None for reading).")
    target: str | None = Field(
        default=None, description="The item's own target word, lower case (None when the word was inferred or none)."
    )


@dataclass
class _Sources:
    """Exemplars for the prompts, and the lexicon (loaded only when a word must be looked up)."""

    exemplars: Exemplars
    lexicon: Lexicon | None = None

    def words(self) -> Lexicon:
        """The lexicon, loading the vendored one on first use when none was given."""
        if self.lexicon is None:
            self.lexicon = Lexicon.load()
        return self.lexicon


def training_pairs(
    fields: Mapping[str, Any], *, exemplars: Exemplars | None = None, lexicon: Lexicon | None = None
) -> list[TrainingPair]:
    """The (prompt, completion) pairs of one item given as its flat fields (ValueError when they are no item).

    Keys no item type has (a review's extra fields, a tutoring item's `learner`) are ignored.
    """
    return _pairs_of(item_from_record(fields), _Sources(exemplars or Exemplars.load(), lexicon))


def _pairs_of(item: Item, sources: _Sources) -> list[TrainingPair]:
    """The pairs of a typed item, by its type."""
    match item:
        case GapFillItem():
            return [
                _sentence_pair(
                    fill_gap(item.stem, item.answer), item.level, item.target_word, item.pos, sources, target=True
                )
            ]
        case WordFormationItem():
            return _word_formation(item, sources)
        case OpenGapItem():
            return _inferred(item.level, fill_gap(item.stem, item.answer), sources)
        case ErrorCorrectionItem() | ReorderItem():
            return _inferred(item.level, item.answer, sources)  # the corrected, or ordered, sentence
        case ReadingItem():
            return _reading(item, sources)
        case MatchingItem():
            return _matching(item, sources)


# --- sentence-based types ---------------------------------------------------------------------------------------


def _sentence_pair(sentence: str, level: Level, word: str, pos: str, sources: _Sources, target: bool) -> TrainingPair:
    """The sentence prompt for word and pos at the level, completed by the sentence."""
    examples = sources.exemplars.sentences_for(level, pos, k=SENTENCE_EXAMPLES, offset=OFFSET)
    prompt = load_prompt("sentence").render_completion(word=word, pos=pos, examples=[e.model_dump() for e in examples])
    return TrainingPair(
        prompt=prompt,
        completion=f" {sentence.strip()}",
        prompt_name="sentence",
        word=word,
        target=word.lower() if target else None,
    )


def _word_formation(item: WordFormationItem, sources: _Sources) -> list[TrainingPair]:
    """Word formation: the stem (without the base word in brackets) with its key; the key is the word."""
    stem = re.sub(rf"\s*\(\s*{re.escape(item.base_word)}\s*\)\s*$", "", item.stem, flags=re.IGNORECASE)
    gap = re.search(r"_{3,}", stem)
    sentence = fill_gap(stem, item.answer)
    token = next((t for t in analyze(sentence) if gap and t.start == gap.start()), None)
    word = token.lemma.lower() if token is not None and token.is_word else item.answer.lower()
    pos = _WRITER_POS.get(token.upos, "noun") if token is not None else "noun"
    return [_sentence_pair(sentence, item.level, word, pos, sources, target=True)]


def _inferred(level: Level, sentence: str, sources: _Sources) -> list[TrainingPair]:
    """A sentence whose word the item does not record: the inferred word's prompt (see the module docstring)."""
    token = _likely_word(analyze(sentence), level, sources)
    if token is None:
        return []
    return [_sentence_pair(sentence, level, token.lemma.lower(), _WRITER_POS[token.upos], sources, target=False)]


def _likely_word(tokens: list[Token], level: Level, sources: _Sources) -> Token | None:
    """The content word listed nearest the level from below (earliest among equals); else the first content word."""
    content = [t for t in tokens if t.is_word and t.upos in _WRITER_POS]
    best: tuple[int, Token] | None = None
    for token in content:
        known = sources.words().level_of(token.text, token.tag)
        listed = known.is_listed and known.level is not None and known.level <= level
        if listed and known.level is not None and (best is None or known.level.rank > best[0]):
            best = (known.level.rank, token)
    if best is not None:
        return best[1]
    return content[0] if content else None


# --- reading and matching ---------------------------------------------------------------------------------------


def _reading(item: ReadingItem, sources: _Sources) -> list[TrainingPair]:
    """Reading: the text prompt for the topic, completed by the title and the text."""
    examples = [e.model_dump() for e in sources.exemplars.texts_for(item.level)]
    prompt = load_prompt("reading_text").render_completion(topic=item.topic, words=[], examples=examples)
    completion = f" {item.title.strip()}\nText: {item.text.strip()}"
    return [TrainingPair(prompt=prompt, completion=completion, prompt_name="reading_text")]


def _matching(item: MatchingItem, sources: _Sources) -> list[TrainingPair]:
    """Matching: one definition prompt per word with a meaning (none when the options are not meanings)."""
    if _NOT_MEANINGS.search(item.instructions):
        return []
    named = _NAMED_POS.search(item.instructions)
    examples = [e.model_dump() for e in sources.exemplars.definitions_for(item.level)]
    pairs = []
    for word in item.words:
        meaning = item.answer.get(word)
        if not meaning:
            continue
        pos = named.group(1).lower() if named else _listed_pos(word, meaning, sources)
        prompt = load_prompt("definition").render_completion(word=word, pos=pos, examples=examples)
        pairs.append(
            TrainingPair(
                prompt=prompt,
                completion=f" {meaning.strip()}",
                prompt_name="definition",
                word=word,
                target=word.lower(),
            )
        )
    return pairs


def _listed_pos(word: str, meaning: str, sources: _Sources) -> str:
    """The word's part of speech among the writer's four: of its list entries, the one the meaning's shape names.

    The definition prompt starts a verb's meaning with "to" and a noun's with "a", "an" or "the"; a word listed
    under one part of speech gets that one, an unlisted word the one its meaning's shape names, else "noun".
    """
    listed = list(dict.fromkeys(e.pos for e in sources.words().lookup(word) if e.pos in _WRITER_POS.values()))
    first = meaning.strip().lower().split(" ", 1)[0]
    shaped = "verb" if first == "to" else "noun" if first in {"a", "an", "the"} else None
    if shaped in listed or (shaped and not listed):
        return str(shaped)
    return listed[0] if listed else "noun"
