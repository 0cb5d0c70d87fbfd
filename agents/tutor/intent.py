"""What the learner wants this turn: the intent that routes it through the tutoring graph.

Chat, an answer about a word or a grammar point, an exercise, an explanation of a correction, an answer to the
tutor's question about itself, or (off-topic, unsafe) a gentle redirect.

Pure code, no model: phrase patterns over the message (lower-cased, quotes removed) decide the kind, and the
grammar-explanation data (`knowledge.explanations`) says which point a grammar question is about. The small model
is not asked: on the two scripted sessions and the unit cases the patterns classify every turn, and a 135M model
guessing intents would only add a second of latency and its mistakes.

Order (the first that applies wins):
1. unsafe or off-topic requests (violence, self-harm, asking the tutor to do homework or ignore its rules);
2. a request for an exercise ("Can you give me an exercise about the past simple?"), with its point or topic;
3. a request to explain a correction ("Why is that wrong?");
4. a grammar question: a question or request naming a grammar point the data explains, or asking when/how to
   use a construction;
5. a word question: the meaning or use of a word ("What does X mean?", "What means X?", "How do I use X?"), or the
   difference between two words (a confusable pair in the data answers both at once);
6. a question to the tutor about its opinion or itself ("What do you think about X?", "Do you like...?");
7. otherwise conversation.

An answer to an offered exercise is decided before this (`agents.tutor.exercise.looks_like_answer`) unless the
message is clearly one of 2-5.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from knowledge.explanations import Explanation, Explanations
from knowledge.nlp import analyze

IntentKind = Literal[
    "conversation", "word_question", "grammar_question", "exercise_request", "explain_mistake", "exercise_answer",
    "opinion_question", "redirect",
]  # fmt: skip
INTENT_KINDS: tuple[IntentKind, ...] = (
    "conversation", "word_question", "grammar_question", "exercise_request", "explain_mistake", "exercise_answer",
    "opinion_question", "redirect",
)  # fmt: skip


class Intent(BaseModel):
    """The kind of a learner turn, why, and what it is about."""

    kind: IntentKind
    reason: str
    words: list[str] = Field(default_factory=list, description="The words asked about (word questions).")
    point: str | None = Field(default=None, description="Id of the explanation entry it is about, if any.")
    topic: str | None = Field(default=None, description="The topic an exercise is asked for (not a grammar point).")
    question: str = Field(default="", description="The learner's question sentence (opinion questions).")
    check: bool = Field(default=False, description="Asks whether this message's own sentence is correct.")


_UNSAFE = re.compile(
    r"\b(kill|murder|suicide|hurt (myself|someone|people)|bomb|weapon|gun|drugs?|porn|sex|hack(ing)?|steal|"
    r"terroris[mt])\b"
)
_OFF_TOPIC = re.compile(
    r"\b(ignore (all |your |the )?(previous |above )?(instructions|rules)|system prompt|write (my|an?|the) "
    r"(essay|homework|code|program)|do my homework|solve (this|the) (equation|problem)|python|javascript|"
    r"bitcoin|stock market tips|password)\b"
)
_EXERCISE_NOUN = (
    r"([a-z]+ )?(exercises?|quiz|tests?|practice|activity|activities|task|gap ?fills?|questions to practi[sc]e)"
)
_EXERCISE = re.compile(
    rf"\b((give|make|send|show|find|prepare|write) (me|us) (an?|some|one|another|more|other)? ?(short |small |new "
    rf"|little |quick |easy )?{_EXERCISE_NOUN}|(can|could|may) (i|we) (have|get|do|try) (an?|some|one|another|more)?"
    rf" ?{_EXERCISE_NOUN}|(i|we)('d like| want| would like| need) (an?|some|one|another|more|to do an?)? ?"
    rf"{_EXERCISE_NOUN}|let's (do|have|try) (an?|some)? ?{_EXERCISE_NOUN}|(can|could) (we|i) practi[sc]e|"
    rf"^(an? |one |another )?{_EXERCISE_NOUN} (about|on|with|for|please)|(test|quiz) me|"
    rf"^(give me |can i have |can i do |i want |i'd like )?(another|one more)( one| exercise)?( please)?$)\b"
)
_EXERCISE_TAIL = re.compile(r"\b(about|on|with|for|practi[sc]e|practi[sc]ing) (?P<tail>.+)$")
_CHECK = re.compile(
    r"\b(is it (correct|right|ok|okay|wrong|good english) to (say|write)|which (one )?is (correct|right|better)|"
    r"can i say|is (this|that|my sentence) (correct|right|ok|okay)|is this sentence (correct|right))\b"
)
_EXPLAIN_MISTAKE = re.compile(
    r"\b(why (is|was|it's|is it) (that|this|it|my sentence|my answer|mine) (wrong|not (right|correct)|a mistake)|"
    r"what (is|was|'s) (wrong|my mistake|the mistake|the problem) (with|in)|what did i (do|say|write) wrong|"
    r"(explain|tell me) (me )?(my|the|that|this) (mistake|error|correction)|why (did|do) you (correct|change)|"
    r"i (don't|do not|didn't|did not) understand (the|your|my|that) (correction|mistake|error)|why not \w+|"
    r"what('s| is| was) wrong)\b"
)
#: A question or request about language: it may name a grammar point.
_ASKS = re.compile(
    r"(\?\s*$|^(what|when|why|how|which|where|who|can|could|should|do|does|did|is|are|would|will|shall|may)\b|"
    r"\b(explain|tell me|help me|i don't understand|i do not understand|i'm confused|i am confused|not sure|"
    r"difference)\b)"
)
_GRAMMAR_WORDS = re.compile(
    r"\b(grammar|tense|tenses|conditional|passive|clause|verb forms?|preposition|article|plural|adjective order|"
    r"when (do|should|can|must) (i|we|you) use|when to use)\b"
)
_WORD_PATTERNS = (
    re.compile(r"\bwhat (does|do|did) (the word |the expression |the phrase )?(?P<w>.+?) mean\b"),
    re.compile(r"\bwhat (means|mean|is meaning|is the meaning of|'s the meaning of) (the word )?(?P<w>.+)$"),
    re.compile(r"\b(the )?meaning of (the word )?(?P<w>.+)$"),
    re.compile(r"\bhow (do|can|should|could) (i|you|we|one) use (the word )?(?P<w>.+)$"),
    re.compile(r"\bhow to use (the word )?(?P<w>.+)$"),
    re.compile(r"\b(explain|tell me) (me )?(the word |what )(?P<w>.+?)( means| is)?$"),
    re.compile(r"^(?P<w>[a-z'-]+) (means|meaning) what$"),
    re.compile(r"^what (is|are|'s) (an? )?(?P<w>[a-z'-]+)$"),
)
_DIFFERENCE = re.compile(r"\bdifference(s)? between (?P<a>.+?) (and|or) (?P<b>.+)$")
_OR_CHOICE = re.compile(r"^(should i|do i|can i|is it) (say |use )?(?P<a>[a-z'-]+(?: [a-z'-]+)?) or (?P<b>[a-z'-]+)$")
_OPINION = re.compile(
    r"\b(what do you think|what's your opinion|what is your opinion|do you think|do you like|do you agree|"
    r"what about you|how about you|and you|what is your favou?rite|what's your favou?rite|what do you (like|do|"
    r"prefer|usually)|have you ever|are you|do you (have|play|enjoy|prefer|live|speak|know))\b"
)
_SLOT_JUNK = re.compile(
    r"^(the word |the phrase |the expression |a |an |the |to )|( (in english|here|in this sentence|exactly|please|"
    r"in the sentence|when|for|as a verb|as a noun))+$"
)
_QUOTES = str.maketrans({c: " " for c in '"“”‘’`«»'})


def normalise(message: str) -> str:
    """The message lower-cased, quotes and final punctuation removed, spaces collapsed (apostrophes kept)."""
    text = message.translate(_QUOTES).replace("'", "'").lower()
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)
    text = re.sub(r"[,;:!.]+", " ", text)
    return " ".join(text.replace("?", " ? ").split()).replace(" ?", "?")


def classify(message: str, *, pending_answer: bool = False, explanations: Explanations | None = None) -> Intent:
    """The intent of one learner message (see the module docstring for the order of the rules).

    `pending_answer`: an exercise is waiting and the message looks like its answer.
    """
    data = explanations or Explanations.load()
    text = normalise(message)
    sentences = [s.strip() for s in re.split(r"(?<=[?])\s+|(?<=\w)\s*\.\s+", text) if s.strip()]
    questions = [s for s in sentences if _ASKS.search(s)]
    safety = _safety(text)
    if safety is not None:
        return safety
    request = _exercise_request(text, data)
    if request is not None:
        return request
    if _CHECK.search(text):
        return Intent(kind="explain_mistake", reason="asks whether a sentence is correct", check=True)
    if _EXPLAIN_MISTAKE.search(text):
        return Intent(kind="explain_mistake", reason="asks why something was corrected")
    for sentence in questions:
        found = _language_question(sentence.rstrip("?").strip(), data)
        if found is not None:
            return found
    if pending_answer:
        return Intent(kind="exercise_answer", reason="a short message while an exercise waits for its answer")
    for sentence in questions:
        if _OPINION.search(sentence):
            return Intent(kind="opinion_question", reason="asks the tutor's opinion or about the tutor",
                          question=sentence)  # fmt: skip
    return Intent(kind="conversation", reason="no question about language and no request: a conversation turn")


def _safety(text: str) -> Intent | None:
    """A redirect for unsafe or off-topic requests."""
    if _UNSAFE.search(text):
        return Intent(kind="redirect", reason="the message touches an unsafe subject")
    if _OFF_TOPIC.search(text):
        return Intent(kind="redirect", reason="the message asks for something other than English practice")
    return None


def _exercise_request(text: str, data: Explanations) -> Intent | None:
    """An exercise request with the grammar point or topic it names, if the message is one."""
    if not _EXERCISE.search(text):
        return None
    tail_match = _EXERCISE_TAIL.search(text.rstrip("?"))
    tail = tail_match.group("tail") if tail_match else ""
    entry = data.find(tail) if tail else None
    if entry is not None:
        return Intent(kind="exercise_request", reason=f"asks for an exercise on {entry.title}", point=entry.id)
    topic = _topic(tail)
    why = f"asks for an exercise about {topic}" if topic else "asks for an exercise"
    return Intent(kind="exercise_request", reason=why, topic=topic)


def _topic(tail: str) -> str | None:
    """The topic words of an exercise request's tail ('about food please' -> 'food')."""
    words = [t for t in analyze(tail) if t.is_word and t.tag in {"NN", "NNS", "JJ", "VBG"}]
    return " ".join(t.lower for t in words[:3]) or None


