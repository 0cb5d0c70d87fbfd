"""The facts of a planned reading text, the sentences that state them, and the questions that ask about them.

Code, not the model, decides what the text says: a person (a common first name), who lives with them, where, how
old they are, the day, the time they came home and why they went to bed early. The model writes one sentence, what
the person did about the topic (see `reading.py`). Sentence frames are graded by level (one clause at A1-A2,
subordinate clauses at B1-B2, cleft, inversion and participle clauses at C1-C2). Every question asks about one
fact in other words than the text, with options of the same kind (other names, places, numbers), so its key is
known from the plan; true/false statements paraphrase a fact or contradict it with another value of the same slot.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from knowledge.items import Question, QuestionSlot
from knowledge.levels import Level

#: First names the level checks read as names at A1 (Emma, Jane, Mark, Adam ... are also words or rated above A1).
FEMALE = ("Anna", "Sara", "Lucy", "Maria", "Kate", "Amy", "Laura", "Julia", "Helen", "Mary", "Susan", "Lisa")
MALE = ("Tom", "Ben", "David", "Sam", "Peter", "Jack", "Daniel", "Paul", "John", "Mike", "Nick", "Tim")
HOMES = ("in a small village", "in a big city", "on a farm", "near the sea", "in the mountains", "in a quiet town")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
HOURS = ("five", "six", "seven", "eight", "nine", "ten")
#: Relatives or friends by the companion's gender (True: female).
RELATIONS = {True: ("sister", "cousin", "friend"), False: ("brother", "cousin", "friend")}
#: Topics a main-idea question offers beside the real one (none shares a content word with the others).
OTHER_TOPICS = (
    "a visit to the dentist", "a birthday party", "moving house", "a football match", "learning to drive",
    "a train journey", "buying a new phone", "a music concert", "a day at the beach",
    "cooking a meal", "a lost dog", "a hospital stay", "a camping holiday",
)  # fmt: skip


@dataclass(frozen=True)
class Reason:
    """Why the person went to bed early: the clause after 'because she' and the answer option, by level band."""

    key: str
    text: tuple[str, str, str]
    answer: tuple[str, str, str]


#: Each band's answer shares its content words with that band's text, so the builder can check it is stated.
REASONS = (
    Reason("tired", ("was very tired", "felt really tired", "was utterly exhausted"),
           ("{She} was tired.", "{She} was tired.", "{She} was exhausted.")),
    Reason("headache", ("had a headache", "had a bad headache", "was suffering from an excruciating headache"),
           ("{She} had a headache.",) * 3),
    Reason("cold", ("had a cold", "had caught a cold", "had caught a heavy cold"), ("{She} had a cold.",) * 3),
    Reason("test", ("had a driving test the next day", "had an important driving test the next day",
                    "had a crucial driving test the following morning"), ("{She} had a driving test.",) * 3),
    Reason("book", ("wanted to read {her} new book", "wanted to finish reading {her} new book",
                    "was determined to finish reading {her} new book"), ("{She} wanted to read {her} new book.",
                    "{She} wanted to read {her} new book.", "{She} wanted to finish {her} new book.")),
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """A person of the text: a first name and the pronouns that go with it."""

    name: str
    female: bool

    @property
    def she(self) -> str:
        """Subject pronoun, capitalised."""
        return "She" if self.female else "He"

    @property
    def her(self) -> str:
        """Possessive pronoun."""
        return "her" if self.female else "his"


@dataclass(frozen=True)
class Plan:
    """The facts one reading text states (the activity sentence is the model's)."""

    topic: str
    person: Person
    companion: Person
    relation: str
    home: str
    day: str
    age: int
    hour: str
    reason: Reason

    def values(self) -> dict[str, str]:
        """The frame variables."""
        p = self.person
        return {
            "Name": p.name, "She": p.she, "she": p.she.lower(), "her": p.her, "Her": p.her.capitalize(),
            "Companion": self.companion.name, "relation": self.relation, "home": self.home, "day": self.day,
            "age": str(self.age), "hour": self.hour,
        }  # fmt: skip


def plan_facts(topic: str, level: Level, rng: random.Random, fits: Callable[[str], bool]) -> Plan:
    """Draw the facts at random among the values whose words fit the level (a weekend topic: Saturday or Sunday)."""
    female = rng.random() < 0.5
    person = Person(rng.choice(FEMALE if female else MALE), female)
    relation = rng.choice(RELATIONS[rng.random() < 0.5])
    companion_female = relation == "sister" or (relation != "brother" and rng.random() < 0.5)
    names = [n for n in (FEMALE if companion_female else MALE) if n[0] != person.name[0]]
    days = ("Saturday", "Sunday") if "weekend" in topic.lower() else DAYS
    return Plan(
        topic=topic,
        person=person,
        companion=Person(rng.choice(names), companion_female),
        relation=relation,
        home=rng.choice([h for h in HOMES if fits(h)] or HOMES),
        day=rng.choice(days),
        age=rng.randint(19, 45),
        hour=rng.choice(HOURS),
        reason=rng.choice([r for r in REASONS if fits(r.text[band(level)]) and fits(r.answer[band(level)])] or REASONS),
    )


def band(level: Level) -> int:
    """0 for A1-A2, 1 for B1-B2, 2 for C1-C2."""
    return max(0, (level.rank - 1) // 2)


#: Frames per level: (slot the sentence states, frame). "{activity}" is the model's sentence, pronoun lower-cased.
FRAMES: dict[Level, tuple[tuple[str, str], ...]] = {
    Level.A1: (
        ("number", "{Name} is {age} years old."),
        ("home", "{She} and {her} {relation} {Companion} have a house {home}."),
        ("activity", "On {day}, {activity}"),
        ("time", "{She} got home at {hour} o'clock in the evening."),
        ("why", "{She} went to bed early because {she} {reason}."),
    ),
    Level.B1: (
        ("home", "{Name} is {age} and lives {home} with {her} {relation}, {Companion}."),
        ("activity", "Last {day}, {activity}"),
        ("time", "When {she} got home at {hour} o'clock, {Companion} was cooking dinner."),
        ("why", "{She} went to bed early that night because {she} {reason}."),
    ),
    Level.B2: (
        ("home", "{Name}, who is {age}, shares a house {home} with {her} {relation}, {Companion}."),
        ("activity", "Last {day}, {activity}"),
        ("time", "{She} did not get home until {hour} o'clock, by which time {Companion} had already cooked dinner."),
        ("why", "Although {she} had enjoyed the day, {she} went to bed early because {she} {reason}."),
    ),
    Level.C1: (
        ("home", "{Name}, now {age}, has lived {home} with {her} {relation}, {Companion}, for several years, an "
                 "arrangement that suits them both remarkably well."),
        ("activity", "Last {day}, after considerable hesitation, {activity}"),
        ("comment", "Although {she} had been somewhat reluctant beforehand, the experience proved considerably more "
                    "rewarding than {she} had anticipated."),
        ("time", "It was not until {hour} o'clock that {she} eventually arrived home, by which time {Companion} had "
                 "already prepared an elaborate dinner."),
        ("why", "Despite having thoroughly enjoyed the day, {she} went to bed unusually early, primarily because {she} "
                "{reason}."),
    ),
    Level.C2: (
        ("home", "Having spent most of {her} life {home}, {Name}, who is now {age}, shares a modest but immaculately "
                 "kept house there with {her} {relation}, {Companion}."),
        ("activity", "On {day}, somewhat against {her} better judgement, {activity}"),
        ("comment", "Sceptical as {she} had been beforehand, {she} conceded that the experience had proved "
                    "remarkably worthwhile."),
        ("time", "Not until {hour} o'clock did {she} finally return home, by which time {Companion} had already "
                 "prepared an elaborate and thoroughly delicious dinner."),
        ("companion", "{Companion}, invariably curious, insisted on an exhaustive account of the day, which {she} "
                      "duly provided in meticulous detail."),
        ("why", "Delightful though the day had been, {she} retired to bed uncharacteristically early, chiefly because "
                "{she} {reason}."),
    ),
}  # fmt: skip
FRAMES[Level.A2] = FRAMES[Level.PRE_A1] = FRAMES[Level.A1]

#: Which sentence (by slot) states each question slot's fact.
STATED_IN: dict[QuestionSlot, str] = {
    "who": "home", "where": "home", "number": "home", "when": "activity", "time": "time", "why": "why",
    "main_idea": "activity",
}  # fmt: skip


def write_text(plan: Plan, level: Level, activity: str) -> list[tuple[str, str]]:
    """The text's sentences with the slot each states (the A1-A2 age sentence states 'number')."""
    values = plan.values()
    values |= {"reason": plan.reason.text[band(level)].format(**values), "activity": _lower_first(activity)}
    return [(slot, frame.format(**values)) for slot, frame in FRAMES[level]]


def _lower_first(sentence: str) -> str:
    """The sentence with its first letter lower-cased (it follows 'On Saturday, ')."""
    return sentence[:1].lower() + sentence[1:]


@dataclass(frozen=True)
class Draft:
    """A question before it is checked: its slot, wording, key and candidate distractors (more than needed)."""

    slot: QuestionSlot
    kind: Literal["multiple_choice", "true_false"]
    question: str
    answer: str
    others: tuple[str, ...] = ()


#: Wording of the wh-questions by level band (A, B, C): never the wording of the text's frames.
ASK: dict[QuestionSlot, tuple[str, str, str]] = {
    "who": ("What is the name of {Name}'s {relation}?", "What is the name of {Name}'s {relation}?",
            "What is the name of the {relation} who shares {Name}'s home?"),
    "where": ("Where is {Name}'s home?",) * 3,
    "number": ("How old is {Name}?",) * 3,
    "when": ("What day is it in the story?", "On which day of the week do the events take place?",
             "On which day of the week do the events described take place?"),
    "time": ("What time did {Name} come back home?", "What time did {Name} come back home?",
             "At what time did {Name} eventually get back home?"),
    "why": ("Why did {Name} go to bed early?", "Why did {Name} go to bed early?",
            "What was the main reason for {Name}'s early night?"),
    "main_idea": ("What is the story about?", "Which title fits the text best?",
                  "Which of the following would be the most suitable title for the text?"),
}  # fmt: skip
#: Wording of the true/false statements by level band; {value} is the fact or another value of its slot.
STATE: dict[QuestionSlot, tuple[str, str, str]] = {
    "where": ("{Name}'s home is {value}.", "{Name}'s home is {value}.", "{Name}'s home is {value}."),
    "time": ("{Name} came back home at {value} o'clock.", "{Name} came back home at {value} o'clock.",
             "{Name} got back home at {value} o'clock in the evening."),
    "when": ("The story takes place on a {value}.", "The story takes place on a {value}.",
             "The events described take place on a {value}."),
    "who": ("{Companion} is {Name}'s {value}.", "{Companion} is {Name}'s {value}.",
            "{Companion} is {Name}'s {value}."),
}  # fmt: skip


def choice_question(plan: Plan, slot: QuestionSlot, rng: random.Random, level: Level = Level.A1) -> Draft:
    """A wh-question about one fact; its distractors are other values of the same slot."""
    v, b = plan.values(), band(level)
    question = ASK[slot][b].format(**v)
    answer, others = _values(plan, slot, b)
    return Draft(slot, "multiple_choice", question, answer, _few(others, rng))


def _values(plan: Plan, slot: QuestionSlot, b: int) -> tuple[str, list[str]]:
    """The fact of a slot as an answer option, and the other values of the slot."""
    v, p = plan.values(), plan.person
    if slot == "who":
        names = FEMALE if plan.companion.female else MALE
        return plan.companion.name, [n for n in names if n[0] not in {p.name[0], plan.companion.name[0]}]
    if slot == "where":
        return _cap(plan.home), [_cap(h) for h in HOMES if h != plan.home]
    if slot == "number":
        return str(plan.age), [str(a) for a in range(19, 46) if abs(a - plan.age) >= 2]
    if slot == "when":
        return plan.day, [d for d in DAYS if d != plan.day]
    if slot == "time":
        return f"At {plan.hour} o'clock", [f"At {h} o'clock" for h in HOURS if h != plan.hour]
    if slot == "why":
        others = [r.answer[b].format(**v) for r in REASONS if r.key != plan.reason.key]
        return plan.reason.answer[b].format(**v), others
    topic_words = set(plan.topic.lower().split()) - _SMALL
    return _cap(plan.topic), [_cap(t) for t in OTHER_TOPICS if not set(t.split()) & topic_words]


_SMALL = frozenset({"a", "an", "the", "to", "at", "of", "in", "on", "for", "new", "day"})


def statement(plan: Plan, slot: QuestionSlot, true: bool, rng: random.Random, level: Level = Level.A1) -> Draft:
    """A true/false statement paraphrasing a fact (True) or giving another value of the same slot (False)."""
    fact, others = {
        "where": (plan.home, HOMES),
        "time": (plan.hour, HOURS),
        "when": (plan.day, DAYS),
        "who": (plan.relation, RELATIONS[plan.companion.female]),
    }[slot]
    value = fact if true else rng.choice([o for o in others if o != fact])
    text = STATE[slot][band(level)].format(**plan.values(), value=value)
    return Draft(slot, "true_false", text, "True" if true else "False")


def _few(values: list[str], rng: random.Random, k: int = 6) -> tuple[str, ...]:
    """Up to k of the values in random order (the builder keeps the first three the text does not support)."""
    return tuple(rng.sample(values, min(k, len(values))))


def _cap(phrase: str) -> str:
    """The phrase with a capital first letter."""
    return phrase[:1].upper() + phrase[1:]


def to_question(draft: Draft, options: list[str], evidence: str) -> Question:
    """The checked draft as an item question."""
    return Question(
        kind=draft.kind,
        question=draft.question,
        options=options,
        answer=draft.answer,
        evidence=evidence,
        slot=draft.slot,
    )
