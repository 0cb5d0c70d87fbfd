"""The reply agent: the tutor's follow-up question, written by a model and kept within the learner's level.

The local model continues a few-shot dialogue (prompts/tutor_reply.yaml, completion form): five learner messages
with the teacher's follow-up question, chosen for the learner's level band, then the learner's message (as
corrected) and "Teacher:". The examples never change within a band, so llama.cpp reuses their evaluation from
one turn to the next and a reply costs about the learner's message plus ~12 generated tokens. Escalation targets
get the tiered chat prompt with JSON output and the words to avoid.

A draft is judged by code (`judge`): one or two short sentences ending in a question, about the learner (a
question with I/my is about the tutor); related to the learner's message (MiniLM cosine similarity at least
`TutorPolicy.min_relevance`); and within the level by the ACI at the learner's level: no word above it and no
construction two levels above it; the learner's own words count as known whatever their level. A text simpler than
the level is fine here (the ACI's "too easy" is ignored): a reply only has to be understood. Words above the level
that have listed WordNet synonyms at the level are replaced (inflected like the original) before the draft is judged
again. When nothing passes, `fallback_question` asks about the learner's first concrete noun (their own word) in
A1 words.
"""

from __future__ import annotations

import re
import time

from pydantic import BaseModel, Field

from agents.context import AgentContext
from agents.models.base import ChatModel, GenerationOptions, Message
from agents.models.errors import ModelError
from agents.tutor.policy import TutorPolicy
from knowledge.aci import AlignmentReport
from knowledge.levels import Level
from knowledge.nlp import Token, analyze, inflect
from prompts.loader import load_prompt

#: Learner/teacher exchanges the local model continues, by level band (A1-A2, B1-B2, C1-C2).
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "A": (
        ("I like football. I play with my friends on Saturday.", "Where do you play football?"),
        ("My mother is a doctor.", "Does she work in a hospital?"),
        ("Yesterday I went to the beach with my family.", "Did you swim in the sea?"),
        ("I am reading a book about dogs.", "Do you have a dog?"),
        ("I want to visit London next year.", "What do you want to see in London?"),
    ),
    "B": (
        ("I started a new job last month and I really enjoy it.", "What do you enjoy most about your new job?"),
        ("We went camping in the mountains, but it rained all weekend.", "What did you do while it was raining?"),
        ("My brother is learning to play the guitar.", "How long has he been learning?"),
        ("I think cities should have more parks.", "Which city would you change first, and why?"),
        ("I cooked dinner for my friends yesterday.", "What did you cook for them?"),
    ),
    "C": (
        ("I've been considering a career change, although it feels risky.", "What makes the change feel risky?"),
        ("The novel I'm reading explores memory and identity.", "How does the author deal with memory?"),
        ("Remote work has changed how our team communicates.", "Has it made communication easier or harder?"),
        ("I volunteered at a local shelter over the holidays.", "What did you learn from the experience?"),
        ("Our city is debating whether to ban cars from the centre.", "Which side of the debate do you support?"),
    ),
}
#: A reply with more words than this is cut to its question.
MAX_REPLY_WORDS = 25
_MIN_WORDS = 3
_STOP = ["\n", "Learner:", "Teacher:"]
#: Words that make a question about the tutor rather than the learner ("me" is fine: "Can you tell me more?").
_SELF = frozenset({"i", "my", "mine", "myself"})
_GENERIC_FALLBACK = "Can you tell me more?"


class ReplyDraft(BaseModel):
    """One follow-up written by a model, with its cost and any error."""

    text: str
    model: str
    escalated: bool = False
    attempt: int = 1
    turn: int = 0
    model_s: float = 0.0
    error: str | None = None


class ReplyVerdict(BaseModel):
    """How a draft was judged: accepted or not, why, and the text after simplification."""

    ok: bool
    text: str = Field(description="The draft as cleaned and simplified (what would be shown).")
    problems: list[str] = Field(default_factory=list)
    above: list[str] = Field(default_factory=list, description="Words above the level that could not be replaced.")
    replaced: dict[str, str] = Field(default_factory=dict, description="Words swapped for simpler synonyms.")
    relevance: float | None = None
    aci: float | None = None


