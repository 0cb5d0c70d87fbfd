"""The command agent of exercise sessions: turn what a teacher or learner says into typed edits of the set.

A deterministic parser (keywords and patterns over the offline tokeniser) understands the usual requests —
"ten gap fills about food at A2", "three more about travel", "replace item 2", "remove items 3-4", "make it
harder", "switch to B1", "only gap fills", "turn these words into a reading text", "export to set.md", "undo",
"show". Only what it cannot read goes to the local model, through one forced tool call whose schema admits only
valid commands; the model's guess is used only when what it names (item numbers, level, exercise type, topic) is
actually in the message, so a 135M model cannot invent a destructive edit. Anything still unclear gets an answer
saying what is understood.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from agents import telemetry
from agents.context import AgentContext
from agents.models.base import GenerationOptions, Message, ToolSpec
from agents.models.errors import ModelError
from knowledge.errors import UserInputError
from knowledge.items import EXERCISE_TYPES, ExerciseType
from knowledge.levels import Level, parse_level
from knowledge.nlp import is_probably_english
from knowledge.reviews import reason_in

Action = Literal[
    "add", "replace", "remove", "harder", "easier", "set_level", "topic", "only", "reading", "export", "show",
    "undo", "help", "accept", "reject",
]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]
MAX_MESSAGE_CHARS = 2000
#: How many items a set may hold, and how many one command may add.
MAX_ITEMS = 30
MAX_ADD = 10
DEFAULT_NEW_SET = 5
DEFAULT_MORE = 3
EXAMPLES = (
    "'five gap fills about food at A2', 'three more about travel', 'replace item 2', 'remove item 3', "
    "'make it harder', 'switch to B1', 'only gap fills', 'turn these words into a reading text', 'export'"
)
TOOL_NAME = "edit_exercise_set"


class Command(BaseModel):
    """One edit of the exercise set (or a request to see, export or undo it)."""

    action: Action
    count: int | None = Field(default=None, ge=1, le=MAX_ADD, description="How many items to add.")
    items: list[int] = Field(default_factory=list, description="Item numbers (1-based) the command applies to.")
    level: Level | None = None
    topic: str | None = None
    types: list[ExerciseType] = Field(default_factory=list)
    path: str | None = Field(default=None, description="Where to export, if given.")
    format: str | None = Field(default=None, description="The export format named ('moodle', 'pdf' ...), if any.")
    version: int | None = Field(default=None, ge=0, description="A version to go back to or show.")
    note: str | None = Field(default=None, description="A teacher's words with an accept or reject.")
    reason: str | None = Field(default=None, description="The rubric reason a rejection names (knowledge.reviews).")
    source: Literal["parser", "model"] = "parser"

    def describe(self) -> str:
        """The command in a few words, for replies ('add 3 gap_fill about travel')."""
        parts = [self.action.replace("_", " ")]
        if self.count:
            parts.append(str(self.count))
        if self.types:
            parts.append("/".join(self.types))
        if self.items:
            parts.append("item" + ("s " if len(self.items) > 1 else " ") + ", ".join(map(str, self.items)))
        if self.topic:
            parts.append(f"about {self.topic}")
        if self.level:
            parts.append(f"at {self.level}")
        if self.version is not None:
            parts.append(f"version {self.version}")
        return " ".join(parts)


class Parsed(BaseModel):
    """What a message was understood as: commands, or why none were found."""

    commands: list[Command] = Field(default_factory=list)
    problem: str | None = None


# Vocabulary of the parser.
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "another": 1, "single": 1, "two": 2, "couple": 2, "pair": 2, "three": 3, "few": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "several": 3,
}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10}
_TYPE_PATTERNS: tuple[tuple[ExerciseType, str], ...] = (
    ("word_formation", r"word[- ]?formation"),
    ("error_correction", r"error[- ]?correction|find the (mistake|error)|mistakes?|corrections?"),
    ("open_gap", r"open[- ]?(gaps?|cloze)|cloze|fill[- ]in[- ]the[- ]blanks?"),
    ("gap_fill", r"gap[- ]?fill(s|ing)?|multiple[- ]choice|mcqs?|gaps?"),
    ("reorder", r"re-?order(ing)?|word[- ]order|jumbled( sentences?)?|unscramble|scrambled( sentences?)?"),
    ("matching", r"match(ing|es)?"),
    ("reading", r"reading( texts?| comprehension)?|texts?|stor(y|ies)|passages?"),
)
_TYPE_RE = re.compile(r"\b(" + "|".join(p for _, p in _TYPE_PATTERNS) + r")\b")
_LEVEL_RE = re.compile(r"\b(pre-?a1|[abc][12])\b")
_NUMBER = r"(\d+|" + "|".join(_NUMBERS) + r")"
_COUNT_RE = re.compile(r"\b" + _NUMBER + r"\b(?:\s+(?:more|new|extra|additional|other))?")
_ITEMS_RE = re.compile(
    r"\b(?:items?|numbers?|nos?\.?|questions?|exercises?|ones?|#)\s*#?\s*(\d+(?:\s*(?:,|and|&|-|to)\s*\d+)*)"
)
_ORDINAL_RE = re.compile(r"\b(?:the\s+)?(" + "|".join(_ORDINALS) + r"|last)\s+(?:item|one|exercise|question)\b")
_TOPIC_RE = re.compile(
    r"\b(?:about|on the topic of|on|around|related to|topic(?: to| of)?|theme(?: to| of)?)\s+"
    r"(?!item|number|the level|level|version)([a-z][a-z ,'&/-]*?)\s*(?=\b(?:at|for|in)\s+(?:pre-?a1|[abc][12])\b|"
    r"\binstead\b|[.!?]|$)"
)
#: Export formats a teacher may name, and what they may call them ('export moodle', 'as a pdf', 'for anki').
EXPORT_FORMATS: dict[str, tuple[str, ...]] = {
    "moodle": ("moodle", "moodle xml"), "gift": ("gift",), "qti": ("qti", "qti 2.1", "ims qti"),
    "anki": ("anki", "apkg", "flashcards?"), "pdf": ("pdf",), "docx": ("docx", "word", "word document"),
    "markdown": ("markdown", "md"), "json": ("json",),
}
#: File endings that name a format when a path is given ('export to food.apkg').
FORMAT_SUFFIXES: dict[str, str] = {
    ".xml": "moodle", ".gift": "gift", ".zip": "qti", ".apkg": "anki", ".pdf": "pdf", ".docx": "docx",
    ".md": "markdown", ".markdown": "markdown", ".txt": "markdown", ".json": "json",
}
_FORMAT_RE = re.compile(
    r"\b(" + "|".join(n for names in EXPORT_FORMATS.values() for n in sorted(names, key=len, reverse=True)) + r")\b"
)
_PATH_RE = re.compile(
    r"(?:\bto|\bas|\binto|\bin)\s+(\S+\.(?:json|md|markdown|txt|xml|gift|zip|apkg|pdf|docx))\b|(\S*/\S+)"
)
_SPLIT_RE = re.compile(
    r"\s*(?:;|\n|\bthen\b|,\s*and\b|\band then\b|\balso\b|"
    r"\band (?=(?:add|make|replace|remove|delete|drop|switch|change|export|save|show|turn|only|undo|give)\b))\s*"
)
_RULES: tuple[tuple[Action, re.Pattern[str]], ...] = (
    ("help", re.compile(r"^(help|\?|what can (i|you) (say|do)\??|commands|usage)$")),
    ("undo", re.compile(r"\b(undo|revert|go back|roll ?back|restore|back to version)\b")),
    ("export", re.compile(r"\b(export|save|download|worksheet|write (it|them|the set) (out|to))\b")),
    ("show", re.compile(r"^(show|list|display|print|view|see|what do we have|status)\b(?!.*\b(more|add)\b)")),
    ("reading", re.compile(
        r"\b(turn|make|convert|change|transform|use|put|build|write)\b.*\b(words?|vocabulary|these|them|it|items?)\b"
        r".*\b(reading|text|story|passage)\b")),
    ("remove", re.compile(r"\b(remove|delete|drop|take out|get rid of|cut|discard)\b")),
    ("only", re.compile(r"\bonly\b|\bjust\b.*\b(" + "|".join(p for _, p in _TYPE_PATTERNS) + r")\b$")),
    ("harder", re.compile(r"\b(harder|more difficult|more challenging|tougher|level up|more advanced|less easy)\b")),
    ("easier", re.compile(r"\b(easier|simpler|less difficult|level down|more basic|less hard)\b")),
    ("replace", re.compile(r"\b(replace|redo|regenerate|swap|rewrite|change|new version of|another version of)\b")),
    ("topic", re.compile(r"\b(topic|theme|make (it|them) (about|on)|about .+ instead|switch .*\bto (?![abc][12]\b))")),
    ("set_level", _LEVEL_RE),
)
#: The item number a decision about every item of the set stands for ("accept all").
ALL_ITEMS = 0
_REJECT_VERBS = ("reject", "rejected", "refuse", "bin", "discard")
_REVIEW_VERB = r"(?:accept(?:ed)?|approve[d]?|keep|ok|reject(?:ed)?|refuse|bin)"
_REVIEW_START = re.compile(r"^\s*" + _REVIEW_VERB + r"\b", re.IGNORECASE)
_REVIEW_ITEMS = r"(?:\d+(?:\s*(?:,|and|&|-|to)\s*\d+)*|all(?: of them)?|everything)"
_REVIEW_SPLIT = re.compile(
    r"[,;.]?\s*(?:\band\s+)?(?=\b" + _REVIEW_VERB + r"\b\s+(?:items?\s+|#|no\.?\s*)?(?:\d|all\b|everything\b))",
    re.IGNORECASE,
)
_REVIEW_PART = re.compile(
    r"^(?P<verb>" + _REVIEW_VERB + r")\s+(?:items?\s+|numbers?\s+|#|no\.?\s*)?(?P<items>" + _REVIEW_ITEMS + r")"
    r"\s*(?:[:—–-]|\bbecause\b|\bas\b)?\s*(?P<note>.*)$",
    re.IGNORECASE,
)
_ADD_WORDS = r"\b(add|more|another|give me|create|generate|write|need|want|new set|start|some|extra)\b"


def normalise(message: str) -> str:
    """Lower-case, NFKC-normalised, single-spaced text, with a trailing full stop or '!' dropped."""
    text = unicodedata.normalize("NFKC", message).lower().replace("’", "'")
    return " ".join(text.split()).rstrip(".! ")


def check_message(message: str) -> str:
    """The message if a session can take it: not empty, not over MAX_MESSAGE_CHARS (UserInputError otherwise)."""
    text = message.strip()
    if not text:
        raise UserInputError(f"The message is empty; say what to do with the set, e.g. {EXAMPLES}.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise UserInputError(
            f"The message has {len(text):,} characters; at most {MAX_MESSAGE_CHARS:,} are accepted "
            "(one or a few commands, such as 'three more about travel')."
        )
    return text


def parse(message: str) -> Parsed:
    """Understand a message with the deterministic parser alone (no model)."""
    reviews = review_commands(message)
    if reviews:
        return Parsed(commands=reviews)
    clauses = [c for c in _SPLIT_RE.split(normalise(message)) if c and c.strip(" ,")]
    commands = [parse_clause(c.strip(" ,")) for c in clauses]
    if not commands or any(c is None for c in commands):
        unread = next((c for c, cmd in zip(clauses, commands, strict=True) if cmd is None), message)
        return Parsed(problem=f"I did not understand {unread.strip()[:80]!r}.")
    return Parsed(commands=[c for c in commands if c is not None])


def review_commands(message: str) -> list[Command]:
    """A teacher's decisions ("accept 1 and 3, reject 2: the key is wrong"); empty if the message is not one."""
    text = " ".join(unicodedata.normalize("NFKC", message).replace("’", "'").split())
    if not _REVIEW_START.match(text):
        return []
    commands = []
    for part in filter(None, (p.strip(" ,;.") for p in _REVIEW_SPLIT.split(text))):
        match = _REVIEW_PART.match(part)
        if match is None:
            return []
        verb, numbers, note = match["verb"].lower(), match["items"], (match["note"] or "").strip()
        action: Action = "reject" if verb in _REJECT_VERBS else "accept"
        reason = reason_in(note) if action == "reject" else None
        everything = not numbers[:1].isdigit()
        items = [ALL_ITEMS] if everything else [n for n in item_numbers("items " + numbers.lower()) if n >= 1]
        commands.append(Command(action=action, items=items, note=note or None, reason=reason))
    return commands if all(c.items for c in commands) else []


