"""`forge review`: a teacher accepts, rejects or modifies an item; lists, shows and counts the reviews.

forge review 3f9c2a1b:2 --accept                 # item 2 of exercise session 3f9c2a1b's current set
forge review 3f9c2a1b@1:3 --reject --reason ambiguous_key --note "'toast' fits too"
forge review 5e0d… --edit fixed.json             # a generated item (its run id), modified
forge review list | show REVIEW | stats | reasons | calibrate | export --sft DIR --dpo DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from typer.core import TyperGroup

from forge.cli.common import console, print_json, services
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from typer._click import Context

    from forge.reviews.service import ReviewStats
    from knowledge.reviews import Review

#: Largest edited-item file read.
MAX_EDIT_BYTES = 200_000


class _ReviewGroup(TyperGroup):
    """`forge review REF …` reviews an item; a first word that is a sub-command (list, stats …) runs that."""

    def resolve_command(self, ctx: Context, args: list[str]) -> Any:
        """Send anything that is not a sub-command's name to the hidden `item` command."""
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["item", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_ReviewGroup, no_args_is_help=True,
    help="Accept, reject or modify an item (forge review REF --accept|--reject --reason R|--edit FILE); "
    "list, show and count the reviews; calibrate the accept decision; export training data.",
)


@app.command("item", hidden=True)
def review_item(
    cli: typer.Context,
    ref: Annotated[str, typer.Argument(help="SESSION:N, SESSION@V:N, or a generated item's run id.")],
    accept: Annotated[bool, typer.Option("--accept", help="Usable as is.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Not usable (give --reason).")] = False,
    edit: Annotated[str | None, typer.Option("--edit", help="A JSON file with the edited item (- for stdin).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (see `forge review reasons`).")] = None,
    note: Annotated[str, typer.Option("--note", help="Your own words.")] = "",
    reviewer: Annotated[str | None, typer.Option("--reviewer", help="Who reviews (default: FORGE_REVIEWER or login).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored review as JSON.")] = False,
) -> None:
    """Record one decision about one item."""
    from forge.reviews.service import Reviewing

    decision = _decision(accept, reject, edit)
    edited = _read_edit(edit) if edit is not None else None
    reviewing = Reviewing(services(cli))
    target = reviewing.target(ref)
    review = reviewing.review(target, decision, reason=reason, note=note, reviewer=reviewer, edited=edited)
    if as_json:
        print_json(review)
        return
    console.print(_summary(review), highlight=False)
    for line in _edit_lines(review):
        console.print(line, highlight=False)


