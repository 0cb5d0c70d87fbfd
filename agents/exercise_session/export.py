"""Exporting an exercise set: a JSON document for programs and a Markdown worksheet with an answer key for people.

`render_item` and `answer_line` give the plain-text form of one item of any type; the worksheet and the CLI's
view of a set are both built from them. `write_export` writes both files (to the given path, relative paths
under the export directory the application passes in) and returns where they went.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agents.exercise_session.sets import ExerciseSet, SessionItem
from knowledge.errors import UserInputError
from knowledge.items import TYPE_DESCRIPTIONS

SUFFIXES = {".json": "json", ".md": "md", ".markdown": "md", ".txt": "md"}


class ExportRecord(BaseModel):
    """Where an export was written."""

    json_path: str
    markdown_path: str
    version: int
    items: int


def render_item(item: SessionItem) -> list[str]:
    """The lines a learner sees for one item (instructions first)."""
    f = item.fields
    lines = [str(f.get("instructions", TYPE_DESCRIPTIONS.get(item.type, "")))]
    if item.type == "matching":
        lines += [f"{i}. {w}" for i, w in enumerate(f.get("words") or [], 1)]
        meanings = zip(string.ascii_lowercase, f.get("options") or [], strict=False)
        lines += [f"   {letter}) {m}" for letter, m in meanings]
        return lines
    if item.type == "reading":
        lines += [f"**{f.get('title', '')}**", "", str(f.get("text", "")), ""]
        for n, q in enumerate(f.get("questions") or [], 1):
            lines.append(f"{n}. {q.get('question', '')}  " + _options(q.get("options") or []))
        return lines
    stem = str(f.get("stem", ""))
    if item.type == "word_formation":
        stem = f"{stem} ({str(f.get('base_word', '')).upper()})"
    lines.append(stem)
    if item.type == "gap_fill":
        lines.append(_options(f.get("options") or []))
    return lines


def answer_line(item: SessionItem) -> str:
    """The answer key entry of one item."""
    f = item.fields
    if item.type == "matching":
        letters = {m: letter for letter, m in zip(string.ascii_lowercase, f.get("options") or [], strict=False)}
        answer = f.get("answer") or {}
        return "; ".join(f"{i}-{letters.get(answer.get(w), '?')}" for i, w in enumerate(f.get("words") or [], 1))
    if item.type == "reading":
        return "; ".join(f"{n}. {a}" for n, a in enumerate(f.get("answer") or [], 1))
    if item.type == "error_correction":
        return f"{f.get('error', '')} → {f.get('correction', '')} ({f.get('answer', '')})"
    accepted = [a for a in f.get("accepted_answers") or [] if a != f.get("answer")]
    return str(f.get("answer", "")) + (f" (also: {', '.join(accepted)})" if accepted else "")


def worksheet(current: ExerciseSet, *, title: str, version: int) -> str:
    """The set as a Markdown worksheet, items numbered, answer key at the end."""
    lines = [f"# {title}", "", f"Level {current.level} · topic: {current.topic} · version {version}", ""]
    for n, item in enumerate(current.items, 1):
        first, *rest = render_item(item)
        lines += [f"## {n}. {first}", "", *rest, ""]
    lines += ["---", "", "## Answer key", ""]
    lines += [f"{n}. {answer_line(item)}" for n, item in enumerate(current.items, 1)]
    return "\n".join(lines) + "\n"


def document(current: ExerciseSet, *, session_id: str, version: int) -> dict[str, Any]:
    """The set as one JSON document."""
    return {
        "session": session_id,
        "version": version,
        "level": current.level.value,
        "topic": current.topic,
        "items": [item.model_dump(mode="json") for item in current.items],
    }


def write_export(
    current: ExerciseSet, *, session_id: str, version: int, export_dir: Path, path: str | None = None
) -> ExportRecord:
    """Write the JSON document and the worksheet; a given path names one of them, the other goes beside it."""
    json_path, md_path = _targets(export_dir, session_id, version, path)
    try:
        md_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(document(current, session_id=session_id, version=version), indent=2,
                                        ensure_ascii=False) + "\n", encoding="utf-8")
        md_path.write_text(worksheet(current, title=f"Exercises ({session_id})", version=version), encoding="utf-8")
    except OSError as exc:
        where = md_path.parent
        raise UserInputError(f"Cannot write the export to {where} ({exc.strerror}); give a writable path.") from exc
    return ExportRecord(json_path=str(json_path), markdown_path=str(md_path), version=version, items=len(current.items))


def _targets(export_dir: Path, session_id: str, version: int, path: str | None) -> tuple[Path, Path]:
    """The two file paths of an export."""
    if not path:
        base = export_dir / f"{session_id}-v{version}"
        return base.with_suffix(".json"), base.with_suffix(".md")
    target = Path(path).expanduser()
    target = target if target.is_absolute() else export_dir / target
    kind = SUFFIXES.get(target.suffix.lower())
    if kind is None:
        raise UserInputError(f"Cannot export to {path!r}; give a file name ending in .json, .md or .txt.")
    other = target.with_suffix(".md" if kind == "json" else ".json")
    return (target, other) if kind == "json" else (other, target)


def _options(options: list[str]) -> str:
    """Options as 'a) x   b) y ...'."""
    return "   ".join(f"{letter}) {o}" for letter, o in zip(string.ascii_lowercase, options, strict=False))
