"""Answers to what the learner asked, from the knowledge: word meanings, grammar points, opinions, mistakes.

- A word: its meaning from WordNet (of the commonest senses for the word's listed part of speech, the one whose
  definition needs the fewest words above the learner's level once harder words are swapped for listed synonyms
  at the level, `reply.simplify`), an example sentence (a curated exemplar, a WordNet example that is a sentence
  within the level, or one the local model writes and the ACI accepts) and the word's CEFR level from the
  lexicon. A word WordNet does not know gets an honest "not in my dictionary" rather than a model's guess: the
  135M model's definitions are wrong too often (see docs: 'commute' -> "to send someone somewhere").
- A grammar point or a confusable pair: the project's own explanation (`knowledge.explanations`) with its two
  examples and level; "the difference between X and Y" without an entry answers X and Y one after the other.
- A question to the tutor about its opinion: a short, honest answer and a question back about the learner's view.
- "Why is that wrong?": the corrections of this turn, else of the last one, with their explanations.
- Off-topic or unsafe: a gentle redirect back to practising English.
Every answer ends with a question or an invitation, so the conversation goes on.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, Field

from agents.context import AgentContext
from agents.item.writers import CompletionWriter, SentenceSpec
from agents.tutor.exercise import EXERCISE_FOR_POINT
from agents.tutor.intent import Intent
from knowledge.explanations import Explanation, Explanations
from knowledge.levels import Level
from knowledge.lexicon import normalize_pos
from knowledge.nlp import analyze, inflect

#: Senses of a word considered for its meaning (the commonest first).
SENSES_CONSIDERED = 3
#: Lowest MiniLM similarity of a simplified meaning to the original for a synonym swap to be kept.
MEANING_SIMILARITY = 0.93
#: How much a later WordNet sense, or one with a technical topic domain, must beat the first to be chosen.
RANK_PENALTY = 0.05
DOMAIN_PENALTY = 0.15
#: ... and one whose definition repeats the word's stem ('stressed': "bearing a stress") is no help to a learner.
SELF_PENALTY = 0.2
#: Model-written example sentences tried when the knowledge has none at the level.
MODEL_EXAMPLES = 2
_INVITES = (
    'Can you make a sentence with "{word}"?',
    'Try it: write one sentence with "{word}".',
    'Now you: how would you use "{word}" in a sentence?',
)
_GRAMMAR_INVITES = (
    "Would you like a short exercise on this?",
    "Can you write one sentence like these about yourself?",
    "Do you want to try an exercise on it?",
)


class Answer(BaseModel):
    """The tutor's answer to a question or request, with where it came from and how it was checked."""

    kind: str
    text: str
    level: Level | None = Field(default=None, description="CEFR level of the word or point answered.")
    sources: list[str] = Field(default_factory=list, description="Where each part came from.")
    above: list[str] = Field(default_factory=list, description="Words above the learner's level that remain.")
    point: str | None = Field(default=None, description="Explanation id, so 'yes' next turn asks for an exercise.")
    answered: bool = Field(default=True, description="False when the knowledge had no answer.")


class WordAnswer(BaseModel):
    """What the knowledge says about one word, pitched at a level."""

    word: str
    pos: str | None
    level: Level | None
    meaning: str | None
    example: str | None
    sources: list[str] = Field(default_factory=list)
    above: list[str] = Field(default_factory=list)


def _seed(text: str) -> int:
    """A stable small number from a text (variety without randomness)."""
    return zlib.crc32(text.encode())


# --- words ----------------------------------------------------------------------------------------------------


def word_answer(ctx: AgentContext, word: str, level: Level, *, model_examples: bool = True) -> WordAnswer:
    """Meaning, example and CEFR level of a word for a learner at `level` (None parts when the knowledge has none)."""
    lexicon = ctx.checker.lexicon
    found = lexicon.level_of(word)
    pos = normalize_pos(found.pos) if found.is_listed else None
    lemma = found.lemma if found.is_listed else word.lower()
    keep = {word.lower(), lemma.lower()}
    curated = _curated_meaning(ctx, lemma)
    meaning, sense_examples, source, above = (curated, [], "curated exemplar meaning", []) if curated else (
        _wordnet_meaning(ctx, lemma, pos, level, keep))  # fmt: skip
    sources = [source] if meaning else []
    example, example_source = _example(ctx, lemma, pos, level, keep, sense_examples, model_examples)
    if example:
        sources.append(example_source)
    level_of_word = found.level if found.level is not None else None
    return WordAnswer(word=word, pos=pos, level=level_of_word, meaning=meaning, example=example, sources=sources,
                      above=above)  # fmt: skip