def parse_clause(clause: str) -> Command | None:
    """One clause as a command, or None when no rule reads it."""
    for action, pattern in _RULES:
        if pattern.search(clause):
            command = _build(action, clause)
            if command is not None:
                return command
    return _add(clause) if _asks_for_items(clause) else None


def _build(action: Action, clause: str) -> Command | None:
    """The command of a matched rule with its arguments, or None if the clause lacks what the action needs."""
    items, level, types = item_numbers(clause), _level(clause), types_in(clause)
    if action in ("replace", "remove") and not items:
        return _add(clause) if action == "replace" and _TYPE_RE.search(clause) and "with" in clause else None
    if action == "only" and not types:
        return None
    if action == "set_level" and (level is None or _asks_for_items(clause)):
        return None
    if action == "topic":
        topic = topic_in(clause) or _after_to(clause)
        return Command(action="topic", topic=topic) if topic else None
    version = _version(clause)
    path = _path(clause) if action == "export" else None
    fmt = export_format(clause, path) if action == "export" else None
    return Command(action=action, items=items, level=level, types=types, version=version, path=path, format=fmt)


def _asks_for_items(clause: str) -> bool:
    """Whether a clause naming a level really asks for new items ('five more at B1', 'gap fills at B1')."""
    return bool(re.search(_ADD_WORDS, clause) or _count(clause) or types_in(clause) or topic_in(clause))


