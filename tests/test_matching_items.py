"""Matching items: meanings only from WordNet, words at the level, and the meaning check that judges any matching item.

The check runs the real MiniLM (offline, no language model); the builder runs over the real knowledge graph with a
scripted writer that must never be called. The labelled meanings below are the calibration set of the check's
thresholds: the false meanings of the reviewed items (../shared/data/review-panel, rejected by both reviewers),
false meanings the small model wrote, and true learner-dictionary definitions written for these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.context import AgentContext
from agents.item.constraints import Constraints
from agents.item.exercises import BuildContext, build_item
from agents.item.exercises.matching import OPPOSITES, lowest_level, pair_count
from agents.item.meaning import matching as check_matching
from agents.item.meaning.base import Judge
from knowledge.embeddings import embed
from knowledge.items import MatchingItem
from knowledge.levels import Level
from knowledge.lexicon import Lexicon
from knowledge.validators import validate
from knowledge.wordnet import gloss_label, plain_gloss
from tests.support.agent_helpers import MakeContext, build_context, constraints_for

pytest_plugins = ["tests.support.agent_fixtures"]

REVIEWED = Path(__file__).resolve().parents[2] / "shared" / "data" / "review-panel" / "reviewed-items.jsonl"
MEANING = "Match each word with its meaning."


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


def _judge(lexicon: Lexicon, level: str = "B1") -> Judge:
    return Judge(lexicon=lexicon, level=Level(level), embed=embed)


def _item(answer: dict[str, str], level: str = "B1", instructions: str = MEANING) -> MatchingItem:
    return MatchingItem(
        level=Level(level), topic="t", instructions=instructions, words=list(answer),
        options=list(answer.values())[::-1], answer=answer,
    )  # fmt: skip


def _blocked_words(judge: Judge, item: MatchingItem) -> set[str]:
    return {str(v.evidence.get("word")) for v in check_matching.check(judge, item) if v.blocking}


# --- WordNet glosses as a learner reads them -------------------------------------------------------------------


def test_plain_gloss_keeps_the_first_definition_without_asides() -> None:
    assert plain_gloss("a (usually rectangular) container; may have a lid") == "a container"
    assert (
        plain_gloss("(of quantities) imprecise but fairly close to correct") == "imprecise but fairly close to correct"
    )
    assert plain_gloss("any day except Sunday (and sometimes except Saturday)").endswith(
        "(and sometimes except Saturday)"
    )


def test_gloss_label_marks_technical_senses_and_pointers(lexicon: Lexicon) -> None:
    assert gloss_label(lexicon.senses("address", "noun")[0]), "sense 1 of address is computer science"
    assert gloss_label(lexicon.senses("administrative", "adjective")[0]), "'of or relating to administration'"
    assert gloss_label(lexicon.senses("better", "adjective")[0]), "'(comparative of good)'"
    assert gloss_label(lexicon.senses("kitchen", "noun")[0]) is None


# --- the meaning check -----------------------------------------------------------------------------------------


def _reviewed_matching() -> list[MatchingItem]:
    if not REVIEWED.exists():
        pytest.skip(f"{REVIEWED} is not here")
    rows = [json.loads(line) for line in REVIEWED.read_text(encoding="utf-8").splitlines() if line.strip()]
    fields = ("level", "topic", "instructions", "words", "options", "answer")
    return [MatchingItem(**{k: r["item"][k] for k in fields}) for r in rows if r["type"] == "matching"]


def test_every_reviewed_matching_item_fails_the_check(lexicon: Lexicon) -> None:
    items = _reviewed_matching()
    assert len(items) == 3
    for item in items:
        assert _blocked_words(_judge(lexicon, item.level.value), item), item.answer


@pytest.mark.parametrize(
    ("word", "level"),
    [("apologise", "A2"), ("admire", "A2"), ("tights", "A2"), ("laundry", "B2"), ("overcoat", "B2"),
     ("aubergine", "B2"), ("cloak", "C2"), ("delicatessen", "C2"), ("romper", "C2")],
)  # fmt: skip
def test_the_false_meanings_of_the_reviewed_items_are_flagged(lexicon: Lexicon, word: str, level: str) -> None:
    item = next(i for i in _reviewed_matching() if word in i.answer)
    assert word in _blocked_words(_judge(lexicon, level), item)


def test_the_reviewed_c2_item_is_flagged_for_words_far_below_the_level(lexicon: Lexicon) -> None:
    item = next(i for i in _reviewed_matching() if i.level == Level.C2)
    easy = [v for v in check_matching.check(_judge(lexicon, "C2"), item) if v.kind == "too_easy"]
    assert {v.evidence["word"] for v in easy} == {"shopping", "clothes"} and all(v.blocking for v in easy)


#: Words that share an item in the calibration set (a meaning is judged against the other words of its group).
GROUPS = {
    "zoo": ["lion", "zoo", "giraffe", "cage", "predator", "habitat"],
    "rain": ["umbrella", "puddle", "thunder", "forecast", "drizzle", "weekend"],
    "job": ["salary", "colleague", "boss", "employer", "promotion", "deadline", "resign", "commute", "interview"],
    "cook": ["kitchen", "recipe", "oven", "boil", "ingredient", "stir", "chop", "fry", "grill"],
    "clothes": [
        "laundry",
        "overcoat",
        "cloak",
        "tights",
        "delicatessen",
        "aubergine",
        "apologise",
        "admire",
        "romper",
        "dress",
    ],
    "adj": ["cheap", "happy", "tired", "wet", "soaked"],
    "misc": ["keeper"],
}
#: True definitions in a learner dictionary's words (written for these tests), one per word.
TRUE = {
    "kitchen": "the room in a house where you cook",
    "zoo": "a place where people go to see wild animals",
    "lion": "a large wild cat that lives in Africa",
    "umbrella": "a thing you hold over your head to keep dry in the rain",
    "weekend": "Saturday and Sunday",
    "salary": "money that you get every month for your job",
    "colleague": "a person you work with",
    "boss": "the person who is in charge of you at work",
    "recipe": "instructions that tell you how to cook something",
    "oven": "a hot box in the kitchen for baking food",
    "boil": "to heat water until it bubbles",
    "puddle": "a small pool of rain water on the ground",
    "thunder": "the loud noise in the sky during a storm",
    "giraffe": "a tall African animal with a very long neck",
    "cage": "a box made of metal bars for keeping animals or birds",
    "employer": "a person or company that pays people to work for them",
    "promotion": "a move to a more important job in a company",
    "deadline": "the time by which you must finish something",
    "ingredient": "one of the foods you use to make a dish",
    "stir": "to move a spoon round and round in a liquid",
    "forecast": "a statement about what the weather will be like",
    "habitat": "the natural home of an animal or plant",
    "predator": "an animal that kills and eats other animals",
    "resign": "to leave your job because you decide to",
    "commute": "to travel regularly between home and work",
    "chop": "to cut something into pieces with a knife",
    "wet": "covered with water",
    "tired": "needing rest or sleep",
    "cheap": "costing little money",
    "happy": "feeling pleased",
    "apologise": "to say that you are sorry",
    "admire": "to respect and approve of someone",
    "laundry": "clothes that need to be washed",
    "aubergine": "a vegetable with a dark purple skin",
    "overcoat": "a long warm coat",
    "cloak": "a long loose coat without sleeves",
    "delicatessen": "a shop that sells cheese, cooked meat and salads",
    "tights": "thin clothing that covers the legs and hips, worn by women",
    "interview": "a meeting where someone asks you questions to see if you are right for a job",
    "drizzle": "light rain in very small drops",
    "fry": "to cook food in hot oil",
    "grill": "to cook food over or under strong heat",
    "dress": "a piece of clothing for a woman that covers the body and part of the legs",
    "romper": "a piece of clothing for a baby that covers the body and legs",
    "soaked": "extremely wet",
    "keeper": "a person who looks after animals in a zoo",
}
#: (word, meaning, true?): meanings the small model wrote, labelled by hand, then the reviewed items' pairs.
LABELLED = [
    ("lion", "a large cat with a mane of white hair", False),
    ("zoo", "a place to keep animals", True),
    ("zoo", "a place where animals are kept", True),
    ("kitchen", "the room where food is prepared", True),
    ("kitchen", "the room where you make food", True),
    ("weekend", "a day spent with family and friends", False),
    ("weekend", "a day off from work", False),
    ("salary", "a paycheck given to someone by a government agency", False),
    ("interview", "a conversation someone has with someone else about something", False),
    ("interview", "a conversation with someone about something they're about to do", False),
    ("colleague", "someone you work with who is a friend or a coworker", False),
    ("recipe", "a set of instructions that you use to make a food", True),
    ("recipe", "a set of instructions that shows how to make a dish", True),
    ("oven", "a device for cooking food", True),
    ("oven", "a large appliance that is used for cooking", True),
    ("boil", "to heat a liquid to a high temperature", True),
    ("fry", "to cook something that is not already cooked", False),
    ("puddle", "a small pool of water", True),
    ("puddle", "a small, slow-moving, shallow body of water", False),
    ("drizzle", "a heavy downpour of water", False),
    ("thunder", "a loud earthquake", False),
    ("giraffe", "the largest living creature on the African continent", False),
    ("giraffe", "the largest land animal", False),
    ("keeper", "someone who owns or manages something that is kept", False),
    ("keeper", "someone who keeps things safe and provides them to others", False),
    ("employer", "a person who is responsible for making sure that you work hard and earn money", False),
    ("stir", "to make a situation worse", False),
    ("stir", "to make something more interesting or interesting", False),
    ("forecast", "prediction of the future", True),
    ("forecast", "prediction of something to happen in the future", True),
    ("habitat", "a place for living", True),
    ("habitat", "a place where living organisms can be found", True),
    ("predator", "a creature that hunts and kills animals", True),
    ("resign", "to give up a job or a situation", True),
    ("resign", "to give up one's rights and leave a person's job", False),
    ("commute", "to travel a long distance by car", False),
    ("commute", "to travel to work", True),
    ("chop", "to cut something into small pieces", True),
    ("grill", "to cook a meal", False),
    ("cheap", "something that is not worth the cost of a thing", False),
    ("tired", "feeling tired and hungry", False),
    ("tights", "long, thin pants that are made of fabric and are worn by people", False),
    ("admire", "to love someone or something", False),
    ("apologise", "to make someone sorry for something they have done", False),
    ("dress", "put on clothes", True),
    ("laundry", "a dirty room", False),
    ("overcoat", "a luxurious fabric that is used to make clothing", False),
    ("aubergine", "a fruit named after a famous Italian artist", False),
    ("cloak", "a hood used to conceal something from view", False),
    ("delicatessen", "a restaurant where food is served on a bed of celery", False),
    ("romper", "to remove from something", False),
]


def _in_group(word: str, meaning: str) -> MatchingItem:
    group = next(g for g in GROUPS.values() if word in g)
    others = [x for x in group if x != word][:5]
    return _item({w: (meaning if w == word else TRUE[w]) for w in [*others, word]})


def _flagged(lexicon: Lexicon, word: str, meaning: str) -> bool:
    found = check_matching.check(_judge(lexicon), _in_group(word, meaning))
    return any(v.blocking and v.kind != "too_easy" and v.evidence.get("word") == word for v in found)


def test_the_check_separates_true_from_false_meanings_as_calibrated(lexicon: Lexicon) -> None:
    """Calibration figures of MIN_FIT, MARGIN and the kind test (measured: 25 of 32 false flagged, 42 of 65 true pass).

    True definitions in other words than WordNet's fail more often than WordNet's own glosses (which always pass,
    below): the check errs towards rejecting, since an accepted item must be one a teacher can photocopy.
    """
    false = [(w, m) for w, m, ok in LABELLED if not ok]
    true = [*TRUE.items(), *((w, m) for w, m, ok in LABELLED if ok)]
    caught = sum(_flagged(lexicon, w, m) for w, m in false)
    passed = sum(not _flagged(lexicon, w, m) for w, m in true)
    assert caught >= 0.75 * len(false), f"{caught} of {len(false)} false meanings flagged"
    assert passed >= 0.6 * len(true), f"{passed} of {len(true)} true meanings passed"


FALSE = [
    ("thunder", "a loud earthquake"),
    ("weekend", "a day off from work"),
    ("grill", "to cook a meal"),
    ("fry", "to cook something that is not already cooked"),
]


@pytest.mark.parametrize(("word", "meaning"), FALSE)
def test_a_false_meaning_among_true_ones_is_flagged(lexicon: Lexicon, word: str, meaning: str) -> None:
    assert _flagged(lexicon, word, meaning)


@pytest.mark.parametrize("word", ["kitchen", "zoo", "chop", "deadline", "commute", "cheap", "giraffe", "overcoat"])
def test_true_definitions_in_other_words_pass(lexicon: Lexicon, word: str) -> None:
    assert not _flagged(lexicon, word, TRUE[word])


@pytest.mark.parametrize("words", [["kitchen", "bedroom", "garden", "garage"], ["tailor", "waiter", "nurse", "pilot"]])
def test_plain_wordnet_glosses_pass(lexicon: Lexicon, words: list[str]) -> None:
    item = _item({w: plain_gloss(lexicon.senses(w, "noun")[0].gloss) for w in words}, level="A2")
    assert not [v for v in check_matching.check(_judge(lexicon, "A2"), item) if v.blocking]


def test_a_meaning_that_fits_two_words_is_ambiguous(lexicon: Lexicon) -> None:
    couch = plain_gloss(lexicon.senses("couch", "noun")[0].gloss)
    answer = {"couch": couch, "sofa": "a long soft seat", "kitchen": TRUE["kitchen"], "zoo": TRUE["zoo"]}
    found = check_matching.check(_judge(lexicon), _item(answer))
    assert any(v.kind == "ambiguous_key" and v.evidence["word"] == "couch" for v in found), "sofa is a synonym"


def test_two_words_a_meaning_fits_closely_are_ambiguous_even_if_its_own_fits_best(lexicon: Lexicon) -> None:
    answer = {
        "workman": "an employee who performs manual or industrial labor",
        "labourer": "someone who works with their hands",
        "kitchen": TRUE["kitchen"],
        "zoo": TRUE["zoo"],
    }
    found = check_matching.check(_judge(lexicon), _item(answer))
    assert any(v.kind == "ambiguous_key" and v.evidence["word"] == "workman" for v in found)


def test_a_meaning_that_gives_its_word_away_is_flagged(lexicon: Lexicon) -> None:
    item = _in_group("cage", "a cage-like structure for animals")
    assert "cage" in _blocked_words(_judge(lexicon), item)


def test_words_two_levels_below_warn_and_three_block(lexicon: Lexicon) -> None:
    answer = {w: plain_gloss(lexicon.senses(w, "noun")[0].gloss) for w in ["kitchen", "journey", "climate", "habitat"]}
    found = {v.evidence["word"]: v for v in check_matching.check(_judge(lexicon, "B2"), _item(answer, "B2"))
             if v.kind == "too_easy"}  # fmt: skip
    assert found["kitchen"].blocking, "A1 in a B2 item"
    assert not any(v.blocking for w, v in found.items() if w != "kitchen")


def test_opposites_are_checked_against_wordnet_antonyms(lexicon: Lexicon) -> None:
    right = {"hot": "cold", "early": "late", "wet": "dry", "open": "close"}
    assert not [v for v in check_matching.check(_judge(lexicon, "A1"), _item(right, "A1", OPPOSITES)) if v.blocking]
    wrong = {**right, "wet": "cold", "hot": "dry"}
    assert {"wet", "hot"} <= _blocked_words(_judge(lexicon, "A1"), _item(wrong, "A1", OPPOSITES))


def test_without_an_embedder_the_meanings_are_reported_unchecked(lexicon: Lexicon) -> None:
    found = check_matching.check(Judge(lexicon=lexicon, level=Level.B1), _in_group("zoo", TRUE["zoo"]))
    assert any(v.kind == "meaning" and not v.blocking for v in found)


# --- the builder ------------------------------------------------------------------------------------------------


def _build(ctx: AgentContext, constraints: Constraints, seed: int = 3) -> tuple[MatchingItem, BuildContext, int]:
    build, model = build_context(ctx, constraints, ["a made-up meaning"], seed=seed)
    item = build_item("matching", build)
    assert isinstance(item, MatchingItem)
    return item, build, model.calls


@pytest.mark.parametrize(("level", "topic"), [("B1", "a new job"), ("B2", "a rainy weekend"), ("C2", "a new job")])
def test_built_meanings_are_wordnet_glosses_that_pass_the_check(
    make_ctx: MakeContext, lexicon: Lexicon, level: str, topic: str
) -> None:
    ctx = make_ctx()
    item, _, calls = _build(ctx, constraints_for(ctx, Level(level), topic))
    assert calls == 0, "no meaning is written by the model"
    assert validate(item, lexicon) == []
    assert len(item.words) == pair_count(Level(level))
    assert not [v for v in check_matching.check(_judge(lexicon, level), item) if v.blocking]
    for word in item.words:
        found = lexicon.level_of(word).level
        assert found is not None and lowest_level(Level(level)) <= found <= Level(level), word
    if item.instructions.endswith("its meaning."):
        judge = _judge(lexicon)
        for word, meaning in item.answer.items():
            glosses = check_matching.references(judge, word)
            vectors = check_matching.unit_vectors(judge, [meaning, *glosses])
            assert max(vectors[1:] @ vectors[0]) > 0.9, (word, meaning)


def test_at_a1_words_are_matched_with_wordnet_opposites_at_a1(make_ctx: MakeContext, lexicon: Lexicon) -> None:
    ctx = make_ctx()
    item, build, _ = _build(ctx, constraints_for(ctx, Level.A1, "a rainy weekend"))
    assert item.instructions == OPPOSITES and "fallback" in build.notes
    for word, opposite in item.answer.items():
        assert opposite.lower() in check_matching.linked(_judge(lexicon, "A1"), word, "opposite")
        assert all(lexicon.level_of(w).level == Level.A1 for w in (word, opposite))
        assert word.lower() not in opposite.lower() and opposite.lower() not in word.lower()


def test_the_same_seed_builds_the_same_item(make_ctx: MakeContext) -> None:
    ctx = make_ctx()
    constraints = constraints_for(ctx, Level.B2, "a new job")
    assert _build(ctx, constraints, seed=5)[0] == _build(ctx, constraints, seed=5)[0]