def _curated_meaning(ctx: AgentContext, lemma: str) -> str | None:
    """A meaning written for the project (exemplars), if the word has one."""
    for definitions in ctx.exemplars.definitions.values():
        for d in definitions:
            if d.word.lower() == lemma.lower():
                return d.meaning
    return None


def _wordnet_meaning(
    ctx: AgentContext, lemma: str, pos: str | None, level: Level, keep: set[str]
) -> tuple[str | None, list[str], str, list[str]]:  # fmt: skip
    """The everyday sense among the commonest WordNet senses, simplified: (meaning, examples, source, above).

    WordNet's first sense is often not the one a learner means ('lend': "bestow a quality on"; 'commute': the
    mathematics one). The sense chosen is the one whose definition is closest to the bare word in MiniLM space
    (the word's everyday use dominates its embedding), less `RANK_PENALTY` per place after the first and
    `DOMAIN_PENALTY` for a technical topic domain and `SELF_PENALTY` for a definition that repeats the word.
    """
    from knowledge.embeddings import embed

    senses = ctx.checker.lexicon.wordnet.senses(lemma, pos)[:SENSES_CONSIDERED]
    if not senses:
        return None, [], "", []
    glosses = [_gloss_text(s.gloss, s.pos) for s in senses]
    vectors = embed([lemma, *glosses])
    scores = [float(vectors[0] @ vectors[i + 1]) - RANK_PENALTY * i - (DOMAIN_PENALTY if s.domains else 0.0)
              - (SELF_PENALTY if len(lemma) >= 5 and lemma[:5].lower() in g.lower() else 0.0)
              for i, (s, g) in enumerate(zip(senses, glosses, strict=True))]  # fmt: skip
    rank = max(range(len(senses)), key=lambda i: scores[i])
    simplified = simplify_meaning(ctx, glosses[rank], level, keep)
    return simplified, list(senses[rank].examples), f"WordNet sense {rank + 1} of {lemma}, simplified for {level}", (
        above_words(ctx, simplified, level, keep))  # fmt: skip


def _plainer(ctx: AgentContext, text: str, level: Level, keep: set[str]) -> str:
    """The meaning without above-level -ly adverbs and, when the first 'or' alternative says enough, the second.

    'relatively low in price or charging low prices' -> 'low in price' (three words or more stay on their own);
    only degree adverbs before an adjective are dropped, so 'give temporarily' keeps its adverb.
    """
    head, sep, tail = text.partition(" or ")
    if sep and len(head.split()) >= 3 and above_words(ctx, tail, level, keep) and not _open_end(head):
        text = head
    hard = set(above_words(ctx, text, level, keep))
    tokens = analyze(text)
    # only degree adverbs before an adjective go ('relatively low'); 'give temporarily' keeps its adverb
    dropped = [
        t
        for t, after in pairwise(tokens)
        if t.tag.startswith("RB") and t.lower.endswith("ly") and t.text in hard and after.tag.startswith("JJ")
    ]
    for t in reversed(dropped):
        text = (text[: t.start] + text[t.end :].lstrip()).strip()
    return text


def _open_end(text: str) -> bool:
    """Whether a phrase ends where 'or' still needs its second half ('a payment or series of payments')."""
    tokens = [t for t in analyze(text) if t.is_word]
    return bool(tokens) and tokens[-1].tag in {"DT", "IN", "JJ", "CC", "TO", "PRP$"}


