"""Reading: a short text whose facts code plans, and questions about those facts asked in other words.

`reading_plan` draws the facts (a person, who lives with them, where, their age, the day, the time they came home,
why they went to bed early) and states them in sentence frames graded by level. The model writes the one sentence
about the topic: what the person did that day (few-shot completion, several candidates, the most fluent topical one
that adds no facts of its own). Questions are keyed from the plan: wh-questions with options of the same slot,
true/false statements that paraphrase or contradict a fact, and a main-idea question from B1 up. Each question is
then checked against the text as the meaning check does it: its key stated there, no distractor stated, no copied
or gapped sentence, no statement that is a text sentence with a word swapped.
"""

from __future__ import annotations

from functools import partial

from agents.item.exercises import reading_plan as rp
from agents.item.exercises.base import BuildContext, failure
from agents.item.meaning.reading import content_lemmas, copies_text, supported, swaps_text
from agents.item.writers import StorySpec, WrittenDraft
from knowledge.items import Question, QuestionSlot, ReadingItem
from knowledge.levels import Level
from knowledge.nlp import Token, analyze

INSTRUCTIONS = "Read the text. Then choose the best answer to each question, and say if each sentence is true or false."
CANDIDATES, ROUNDS = 4, 2
MIN_WORDS, MAX_WORDS = 5, 18
#: Words the model's sentence must not contain: they would add a fact (a time, a number, a reason) the plan does not
#: control, or change who the text is about.
_BANNED = frozenset(
    {"i", "me", "my", "we", "us", "our", "you", "your", "because", "monday", "tuesday", "wednesday", "thursday",
     "friday", "saturday", "sunday", "morning", "afternoon", "evening", "night", "tonight", "today", "yesterday",
     "tomorrow", "o'clock", "hour", "hours", "minute", "minutes", "year", "years", "old", "home", "bed", "dinner",
     "day", "days", "week", "weeks", "weekend", "month", "months", "ago", "always", "often", "usually", "every",
     "never", "first", "last", "next",
     "they", "them", "their", "mother", "father", "mum", "dad", "husband", "wife", "son", "daughter", "friend",
     "friends", "brother", "sister", "cousin", "boyfriend", "girlfriend", "family", "parents", "children",
     *rp.NUMBER_WORDS}
)  # fmt: skip
_OTHER_PRONOUNS = {
    "She": frozenset({"he", "him", "his", "himself"}),
    "He": frozenset({"she", "her", "hers", "herself"}),
}
_MC_SLOTS: tuple[QuestionSlot, ...] = ("who", "where", "number", "time", "why", "when")
_TF_SLOTS: tuple[QuestionSlot, ...] = ("where", "time", "when", "who")


def _rejection(build: BuildContext, text: str, pronoun: str) -> str:
    """Why a model sentence cannot state the activity ('' when it can)."""
    tokens = analyze(text)
    words = [t for t in tokens if t.is_word]
    if not MIN_WORDS <= len(words) <= MAX_WORDS or tokens[-1].text != ".":
        return f"{len(words)} words or no final full stop"
    lowered = {t.lower for t in tokens}
    if any(t.upos in {"NUM", "PROPN"} and t.index > 0 for t in tokens) or lowered & (
        _BANNED | _OTHER_PRONOUNS[pronoun]
    ):
        return "adds a name, number, time, reason or another person"
    if any(c in text for c in '"“”:;()'):
        return "quotes or lists"
    content = [t.lemma.lower() for t in tokens if t.upos in {"NOUN", "VERB", "ADJ"}]
    if len(content) != len(set(content)):
        return "repeats a word"
    if not _past(tokens) or (build.level <= Level.A2 and any(t.tag == "VBN" for t in tokens)):
        return "not in the past simple"
    above = build.kit.above_level(tokens, build.constraints.max_word_level)
    if above:
        return "words above the level: " + ", ".join(t.text for t, _ in above)
    return ""


def _past(tokens: list[Token]) -> bool:
    """Whether the sentence's verbs are in the past (its first verb a past form, none in the present)."""
    verbs = [t for t in tokens if t.upos in {"VERB", "AUX"}]
    return bool(verbs) and verbs[0].tag == "VBD" and not any(t.tag in {"VBZ", "VBP"} for t in verbs)


def _activity(build: BuildContext, plan: rp.Plan) -> str:
    """The model's most fluent usable sentence about the topic; another round is tried while none names the topic.

    BuildFailed when no round gave a usable sentence at all.
    """
    spec = StorySpec(level=build.level, topic=plan.topic, pronoun="She" if plan.person.female else "He")
    topic_words = content_lemmas(plan.topic)
    usable: list[str] = []
    for round_no in range(ROUNDS):
        drafts: list[WrittenDraft] = build.writer.story_sentences(spec, CANDIDATES, build.seed * 101 + round_no * 7)
        for draft in drafts:
            reason = _rejection(build, draft.text, spec.pronoun)
            build.note("candidates", {"text": draft.text, "rejected": reason or None})
            if not reason and draft.text not in usable:
                usable.append(draft.text)
        if any(_topical(t, topic_words) for t in usable):
            break
    if not usable:
        raise failure("the model wrote no usable sentence about the topic", topic=plan.topic)
    return _best(build, usable, topic_words)


def _topical(sentence: str, topic_words: set[str]) -> int:
    """How many topic words the sentence uses (a shared stem of four letters counts: rainy ~ rain)."""
    used = content_lemmas(sentence)
    return sum(any((w[:4] == u[:4] and min(len(w), len(u)) >= 4) or w == u for u in used) for w in topic_words)