def band(level: Level) -> str:
    """The examples' band of a level: A (A1-A2), B (B1-B2) or C (C1-C2)."""
    return "A" if level <= Level.A2 else "B" if level <= Level.B2 else "C"


def _examples(level: Level) -> list[dict[str, str]]:
    return [{"learner": a, "teacher": b} for a, b in EXAMPLES[band(level)]]


def write_local(model: ChatModel, message: str, level: Level, seed: int, attempt: int) -> ReplyDraft:
    """One follow-up from the local model by few-shot completion (an empty draft with the error if it fails)."""
    prompt = load_prompt("tutor_reply").render_completion(examples=_examples(level), message=_one_line(message))
    options = GenerationOptions(max_tokens=40, temperature=0.7, stop=_STOP, seed=seed, repeat_penalty=1.1)
    start = time.perf_counter()
    try:
        result = model.complete(prompt, options=options)
    except ModelError as exc:
        return ReplyDraft(text="", model=model.id, attempt=attempt, model_s=time.perf_counter() - start,
                          error=f"{exc.kind}: {exc}")  # fmt: skip
    return ReplyDraft(text=clean(result.text), model=model.id, attempt=attempt, model_s=time.perf_counter() - start)


def write_escalated(
    ctx: AgentContext, message: str, level: Level, avoid: list[str], seed: int, attempt: int, timeout_s: float
) -> ReplyDraft:  # fmt: skip
    """One follow-up from the escalation chain (tiered chat prompt, JSON); failures come back as an empty draft."""
    chain = ctx.escalation.session()
    prompt = load_prompt("tutor_reply")
    values = {"level": level.value, "level_note": ctx.exemplars.note(level), "avoid": avoid,
              "examples": _examples(level), "message": _one_line(message)}  # fmt: skip
    messages = [Message.system(prompt.render_system(**values)), Message.user(prompt.render_user(**values))]
    options = GenerationOptions(max_tokens=80, temperature=0.7, seed=seed, timeout_s=timeout_s)
    start = time.perf_counter()
    try:
        result = chain.chat(messages, options=options, schema=_ReplyOut)
    except ModelError as exc:
        return ReplyDraft(text="", model=chain.id, escalated=True, attempt=attempt, model_s=time.perf_counter() - start,
                          error=f"{exc.kind}: {exc}")  # fmt: skip
    text = result.parsed.reply if isinstance(result.parsed, _ReplyOut) and len(result.parsed.reply.strip()) >= 3 else ""
    model = chain.answered_by or chain.id
    seconds = time.perf_counter() - start
    return ReplyDraft(text=clean(text), model=model, escalated=True, attempt=attempt, model_s=seconds)


class _ReplyOut(BaseModel):
    """The escalated reply, with no length limit in the schema (grammar parsers refuse a long maxLength).

    `clean` cuts the reply to two sentences; a reply under three characters counts as none.
    """

    reply: str


def _one_line(text: str) -> str:
    """The message on one line, cut to a length the prompt can afford."""
    return " ".join(text.split())[:600]


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def clean(text: str) -> str:
    """The model's text without quotes and role labels, cut after its first question (at most two sentences)."""
    text = text.strip().strip("\"'“”").strip()
    text = re.sub(r"^(Teacher|Tutor)\s*:\s*", "", text)
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    question = next((e for e in ends if text[e - 1] == "?"), None)
    if question is not None and ends.index(question) <= 1:
        return text[:question].strip()
    return text[: ends[0]].strip() if ends else text


# --- judging --------------------------------------------------------------------------------------------------