def _language_question(sentence: str, data: Explanations) -> Intent | None:
    """A grammar or word question in one sentence, if it is one."""
    pair = _DIFFERENCE.search(sentence) or _OR_CHOICE.search(sentence)
    entry = data.find(sentence)
    if (
        entry is not None
        and entry.kind == "grammar"
        and (pair or not _word_slot(sentence) or _names_point(entry, sentence))
    ):
        return Intent(kind="grammar_question", reason=f"asks about {entry.title}", point=entry.id)
    if pair:
        words = [_clean_slot(pair.group("a")), _clean_slot(pair.group("b"))]
        confusable = data.confusable(words) or (entry if entry is not None and entry.kind == "confusable" else None)
        return Intent(kind="word_question", reason=f"asks the difference between {words[0]} and {words[1]}",
                      words=words, point=confusable.id if confusable else None)  # fmt: skip
    slot = _word_slot(sentence)
    if slot:
        return Intent(kind="word_question", reason=f"asks what {slot!r} means or how to use it", words=[slot])
    if entry is not None and entry.kind == "confusable":
        return Intent(kind="word_question", reason=f"asks about {entry.title}", words=entry.words, point=entry.id)
    if _GRAMMAR_WORDS.search(sentence):
        return Intent(kind="grammar_question", reason="asks a grammar question the explanations do not cover")
    return None


