"""Learner-error rules written as data: token patterns and the explanation of every rule (learner-errors.yaml).

A pattern is a sequence of token tests with a replacement template (the syntax is described at the top of
knowledge/data/learner-errors.yaml): `@look forward to #VB` with fix `$1 $2 $3 $4.VBG` turns "looking forward to
meet" into "looking forward to meeting". Matching runs over one sentence's tagged tokens (`knowledge.nlp`); the
first pattern (in file order) that matches at a position wins, so longer or more specific patterns come first.
This module knows nothing of error types or models: `knowledge.learner_errors` turns matches into candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from lemminflect import getInflection

from knowledge.errors import ResourceError
from knowledge.nlp import Token

DATA_FILE = "learner-errors.yaml"
_BE = {"i": "am", "he": "is", "she": "is", "it": "is"}
_OBJECT = {"i": "me", "he": "him", "she": "her", "we": "us", "they": "them", "you": "you", "it": "it"}


@dataclass(frozen=True)
class Test:
    """One token test: words, lemmas (@), tag prefixes (#); optional (?) or a look-ahead that must fail (!)."""

    words: frozenset[str]
    lemmas: frozenset[str]
    tags: tuple[str, ...]
    optional: bool = False
    negated: bool = False

    def passes(self, token: Token) -> bool:
        """Whether a token passes the test (ignoring `negated`)."""
        return (
            token.lower in self.words
            or token.lemma.lower() in self.lemmas
            or any(token.tag.startswith(t) for t in self.tags)
        )


@dataclass(frozen=True)
class Pattern:
    """A rule written as token tests and replacement templates."""

    rule: str
    tests: tuple[Test, ...]
    fixes: tuple[str, ...]
    margin: str = "lexical"
    start: bool = False


@dataclass(frozen=True)
class Match:
    """A pattern matched on tokens first..last (inclusive, indices into the sentence), with its replacements."""

    pattern: Pattern
    first: int
    last: int
    replacements: tuple[str, ...]


@dataclass(frozen=True)
class RuleInfo:
    """What a detector rule means: its error type, an explanation template, its CLC code and source."""

    error_type: str
    explain: str
    clc: str
    source: str


def _test(text: str) -> Test:
    """Parse one token test ('@look', '#VB|VBD', 'the?', '!of|to')."""
    negated, optional = text.startswith("!"), text.endswith("?") and len(text) > 1
    body = text.strip("!")
    body = body[:-1] if optional else body
    words, lemmas, tags = set(), set(), []
    for alt in body.split("|"):
        if alt.startswith("@") and len(alt) > 1:
            lemmas.add(alt[1:])
        elif alt.startswith("#") and len(alt) > 1:
            tags.append(alt[1:])
        else:
            words.add(alt)
    return Test(frozenset(words), frozenset(lemmas), tuple(tags), optional=optional, negated=negated)


def _pattern(entry: dict[str, object]) -> Pattern:
    """A pattern from its YAML entry."""
    fix = entry["fix"]
    fixes = tuple(fix) if isinstance(fix, list) else (str(fix),)
    tests = tuple(_test(t) for t in str(entry["match"]).split())
    return Pattern(str(entry["rule"]), tests, tuple(map(str, fixes)), str(entry.get("margin", "lexical")),
                   bool(entry.get("start", False)))  # fmt: skip


@cache
def _document() -> dict[str, Any]:
    """The parsed data file."""
    try:
        document = yaml.safe_load((files("knowledge") / "data" / DATA_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ResourceError(f"knowledge/data/{DATA_FILE} cannot be read ({exc}); reinstall the package.") from exc
    if not isinstance(document, dict):
        raise ResourceError(f"knowledge/data/{DATA_FILE} is not a mapping; reinstall the package.")
    return document


@cache
def patterns() -> tuple[Pattern, ...]:
    """Every pattern of the data file, in file order."""
    entries = _document().get("patterns") or []
    return tuple(_pattern(e) for e in entries if isinstance(e, dict))


@cache
def rules() -> dict[str, RuleInfo]:
    """Every rule's type and explanation, by rule id."""
    entries = _document().get("rules") or {}
    if not isinstance(entries, dict):
        raise ResourceError(f"knowledge/data/{DATA_FILE}: 'rules' is not a mapping; reinstall the package.")
    return {
        str(k): RuleInfo(str(v["type"]), str(v["explain"]), str(v.get("clc", "")), str(v.get("source", "")))
        for k, v in entries.items()
    }


@cache
def sources() -> dict[str, str]:
    """The works the rules come from, by key."""
    return {str(k): str(v) for k, v in dict(_document().get("sources") or {}).items()}


def explanation(rule: str, text: str, suggestion: str) -> str:
    """The learner-level explanation of a rule's correction ('' for a rule without one)."""
    info = rules().get(rule)
    return info.explain.format(text=text, suggestion=suggestion) if info else ""


# --- matching -------------------------------------------------------------------------------------------------


def find(tokens: Sequence[Token]) -> Iterator[Match]:
    """Every pattern match in one sentence's tokens, at most one per start position, left to right."""
    for i in range(len(tokens)):
        for pattern in patterns():
            if pattern.start and i != 0:
                continue
            matched = _match_at(pattern.tests, tokens, i)
            if matched is not None:
                fixes = tuple(dict.fromkeys(f for f in (_fill(t, matched, tokens) for t in pattern.fixes) if f))
                yield Match(pattern, i, max(k for k in matched if k is not None), fixes)
                break


def _match_at(tests: Sequence[Test], tokens: Sequence[Token], i: int) -> list[int | None] | None:
    """Token indices of each test's match from position i (None for an optional test not taken), or None."""
    matched: list[int | None] = []
    k = i
    for test in tests:
        if test.negated:
            if k < len(tokens) and test.passes(tokens[k]):
                return None
            continue
        if k < len(tokens) and test.passes(tokens[k]):
            matched.append(k)
            k += 1
        elif test.optional:
            matched.append(None)
        else:
            return None
    return matched if any(m is not None for m in matched) else None


_SLOT = re.compile(r"\$(\d+)(?:\.(be|obj|[A-Z]+)|=([a-z]+))?")


def _fill(template: str, matched: Sequence[int | None], tokens: Sequence[Token]) -> str:
    """The replacement text of a template for one match ('' when an inflection is unknown)."""
    failed = False

    def slot(m: re.Match[str]) -> str:
        nonlocal failed
        n = int(m.group(1)) - 1
        k = matched[n] if n < len(matched) else None
        if k is None:
            return ""
        token = tokens[k]
        value = _slot_value(token, m.group(2), m.group(3))
        failed = failed or value is None
        return value or ""

    text = " ".join(_SLOT.sub(slot, template).split())
    text = re.sub(r" ([?.!,])", r"\1", text)
    return "" if failed else text


def _slot_value(token: Token, op: str | None, lemma: str | None) -> str | None:
    """A matched token's text, inflected (op: Penn tag, be, obj) or replaced by a lemma in its form."""
    if lemma:
        return _inflect(lemma, token.tag if token.tag.startswith("VB") else "VB")
    if op is None:
        return "I" if token.text == "i" else token.text
    if op == "be":
        return _BE.get(token.lower, "are")
    if op == "obj":
        return _OBJECT.get(token.lower)
    return _inflect(token.lemma.lower(), op)


def _inflect(lemma: str, tag: str) -> str | None:
    """The first inflection of a lemma for a Penn tag (VBP gives the base form)."""
    if tag in {"VB", "VBP"}:
        return lemma
    forms = getInflection(lemma, tag=tag)
    return forms[0] if forms else None