def judge(
    ctx: AgentContext, text: str, message: str, level: Level, policy: TutorPolicy, *, relevance_check: bool = True
) -> ReplyVerdict:  # fmt: skip
    """Form, relevance and level of a draft; above-level words are swapped for simpler synonyms where possible.

    `relevance_check=False` for follow-ups written by rule from the message itself ("What happened next?" is about
    the learner's story but shares no words with it, so MiniLM similarity would refuse it).
    """
    problems = _form_problems(text) or (["it repeats the learner's own words back"] if echoes(message, text) else [])
    strange = _new_names(message, text)
    problems = problems or ([f"it names what the learner never mentioned ({', '.join(strange)})"] if strange else [])
    if problems:
        return ReplyVerdict(ok=False, text=text, problems=problems)
    relevance = _relevance(message, text) if relevance_check else None
    if relevance is not None and relevance < policy.min_relevance:
        return ReplyVerdict(ok=False, text=text, relevance=relevance,
                            problems=[f"not about the learner's message (similarity {relevance:.2f})"])  # fmt: skip
    own = _own_words(message)
    simplified, replaced = simplify(ctx, text, level, keep=own)
    report = ctx.checker.check(simplified, level)
    above = [v.text for v in report.violations
             if v.kind in ("word_above_level", "unknown_word") and v.text.lower() not in own]  # fmt: skip
    blocking = [v.message for v in report.violations if _blocks(v.kind, v.severity)]
    problems = ([f"words above {level}: {', '.join(above)}"] if above else []) + blocking
    return ReplyVerdict(ok=not problems, text=simplified, problems=problems, above=above, replaced=replaced,
                        relevance=relevance, aci=report.score)  # fmt: skip


#: Share of a reply's content words found in the learner's message above which the reply is an echo.
ECHO_SHARE = 0.75
_FUNCTION_TAGS = frozenset({"DT", "IN", "CC", "PRP", "PRP$", "TO", "MD", "WP", "WRB", "WDT", "EX", "POS", "RP"})


def echoes(message: str, reply: str) -> bool:
    """Whether a reply mostly repeats the learner's own words ("What do you think about X?" back at them).

    Content words are compared by lemma; "you" and "I" count as the same person, so a learner's question turned
    round is still an echo.
    """
    said = {t.lemma.lower() for t in analyze(message) if t.is_word and t.tag not in _FUNCTION_TAGS}
    said |= {"be", "do", "have", "think"} & {t.lemma.lower() for t in analyze(message)}
    words = [t.lemma.lower() for t in analyze(reply) if t.is_word and t.tag not in _FUNCTION_TAGS]
    if len(words) < 2:
        return False
    return sum(w in said for w in words) / len(words) >= ECHO_SHARE


def _new_names(message: str, reply: str) -> list[str]:
    """Proper names in a reply that the learner's message does not contain (the few-shot examples' 'London')."""
    said = {t.lower for t in analyze(message)}
    return [t.text for t in analyze(reply)[1:] if t.tag in {"NNP", "NNPS"} and t.lower not in said and t.text != "I"]


def _own_words(message: str) -> set[str]:
    """The learner's own words (forms and lemmas, lower-cased): a reply may use them whatever their level."""
    tokens = [t for t in analyze(message) if t.is_word]
    return {t.lower for t in tokens} | {t.lemma.lower() for t in tokens}


def _blocks(kind: str, severity: str) -> bool:
    """Whether an ACI violation blocks a reply (too easy or too hard overall is not a reason; words count apart)."""
    return severity == "error" and kind in ("construction_above_level", "not_english")


def _form_problems(text: str) -> list[str]:
    """What makes a draft unusable as a reply regardless of content."""
    words = [t for t in analyze(text) if t.is_word] if text else []
    if not text:
        return ["the model wrote nothing"]
    if "?" not in text:
        return ["not a question"]
    if len(words) < _MIN_WORDS or len(words) > MAX_REPLY_WORDS:
        return [f"{len(words)} words (accepted {_MIN_WORDS}-{MAX_REPLY_WORDS})"]
    if ":" in text or any(w.lower in {"learner", "teacher"} for w in words):
        return ["it continues the dialogue format instead of replying"]
    if any(w.lower in _SELF for w in words):
        return ["it is about the tutor (I, my), not the learner"]
    return []