def simplify_meaning(ctx: AgentContext, text: str, level: Level, keep: set[str]) -> str:
    """The text with words above the level swapped for listed synonyms at the level that keep its meaning.

    A swap is kept only if the MiniLM similarity of the result to the original stays at least
    `MEANING_SIMILARITY` ('completed' -> 'finished' passes, 'wasting' -> 'blowing' does not).
    """
    from knowledge.embeddings import embed

    lexicon = ctx.checker.lexicon
    text = _plainer(ctx, text, level, keep)
    current = text
    for v in ctx.checker.check(text, level).violations:
        tag = next((t.tag for t in analyze(current) if t.text == v.text), "NN")
        if v.kind != "word_above_level" or v.text.lower() in keep or _list_pos(tag) in (None, "adverb"):
            continue  # adverbs are left alone: 'back and forth' must not become 'back and away'
        for candidate in lexicon.synonyms(v.text, _list_pos(tag), max_level=level)[:3]:
            if " " in candidate.word:
                continue
            swapped = re.sub(rf"\b{re.escape(v.text)}\b", inflect(candidate.lemma, tag), current, count=1)
            vectors = embed([text, swapped])
            if float(vectors[0] @ vectors[1]) >= MEANING_SIMILARITY:
                current = swapped
                break
    return current


def _list_pos(tag: str) -> str | None:
    """The vocabulary-list POS of a Penn tag (None for words that are not content words)."""
    return {"N": "noun", "V": "verb", "J": "adjective", "R": "adverb"}.get(tag[:1])


def _gloss_text(gloss: str, wn_pos: str) -> str:
    """A WordNet definition as a learner reads it: the first alternative only, 'to' before a verb's."""
    text = gloss.split(";")[0].strip()
    text = re.sub(r"\s*\([^)]*\)", "", text)
    text = re.sub(r",?\s*etc\.*$", "", text).strip().rstrip(".").strip()
    return f"to {text}" if wn_pos == "v" and not text.startswith("to ") else text


