"""Training data from teachers' reviews: SFT and DPO files in the formats TRL reads, each with a dataset card.

Only each reviewer's latest decision about an item counts (`knowledge.reviews.latest`). An item is then

- kept when every decision accepts or modifies it: its pairs (`agents.item.training`) become SFT rows, the edited
  text for a modified item (`source` "modified"), the reviewed one for an accepted item ("accepted");
- rejected when every decision rejects it: its pairs become the rejected side of DPO rows ("rejected");
- disputed when one teacher rejects what another kept: it gives no row at all, SFT or DPO.

DPO rows: every modification gives the edited text chosen over the original, under the edited item's prompt; and
every pair of a rejected item is set against the pair of one kept item of the same type and level (and the same
target word when the rejected pair has one): one on the same topic if there is one, else the earliest reviewed,
under the kept item's prompt. A rejected pair with no such partner gives no row.

Text is redacted by default: the rows never carry `note` or `reviewer`, and e-mail addresses, phone numbers and the
name in an item's `learner` field are replaced by "[redacted]" before any prompt or completion is made. With
`redact=False` nothing is replaced and each row also carries the deciding reviews' reviewers and notes.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from agents.item.training import OFFSET, SENTENCE_EXAMPLES, TRAINING_PROMPTS, TrainingPair, training_pairs
from knowledge.errors import UserInputError
from knowledge.exemplars import Exemplars
from knowledge.items import item_from_record
from knowledge.levels import Level
from knowledge.lexicon import Lexicon
from knowledge.reviews import Review, latest
from prompts.loader import load_prompt

Source = Literal["accepted", "modified", "rejected"]
Outcome = Literal["accepted", "modified", "rejected", "disputed"]
CardKind = Literal["sft", "dpo"]
REDACTED = "[redacted]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: A run of digits with spaces, dots, dashes, slashes or brackets between them; a phone number has 7 or more digits.
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ()./-]{5,}\d(?!\w)")
_PHONE_DIGITS = 7
#: Keys whose values are never redacted (an item needs them to be read at all).
_KEEP = frozenset({"type", "level"})


class SftRow(BaseModel):
    """One SFT row: TRL's standard prompt-completion columns and our metadata."""

    prompt: str
    completion: str
    level: str
    type: str
    item_id: str
    source: Source
    reviewer: str | None = Field(default=None, description="Only with redact=False: who decided.")
    note: str | None = Field(default=None, description="Only with redact=False: what they wrote.")


class DpoRow(BaseModel):
    """One DPO row: TRL's standard preference columns (explicit prompt) and our metadata."""

    prompt: str
    chosen: str
    rejected: str
    level: str
    type: str
    item_id: str = Field(description="The item the chosen text comes from.")
    rejected_item_id: str = Field(description="The item the rejected text comes from (the same for a modification).")
    source: Source = Field(description="'modified': edited over original; 'rejected': a kept item over a rejected one.")
    reason: str | None = Field(default=None, description="The rubric reason(s) of the rejection or modification.")
    reviewer: str | None = None
    note: str | None = None


class ReviewCounts(BaseModel):
    """How many reviews and items went in, and what became of the items."""

    reviews: int = 0
    latest: int = 0
    items: int = 0
    accepted: int = 0
    modified: int = 0
    rejected: int = 0
    disputed: int = 0
    unreadable: int = 0
    unpaired: int = Field(default=0, description="Rejected pairs with no kept pair to set them against.")


class TrainingExport(BaseModel):
    """What `export_training` wrote: rows per level and type for each file set, and the review counts."""

    sft_dir: Path
    dpo_dir: Path
    sft: dict[str, dict[str, int]] = Field(description="Level -> exercise type -> SFT rows.")
    dpo: dict[str, dict[str, int]] = Field(description="Level -> exercise type -> DPO rows.")
    reviews: ReviewCounts
    files: list[Path]


# --- redaction --------------------------------------------------------------------------------------------------


