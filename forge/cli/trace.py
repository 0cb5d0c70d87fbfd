"""`forge trace`: inspect, compare, summarise, export and purge the recorded traces of runs.

Every run (an item, a tutoring turn, an exercise-session turn, an `ask`) is one trace in `traces.sqlite` in the data
dir, or in PostgreSQL when `postgres_url` is set (every process of a deployment writes there). These commands only
read that store (and delete from it, for `purge`); they never record traces themselves.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from agents import telemetry
from forge import views
from forge.cli.common import console, err_console, print_json, services, state
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from forge.telemetry import Redactor
    from forge.trace_export import ExportResult
    from forge.traces import RunFilter, RunSummary, SpanNode, TraceDiff, TraceStats, TraceStore

#: `forge.traces.TIME_FORMS` (a test keeps them equal): that module loads the trace stack, too slow for `--help`.
TIME_FORMS = "an ISO date or time (2025-03-01, 2025-03-01T14:30) or an age such as 30m, 12h, 7d, 2w"

app = typer.Typer(
    help="Inspect the recorded traces of runs: list, show, diff, stats, export, purge.", no_args_is_help=True
)

SessionOpt = Annotated[str | None, typer.Option("--session", help="Only runs of this session/conversation id.")]
LevelOpt = Annotated[str | None, typer.Option("--level", help="Only runs at this CEFR level (A1 … C2).")]
KindOpt = Annotated[
    str | None, typer.Option("--kind", help=f"Only runs of this kind: {', '.join(telemetry.RUN_KINDS)}.")
]
TypeOpt = Annotated[str | None, typer.Option("--type", help="Only runs of this exercise/item type.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Only runs that called a model whose id contains this.")]
EscalatedOpt = Annotated[
    bool | None, typer.Option("--escalated/--not-escalated", help="Only escalated (or only non-escalated) runs.")
]
FailedOpt = Annotated[bool | None, typer.Option("--failed/--succeeded", help="Only failed (or only successful) runs.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help=f"Runs started at or after: {TIME_FORMS}.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Runs started before this time (same forms as --since).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _filter(
    session: str | None = None,
    level: str | None = None,
    kind: str | None = None,
    exercise_type: str | None = None,
    model: str | None = None,
    escalated: bool | None = None,
    failed: bool | None = None,
    since: str | None = None,
    until: str | None = None,
    **extra: Any,
) -> RunFilter:
    """A RunFilter from command-line options, each checked with a clear message."""
    from forge.traces import RunFilter, parse_time

    if kind is not None and kind not in telemetry.RUN_KINDS:
        raise UserInputError(f"Unknown run kind {kind!r}; accepted kinds are {', '.join(telemetry.RUN_KINDS)}.")
    flt = RunFilter(
        session=session, level=level, kind=kind, exercise_type=exercise_type, model=model, escalated=escalated,
        failed=failed, since=parse_time(since) if since else None, until=parse_time(until) if until else None,
        **extra,
    )  # fmt: skip
    flt.where()  # validates the level now, before any output
    return flt


def _store(cli: typer.Context) -> TraceStore:
    """The configured trace store: PostgreSQL with `postgres_url`, else the data dir's file (tracing not started).

    Prints one warning line first when this process could not save some of its own spans.
    """
    from forge.settings import load_settings
    from forge.telemetry import active_tracing, loss_warning
    from forge.traces import TraceStore

    tracing = active_tracing()
    if tracing is not None:
        tracing.flush()  # runs made earlier in this process (tests, embedding) become visible
    warning = loss_warning()
    if warning:
        err_console.print(warning, highlight=False, markup=False, soft_wrap=True)
    settings, _ = load_settings(state(cli).overrides)
    return TraceStore.for_settings(settings)


# ---------------------------------------------------------------------------------------------------------------
# list


@app.command("list")
def list_runs(
    cli: typer.Context,
    session: SessionOpt = None,
    level: LevelOpt = None,
    kind: KindOpt = None,
    exercise_type: TypeOpt = None,
    model: ModelOpt = None,
    escalated: EscalatedOpt = None,
    failed: FailedOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many runs, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List recorded runs, newest first, filtered by session, level, kind, type, model, escalation, failure, time."""
    flt = _filter(session, level, kind, exercise_type, model, escalated, failed, since, until, limit=limit)
    with _store(cli) as store:
        runs = store.runs(flt)
    if as_json:
        print_json(runs)
        return
    if not runs:
        console.print(f"No runs match in {store.where}.")
        return
    console.print(_runs_table(runs))