def _relevance(message: str, reply: str) -> float | None:
    """Cosine similarity of the message and the reply (MiniLM); None if the encoder is unavailable."""
    from knowledge.embeddings import embed
    from knowledge.errors import ResourceError

    try:
        vectors = embed([message[:1000], reply])
    except ResourceError:
        return None
    return round(float(vectors[0] @ vectors[1]), 3)


def simplify(ctx: AgentContext, text: str, level: Level, keep: set[str] | None = None) -> tuple[str, dict[str, str]]:
    """The text with each word above the level replaced by its first listed synonym at the level, if it has one.

    Words in `keep` (the learner's own words) stay as they are.
    """
    report: AlignmentReport = ctx.checker.check(text, level)
    tags = {t.start: t.tag for t in analyze(text)}
    swaps: list[tuple[int, int, str]] = []
    replaced: dict[str, str] = {}
    for v in report.violations:
        if v.kind != "word_above_level" or not v.suggestions or v.span is None or v.text.lower() in (keep or set()):
            continue
        word = inflect(v.suggestions[0].word, tags.get(v.span[0], "NN")) if " " not in v.suggestions[0].word else (
            v.suggestions[0].word)  # fmt: skip
        word = word[:1].upper() + word[1:] if v.text[:1].isupper() else word
        swaps.append((v.span[0], v.span[1], word))
        replaced[v.text] = word
    for start, end, word in sorted(swaps, reverse=True):
        text = text[:start] + word + text[end:]
    return text, replaced


#: Nouns too vague to ask about ("Can you tell me more about your yesterday?").
_VAGUE_NOUNS = frozenset(
    {"yesterday", "today", "tomorrow", "week", "weekend", "morning", "evening", "night", "day", "year", "month",
     "time", "lot", "thing", "name", "kind", "way", "bit", "everything", "something", "years", "people", "english"}
)  # fmt: skip
_ARTICLES = frozenset({"a", "an", "the", "this", "that", "these", "those"})
_OURS = frozenset({"my", "our"})
_THEIRS = frozenset({"his", "her", "their", "its"})
_PEOPLE = frozenset(
    {
        "mother",
        "father",
        "sister",
        "brother",
        "friend",
        "friends",
        "son",
        "daughter",
        "wife",
        "husband",
        "grandmother",
        "grandfather",
        "family",
        "parents",
        "children",
        "boss",
        "teacher",
        "cousin",
        "aunt",
        "uncle",
        "colleagues",
        "neighbour",
        "neighbor",
        "girlfriend",
        "boyfriend",
    }
)
_SWAP = {"my": "your", "i": "you", "me": "you", "our": "your", "we": "you", "myself": "yourself", "am": "are"}
#: Follow-ups by what the learner said, each a few variants (chosen by the message, so a session varies).
_LIKES = re.compile(
    r"\b(i|we) (really |very much )?(like|love|enjoy|prefer) (?P<x>[a-z' ]{3,40}?)"
    r"(?=[.,!?]|$| but | and | because | very | a lot| so )"
)
_WANTS = re.compile(
    r"\b(i|we) (really )?(want to|would like to|'d like to|hope to|plan to|am going to|'m going to|"
    r"are going to|will|need to) (?P<x>[a-z' ]{3,40}?)(?=[.,!?]|$| but | because | and )"
)
_LIVE = re.compile(
    r"\b(i|we) (live|work|study) (in|at|near) (?P<x>[a-z' ]{2,40}?)"
    r"(?=[.,!?]|$| but | and | with | since | for | because | now)"
)
_GREETING = re.compile(r"^(hello|hi|hey|good (morning|afternoon|evening))\b|\bmy name is\b")
_THINK = re.compile(r"\b(i|we) (think|believe|feel that|guess) ")
_THANKS = re.compile(r"\b(thank you|thanks|bye|goodbye|see you)\b")
_TEMPLATES = {
    "likes": ("What do you like most about {x}?", "When did you start to like {x}?", "Why do you like {x}?"),
    "wants": ("Why do you want to {x}?", "When would you like to {x}?", "What will be the best part?"),
    "live": ("What do you like about {x}?", "How long have you been there?", "What is it like there?"),
    "past": ("What was the best part?", "How did you feel about it?", "Who was with you?",
             "What happened next?"),
    "person": ("What do you like doing with {x}?", "How often do you see {x}?", "What is {x} like?"),
    "think": ("Why do you think so?", "What makes you think that?", "Do your friends think the same?"),
    "noun": ("What do you like about {x}?", "What is special about {x}?"),
    "greeting": ("Nice to meet you! What do you like doing in your free time?",
                 "Nice to meet you! What do you do, and what do you like doing at the weekend?"),
    "thanks": ("You're welcome! What would you like to talk about next time?",
               "It was nice to talk with you. What will you do after this?"),
}  # fmt: skip
GENERIC_PREFIXES = ("can you tell me more", "what else can you tell me")


