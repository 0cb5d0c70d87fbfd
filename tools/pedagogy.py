"""The pedagogical tools models can call: word levels, simpler words, examples, answer checks, level estimates.

Every tool answers from the knowledge graph and lexicon, with the source of what it says, so a tool call in a
trace shows exactly which resource an agent consulted.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from knowledge.exemplars import Exemplars
from knowledge.graph import KnowledgeGraph
from knowledge.items import fill_gap, gap_count
from knowledge.level_estimator import LevelEstimator
from knowledge.levels import Level, parse_level
from knowledge.lexicon import Lexicon
from tools.base import Tool, ToolBox

LevelName = Literal["A1", "A2", "B1", "B2", "C1", "C2"]


class WordArgs(BaseModel):
    """A word, optionally with its part of speech."""

    word: str = Field(min_length=1, max_length=40, description="An English word.")
    pos: Literal["noun", "verb", "adjective", "adverb"] | None = Field(default=None, description="Part of speech.")


class WordAtLevelArgs(BaseModel):
    """A word and a target CEFR level."""

    word: str = Field(min_length=1, max_length=40, description="An English word.")
    level: LevelName = Field(description="Target CEFR level.")
    pos: Literal["noun", "verb", "adjective", "adverb"] | None = Field(default=None, description="Part of speech.")


class TextArgs(BaseModel):
    """Some English text."""

    text: str = Field(min_length=1, max_length=2000, description="English text, one sentence or more.")


class AnswerArgs(BaseModel):
    """A gapped sentence, its options and a proposed answer."""

    stem: str = Field(min_length=3, max_length=400, description="Sentence with one gap written as _____.")
    options: list[str] = Field(default_factory=list, max_length=8, description="The options shown, if any.")
    answer: str = Field(min_length=1, max_length=60, description="The proposed answer.")


class TopicArgs(BaseModel):
    """A topic, a level and a part of speech."""

    topic: str = Field(min_length=1, max_length=60, description="A topic such as 'food' or 'travel'.")
    level: LevelName = Field(description="Highest CEFR level of the words.")
    pos: Literal["noun", "verb", "adjective", "adverb"] | None = None


def make_toolbox(lexicon: Lexicon, graph: KnowledgeGraph, estimator: LevelEstimator, exemplars: Exemplars) -> ToolBox:
    """The standard tools over loaded knowledge."""

    def word_level(args: WordArgs) -> dict[str, object]:
        found = lexicon.level_of(args.word, args.pos)
        return {
            "word": args.word,
            "level": found.level.value if found.level else None,
            "source": found.source,
            "evidence": found.evidence,
        }

    def simpler_word(args: WordAtLevelArgs) -> dict[str, object]:
        found = lexicon.synonyms(args.word, args.pos, max_level=args.level)
        return {
            "word": args.word,
            "level": args.level,
            "simpler": [{"word": s.word, "level": s.level.value if s.level else None} for s in found[:5]],
        }

    def example_sentence(args: WordAtLevelArgs) -> dict[str, object]:
        level = parse_level(args.level)
        curated = [
            s.sentence
            for lv, ss in exemplars.sentences.items()
            if lv <= level
            for s in ss
            if s.word.lower() == args.word.lower()
        ]
        examples = curated or lexicon.examples(args.word)
        source = "Pedagogical Forge exemplars" if curated else "WordNet 3.0"
        return {"word": args.word, "examples": examples[:3], "source": source if examples else None}

    def check_answer(args: AnswerArgs) -> dict[str, object]:
        gaps = gap_count(args.stem)
        filled = fill_gap(args.stem, args.answer) if gaps == 1 else None
        count = [o.strip().lower() for o in args.options].count(args.answer.strip().lower())
        return {
            "gaps": gaps,
            "filled": filled,
            "answer_among_options": count == 1 if args.options else None,
            "times_among_options": count,
        }

    def estimate_level(args: TextArgs) -> dict[str, object]:
        estimate = estimator.estimate(args.text)
        return {"level": estimate.level.value if estimate.level else None, "reason": estimate.reason}

    def words_for_topic(args: TopicArgs) -> dict[str, object]:
        hits = [h.key for h in graph.topics_for(args.topic)]
        words = [n for n in graph.words(max_level=args.level, pos=args.pos) if n.key in set(hits)]
        return {"topic": args.topic, "words": [{"word": n.label, "level": str(n.level)} for n in words[:15]]}

    return ToolBox(
        [
            Tool(
                "lookup_word_level",
                "Look up the CEFR level of an English word and where that level comes from.",
                WordArgs,
                word_level,
            ),
            Tool(
                "find_simpler_word", "Find synonyms of a word at or below a CEFR level.", WordAtLevelArgs, simpler_word
            ),
            Tool("get_example_sentence", "Get example sentences that use a word.", WordAtLevelArgs, example_sentence),
            Tool(
                "check_answer",
                "Check that a gapped sentence has one gap and the answer is among the options once.",
                AnswerArgs,
                check_answer,
            ),
            Tool("estimate_level", "Estimate the CEFR level of an English text.", TextArgs, estimate_level),
            Tool("words_for_topic", "List words on a topic at or below a CEFR level.", TopicArgs, words_for_topic),
        ]
    )


def choose_word_tool(candidates: list[str], lexicon: Lexicon) -> Tool:
    """A tool whose only valid arguments are the given candidate words (the grammar makes the model pick one)."""
    choices = tuple(dict.fromkeys(candidates))
    word_type: Any = Literal[choices]
    args_model = create_model(
        "ChooseWordArgs",
        __doc__="One of the candidate words.",
        word=(word_type, Field(description="The word to build the exercise around.")),
    )

    def choose(args: BaseModel) -> dict[str, object]:
        word = str(getattr(args, "word", ""))
        found = lexicon.level_of(word)
        return {"word": word, "level": found.level.value if found.level else None, "source": found.source}

    return Tool(
        "choose_target_word", "Choose the word the exercise should teach, from the candidates.", args_model, choose
    )


def level_names() -> list[str]:
    """The CEFR levels tools accept."""
    return [lv.value for lv in Level if lv is not Level.PRE_A1]