def _add(clause: str) -> Command:
    """An 'add' command: how many, which types, topic and level as far as the clause says."""
    count = _count(clause)
    if count is None and re.search(r"\b(more|extra|additional|another)\b", clause):
        count = 1 if re.search(r"\b(another|one more)\b", clause) else DEFAULT_MORE
    return Command(action="add", count=count, types=types_in(clause), topic=topic_in(clause), level=_level(clause))


def item_numbers(clause: str) -> list[int]:
    """Item numbers named in a clause: 'item 2', 'items 2, 4 and 5', 'items 2-4', 'the last one' (-1)."""
    found: list[int] = []
    for match in _ITEMS_RE.finditer(clause):
        for a, b in re.findall(r"(\d+)(?:\s*(?:-|to)\s*(\d+))?", match.group(1)):
            start, end = int(a), int(b or a)
            found.extend(range(start, min(end, start + MAX_ITEMS) + 1))
    for match in _ORDINAL_RE.finditer(clause):
        found.append(-1 if match.group(1) == "last" else _ORDINALS[match.group(1)])
    if not found:
        bare = re.search(r"\b(?:replace|remove|delete|drop|redo|regenerate|swap|rewrite|change)\s+(\d+)\b", clause)
        found = [int(bare.group(1))] if bare else []
    return list(dict.fromkeys(found))


