"""Exporting an exercise set: a JSON document and a Markdown worksheet, or one file in a classroom format.

By default a JSON document for programs and a Markdown worksheet for people; with a format, one file in any of
`agents.exercise_session.formats` (Moodle XML, GIFT, QTI, Anki, PDF, Word, Markdown, JSON).

`write_export` writes the file(s) (to the given path; relative paths go under the export directory the
application passes in) and returns where they went. Files are written to a temporary file beside the target and
renamed into place, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, Field

from agents.exercise_session.formats import FORMATS, ExportFormat, get_format
from agents.exercise_session.formats.sheet import ExportSheet
from agents.exercise_session.sets import ExerciseSet
from knowledge.errors import UserInputError

#: Endings a path of the default export may have: it names one file of the pair, the other goes beside it.
SUFFIXES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".txt": "markdown"}


class ExportRecord(BaseModel):
    """Where an export was written."""

    format: str | None = Field(default=None, description="The format asked for; None: the JSON + Markdown pair.")
    path: str = Field(description="The file written (the Markdown worksheet, for the default pair).")
    paths: list[str] = Field(description="Every file written.")
    json_path: str | None = Field(default=None, description="The JSON document, when one was written.")
    markdown_path: str | None = Field(default=None, description="The Markdown worksheet, when one was written.")
    version: int
    items: int


def write_export(
    current: ExerciseSet, *, session_id: str, version: int, export_dir: Path, path: str | None = None,
    fmt: str | None = None,
) -> ExportRecord:  # fmt: skip
    """Write the set in one format (`fmt`), or as the JSON document and Markdown worksheet when no format is given.

    A given path must end as the format's files do, or have no ending (it is then added). UserInputError, with
    nothing written, for an unknown format, a path of another format, or a place that cannot be written.
    """
    sheet = ExportSheet.of(current, session_id=session_id, version=version)
    if fmt is None:
        targets = _pair_targets(export_dir, session_id, version, path)
    else:
        spec = get_format(fmt)
        targets = {spec.name: _target(export_dir, session_id, version, path, spec)}
    _write_all({target: FORMATS[name].render(sheet) for name, target in targets.items()})
    written = {name: str(target) for name, target in targets.items()}
    chosen = None if fmt is None else next(iter(written))
    return ExportRecord(format=chosen, path=written[chosen or "markdown"], paths=list(written.values()),
                        json_path=written.get("json"), markdown_path=written.get("markdown"), version=version,
                        items=len(current.items))


def _resolve(export_dir: Path, path: str) -> Path:
    """A user's path: absolute as given, relative under the export directory."""
    target = Path(path).expanduser()
    return target if target.is_absolute() else export_dir / target


def _target(export_dir: Path, session_id: str, version: int, path: str | None, spec: ExportFormat) -> Path:
    """The file one format is written to: the given path (its ending added if it has none) or the default name."""
    if not path:
        return export_dir / f"{session_id}-v{version}{spec.suffix}"
    target = _resolve(export_dir, path)
    if not target.suffix:
        return target.with_name(target.name + spec.suffix)
    if target.suffix.lower() not in spec.suffixes:
        endings = " or ".join(spec.suffixes)
        raise UserInputError(
            f"Cannot export {spec.name} to {path!r}; a {spec.name} file ends in {endings} (or give no ending)."
        )
    return target


def _pair_targets(export_dir: Path, session_id: str, version: int, path: str | None) -> dict[str, Path]:
    """The JSON and Markdown files of the default export."""
    if not path:
        base = export_dir / f"{session_id}-v{version}"
        return {"json": base.with_suffix(".json"), "markdown": base.with_suffix(".md")}
    target = _resolve(export_dir, path)
    kind = SUFFIXES.get(target.suffix.lower())
    if kind is None:
        raise UserInputError(
            f"Cannot export to {path!r}; give a file name ending in .json, .md or .txt, or name a format "
            f"({', '.join(FORMATS)})."
        )
    other = target.with_suffix(".md" if kind == "json" else ".json")
    return {kind: target, "markdown" if kind == "json" else "json": other}


def _write_all(files: dict[Path, bytes]) -> None:
    """Write every file through a temporary file beside it, renaming only once all were written."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in files.items():
            staged.append((_staged(target, data), target))
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as exc:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                temporary.unlink()
        where = next(iter(files)).parent
        raise UserInputError(f"Cannot write the export to {where} ({exc.strerror}); give a writable path.") from exc


def _staged(target: Path, data: bytes) -> Path:
    """The data in a new temporary file in the target's directory (created if needed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        # mkstemp's 0600 stays: an export holds a class's material and lives beside learners' data; the teacher
        # shares it by sending it, not by leaving it readable to every account on a shared school machine
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
    except OSError:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