def _best(build: BuildContext, usable: list[str], topic_words: set[str]) -> str:
    """The candidate sharing most words with the topic, then the most fluent (log-probability per character)."""
    scores = build.kit.score("", usable) if len(usable) > 1 else None
    fluency = [s / max(1, len(t)) for s, t in zip(scores, usable, strict=True)] if scores else [0.0] * len(usable)
    ranked = sorted(zip(usable, fluency, strict=True), key=lambda p: (_topical(p[0], topic_words), p[1]), reverse=True)
    build.note("activity", [{"text": t, "fluency": round(f, 3)} for t, f in ranked])
    return ranked[0][0]


def _evidence(slot: QuestionSlot, stated: list[tuple[str, str]]) -> str:
    """The sentence of the text that states the slot's fact."""
    by_slot = dict(stated)
    return by_slot.get(slot) or by_slot[rp.STATED_IN[slot]]


def _fits(build: BuildContext, phrase: str) -> bool:
    """Whether every word of a phrase is at or below the level."""
    return not build.kit.above_level(analyze(phrase), build.constraints.max_word_level)


def _checked(build: BuildContext, draft: rp.Draft, text: str, evidence: str) -> Question | None:
    """The draft as a question when the text bears it out (None otherwise): see the module docstring."""
    if copies_text(draft.question, text) or (draft.kind == "true_false" and swaps_text(draft.question, text)):
        return None
    if draft.kind == "true_false":
        return rp.to_question(draft, ["True", "False"], evidence)
    if draft.slot != "main_idea" and not supported(draft.answer, evidence):
        return None
    others = [o for o in draft.others if not supported(o, text) and _fits(build, o)][:3]
    return rp.to_question(draft, [draft.answer, *others], evidence) if len(others) == 3 else None


def _n_choice(level: Level) -> int:
    """How many wh-questions about details: 2 at A1 and from B1 (where a main-idea question joins), 3 at A2."""
    return 3 if level is Level.A2 else 2


def _first_checked(
    build: BuildContext, drafts: list[rp.Draft], n: int, text: str, stated: list[tuple[str, str]]
) -> list[Question]:
    """The first n drafts the text bears out, as questions."""
    kept = []
    for draft in drafts:
        question = _checked(build, draft, text, _evidence(draft.slot, stated))
        if question is not None:
            kept.append(question)
        if len(kept) == n:
            break
    return kept


def _statements(build: BuildContext, plan: rp.Plan, stated: list[tuple[str, str]], text: str) -> list[Question]:
    """One true and one false statement about two different facts (fewer when the text bears out none)."""
    slots = list(_TF_SLOTS)
    build.rng.shuffle(slots)
    kept: list[Question] = []
    for key in build.rng.sample([True, False], 2):
        free = [s for s in slots if s not in {q.slot for q in kept}]
        drafts = [rp.statement(plan, s, key, build.rng, build.level) for s in free]
        kept += _first_checked(build, drafts, 1, text, stated)
    return kept


def _questions(build: BuildContext, plan: rp.Plan, stated: list[tuple[str, str]]) -> list[Question]:
    """True/false statements, wh-questions about other facts, in the order of the text; the main idea last."""
    text = " ".join(s for _, s in stated)
    statements = _statements(build, plan, stated, text)
    slots = [s for s in _MC_SLOTS if s not in {q.slot for q in statements}]
    build.rng.shuffle(slots)
    if build.level >= Level.B1:
        slots.sort(key=lambda s: s != "why")
    drafts = [rp.choice_question(plan, s, build.rng, build.level) for s in slots]
    choice = _first_checked(build, drafts, _n_choice(build.level), text, stated)
    order = [slot for slot, _ in stated]
    questions = sorted(choice + statements, key=lambda q: order.index(_stated_slot(q.slot, order)))
    if build.level >= Level.B1 and _topical(text, content_lemmas(plan.topic)):
        # only when the text names the topic: otherwise its title would rest on a guess
        main = rp.choice_question(plan, "main_idea", build.rng, build.level)
        questions += _first_checked(build, [main], 1, text, stated)
    build.note("questions", [q.question for q in questions])
    return [_shuffled(build, q) for q in questions]


def _stated_slot(slot: QuestionSlot | None, order: list[str]) -> str:
    """The slot of the sentence that states a question's fact."""
    if slot is None:
        return order[0]
    return slot if slot in order else rp.STATED_IN[slot]


def _shuffled(build: BuildContext, question: Question) -> Question:
    """A multiple-choice question with its options in random order (True/False stay in that order)."""
    if question.kind == "true_false":
        return question
    options = question.options[:]
    build.rng.shuffle(options)
    return question.model_copy(update={"options": options})


def _above_level(build: BuildContext, text: str) -> list[str]:
    """Words of the text above the level."""
    return [t.text for t, _ in build.kit.above_level(analyze(text), build.constraints.max_word_level)]


def build(build: BuildContext) -> ReadingItem:
    """Plan the facts, get the topic sentence from the model, state the facts by level and ask about them."""
    plan = rp.plan_facts(build.constraints.topic, build.level, build.rng, partial(_fits, build))
    activity = _activity(build, plan)
    stated = rp.write_text(plan, build.level, activity)
    text = " ".join(s for _, s in stated)
    build.note("plan", {"facts": plan.values() | {"reason": plan.reason.key}, "activity": activity})
    above = _above_level(build, text)
    if len(above) > build.constraints.max_above_share * len(text.split()):
        raise failure("the text has words above the level", words=above)
    questions = _questions(build, plan, stated)
    if len(questions) < 3:
        raise failure("fewer than three questions are borne out by the text", questions=len(questions))
    return ReadingItem(
        level=build.level,
        topic=build.constraints.topic,
        instructions=INSTRUCTIONS,
        title=f"{plan.person.name}'s {plan.day}",
        text=text,
        questions=questions[:5],
    )
