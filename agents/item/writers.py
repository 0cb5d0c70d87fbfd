"""Writers: the only place a model writes natural language for an exercise.

The small local model follows examples far better than instructions, so `CompletionWriter` uses plain few-shot
completion (no chat template) with exemplars at the level. Escalation targets are capable chat models, so
`ChatWriter` sends the tiered prompt (output rules, task, constraints, guidelines, reasoning, avoid) and asks for
JSON. Both return candidates; structure (gaps, options, questions) is built by code, never by the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from agents.models.base import ChatModel, ChatResult, GenerationOptions, Message
from agents.models.errors import ModelError
from knowledge.exemplars import Exemplars
from knowledge.levels import Level
from prompts.loader import load_prompt

_MAX_SENTENCE_CHARS = 220


class SentenceSpec(BaseModel):
    """What sentence to write: a word at a level, optionally on a topic, avoiding some words."""

    word: str
    pos: str
    level: Level
    topic: str = ""
    form: str | None = Field(default=None, description="Inflected form the sentence must use, if any.")
    avoid: list[str] = Field(default_factory=list)


class TextSpec(BaseModel):
    """What short text to write: a topic at a level, with words it should use."""

    level: Level
    topic: str
    words: list[str] = Field(default_factory=list)
    sentences: int = Field(default=5, ge=2, le=10)


class StorySpec(BaseModel):
    """What one sentence of a planned reading text to write: what a person did, about a topic, at a level."""

    level: Level
    topic: str
    pronoun: Literal["She", "He"] = "She"


#: Few-shot examples of the "what she did" sentence (written for Pedagogical Forge): past simple, one concrete
#: action, no names, numbers, days or reasons, so the code's planned facts stay the only ones in the text.
STORY_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("a visit to the dentist", "She sat in a big chair, and the dentist looked at her teeth."),
    ("a birthday party", "She opened her presents and ate a piece of chocolate cake."),
    ("a day at the beach", "She swam in the sea and played in the sand."),
    ("moving house", "She put her books and clothes into big boxes."),
    ("a cooking class", "She learned how to make fresh bread and soup."),
    ("a walk in the park", "She walked around the lake and fed the ducks."),
    ("a snowy afternoon", "She built a snowman in the garden and drank hot chocolate."),
    ("working in a shop", "She sold shoes and helped customers find the right size."),
)


def story_examples(pronoun: str, offset: int, k: int = 4) -> list[dict[str, str]]:
    """Examples (k of them), rotated by offset, with the pronoun (and its possessive) the text's person takes."""
    rotated = [STORY_EXAMPLES[(offset + i) % len(STORY_EXAMPLES)] for i in range(k)]
    if pronoun == "He":
        rotated = [(t, re.sub(r"\bher\b", "his", s.replace("She ", "He "))) for t, s in rotated]
    return [{"topic": t, "sentence": s} for t, s in rotated]


@dataclass
class WrittenDraft:
    """One piece of text a model wrote, with the call that produced it (for accounting and traces)."""

    text: str
    model: str
    call: ChatResult | None = None
    error: str | None = None


@dataclass
class WriterStats:
    """Calls and time a writer spent, so the graph can report model time separately from orchestration."""

    calls: int = 0
    model_s: float = 0.0
    errors: list[str] = field(default_factory=list)


class Writer(Protocol):
    """Writes sentences and short texts; implemented for few-shot completion and for chat models."""

    model: ChatModel
    stats: WriterStats

    def sentences(self, spec: SentenceSpec, n: int, seed: int) -> list[WrittenDraft]:
        """Up to n candidate sentences for the spec (fewer if calls fail)."""
        ...

    def text(self, spec: TextSpec, seed: int) -> WrittenDraft:
        """One short text for the spec."""
        ...

    def meanings(self, spec: SentenceSpec, n: int, seed: int) -> list[WrittenDraft]:
        """Up to n candidate short meanings of the spec's word."""
        ...

    def story_sentences(self, spec: StorySpec, n: int, seed: int) -> list[WrittenDraft]:
        """Up to n candidate sentences saying what the planned text's person did (each starts with the pronoun)."""
        ...