def _runs_table(runs: list[RunSummary]) -> Table:
    """Runs as a table for people."""
    table = Table(title=f"{len(runs)} run(s)")
    for column in ("trace", "started", "kind", "name", "session", "level", "type", "models", "ms", "tokens", "result"):
        table.add_column(column, overflow="fold", justify="right" if column in ("ms", "tokens") else "left")
    for r in runs:
        table.add_row(
            r.trace_id[:12], r.start_time.astimezone().strftime("%Y-%m-%d %H:%M:%S"), r.kind or "",
            r.name.split(" ", 1)[-1],
            r.conversation_id or "", r.level or "", r.exercise_type or "", ", ".join(r.models),
            f"{r.duration_ms:.0f}", f"{r.input_tokens}+{r.output_tokens}", _result(r),
        )  # fmt: skip
    return table


def _result(run: RunSummary) -> str:
    """Failure, validity and escalation of a run in a few marked-up words."""
    parts = ["[red]failed[/red]" if run.failed else "ok"]
    if run.valid is not None:
        parts.append("[green]valid[/green]" if run.valid else "[yellow]invalid[/yellow]")
    if run.escalated:
        parts.append("[magenta]escalated[/magenta]")
    return " · ".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# show


@app.command("show")
def show(
    cli: typer.Context,
    trace_id: Annotated[str, typer.Argument(help="Trace id (or a unique prefix of at least 4 digits, or a run id).")],
    content: Annotated[bool, typer.Option("--content", help="Also show prompts, outputs and node state.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one run as a tree: every node, model and tool call with timing, tokens, decisions and verdicts."""
    with _store(cli) as store:
        view = store.tree(trace_id)
    reviews = _reviews(cli, view.run.trace_id) if view.run else []
    if as_json:
        print_json(views.trace_view(view, reviews))
        return
    title = Text(view.run.trace_id if view.run else trace_id, style="bold")
    if view.run is not None:
        title.append("  " + _run_line(view.run), style="dim")
    tree = Tree(title)
    for root in view.roots:
        _add_node(tree, root, content)
    if reviews:
        _add_reviews(tree, reviews)
    console.print(tree)


def _reviews(cli: typer.Context, trace_id: str) -> list[Any]:
    """Teachers' reviews of the items this trace made (none when the session database cannot be read)."""
    from forge.reviews.store import ReviewStore
    from knowledge.errors import ResourceError

    try:
        return ReviewStore(services(cli).sessions).for_trace(trace_id)
    except ResourceError:
        return []


def _add_reviews(tree: Tree, reviews: list[Any]) -> None:
    """A branch listing each review of the trace's items: decision, reason, reviewer, review id."""
    branch = tree.add(Text(f"teacher reviews ({len(reviews)})", style="bold"))
    for r in reviews:
        what = f"item {r.number}" if r.number else "the item"
        why = f" ({r.reason})" if r.reason else ""
        branch.add(Text(f"{r.decision}{why} of {what} by {r.reviewer}, {r.time:%Y-%m-%d %H:%M} · "
                        f"forge review show {r.id[:8]}", style="green" if r.decision != "reject" else "red"))


def _run_line(run: RunSummary) -> str:
    """One line summarising a run."""
    bits = [run.kind or "run", f"run {run.run_id}" if run.run_id else "", run.level or "", run.exercise_type or "",
            f"{run.duration_ms:.0f} ms", f"{run.input_tokens}+{run.output_tokens} tokens"]  # fmt: skip
    if run.valid is not None:
        bits.append(("valid" if run.valid else "invalid") + (f" (ACI {run.aci:.2f})" if run.aci is not None else ""))
    if run.escalated:
        bits.append("escalated: " + "; ".join(run.escalation_reasons))
    if run.failed:
        bits.append(f"FAILED: {run.error or ''}")
    return " · ".join(b for b in bits if b)


def _add_node(parent: Tree, node: SpanNode, content: bool) -> None:
    """Add a span (and its children) to a rich tree."""
    branch = parent.add(_node_label(node))
    for decision in node.decisions:
        style = "magenta" if decision["escalation"] else "cyan"
        reason = f" because {decision['reason']}" if decision["reason"] else ""
        branch.add(Text(f"⤷ {decision['name']}: {decision['choice']}{reason}", style=style))
    for event in node.events:
        attrs = ", ".join(f"{k.removeprefix('forge.')}={v}" for k, v in event["attributes"].items())
        branch.add(Text(f"• {event['name']} {_short(attrs, 200)}", style="dim"))
    if node.violations:
        branch.add(Text(f"violations: {_short(node.violations, 300)}", style="yellow"))
    if content:
        for key in (telemetry.INPUT_MESSAGES, telemetry.OUTPUT_MESSAGES, telemetry.NODE_INPUT, telemetry.NODE_OUTPUT,
                    telemetry.TOOL_ARGUMENTS, telemetry.TOOL_RESULT, telemetry.RETRIEVAL_QUERY):  # fmt: skip
            if key in node.attributes:
                branch.add(Text(f"{key}: {_short(node.attributes[key], 400)}", style="dim"))
    for child in node.children:
        _add_node(branch, child, content)


def _node_label(node: SpanNode) -> Text:
    """Name, timing, model, tokens and verdict of one span."""
    label = Text(node.name, style="red bold" if node.status == "ERROR" else "bold")
    label.append(f"  +{node.offset_ms:.0f} ms  {node.duration_ms:.1f} ms", style="dim")
    if node.model:
        label.append(f"  {node.model}", style="blue")
    if node.input_tokens is not None or node.output_tokens is not None:
        label.append(f"  {node.input_tokens or 0}+{node.output_tokens or 0} tok")
    if node.ttft_s is not None:
        label.append(f"  ttft {node.ttft_s * 1000:.0f} ms", style="dim")
    if node.attempts and node.attempts > 1:
        label.append(f"  {node.attempts} attempts", style="yellow")
    if node.valid is not None:
        verdict = "valid" if node.valid else "invalid"
        label.append(f"  {verdict}" + (f" ACI {node.aci:.2f}" if node.aci is not None else ""),
                     style="green" if node.valid else "yellow")  # fmt: skip
    if node.error:
        label.append(f"  error: {node.error}", style="red")
    return label


def _short(value: Any, limit: int) -> str:
    """A value as one line of at most `limit` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------------------
# diff


@app.command("diff")
def diff(
    cli: typer.Context,
    trace_a: Annotated[str, typer.Argument(help="First trace id (or prefix, or run id).")],
    trace_b: Annotated[str, typer.Argument(help="Second trace id (or prefix, or run id).")],
    as_json: JsonOpt = False,
) -> None:
    """Compare two runs of a similar request side by side, node by node."""
    with _store(cli) as store:
        result = store.diff(trace_a, trace_b)
    if as_json:
        print_json(result)
        return
    console.print(_diff_table(result))


def _diff_table(result: TraceDiff) -> Table:
    """A diff as a table: one row per aligned step."""
    table = Table(title=f"A {result.a.trace_id[:12]}  vs  B {result.b.trace_id[:12]}", caption=_diff_caption(result))
    for column in ("step", "A ms", "B ms", "Δ ms", "A tokens", "B tokens", "A", "B"):
        table.add_column(column, overflow="fold", justify="right" if "ms" in column or "tok" in column else "left")
    for row in result.rows:
        delta = "" if row.delta_ms is None else f"{row.delta_ms:+.1f}"
        table.add_row(
            "  " * row.depth + row.step.rsplit(" > ", 1)[-1], _ms(row.a), _ms(row.b), delta, _tokens(row.a),
            _tokens(row.b), _note(row.a), _note(row.b),
        )  # fmt: skip
    return table


def _diff_caption(result: TraceDiff) -> str:
    """The two runs' totals under the table."""
    return f"A: {_run_line(result.a)}\nB: {_run_line(result.b)}"


def _ms(node: SpanNode | None) -> str:
    """Duration cell."""
    return "—" if node is None else f"{node.duration_ms:.1f}"


def _tokens(node: SpanNode | None) -> str:
    """Token cell."""
    if node is None or (node.input_tokens is None and node.output_tokens is None):
        return ""
    return f"{node.input_tokens or 0}+{node.output_tokens or 0}"


def _note(node: SpanNode | None) -> str:
    """Model, verdict, decisions and errors of one side of a diff row."""
    if node is None:
        return "[dim]absent[/dim]"
    notes = [node.model or ""]
    if node.valid is not None:
        notes.append("valid" if node.valid else "invalid")
    notes += [f"{d['name']}→{d['choice']}" for d in node.decisions]
    if node.error:
        notes.append(f"[red]{node.error}[/red]")
    return " ".join(n for n in notes if n)


# ---------------------------------------------------------------------------------------------------------------
# stats


@app.command("stats")
def stats(
    cli: typer.Context,
    session: SessionOpt = None,
    level: LevelOpt = None,
    kind: KindOpt = None,
    exercise_type: TypeOpt = None,
    model: ModelOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print long-format CSV: section,name,metric,value.")] = False,
) -> None:
    """Per-node latency percentiles, escalation rate and reasons, tokens by model, validity rate."""
    from forge.traces import stats_rows

    if as_json and as_csv:
        raise UserInputError("Give either --json or --csv, not both.")
    flt = _filter(session, level, kind, exercise_type, model, since=since, until=until)
    with _store(cli) as store:
        result = store.stats(flt)
    if as_json:
        print_json(result)
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=["section", "name", "metric", "value"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(stats_rows(result))
    else:
        _print_stats(result)


def _print_stats(result: TraceStats) -> None:
    """Stats as tables for people."""
    rate = lambda v: "—" if v is None else f"{v:.1%}"  # noqa: E731
    console.print(
        f"{result.runs} runs · {result.failed} failed · escalated {result.escalated} ({rate(result.escalation_rate)})"
        f" · valid {result.valid}/{result.validated} ({rate(result.validity_rate)})"
        + (f" · mean ACI {result.mean_aci:.2f}" if result.mean_aci is not None else "")
    )
    if result.escalation_reasons:
        reasons = Table(title="Escalation reasons")
        reasons.add_column("reason", overflow="fold")
        reasons.add_column("runs", justify="right")
        for reason, count in result.escalation_reasons.items():
            reasons.add_row(reason, str(count))
        console.print(reasons)
    latency = Table(title="Latency by span (ms)")
    for column in ("span", "count", "errors", "mean", "p50", "p90", "p95", "p99", "max"):
        latency.add_column(column, justify="left" if column == "span" else "right", overflow="fold")
    for n in result.nodes:
        values = (n.mean_ms, n.p50_ms, n.p90_ms, n.p95_ms, n.p99_ms, n.max_ms)
        latency.add_row(n.name, str(n.count), str(n.errors), *(f"{v:.1f}" for v in values))
    console.print(latency)
    models = Table(title="Tokens by model")
    for column in ("model", "calls", "input tokens", "output tokens", "mean ms", "mean ttft ms"):
        models.add_column(column, justify="left" if column == "model" else "right")
    for m in result.models:
        ttft = "—" if m.mean_ttft_ms is None else f"{m.mean_ttft_ms:.0f}"
        counts = (str(m.calls), str(m.input_tokens), str(m.output_tokens))
        models.add_row(m.model, *counts, f"{m.mean_latency_ms:.0f}", ttft)
    console.print(models)


# ---------------------------------------------------------------------------------------------------------------
# export


@app.command("export")
def export(
    cli: typer.Context,
    jsonl: Annotated[
        Path | None, typer.Option("--jsonl", help="Write one span per line to this file ('-' for stdout).")
    ] = None,
    otlp: Annotated[
        str | None, typer.Option("--otlp", help="Collector base URL; spans are posted to URL/v1/traces (OTLP/HTTP).")
    ] = None,
    redact: Annotated[bool, typer.Option("--redact", help="Replace learner-written text by salted hashes.")] = False,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="HTTP header for the collector, Name=value (repeatable).")
    ] = None,
    trace_ids: Annotated[
        list[str] | None, typer.Option("--trace", help="Only this trace (repeat for several).")
    ] = None,
    session: SessionOpt = None,
    level: LevelOpt = None,
    kind: KindOpt = None,
    exercise_type: TypeOpt = None,
    model: ModelOpt = None,
    escalated: EscalatedOpt = None,
    failed: FailedOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export runs as JSONL (for pandas) or over OTLP/HTTP to a collector (Phoenix, Langfuse, Jaeger, …)."""
    from forge.settings import load_settings
    from forge.telemetry import Redactor
    from forge.trace_export import export_otlp, parse_headers

    if (jsonl is None) == (otlp is None):
        raise UserInputError("Give exactly one destination: --jsonl FILE or --otlp URL.")
    settings, _ = load_settings(state(cli).overrides)
    redactor = Redactor.for_settings(settings) if redact else None
    with _store(cli) as store:
        ids = [store.resolve(t) for t in trace_ids or []]
        flt = _filter(session, level, kind, exercise_type, model, escalated, failed, since, until, trace_ids=ids)
        if otlp is not None:
            result = export_otlp(store, flt, otlp, redactor=redactor, headers=parse_headers(header or []))
        else:
            result = _export_file(store, flt, jsonl or Path("-"), redactor)
    if as_json:
        print_json(result)
    else:
        (err_console if jsonl == Path("-") else console).print(_export_line(result))


def _export_file(store: TraceStore, flt: RunFilter, path: Path, redactor: Redactor | None) -> ExportResult:
    """JSONL to a file or stdout; an unwritable file is the user's to fix."""
    from forge.trace_export import export_jsonl

    if str(path) == "-":
        return export_jsonl(store, flt, sys.stdout, redactor=redactor)
    try:
        with path.open("w", encoding="utf-8") as out:
            return export_jsonl(store, flt, out, redactor=redactor)
    except OSError as exc:
        raise UserInputError(f"Cannot write {path} ({exc.strerror}); give a writable file path.") from exc


def _export_line(result: ExportResult) -> str:
    """What an export did, in one line."""
    redacted = ", learner text redacted" if result.redacted else ""
    return f"Exported {result.spans} spans of {result.runs} runs to {result.destination}{redacted}."


# ---------------------------------------------------------------------------------------------------------------
# purge


@app.command("purge")
def purge(
    cli: typer.Context,
    before: Annotated[str, typer.Option("--before", help=f"Delete runs started before: {TIME_FORMS}.")],
    as_json: JsonOpt = False,
) -> None:
    """Delete every run recorded before a date (its spans, prompts and learner text), overwriting the data."""
    from forge.traces import parse_time

    moment = parse_time(before)
    with _store(cli) as store:
        result = store.purge(moment)
    if as_json:
        print_json(result)
        return
    console.print(f"Deleted {result.runs} runs ({result.spans} spans) started before {moment.isoformat()}.")