def _names_point(entry: Explanation, sentence: str) -> bool:
    """Whether the sentence names a grammar point by a multi-word alias ('present perfect', 'used to')."""
    return any(" " in a and f" {a} " in f" {sentence} " for a in [entry.title, *entry.aliases])


def _word_slot(sentence: str) -> str:
    """The word or short phrase a word question asks about, or ''."""
    for pattern in _WORD_PATTERNS:
        match = pattern.search(sentence)
        if match:
            slot = _clean_slot(match.group("w"))
            if slot and len(slot.split()) <= 3:
                return slot
    return ""


def _clean_slot(slot: str) -> str:
    """The asked-about words without articles, 'the word', 'in English' and the like."""
    previous = None
    slot = slot.strip(" ?'")
    while previous != slot:
        previous, slot = slot, _SLOT_JUNK.sub("", slot).strip(" ?'")
    return slot


_YES = frozenset(
    {
        "yes",
        "yes please",
        "ok",
        "okay",
        "sure",
        "yes sure",
        "ok please",
        "okay please",
        "yes i would",
        "yes i do",
        "good idea",
        "why not",
        "yes let's",
        "let's do it",
        "please",
        "yes give me one",
    }
)


def accepts_offer(message: str, point: object) -> Intent | None:
    """An exercise request when the learner says yes to the exercise the last answer offered on `point`."""
    said = normalise(message).rstrip("?").strip()
    if isinstance(point, str) and point and said in _YES:
        return Intent(kind="exercise_request", reason="says yes to the exercise offered with the last answer",
                      point=point)  # fmt: skip
    return None