def types_in(clause: str) -> list[ExerciseType]:
    """Exercise types named in a clause, in order."""
    found: list[ExerciseType] = []
    for match in _TYPE_RE.finditer(clause):
        word = match.group(0)
        kind = next(k for k, pattern in _TYPE_PATTERNS if re.fullmatch(pattern, word))
        if kind == "reading" and re.search(r"\b(reading|text)\b", word) is None and "stor" not in word:
            continue
        found.append(kind)
    return list(dict.fromkeys(found))


def topic_in(clause: str) -> str | None:
    """The topic named in a clause ('about travel', 'on the topic of food'), if any."""
    match = _TOPIC_RE.search(clause)
    if not match:
        return None
    topic = re.sub(r"\b(please|instead|again|now|too)\b", "", match.group(1)).strip(" ,")
    topic = re.sub(r"^(the|a|an)\s+", "", topic)
    return topic or None


def _after_to(clause: str) -> str | None:
    """The phrase after 'to' ('change the topic to sport'), for topic switches."""
    match = re.search(r"\bto\s+([a-z][a-z ,'&/-]*)$", clause)
    return match.group(1).strip() if match else None


def _count(clause: str) -> int | None:
    """The number of items a clause asks for, if it says one (not counting item numbers or levels)."""
    cleaned = _ITEMS_RE.sub(" ", _LEVEL_RE.sub(" ", clause))
    cleaned = re.sub(r"\bversion\s+\d+", " ", cleaned)
    for match in _COUNT_RE.finditer(cleaned):
        token = match.group(1)
        if token in ("a", "an") and not _TYPE_RE.match(cleaned[match.end():].strip()):
            continue
        value = int(token) if token.isdigit() else _NUMBERS[token]
        return max(1, min(MAX_ADD, value))
    return None


def _level(clause: str) -> Level | None:
    """The CEFR level named in a clause, if any."""
    match = _LEVEL_RE.search(clause)
    return parse_level(match.group(1)) if match else None


def _version(clause: str) -> int | None:
    """A version number named in a clause ('back to version 2')."""
    match = re.search(r"\bversion\s+(\d+)\b|\bv(\d+)\b", clause)
    return int(match.group(1) or match.group(2)) if match else None