def is_generic(text: str) -> bool:
    """Whether a reply is a generic follow-up that could follow any message ("Can you tell me more?")."""
    return any(p in text.lower() for p in GENERIC_PREFIXES)


def template_question(message: str) -> str | None:
    """A follow-up by rule when the message says what the learner likes, wants, thinks, did or where they live.

    The tutoring graph asks this first: the 135M model's follow-ups to such messages are often nonsense ("How much
    does your husband cost?"), these are always about what was said. None when no pattern applies.
    """
    question = fallback_question(message, nouns=False)
    return None if question == _GENERIC_FALLBACK else question


def fallback_question(message: str, *, nouns: bool = True) -> str:
    """A follow-up in A1-A2 words about what the learner said (their likes, plans, past, people or first noun).

    The pattern decides the kind of question, the message picks its variant; a message with none of them gets
    the generic "Can you tell me more?" (`nouns=False`: the first noun is not used either).
    """
    lower = message.lower().replace("’", "'")
    pick = len(message) + sum(map(ord, message[:20]))
    for kind, pattern in (("thanks", _THANKS), ("greeting", _GREETING)):
        if pattern.search(lower):
            return _pick(kind, pick)
    for kind, pattern in (("wants", _WANTS), ("likes", _LIKES), ("live", _LIVE)):
        match = pattern.search(lower)
        if match:  # the same offsets in the message keep its capitals (London)
            return _pick(kind, pick, x=_you(message[match.start("x") : match.end("x")].strip()))
    if _THINK.search(lower):
        return _pick("think", pick)
    tokens = analyze(message)
    if _tells_past(tokens):
        return _pick("past", pick)
    for i, token in enumerate(tokens if nouns else []):
        if token.tag in {"NN", "NNS"} and token.is_word and token.lower not in _VAGUE_NOUNS and len(token.text) > 2:
            kind = "person" if token.lower in _PEOPLE else "noun"
            return _pick(kind, pick, x=_about(tokens, i))
    return _GENERIC_FALLBACK


def _tells_past(tokens: list[Token]) -> bool:
    """Whether the learner tells what they did (I/we + a past verb), not what they would have done ('if')."""
    words = {t.lower for t in tokens}
    if "if" in words or "would" in words or not words & {"i", "we"}:
        return False
    return any(t.tag == "VBD" for t in tokens)


def _pick(kind: str, n: int, x: str = "") -> str:
    """One variant of a follow-up template."""
    options = _TEMPLATES[kind]
    return options[n % len(options)].format(x=x)


def _you(phrase: str) -> str:
    """A learner's phrase in the tutor's voice: 'my city' -> 'your city', 'visit my aunt' -> 'visit your aunt'."""
    return " ".join(_SWAP.get(w.lower(), w) for w in phrase.split())


def _about(tokens: list[Token], i: int) -> str:
    """The noun at i as the tutor refers to it: your sister (my sister), the village (a small village), football."""
    j = i - 1
    while j >= 0 and tokens[j].tag in {"JJ", "JJR", "JJS", "RB", "CD"}:
        j -= 1
    det = tokens[j].lower if j >= 0 else ""
    noun = tokens[i].text
    if det in _OURS:
        return f"your {noun}"
    if det in _THEIRS:
        return f"{det} {noun}"
    return f"the {noun}" if det in _ARTICLES else noun