def above_words(ctx: AgentContext, text: str, level: Level, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Words of a text above the level (or unknown), except those kept (the learner's own, the word asked)."""
    report = ctx.checker.check(text, level)
    return [v.text for v in report.violations
            if v.kind in ("word_above_level", "unknown_word") and v.text.lower() not in keep]  # fmt: skip


def fits(ctx: AgentContext, text: str, level: Level, keep: set[str]) -> bool:
    """Whether a sentence is within the level: no word above it (but the word asked) and no construction blocking."""
    report = ctx.checker.check(text, level)
    blocking = [v for v in report.violations if v.kind == "construction_above_level" and v.severity == "error"]
    return not blocking and not above_words(ctx, text, level, keep)


def _example(
    ctx: AgentContext, lemma: str, pos: str | None, level: Level, keep: set[str], sense_examples: list[str],
    use_model: bool,
) -> tuple[str | None, str]:  # fmt: skip
    """An example sentence with the word, within the level: exemplar, WordNet, or model-written and checked."""
    for sentences in ctx.exemplars.sentences.values():
        for s in sentences:
            if s.word.lower() == lemma.lower():
                return s.sentence, "curated exemplar sentence"
    for text in sense_examples:
        sentence = _as_sentence(text)
        if sentence and _uses(sentence, keep) and fits(ctx, sentence, level, keep):
            return sentence, "WordNet example"
    if use_model:
        spec = SentenceSpec(word=lemma, pos=pos or "noun", level=level)
        for draft in CompletionWriter(ctx.local, ctx.exemplars).sentences(spec, MODEL_EXAMPLES, _seed(lemma) % 1000):
            text = draft.text
            if 4 <= len(text.split()) <= 16 and _uses(text, keep) and fits(ctx, text, level, keep):
                return text, f"written by {draft.model}, accepted by the ACI at {level}"
    return None, ""


def _as_sentence(text: str) -> str | None:
    """A WordNet example as a sentence (capital, full stop) if it has a verb and at least four words."""
    tokens = [t for t in analyze(text) if t.is_word]
    has_verb = any(t.tag in ("VBZ", "VBP", "VBD", "MD") for t in tokens)
    if len(tokens) < 4 or not has_verb or tokens[0].tag.startswith(("VB", "MD")) or "--" in text:
        return None
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text[-1:] in ".!?" else ".")


def _uses(sentence: str, keep: set[str]) -> bool:
    """Whether the sentence contains the word (any form)."""
    return any(t.lower in keep or t.lemma.lower() in keep for t in analyze(sentence))


def render_word(found: WordAnswer, level: Level) -> str:
    """A word answer as the tutor says it."""
    if found.meaning is None:
        return (f'I\'m sorry, "{found.word}" is not in my dictionary, so I can\'t explain it well. '
                "Can you write the sentence where you saw it?")  # fmt: skip
    label = ", ".join(x for x in (found.pos, f"level {found.level}" if found.level else "") if x)
    text = f'"{found.word}" ({label}) means: {found.meaning}.' if label else f'"{found.word}" means: {found.meaning}.'
    if found.example:
        text += f' For example: "{found.example}"'
    return text


def answer_word_question(ctx: AgentContext, intent: Intent, level: Level) -> Answer:
    """The answer to a word question: one word, or two (a confusable entry when the data has one)."""
    data = Explanations.load()
    if intent.point is not None:
        return _explained(data.get(intent.point), level, kind="word_question")
    found = [word_answer(ctx, w, level) for w in intent.words[:2]]
    if not found:
        return Answer(kind="word_question", text="Which word do you mean? Please write it again.", answered=False)
    parts = [render_word(f, level) for f in found]
    invite = _INVITES[_seed(intent.words[0]) % len(_INVITES)].format(word=found[0].word)
    answered = all(f.meaning is not None for f in found)
    text = " ".join(parts) + ("" if not answered and len(found) == 1 else f" {invite}")
    levels = [f.level for f in found if f.level is not None]
    return Answer(kind="word_question", text=text, level=max(levels) if levels else None,
                  sources=[s for f in found for s in f.sources], above=[a for f in found for a in f.above],
                  answered=answered)  # fmt: skip


# --- grammar --------------------------------------------------------------------------------------------------


def _explained(entry: Explanation, level: Level, *, kind: str) -> Answer:
    """An explanation entry as the tutor says it: title and level, explanation, two examples, an invitation."""
    # an exercise is offered only on a point some exercise type practises (make/do has none yet)
    invites = _GRAMMAR_INVITES if entry.id in EXERCISE_FOR_POINT else _GRAMMAR_INVITES[1:2]
    invite = invites[_seed(entry.id) % len(invites)]
    examples = " ".join(f'"{e}"' for e in entry.examples[:2])
    text = f"{entry.title[:1].upper()}{entry.title[1:]} (level {entry.level}): {entry.explanation} " \
           f"Examples: {examples} {invite}"  # fmt: skip
    return Answer(kind=kind, text=text, level=entry.level, sources=[f"grammar-explanations.yaml#{entry.id}",
                  entry.source], point=entry.id)  # fmt: skip


def answer_grammar_question(intent: Intent, level: Level) -> Answer:
    """The answer to a grammar question from the explanations, or an honest 'not yet' with a way on."""
    if intent.point is not None:
        return _explained(Explanations.load().get(intent.point), level, kind="grammar_question")
    return Answer(kind="grammar_question", answered=False,
                  text="That is a good grammar question, but I don't have a clear explanation of it yet. "
                       "Can you write an example sentence, so that I can check it for you?")  # fmt: skip


# --- opinions, mistakes, redirects ----------------------------------------------------------------------------

_ABOUT = re.compile(r"\b(about|of|on)\s+(?P<x>[a-z][a-z' -]{1,40}?)(?:\?|$| now| today| these days)")
_LIKE = re.compile(r"\bdo you (like|enjoy|play|prefer)\s+(?P<x>[a-z][a-z' -]{1,40}?)(?:\?|$)")
_BACK_ABOUT = (
    "What do you think we can do about {x}?",
    "How does {x} change your life?",
    "Why is {x} important to you?",
)
_VIEW = re.compile(r"(?:^|[.!?] )i (?:think|believe) (?:that )?(?P<v>[a-z][a-z' ,-]{3,80}?)[.!?]?$")
_FEELING = re.compile(r"\bi(?: am|'m| feel) (?:very |so |a bit |really )?(?P<f>[a-z]+)\b")


def answer_opinion(intent: Intent, message: str) -> Answer:
    """A short, honest answer to a question about the tutor's view or life, and a question back."""
    said = intent.question or message.lower()
    liked = _LIKE.search(said)
    if liked:
        x = liked.group("x").strip()
        text = (f"I'm a computer program, so I can't {_verb_for(liked.group(1))} {x} myself, but I love hearing "
                f"about it. What do you like most about {x}?")  # fmt: skip
        return Answer(kind="opinion_question", text=text)
    about = _ABOUT.search(said)
    if (about and "think" in said) or (about and "opinion" in said):
        x = _your(about.group("x").strip()) if about else "it"
        feeling, view = _FEELING.search(message.lower()), _VIEW.search(message.lower())
        back = (f"Why do you think {_your(view.group('v'))}?" if view else
                f"Why do you feel {feeling.group('f')} about it?" if feeling else
                _BACK_ABOUT[_seed(x) % len(_BACK_ABOUT)].format(x=x))  # fmt: skip
        text = f"I think {x} is a really important topic, and many people have strong feelings about it. {back}"
        return Answer(kind="opinion_question", text=text)
    text = ("I'm your English tutor, a computer program, so I spend my days talking with learners like you. "
            "And you: what do you enjoy doing in your free time?")  # fmt: skip
    return Answer(kind="opinion_question", text=text)


def _verb_for(verb: str) -> str:
    """The verb the tutor cannot do ('play' stays 'play'; like/enjoy/prefer become 'try')."""
    return verb if verb == "play" else "try"


def _your(phrase: str) -> str:
    """A phrase in the tutor's voice ('my city' -> 'your city')."""
    swaps = {"my": "your", "i": "you", "me": "you", "our": "your", "we": "you"}
    return " ".join(swaps.get(w, w) for w in phrase.split())


def answer_explain_mistake(
    this_turn: Sequence[Any], last_turn: Sequence[dict[str, Any]], *, check: bool = False
) -> Answer:  # fmt: skip
    """The corrections of this turn (if the message had any), else of the last turn, with their full explanations.

    `check`: the learner asked whether the sentence in this message is right, so only this turn's count.
    """
    items = [{"text": c.text, "suggestion": c.suggestion, "why": c.why or c.explanation} for c in this_turn] or [
        {"text": c.get("text", ""), "suggestion": c.get("suggestion", ""),
         "why": c.get("why") or c.get("explanation", "")} for c in ([] if check else last_turn)]  # fmt: skip
    if not items and check:
        return Answer(kind="explain_mistake", text="I don't see a mistake in that sentence: it looks right to me. "
                      "Do you want to write another one?")  # fmt: skip
    if not items:
        return Answer(kind="explain_mistake", answered=True,
                      text="I didn't find a mistake there, so there is nothing to correct. Well done! "
                           "Shall we go on? Tell me more about your day.")  # fmt: skip
    parts = [f'You wrote "{c["text"]}", and we say "{c["suggestion"]}". {c["why"]}'.strip() for c in items[:2]]
    return Answer(kind="explain_mistake", text=" ".join(parts) + " Is it clear now?")


def answer_redirect(intent: Intent) -> Answer:
    """A gentle redirect: safety first for unsafe subjects, then back to English practice."""
    if "unsafe" in intent.reason:
        text = ("I'm sorry, I can't help with that. If you or someone else is in danger, please talk to a person you "
                "trust or call your local emergency number. When you are ready, we can go on practising English: "
                "what would you like to talk about?")  # fmt: skip
    else:
        text = ("I can't help with that here: I'm your English tutor. But I'm happy to help with your English! "
                "What would you like to talk about, or shall I give you a short exercise?")  # fmt: skip
    return Answer(kind="redirect", text=text)


def exercise_words(intent: Intent) -> str:
    """What an exercise request was about, as the tutor names it."""
    if intent.point is not None:
        return Explanations.load().get(intent.point).title
    return intent.topic or "your conversation"
