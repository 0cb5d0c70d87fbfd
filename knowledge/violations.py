"""The one violation type: why a text or an exercise is not acceptable (or less aligned), with its evidence.

The ACI reports how a text departs from a level (`word_above_level`, `construction_above_level`, ...); the
structural validators and the builders report malformed exercises (`structure`). Both use this type, so an item's
verdict carries the ACI's violations as they are. `category` groups kinds the way feedback uses them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from knowledge.levels import Level

ViolationKind = Literal[
    "structure", "word_above_level", "unknown_word", "too_many_words_above", "construction_above_level",
    "missing_construction", "too_easy", "too_hard", "not_english", "not_judged",
    "meaning", "ambiguous_key", "off_topic", "unnatural",
]  # fmt: skip
Severity = Literal["error", "warning"]
Category = Literal["structure", "vocabulary", "grammar", "missing_construction", "length", "safety", "meaning"]

#: The category of each kind.
CATEGORIES: dict[str, Category] = {
    "structure": "structure",
    "word_above_level": "vocabulary",
    "unknown_word": "vocabulary",
    "too_many_words_above": "vocabulary",
    "construction_above_level": "grammar",
    "missing_construction": "missing_construction",
    "too_easy": "length",
    "too_hard": "length",
    "not_english": "safety",
    "not_judged": "length",
    "meaning": "meaning",
    "ambiguous_key": "meaning",
    "off_topic": "meaning",
    "unnatural": "meaning",
}


class Suggestion(BaseModel):
    """A simpler word at or below the target level (a WordNet synonym that the vocabulary lists place)."""

    model_config = ConfigDict(frozen=True)

    word: str
    level: Level
    node: str
    source: str


class Violation(BaseModel):
    """One way a text or an exercise departs from what is acceptable, with the evidence for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ViolationKind
    severity: Severity = Field(default="error", description="Errors block; warnings are advice.")
    message: str = Field(description="Human-readable, e.g. \"'ubiquitous' is C2, above A2\".")
    text: str = ""
    span: tuple[int, int] | None = None
    level: Level | None = None
    """Level of the offending word or construction, or the estimated level for too_easy / too_hard."""
    item_id: str | None = None
    node: str | None = None
    """Knowledge-graph key (`word:lemma|pos`, `grammar:ID`) when there is one."""
    source: str = ""
    """Citation of the list row or profile item, the frequency estimate, or the model used."""
    suggestions: list[Suggestion] = []
    evidence: dict[str, Any] = Field(default_factory=dict, description="What a structural check looked at.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def blocking(self) -> bool:
        """Whether it makes the text or item unacceptable on its own."""
        return self.severity == "error"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def category(self) -> Category:
        """The kind's group: structure, vocabulary, grammar, missing_construction, length or safety."""
        return CATEGORIES[self.kind]

    @model_validator(mode="before")
    @classmethod
    def _earlier_item_shape(cls, data: Any) -> Any:
        """Drop the derived fields of a dump; read earlier item violations (a category as kind, ACI in `evidence`)."""
        if not isinstance(data, dict) or not data.keys() & {"blocking", "category"}:
            return data
        old = {k: v for k, v in data.items() if k != "category"}
        if "blocking" not in old:
            return old
        evidence = dict(old.pop("evidence", None) or {})
        blocking = old.pop("blocking")
        kind = old.get("kind")
        if kind != "structure":
            old["kind"] = evidence.pop("aci_kind", "word_above_level" if kind == "vocabulary" else kind)
            for key in ("text", "node", "level", "source"):
                if key in evidence:
                    old[key] = evidence.pop(key)
            evidence.pop("suggestions", None)
        old.setdefault("severity", "error" if blocking else "warning")
        return old | ({"evidence": evidence} if evidence else {})