class CompletionWriter:
    """Few-shot completion with the local model: exemplars at the level, then a 'Word:' line and 'Sentence:'."""

    def __init__(self, model: ChatModel, exemplars: Exemplars | None = None, temperature: float = 0.7) -> None:
        self.model = model
        self.exemplars = exemplars or Exemplars.load()
        self.temperature = temperature
        self.stats = WriterStats()

    def sentences(self, spec: SentenceSpec, n: int, seed: int) -> list[WrittenDraft]:
        """Sample n completions with different seeds and example orders."""
        # One prompt for every candidate of a call, so its prefix stays in llama.cpp's KV cache; seeds vary.
        examples = self.exemplars.sentences_for(spec.level, spec.pos, k=4, offset=seed)
        text = load_prompt("sentence").render_completion(
            word=spec.word, pos=spec.pos, examples=[e.model_dump() for e in examples]
        )
        drafts = []
        for i in range(n):
            options = GenerationOptions(
                max_tokens=48, temperature=self.temperature, stop=["\n"], seed=seed + i, level=spec.level.value
            )
            drafts.append(self._call(text, options))
        return [d for d in drafts if d.text]

    def text(self, spec: TextSpec, seed: int) -> WrittenDraft:
        """Continue exemplar texts at the level with a new title and the first words of the topic."""
        prompt = load_prompt("reading_text")
        examples = [e.model_dump() for e in self.exemplars.texts_for(spec.level)]
        rendered = prompt.render_completion(topic=spec.topic, words=spec.words, examples=examples)
        options = GenerationOptions(
            max_tokens=32 * spec.sentences,
            temperature=self.temperature,
            stop=["\n\n", "Topic:"],
            seed=seed,
            level=spec.level.value,
            repeat_penalty=1.15,
        )
        return self._call(rendered, options, clean=_titled)

    def meanings(self, spec: SentenceSpec, n: int, seed: int) -> list[WrittenDraft]:
        """Sample n short meanings after exemplar meanings at the level."""
        prompt = load_prompt("definition")
        examples = [e.model_dump() for e in self.exemplars.definitions_for(spec.level)]
        rendered = prompt.render_completion(word=spec.word, pos=spec.pos, examples=examples)
        drafts = []
        for i in range(n):
            options = GenerationOptions(
                max_tokens=28, temperature=self.temperature, stop=["\n"], seed=seed + i, level=spec.level.value
            )
            drafts.append(self._call(rendered, options, clean=clean_meaning))
        return [d for d in drafts if d.text]

    def story_sentences(self, spec: StorySpec, n: int, seed: int) -> list[WrittenDraft]:
        """Continue example sentences after 'Sentence: She' (or He); the pronoun is put back in front."""
        examples = story_examples(spec.pronoun, seed)
        rendered = load_prompt("reading_story").render_completion(
            topic=spec.topic, pronoun=spec.pronoun, examples=examples
        )
        drafts = []
        for i in range(n):
            options = GenerationOptions(
                max_tokens=32, temperature=self.temperature, stop=["\n"], seed=seed + i, level=spec.level.value
            )
            drafts.append(self._call(rendered, options, clean=partial(_after_pronoun, spec.pronoun)))
        return [d for d in drafts if d.text]

    def _call(self, prompt: str, options: GenerationOptions, clean: Callable[[str], str] | None = None) -> WrittenDraft:
        """One completion; a model error becomes an empty draft with the error recorded."""
        self.stats.calls += 1
        try:
            result = self.model.complete(prompt, options=options)
        except ModelError as exc:
            self.stats.errors.append(f"{exc.kind}: {exc}")
            return WrittenDraft(text="", model=self.model.id, error=f"{exc.kind}: {exc}")
        self.stats.model_s += result.latency_s
        return WrittenDraft(text=(clean or clean_sentence)(result.text), model=self.model.id, call=result)


# The output schemas carry no length limits: Ollama and llama.cpp turn a schema into a grammar, and a long
# maxLength becomes a rule repeated thousands of times that the grammar parser refuses. Lengths are checked here.


class _SentenceOut(BaseModel):
    sentence: str


class _TextOut(BaseModel):
    title: str
    text: str


class _MeaningOut(BaseModel):
    meaning: str


#: Accepted lengths (characters) of each reply field; a reply outside them counts as no draft.
_LENGTHS = {"sentence": (8, _MAX_SENTENCE_CHARS), "title": (2, 80), "text": (40, 2000), "meaning": (6, 120)}


def _fits(parsed: BaseModel) -> bool:
    """Whether every text field of a parsed reply has an accepted length."""
    return all(lo <= len(str(getattr(parsed, name)).strip()) <= hi
               for name, (lo, hi) in _LENGTHS.items() if hasattr(parsed, name))  # fmt: skip


def _draft_text(parsed: object) -> str:
    """The text of a parsed JSON reply, cleaned like the completion writer's output ('' when it does not fit)."""
    if not isinstance(parsed, BaseModel) or not _fits(parsed):
        return ""
    if isinstance(parsed, _SentenceOut):
        return clean_sentence(parsed.sentence)
    if isinstance(parsed, _MeaningOut):
        return clean_meaning(parsed.meaning)
    if isinstance(parsed, _TextOut):
        return f"Title: {parsed.title.strip()}\nText: {parsed.text.strip()}"
    return ""