@app.command("list")
def list_cmd(
    cli: typer.Context,
    session: Annotated[str | None, typer.Option("--session", help="Only items of this exercise session.")] = None,
    reviewer: Annotated[str | None, typer.Option("--reviewer", help="Only this reviewer's.")] = None,
    decision: Annotated[str | None, typer.Option("--decision", help="accept, reject or modify.")] = None,
    kind: Annotated[str | None, typer.Option("--type", help="Only items of this exercise type.")] = None,
    level: Annotated[str | None, typer.Option("--level", help="Only items of this level.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The newest N.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every review (history included), oldest first."""
    found = _reviews(cli, session=session, reviewer=reviewer, decision=decision, kind=kind, level=level, limit=limit)
    if as_json:
        print_json({"reviews": found})
        return
    if not found:
        console.print("No reviews yet. Review an item with: forge review SESSION:N --accept")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("review", "item", "verdict", "reason", "type", "by"):
        table.add_column(column, no_wrap=True, overflow="ellipsis")
    for r in found:
        table.add_row(r.id[:8], _where(r), r.decision, r.reason or "", f"{r.level} {r.type}", r.reviewer[:8])
    console.print(table)


@app.command("show")
def show(
    cli: typer.Context,
    ident: Annotated[str, typer.Argument(help="A review id (or prefix), or an item reference (SESSION:N, run id).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One review with the item as reviewed (and as edited), or an item with all its reviews."""
    from forge.reviews.service import Reviewing

    reviewing = Reviewing(services(cli))
    reviews = _reviews_of(reviewing, ident)
    if as_json:
        print_json({"reviews": reviews})
        return
    from knowledge.render import key_line, learner_lines

    for r in reviews:
        console.print(_summary(r), highlight=False)
        console.print(f"  note: {r.note}" if r.note else "", highlight=False, end="\n" if r.note else "")
        shown = r.edited if r.edited is not None else r.item
        item = _typed(shown)
        if item is not None:
            for line in learner_lines(item):
                console.print("  " + line, highlight=False)
            console.print("  key: " + key_line(item), highlight=False)
        for line in _edit_lines(r):
            console.print(line, highlight=False)


@app.command("stats")
def stats_cmd(
    cli: typer.Context,
    session: Annotated[str | None, typer.Option("--session", help="Only items of this exercise session.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Accepted, rejected and modified items (each reviewer's latest decision), by reason, type and level."""
    from forge.reviews.service import stats

    figures = stats(_reviews(cli, session=session))
    if as_json:
        print_json(figures)
        return
    _print_stats(figures)


@app.command("reasons")
def reasons_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The reasons a rejection (or a modification) may give."""
    from knowledge.reviews import REASONS

    if as_json:
        print_json({"reasons": REASONS})
        return
    for key, text in REASONS.items():
        console.print(f"{key:<16} {text}", highlight=False)


def _decision(accept: bool, reject: bool, edit: str | None) -> Any:
    """The one decision the flags give; none or several is an error."""
    chosen = [d for d, on in (("accept", accept), ("reject", reject), ("modify", edit is not None)) if on]
    if len(chosen) != 1:
        raise UserInputError("Give exactly one of --accept, --reject --reason R, or --edit FILE.")
    return chosen[0]


def _read_edit(source: str) -> dict[str, Any]:
    """The edited item from a JSON file (or stdin): one object, the item's fields or {"item": {...}}."""
    if source == "-":
        text = sys.stdin.read(MAX_EDIT_BYTES + 1)
    else:
        path = Path(source)
        if not path.is_file():
            raise UserInputError(f"No file '{source}'; give a JSON file holding the edited item.")
        text = path.read_text(encoding="utf-8", errors="replace")
    if len(text) > MAX_EDIT_BYTES:
        raise UserInputError(f"The edit is longer than {MAX_EDIT_BYTES:,} characters; give one item.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"The edit is not JSON ({exc.msg} at line {exc.lineno}); give one item object.") from exc
    if not isinstance(value, dict):
        raise UserInputError("The edit must be one JSON object: the item's fields, as `forge review show` prints.")
    return value


def _reviews(cli: typer.Context, *, session: str | None = None, reviewer: str | None = None,
             decision: str | None = None, kind: str | None = None, level: str | None = None,
             limit: int | None = None) -> list[Review]:
    """Stored reviews matching the options (a session given by prefix is resolved first)."""
    from forge.reviews.store import ReviewFilter, ReviewStore

    svc = services(cli)
    session_id = svc.sessions.get(session, kind="exercises").id if session else None
    flt = ReviewFilter(session_id=session_id, reviewer=reviewer, decision=decision, type=kind,
                       level=level.upper() if level else None, limit=limit)
    return ReviewStore(svc.sessions).find(flt)


def _reviews_of(reviewing: Any, ident: str) -> list[Review]:
    """The review an id names, or every review of the item a reference names."""
    from forge.reviews.store import ReviewFilter

    if ":" not in ident:
        try:
            return [reviewing.store.get(ident)]
        except UserInputError:
            pass
    target = reviewing.target(ident)
    found: list[Review] = reviewing.store.find(ReviewFilter(item_id=target.item_id))
    if not found:
        raise UserInputError(f"Item {ident} has no reviews yet; review it with: forge review {ident} --accept")
    return found


def _typed(record: dict[str, Any]) -> Any:
    """The record as a typed item, or None when it cannot be read as one."""
    from pydantic import ValidationError

    from knowledge.items import item_from_record

    try:
        return item_from_record(record)
    except (ValueError, ValidationError):
        return None


def _where(review: Review) -> str:
    """The item's reference, as a teacher typed it."""
    if review.source == "set":
        return f"{(review.session_id or '')[:8]}@{review.set_version}:{review.number}"
    return (review.run_id or review.item_id)[:12]


def _summary(review: Review) -> str:
    """One line: what was decided about which item, by whom."""
    verb = {"accept": "Accepted", "reject": "Rejected", "modify": "Modified"}[review.decision]
    why = f" ({review.reason})" if review.reason else ""
    return (f"{verb}{why} {_where(review)} · {review.type} {review.level} '{review.topic}' · by {review.reviewer} · "
            f"review {review.id[:8]}")


def _edit_lines(review: Review) -> list[str]:
    """What the accept decision found in a teacher's edit (nothing for other decisions)."""
    check = review.edit_check
    if not check:
        return []
    if check.get("accepted"):
        return ["  The edited item passes the checks."]
    return ["  The checks still find (stored with the review):"] + [
        f"  - {p.get('kind')}: {p.get('detail')}" for p in check.get("problems", [])
    ]


def _print_stats(figures: ReviewStats) -> None:
    """Stats as a few lines and two small tables."""
    d = figures.decisions
    console.print(f"{figures.items} items reviewed ({figures.reviews} reviews by {len(figures.reviewers)} "
                  f"reviewer(s)); latest decisions: accepted {d['accept']} · rejected {d['reject']} · "
                  f"modified {d['modify']}",
                  highlight=False)
    if figures.reasons:
        console.print("reasons: " + ", ".join(f"{k} {n}" for k, n in figures.reasons.items()), highlight=False)
    for title, rows in (("type", figures.by_type), ("level", figures.by_level)):
        if rows:
            table = Table(title, "accept", "reject", "modify", box=box.SIMPLE_HEAD, pad_edge=False)
            for key, counts in rows.items():
                table.add_row(key, *(str(counts.get(k, 0)) for k in ("accept", "reject", "modify")))
            console.print(table)


@app.command("calibrate")
def calibrate_cmd(
    cli: typer.Context,
    labels: Annotated[Path | None, typer.Option("--labels", help="Also a reviewed-items file (JSON Lines).")] = None,
    stored: Annotated[bool, typer.Option("--stored/--no-stored", help="Use the stored reviews.")] = True,
    apply: Annotated[bool, typer.Option("--apply", help="Save the fit: later runs accept with it.")] = False,
    reset: Annotated[bool, typer.Option("--reset", help="Remove a saved fit (back to the measured defaults).")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit the accept decision's thresholds to the reviews; print precision and recall before and after."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from forge.cli.common import err_console
    from forge.reviews import calibrate
    from forge.reviews.labels import teacher_labels
    from forge.reviews.store import ReviewStore

    svc = services(cli)
    if reset:
        _reset(svc.data_dir / calibrate.FILE_NAME, as_json)
        return
    found, source = teacher_labels(ReviewStore(svc.sessions), labels, stored or None)
    ctx = svc.agent_context
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("Judging reviewed items", total=calibrate.passes(found))
        fitted = calibrate.calibrate(ctx, found, source, progress=lambda n: progress.advance(task, n))
    saved = calibrate.save(fitted, svc.data_dir) if apply else None
    if as_json:
        print_json({"calibration": fitted, "saved": str(saved) if saved else None})
        return
    _print_calibration(fitted, saved)


def _reset(path: Path, as_json: bool) -> None:
    """Remove the saved calibration, if any."""
    existed = path.is_file()
    path.unlink(missing_ok=True)
    if as_json:
        print_json({"removed": str(path) if existed else None})
        return
    console.print(f"Removed {path}." if existed else "No calibration was saved; the measured defaults are in use.")


def _print_calibration(fitted: Any, saved: Path | None) -> None:
    """Before and after, and the thresholds that moved."""
    table = Table("", "accepted", "acc∧usable", "precision", "recall", "F0.5", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, fit in (("before", fitted.before), ("after", fitted.after)):
        table.add_row(name, str(fit.accepted), str(fit.accepted_usable), _share(fit.precision), _share(fit.recall),
                      f"{fit.f_half:.2f}")
    console.print(f"{fitted.items} reviewed items ({fitted.usable} usable) from {fitted.source}", highlight=False)
    console.print(table)
    for name, (old, new) in fitted.changed.items():
        console.print(f"  {name}: {old:g} → {new:g}", highlight=False)
    if not fitted.changed:
        console.print("  No threshold moved: the measured defaults fit these reviews best.")
    if saved:
        console.print(f"Saved to {saved}; later runs accept with it (undo: forge review calibrate --reset).")
    elif fitted.changed:
        console.print("Not saved; run again with --apply to use it.")


def _share(value: float | None) -> str:
    """A share as 0.00, or a dash when undefined."""
    return "—" if value is None else f"{value:.2f}"


@app.command("export")
def export_cmd(
    cli: typer.Context,
    sft: Annotated[Path | None, typer.Option("--sft", help="Directory for SFT rows (one JSON Lines file per level).")]
    = None,
    dpo: Annotated[Path | None, typer.Option("--dpo", help="Directory for DPO rows (one JSON Lines file per level).")]
    = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="A reviewed-items file (JSON Lines) for "
                                                "`forge bench review --labels` and the validators' tests.")] = None,
    redact: Annotated[bool, typer.Option("--redact/--no-redact", help="Leave out notes, reviewers and learner "
                                         "details (the default).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Training data (TRL's SFT prompt/completion and DPO prompt/chosen/rejected rows) or labels from the reviews."""
    from forge.reviews.store import ReviewStore

    if (sft is None) != (dpo is None) or (sft is None and labels is None):
        raise UserInputError("Give --sft DIR and --dpo DIR (training data), --labels FILE (reviewed items), or both.")
    reviews = ReviewStore(services(cli).sessions).find()
    if not reviews:
        raise UserInputError("There are no reviews to export yet; review items with `forge review REF --accept`.")
    report: dict[str, Any] = {}
    if labels is not None:
        report["labels"] = _write_labels(reviews, labels, redact)
    if sft is not None and dpo is not None:
        from forge.reviews.training import export_training

        report["training"] = export_training(reviews, sft, dpo, redact=redact)
    if as_json:
        print_json(report)
        return
    if "labels" in report:
        console.print(f"{report['labels']['items']} reviewed items in {labels}.", highlight=False)
    if "training" in report:
        _print_training(report["training"])


def _write_labels(reviews: list[Review], path: Path, redact: bool) -> dict[str, Any]:
    """The reviews in the reviewed-items format (one line per item, every reviewer's latest verdict), atomically."""
    from forge.reviews.labels import reviewed_items
    from knowledge.files import write_atomically

    lines = [json.dumps(row, ensure_ascii=False) for row in reviewed_items(reviews, redact=redact)]
    try:
        write_atomically(path, "".join(line + "\n" for line in lines).encode("utf-8"))
    except OSError as exc:
        raise UserInputError(f"Cannot write {path} ({exc.strerror}); give a writable file path.") from exc
    return {"path": str(path), "items": len(lines)}


def _print_training(written: Any) -> None:
    """Where the training rows went, in one sentence."""
    sft_rows = sum(n for by_type in written.sft.values() for n in by_type.values())
    dpo_rows = sum(n for by_type in written.dpo.values() for n in by_type.values())
    console.print(f"{sft_rows} SFT rows in {written.sft_dir} and {dpo_rows} DPO rows in {written.dpo_dir} "
                  f"(levels {', '.join(sorted(written.sft | written.dpo)) or 'none'}); each has a README.md card.",
                  highlight=False)