def learner_names(fields: Mapping[str, Any]) -> list[str]:
    """The name(s) in an item's `learner` field (a name, a {'name': ...} object or a list), longest first."""
    value = fields.get("learner")
    raw = value.get("name") if isinstance(value, Mapping) else value
    names = [raw] if isinstance(raw, str) else [n for n in raw if isinstance(n, str)] if isinstance(raw, list) else []
    parts = {p for name in names for p in [name.strip(), *name.split()] if len(p.strip()) >= 2}
    return sorted(parts, key=lambda p: (-len(p), p))


def redact_text(text: str, names: Sequence[str] = ()) -> str:
    """The text with e-mail addresses, phone numbers (7+ digits) and the given names replaced by [redacted]."""
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(lambda m: REDACTED if sum(c.isdigit() for c in m[0]) >= _PHONE_DIGITS else m[0], text)
    for name in names:
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", REDACTED, text, flags=re.IGNORECASE)
    return text


def redact_fields(value: Any, names: Sequence[str], key: str = "") -> Any:
    """A copy of an item's fields (or any JSON value) with every string redacted, keys included, but type and level."""
    if isinstance(value, str):
        return value if key in _KEEP else redact_text(value, names)
    if isinstance(value, Mapping):
        return {redact_text(str(k), names): redact_fields(v, names, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_fields(v, names, key) for v in value]
    return value


# --- from reviews to judged items -------------------------------------------------------------------------------


@dataclass
class _Judged:
    """One item with its reviewers' latest decisions and what they make of it."""

    item_id: str
    reviews: list[Review]
    outcome: Outcome

    @property
    def original(self) -> dict[str, Any]:
        """The item as last reviewed."""
        return self.reviews[-1].item

    def by(self, decision: str) -> list[Review]:
        """The reviews with this decision."""
        return [r for r in self.reviews if r.decision == decision]


def _outcome(reviews: Iterable[Review]) -> Outcome:
    """Kept, rejected or disputed, from the decisions of the reviewers (see the module docstring)."""
    decisions = {r.decision for r in reviews}
    if "reject" in decisions:
        return "rejected" if decisions == {"reject"} else "disputed"
    return "modified" if "modify" in decisions else "accepted"


def _judge(reviews: Sequence[Review]) -> list[_Judged]:
    """The reviewed items, in the order of their first latest decision, each with its outcome."""
    groups: dict[str, list[Review]] = {}
    for review in latest(list(reviews)):
        groups.setdefault(review.item_id, []).append(review)
    return [_Judged(item_id, group, _outcome(group)) for item_id, group in groups.items()]


# --- pairs of items ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    """A training pair of one version of an item, with what rows need to know of that item."""

    pair: TrainingPair
    item_id: str
    level: Level
    type: str
    topic: str
    reviews: tuple[Review, ...]


@dataclass
class _Pairer:
    """Turns item fields into pairs (redacted when asked), with the exemplars and lexicon loaded once."""

    redact: bool
    exemplars: Exemplars = field(default_factory=Exemplars.load)
    lexicon: Lexicon = field(default_factory=Lexicon.load)

    def pairs(self, fields: Mapping[str, Any] | None, item_id: str, reviews: Sequence[Review]) -> list[_Pair]:
        """The pairs of one version of an item; ValueError when the fields are no readable item."""
        if fields is None:
            raise ValueError("a modification without the edited item")
        if self.redact:
            fields = redact_fields(fields, learner_names(fields))
        item = item_from_record(fields)
        found = training_pairs(fields, exemplars=self.exemplars, lexicon=self.lexicon)
        return [_Pair(p, item_id, item.level, item.type, item.topic, tuple(reviews)) for p in found]


@dataclass
class _Rows:
    """Rows collected so far, and the counts of what happened to the reviews."""

    sft: list[tuple[_Pair, SftRow]] = field(default_factory=list)
    dpo: list[tuple[_Pair, DpoRow]] = field(default_factory=list)
    rejected: list[_Pair] = field(default_factory=list)
    counts: ReviewCounts = field(default_factory=ReviewCounts)


def _who(reviews: Iterable[Review], redact: bool) -> dict[str, str | None]:
    """The reviewer and note columns: absent when redacting, else the deciding reviews' names and notes."""
    if redact:
        return {}
    chosen = list(reviews)
    return {
        "reviewer": "; ".join(dict.fromkeys(r.reviewer for r in chosen)),
        "note": " | ".join(r.note for r in chosen if r.note) or None,
    }


def _reasons(reviews: Iterable[Review]) -> str | None:
    """The distinct rubric reasons of the reviews, joined (None when none gave one)."""
    found = list(dict.fromkeys(r.reason for r in reviews if r.reason))
    return ", ".join(found) or None


def _sft_row(kept: _Pair, source: Source, redact: bool) -> SftRow:
    """The SFT row of a kept pair."""
    return SftRow(
        prompt=kept.pair.prompt,
        completion=kept.pair.completion,
        level=kept.level.value,
        type=kept.type,
        item_id=kept.item_id,
        source=source,
        **_who(kept.reviews, redact),
    )


def _dpo_row(chosen: _Pair, rejected: _Pair, source: Source, redact: bool) -> DpoRow:
    """The DPO row of a chosen pair over a rejected one, under the chosen pair's prompt."""
    deciding = rejected.reviews if source == "rejected" else chosen.reviews
    return DpoRow(
        prompt=chosen.pair.prompt,
        chosen=chosen.pair.completion,
        rejected=rejected.pair.completion,
        level=chosen.level.value,
        type=chosen.type,
        item_id=chosen.item_id,
        rejected_item_id=rejected.item_id,
        source=source,
        reason=_reasons(deciding),
        **_who(deciding, redact),
    )


def _same_slot(edited: _Pair, originals: list[_Pair], index: int) -> _Pair | None:
    """The original pair an edited pair replaces: a matching word's own pair, else the one at the same place."""
    if edited.pair.prompt_name == "definition":
        return next((o for o in originals if o.pair.word == edited.pair.word), None)
    return originals[index] if index < len(originals) else None


def _add_kept(rows: _Rows, judged: _Judged, pairer: _Pairer) -> None:
    """SFT rows of an accepted or modified item, and a DPO row for every edited pair that differs from its original.

    Every version is turned into pairs before any row is added, so an unreadable edit leaves no partial rows.
    """
    if judged.outcome == "accepted":
        accepted = pairer.pairs(judged.original, judged.item_id, judged.reviews)
        rows.sft += [(kept, _sft_row(kept, "accepted", pairer.redact)) for kept in accepted]
        return
    originals = pairer.pairs(judged.original, judged.item_id, judged.by("modify"))
    versions = [pairer.pairs(r.edited, judged.item_id, [r]) for r in judged.by("modify")]
    seen: set[tuple[str, str]] = set()
    for edited_pairs in versions:
        for index, edited in enumerate(edited_pairs):
            if (edited.pair.prompt, edited.pair.completion) not in seen:
                seen.add((edited.pair.prompt, edited.pair.completion))
                rows.sft.append((edited, _sft_row(edited, "modified", pairer.redact)))
            original = _same_slot(edited, originals, index)
            if original is not None and original.pair.completion != edited.pair.completion:
                rows.dpo.append((edited, _dpo_row(edited, original, "modified", pairer.redact)))


def _partner(rejected: _Pair, kept: list[_Pair]) -> _Pair | None:
    """The kept pair a rejected pair is set against (same type, level and target word; same topic first)."""
    fits = [
        k
        for k in kept
        if k.type == rejected.type
        and k.level == rejected.level
        and (rejected.pair.target is None or k.pair.target == rejected.pair.target)
    ]
    same_topic = [k for k in fits if k.topic.strip().lower() == rejected.topic.strip().lower()]
    return next(iter(same_topic or fits), None)


def _pair_rejected(rows: _Rows, redact: bool) -> None:
    """A DPO row for every rejected pair that has a kept partner; the others are counted as unpaired."""
    kept = [pair for pair, _ in rows.sft]
    for rejected in rows.rejected:
        chosen = _partner(rejected, kept)
        if chosen is None:
            rows.counts.unpaired += 1
        elif chosen.pair.completion != rejected.pair.completion:
            rows.dpo.append((chosen, _dpo_row(chosen, rejected, "rejected", redact)))


def _collect(reviews: Sequence[Review], *, redact: bool = True, pairer: _Pairer | None = None) -> _Rows:
    """Every SFT and DPO row the reviews give, with the counts (see the module docstring for the rules)."""
    pairer = pairer or _Pairer(redact=redact)
    rows = _Rows(counts=ReviewCounts(reviews=len(reviews), latest=len(latest(list(reviews)))))
    for judged in _judge(reviews):
        rows.counts.items += 1
        setattr(rows.counts, judged.outcome, getattr(rows.counts, judged.outcome) + 1)
        if judged.outcome == "disputed":
            continue
        try:
            if judged.outcome == "rejected":
                rows.rejected += pairer.pairs(judged.original, judged.item_id, judged.reviews)
            else:
                _add_kept(rows, judged, pairer)
        except ValueError:
            rows.counts.unreadable += 1
    _pair_rejected(rows, redact)
    return rows


# --- files and cards --------------------------------------------------------------------------------------------


def _by_level(rows: Sequence[tuple[_Pair, BaseModel]]) -> dict[Level, list[tuple[_Pair, BaseModel]]]:
    """Rows grouped by level, levels in CEFR order, rows in the order they were made."""
    grouped: dict[Level, list[tuple[_Pair, BaseModel]]] = {}
    for pair, row in sorted(rows, key=lambda r: r[0].level.rank):
        grouped.setdefault(pair.level, []).append((pair, row))
    return grouped


def _counts(grouped: Mapping[Level, Sequence[tuple[_Pair, BaseModel]]]) -> dict[str, dict[str, int]]:
    """Rows per level and exercise type."""
    table: dict[str, dict[str, int]] = {}
    for level, rows in grouped.items():
        kinds = table.setdefault(level.value, {})
        for pair, _ in rows:
            kinds[pair.type] = kinds.get(pair.type, 0) + 1
    return table


def _write_level_files(
    directory: Path, grouped: Mapping[Level, Sequence[tuple[_Pair, BaseModel]]], redact: bool
) -> list[Path]:
    """`<LEVEL>.jsonl` for each level present; files of levels no longer present are removed, so the card holds."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    hidden = {"reviewer", "note"} if redact else set()
    for level in Level:
        path = directory / f"{level.value}.jsonl"
        if level not in grouped:
            path.unlink(missing_ok=True)
            continue
        lines = [row.model_dump_json(exclude=hidden) for _, row in grouped[level]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


def export_training(reviews: Sequence[Review], sft_dir: Path, dpo_dir: Path, *, redact: bool = True) -> TrainingExport:
    """Write SFT and DPO rows per level (`<dir>/<LEVEL>.jsonl`) and a dataset card (`<dir>/README.md`) in each dir."""
    if Path(sft_dir).resolve() == Path(dpo_dir).resolve():
        raise UserInputError("The SFT and DPO directories must differ; give two directories (each gets a README.md).")
    rows = _collect(reviews, redact=redact)
    sft, dpo = _by_level(rows.sft), _by_level(rows.dpo)
    files = _write_level_files(Path(sft_dir), sft, redact) + _write_level_files(Path(dpo_dir), dpo, redact)
    export = TrainingExport(
        sft_dir=Path(sft_dir),
        dpo_dir=Path(dpo_dir),
        sft=_counts(sft),
        dpo=_counts(dpo),
        reviews=rows.counts,
        files=files,
    )
    sets: tuple[tuple[CardKind, Path], ...] = (("sft", export.sft_dir), ("dpo", export.dpo_dir))
    for kind, directory in sets:
        card = directory / "README.md"
        card.write_text(dataset_card(kind, export, redact=redact), encoding="utf-8")
        export.files.append(card)
    return export


_TITLES = {"sft": "teacher-kept items (SFT)", "dpo": "teacher preferences (DPO)"}
_COLUMNS = {
    "sft": "- `prompt`, `completion`: TRL's standard prompt-completion columns (plain strings).\n"
    "- `level`, `type`, `item_id`, `source` (`accepted` | `modified`): where the row comes from.",
    "dpo": "- `prompt`, `chosen`, `rejected`: TRL's standard preference columns with an explicit prompt.\n"
    "- `level`, `type`, `item_id` (the chosen text's item), `rejected_item_id`, `source` (`modified`: the edit over\n"
    "  the original; `rejected`: a kept item over a rejected one), `reason` (the rubric reasons given).",
}


def _front_matter(kind: CardKind, counts: Mapping[str, Mapping[str, int]]) -> str:
    """The card's YAML metadata: licence, task, language, size and one config per level."""
    total = sum(sum(kinds.values()) for kinds in counts.values())
    meta = {
        "license": "other",
        "license_name": "apache-2.0-and-wordnet-3.0",
        "task_categories": ["text-generation"],
        "language": ["en"],
        "tags": ["trl", kind, "cefr", "language-learning", "exercise-generation"],
        "pretty_name": f"Pedagogical Forge {_TITLES[kind]}",
        "size_categories": ["n<1K" if total < 1000 else "1K<n<10K" if total < 10000 else "10K<n<100K"],
        "configs": [
            {"config_name": level, "data_files": [{"split": "train", "path": f"{level}.jsonl"}]} for level in counts
        ],
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _count_table(counts: Mapping[str, Mapping[str, int]]) -> str:
    """Rows per level and type as a Markdown table, with the total."""
    lines = ["| level | type | rows |", "|---|---|---|"]
    lines += [f"| {level} | {kind} | {n} |" for level, kinds in counts.items() for kind, n in sorted(kinds.items())]
    total = sum(sum(kinds.values()) for kinds in counts.values())
    return "\n".join([*lines, f"| all | all | {total} |"])


def _review_table(counts: ReviewCounts) -> str:
    """The review counts as a Markdown table."""
    meaning = {
        "reviews": "reviews given",
        "latest": "latest decision of each reviewer per item",
        "items": "items reviewed",
        "accepted": "items kept as reviewed",
        "modified": "items kept with a teacher's edit",
        "rejected": "items every reviewer rejected",
        "disputed": "items one reviewer kept and another rejected (no rows)",
        "unreadable": "items (or edits) that are no readable item (no rows)",
        "unpaired": "pairs of rejected items with no kept pair of the same slot (no DPO row)",
    }
    lines = ["| count | what | n |", "|---|---|---|"]
    return "\n".join([*lines, *(f"| {k} | {v} | {getattr(counts, k)} |" for k, v in meaning.items())])


def _prompt_sources() -> str:
    """Where the prompts come from: the prompt files with their versions, the exemplars, the fixed rotation."""
    files = ", ".join(f"`prompts/{name}.yaml` (version {load_prompt(name).version})" for name in TRAINING_PROMPTS)
    text = (
        f"Each prompt is the completion form of {files}, rendered by `agents/item/training.py` the way the local "
        "writer (`CompletionWriter` in `agents/item/writers.py`) renders it: exemplar sentences, texts or meanings at "
        f"the item's level from `knowledge/data/exemplars.yaml` ({SENTENCE_EXAMPLES} sentences, same part of speech "
        f"first, rotation offset fixed at {OFFSET}, as the writer sends them for seed 0), then the item's word or "
        "topic. Items do not store their prompt, so it is rendered again. Open gap, error correction and reorder "
        "items do not record the word their sentence was written for; their 'Word:' line names the sentence's "
        "content word listed (CEFR-J / Octanove lists) nearest the item's level from below, the earliest among "
        "equals. Reading rows use the reading_text prompt (title and text); the current reading builder plans most "
        "of its text in code, so these rows train the writer's `text` call. Matching items give one "
        "definition-prompt row per word, with the part of speech the instructions name or the word's listed one; "
        "items matched with opposites or words of the same meaning give none."
    )
    return textwrap.fill(text, width=116, break_long_words=False, break_on_hyphens=False)


_RULES = """\
- Only each reviewer's latest decision about an item counts (`knowledge.reviews.latest`).
- Disagreement: an item one teacher rejected and another accepted or modified is left out of both files.
- Accepted (every decision an acceptance): the item as reviewed is an SFT row. Modified (at least one
  modification, no rejection): each distinct edited version is an SFT row; the original is not.
- DPO pairing: every modification gives one row, the edited text chosen over the original under the edited
  item's prompt (matching: per word whose meaning changed). Every pair of a rejected item is set against one kept
  pair of the same exercise type and level, and of the same target word when the rejected pair has one
  (gap_fill's target word, word_formation's answer, a matching word); among those, one on the same topic first,
  then the earliest reviewed. The row uses the kept pair's prompt. A rejected pair without a partner gives no row."""

_REDACTION = """\
By default (`redact=True`) rows carry no `note` or `reviewer` column, and before any prompt or completion is made
every string of the item (keys of matching answers included; not `type` or `level`) has e-mail addresses, phone
numbers (a run of 7 or more digits with spaces, dots, dashes, slashes or brackets) and the name given in the
item's `learner` field (the full name and each part of it, any case) replaced by `[redacted]`. The exemplars in
the prompts are not changed. This is a simple pattern filter, not a guarantee: other names are not found."""

_TRL = """\
The rows use TRL's *standard* format (plain strings), not the *conversational* one (lists of role/content
messages), because the local writer is a completion model: it continues plain few-shot text with no chat template.
Load a level as TRL users do: `datasets.load_dataset("json", data_files="{level}.jsonl", split="train")` (or by
config name: `load_dataset("<this dir>", "A1")`). Extra columns: TRL's dataset-format docs list only the columns
each type needs and do not say what happens to others; the trainers' code (TRL 1.10.0.dev0,
`_set_signature_columns_if_needed` of `SFTTrainer` and `DPOTrainer`) keeps only the token columns it builds, and
with `remove_unused_columns=True` (the default) the metadata columns are dropped before batching, so they are
ignored. Completions start with the space the model writes
after "Sentence:", "Title:" or "Meaning:"; TRL appends the EOS token to standard completions (and to chosen and
rejected), and the writer stops at a newline or EOS."""

_LICENCE = """\
`license: other` because the rows mix sources. Prompts: the prompt files and exemplars are written for Pedagogical
Forge (Apache-2.0). Completions: sentences and texts written by the local model (SmolLM2-135M-Instruct, Apache-2.0)
or taken from WordNet 3.0 example sentences, meanings taken from WordNet 3.0 glosses, reading texts partly built
from code frames, all as kept or edited by teachers. WordNet 3.0 is (c) 2006 Princeton University under the
WordNet 3.0 licence (permissive; keep the notice: `knowledge/data/WORDNET-LICENSE.txt`). The CEFR-J and Octanove
lists (Octanove: CC BY-SA 4.0) were used to check levels and choose words but no list data is in the rows.
Teachers' edits are their work: share the data only as your agreement with them allows. Citations:
`knowledge/data/LICENSES.md`."""


def dataset_card(kind: CardKind, export: TrainingExport, *, redact: bool = True) -> str:
    """The README.md of one file set: Hugging Face YAML front matter, then counts, sources, rules and licences."""
    counts = export.sft if kind == "sft" else export.dpo
    columns = _COLUMNS[kind] + ("" if redact else "\n- `reviewer`, `note`: the deciding reviews (not redacted).")
    redaction = _REDACTION if redact else "This export was made with `redact=False`: nothing is redacted."
    sections = [
        f"# Pedagogical Forge: {_TITLES[kind]}",
        "Training data made from CEFR English exercise items that teachers accepted, modified or rejected, in the\n"
        f"format TRL's {'SFTTrainer' if kind == 'sft' else 'DPOTrainer'} reads. One file per CEFR level.",
        f"## Rows\n\n{_count_table(counts)}",
        f"## Columns\n\n{columns}",
        f"## Reviews\n\n{_review_table(export.reviews)}",
        f"## Where the prompts come from\n\n{_prompt_sources()}",
        f"## From decisions to rows\n\n{_RULES}",
        f"## Redaction\n\n{redaction}",
        f"## Using with TRL\n\n{_TRL}",
        f"## Licence notes\n\n{_LICENCE}",
    ]
    return _front_matter(kind, counts) + "\n" + "\n\n".join(sections) + "\n"
