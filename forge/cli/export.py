"""`forge export SET --format F`: write an exercise session's set as a classroom file (Moodle, GIFT, QTI, Anki, PDF …).

forge export travel-demo --format pdf                   # <data dir>/exports/travel-demo-v3.pdf
forge export 3f9c --format moodle --out ~/moodle/travel.xml
forge export travel-demo --format anki --version 2 --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forge.cli.common import console, print_json, services
from knowledge.errors import UserInputError

#: `agents.exercise_session.formats.FORMATS` (a test keeps them equal), for the help text without importing it.
FORMAT_NAMES = ("moodle", "gift", "qti", "anki", "pdf", "docx", "markdown", "json")


def export_cmd(
    cli: typer.Context,
    session: Annotated[str, typer.Argument(help="The exercise session: its id, a unique prefix of it, or its name.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMAT_NAMES)}.")],
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="File to write (default: <data dir>/exports/SESSION-vN.EXT).")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", min=0, help="Export this version of the set (default: the current one).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: format, path, items, version, session.")
    ] = False,
) -> None:
    """Export a session's exercise set as a Moodle, GIFT, QTI, Anki, PDF, Word, Markdown or JSON file."""
    from agents.exercise_session.export import write_export
    from agents.exercise_session.formats import get_format
    from forge.sessions.exercises import EXPORT_DIR, ExerciseSessions

    spec = get_format(fmt)  # an unknown format is refused before any session is opened
    svc = services(cli)
    info, current, chosen = ExerciseSessions(svc).show(session, version)
    number = version if version is not None else current
    if not chosen.items:
        raise UserInputError(f"Version {number} of session {info.id} has no items; there is nothing to export.")
    target = str(Path(out).expanduser().absolute()) if out else None  # --out is relative to where forge runs
    record = write_export(chosen, session_id=info.id, version=number, export_dir=svc.data_dir / EXPORT_DIR,
                          path=target, fmt=spec.name)
    if as_json:
        print_json({"format": spec.name, "path": record.path, "items": record.items, "version": number,
                    "session": info.id})
        return
    console.print(f"Wrote {spec.description} ({record.items} items, version {number}) to {record.path}",
                  highlight=False, markup=False, soft_wrap=True)