def _path(clause: str) -> str | None:
    """An export path named in a clause ('export to worksheet.md'), if any."""
    match = _PATH_RE.search(clause)
    return (match.group(1) or match.group(2)) if match else None


def export_format(clause: str, path: str | None = None) -> str | None:
    """The export format a clause names ('export moodle', 'save it as a pdf'), else the one its path's ending names."""
    if path:
        suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if suffix in FORMAT_SUFFIXES:
            return FORMAT_SUFFIXES[suffix]
    match = _FORMAT_RE.search(clause.replace(path or "\0", " "))
    if not match:
        return None
    said = match.group(1)
    return next(name for name, names in EXPORT_FORMATS.items() if any(re.fullmatch(n, said) for n in names))


# The model fallback.


class _ToolArgs(BaseModel):
    """What the model may answer: one command with optional arguments."""

    action: Action
    count: int | None = Field(default=None, ge=1, le=MAX_ADD)
    item: int | None = Field(default=None, ge=1, le=MAX_ITEMS)
    level: Literal["A1", "A2", "B1", "B2", "C1", "C2"] | None = None
    topic: str | None = Field(default=None, max_length=40)
    type: ExerciseType | None = None


def command_tool() -> ToolSpec:
    """The one tool the model must call to say what a message asks for."""
    return ToolSpec(
        name=TOOL_NAME,
        description="Edit the set of English exercises as the teacher asked: add items, replace or remove an item, "
        "make the set harder or easier, change its level or topic, keep only one exercise type, turn the words into "
        "a reading text, export, show, undo or help.",
        parameters=_ToolArgs.model_json_schema(),
    )


def understand(ctx: AgentContext, message: str, *, seed: int = 0) -> Parsed:
    """Parse a message: the deterministic parser first, then (for English it cannot read) the model's tool call."""
    text = check_message(message)
    parsed = parse(text)
    telemetry.record_decision(None, "exercise.parse", "parser" if parsed.commands else "model",
                              "the parser read the message" if parsed.commands else parsed.problem or "unparsed")
    if parsed.commands:
        return parsed
    english, reason = is_probably_english(text)
    if not english:
        return Parsed(problem=f"That does not look like English ({reason}); commands are in English, e.g. {EXAMPLES}.")
    guessed = model_command(ctx, text, seed=seed)
    if guessed is None:
        return Parsed(problem=f"{parsed.problem} Try for example {EXAMPLES}.")
    return Parsed(commands=[guessed])


def model_command(ctx: AgentContext, message: str, *, seed: int = 0) -> Command | None:
    """The local model's reading of a message, through a forced tool call; None if it fails or is not grounded."""
    messages = [
        Message.system("You turn a teacher's request about a set of English exercises into one tool call."),
        Message.user(message),
    ]
    options = GenerationOptions(max_tokens=48, temperature=0.0, seed=seed)
    try:
        result = ctx.local.chat(messages, tools=[command_tool()], tool_choice=TOOL_NAME, options=options)
    except ModelError:
        return None
    if not result.tool_calls:
        return None
    return grounded(result.tool_calls[0].arguments, normalise(message))


def grounded(arguments: dict[str, Any], text: str) -> Command | None:
    """The model's command if everything it names is in the message (else None: a guess is not acted on)."""
    try:
        args = _ToolArgs.model_validate(arguments)
    except ValidationError:
        return None
    checks = [
        args.item is None or re.search(rf"\b{args.item}\b", text) is not None,
        args.level is None or args.level.lower() in text,
        args.type is None or args.type in types_in(text),
        args.topic is None or args.topic.lower() in text,
        args.action not in ("replace", "remove") or args.item is not None,
        args.action not in ("set_level",) or args.level is not None,
        args.action != "only" or args.type is not None,
        args.action != "topic" or args.topic is not None,
    ]
    if not all(checks):
        return None
    return Command(
        action=args.action, count=args.count, items=[args.item] if args.item else [],
        level=parse_level(args.level) if args.level else None, topic=args.topic,
        types=[args.type] if args.type else [], source="model",
    )


def help_text() -> str:
    """What a session understands."""
    return (
        "Say what to do with the set, for example: " + EXAMPLES + ", 'remove items 2-3', 'make item 2 easier', "
        "'about sport instead', 'undo', 'back to version 2', 'show'. Exercise types: " + ", ".join(EXERCISE_TYPES)
        + "."
    )