class ChatWriter:
    """Tiered chat prompts with JSON output, for capable chat models (the escalation targets)."""

    def __init__(self, model: ChatModel, exemplars: Exemplars | None = None) -> None:
        self.model = model
        self.exemplars = exemplars or Exemplars.load()
        self.stats = WriterStats()

    def sentences(self, spec: SentenceSpec, n: int, seed: int) -> list[WrittenDraft]:
        """Ask n times (different seeds) for one sentence as JSON."""
        prompt = load_prompt("sentence")
        values = {
            "word": spec.word,
            "pos": spec.pos,
            "level": spec.level.value,
            "topic": spec.topic,
            "form": spec.form,
            "avoid": spec.avoid,
            "level_note": self.exemplars.note(spec.level),
            "examples": [e.model_dump() for e in self.exemplars.sentences_for(spec.level, spec.pos, k=3)],
        }
        messages = [Message.system(prompt.render_system(**values)), Message.user(prompt.render_user(**values))]
        drafts = [self._call(messages, _SentenceOut, seed + i) for i in range(n)]
        return [d for d in drafts if d.text]

    def text(self, spec: TextSpec, seed: int) -> WrittenDraft:
        """Ask for a titled short text as JSON."""
        prompt = load_prompt("reading_text")
        values = {
            "level": spec.level.value,
            "topic": spec.topic,
            "words": spec.words,
            "sentences": spec.sentences,
            "level_note": self.exemplars.note(spec.level),
            "examples": [e.model_dump() for e in self.exemplars.texts_for(spec.level)][:1],
        }
        messages = [Message.system(prompt.render_system(**values)), Message.user(prompt.render_user(**values))]
        return self._call(messages, _TextOut, seed, max_tokens=800)

    def meanings(self, spec: SentenceSpec, n: int, seed: int) -> list[WrittenDraft]:
        """Ask n times for a short meaning as JSON."""
        prompt = load_prompt("definition")
        values = {
            "word": spec.word,
            "pos": spec.pos,
            "level": spec.level.value,
            "level_note": self.exemplars.note(spec.level),
            "examples": [e.model_dump() for e in self.exemplars.definitions_for(spec.level)],
        }
        messages = [Message.system(prompt.render_system(**values)), Message.user(prompt.render_user(**values))]
        drafts = [self._call(messages, _MeaningOut, seed + i) for i in range(n)]
        return [d for d in drafts if d.text]

    def story_sentences(self, spec: StorySpec, n: int, seed: int) -> list[WrittenDraft]:
        """Ask n times for the 'what the person did' sentence as JSON."""
        prompt = load_prompt("reading_story")
        values = {
            "level": spec.level.value,
            "topic": spec.topic,
            "pronoun": spec.pronoun,
            "level_note": self.exemplars.note(spec.level),
            "examples": story_examples(spec.pronoun, seed, k=3),
        }
        messages = [Message.system(prompt.render_system(**values)), Message.user(prompt.render_user(**values))]
        drafts = [self._call(messages, _SentenceOut, seed + i) for i in range(n)]
        return [d for d in drafts if d.text]

    def _call(self, messages: list[Message], schema: type[BaseModel], seed: int, max_tokens: int = 400) -> WrittenDraft:
        """One chat call with a JSON schema; a model error becomes an empty draft with the error recorded."""
        self.stats.calls += 1
        options = GenerationOptions(max_tokens=max_tokens, temperature=0.7, seed=seed)
        try:
            result = self.model.chat(messages, options=options, schema=schema)
        except ModelError as exc:
            self.stats.errors.append(f"{exc.kind}: {exc}")
            return WrittenDraft(text="", model=self.model.id, error=f"{exc.kind}: {exc}")
        self.stats.model_s += result.latency_s
        return WrittenDraft(text=_draft_text(result.parsed), model=self.model.id, call=result)


_QUOTES = "\"'“”‘’"
_LEADING_JUNK = re.compile(r"^\s*(?:[-*•]\s+|\d+[.)]\s+)")


def _titled(text: str) -> str:
    """A completion that continued after 'Title:', in the title-line-then-text shape both writers return."""
    return "Title: " + text.strip()


def _after_pronoun(pronoun: str, text: str) -> str:
    """A completion that continued after the pronoun, as one clean sentence starting with it."""
    return clean_sentence(f"{pronoun} {text.strip()}")


def clean_meaning(text: str) -> str:
    """Trim a model-written meaning to one line without quotes or a final full stop."""
    text = _LEADING_JUNK.sub("", text.strip().splitlines()[0] if text.strip() else "").strip().strip(_QUOTES)
    return text.rstrip(".").strip()[:120]


def clean_sentence(text: str) -> str:
    """Trim what models wrap around a sentence: quotes, list markers, trailing fragments after the first sentence."""
    text = _LEADING_JUNK.sub("", text.strip()).strip().strip(_QUOTES).strip()
    # the first sentence ends at . ! or ?, possibly followed by a closing quote, then a space or the end
    match = re.search(r"[.!?](?=[\"'”’]*(?:\s|$))", text)
    if match:
        text = text[: match.end()]
    return text[:_MAX_SENTENCE_CHARS].strip()
