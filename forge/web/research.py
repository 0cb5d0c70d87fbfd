"""The researcher's pages: trace list, one trace as a waterfall, two traces side by side, statistics, exports.

The list filters runs as `forge trace list` does; the statistics draw plots; the exports (JSONL, OTLP JSON) hold
the filtered runs.

Everything read goes through `forge.web.traces` (who may see which trace, learner text hashed for researchers
unless the admin allows it) and the trace store's own list, tree, diff and stats (`forge.traces`), so the pages
show exactly what `forge trace list|show|diff|stats` print. Teachers may open the trace pages (only traces of
their own and their learners' sessions); the statistics are for researchers (and admins, who pass everything).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from agents import telemetry
from forge.web.accounts import Login
from forge.web.app import page
from forge.web.plots import WaterfallRow, bar_plot, histogram, waterfall
from forge.web.security import NotFound, role, web
from forge.web.traces import redactor_for, trace_store, visible_diff, visible_runs, visible_stats, visible_view
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from forge.telemetry import Redactor
    from forge.traces import DiffRow, RunFilter, RunSummary, SpanNode, TraceStats, TraceStore
    from forge.web.app import WebContext
    from knowledge.reviews import Review

router = APIRouter(include_in_schema=False)

#: Who may open trace pages: researchers (every trace) and teachers (their sessions' traces); admins pass too.
TRACE_ACCESS = role("researcher", "teacher")
LIMITS = (50, 200, 1000)
STATUSES: dict[str, bool | None] = {"": None, "failed": True, "succeeded": False}
ESCALATED: dict[str, bool | None] = {"": None, "yes": True, "no": False}
LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
#: Longest filter value read (a longer one is refused with one sentence).
MAX_FILTER_CHARS = 200
#: Longest attribute value shown on a trace page (the JSONL export has every value in full).
MAX_VALUE_CHARS = 4000
#: How many latency histograms the statistics page draws (slowest first).
MAX_HISTOGRAMS = 6
TIME_HINT = "2025-03-01, 2025-03-01T14:30, or an age: 30m, 12h, 7d, 2w"


# ---------------------------------------------------------------------------------------------------------------
# filters


@dataclass(frozen=True)
class Filters:
    """The filter form's values as typed (shown again in the form), turned into a RunFilter on demand."""

    kind: str = ""
    model: str = ""
    level: str = ""
    type: str = ""
    status: str = ""
    escalated: str = ""
    since: str = ""
    until: str = ""
    limit: str = ""

    def run_filter(self, *, limited: bool = True) -> RunFilter:
        """The RunFilter of these values (UserInputError with one sentence for a bad one)."""
        from forge.web.api import run_filter

        for name, value in self.items():
            if len(value) > MAX_FILTER_CHARS:
                raise UserInputError(f"The {name} filter is longer than {MAX_FILTER_CHARS} characters; give less.")
        if self.status not in STATUSES:
            raise UserInputError(f"Unknown status {self.status!r}; give failed or succeeded (or nothing).")
        if self.escalated not in ESCALATED:
            raise UserInputError(f"Unknown escalated value {self.escalated!r}; give yes or no (or nothing).")
        return run_filter(
            kind=self.kind or None, model=self.model or None, level=self.level or None,
            exercise_type=self.type or None, failed=STATUSES[self.status], escalated=ESCALATED[self.escalated],
            since=self.since or None, until=self.until or None, limit=self.row_limit() if limited else None,
        )  # fmt: skip

    def row_limit(self) -> int:
        """How many runs the list shows (50 unless the form says otherwise)."""
        if not self.limit:
            return LIMITS[0]
        if not self.limit.isdigit() or not 1 <= int(self.limit) <= LIMITS[-1]:
            raise UserInputError(f"limit must be a whole number from 1 to {LIMITS[-1]}, not {self.limit!r}.")
        return int(self.limit)

    def items(self) -> list[tuple[str, str]]:
        """The fields and their values, in form order."""
        return [(name, getattr(self, name)) for name in self.__dataclass_fields__]

    def query(self) -> str:
        """The filled-in fields as a query string, for links that keep the filters (exports, statistics)."""
        return urlencode([(k, v) for k, v in self.items() if v])

    @property
    def active(self) -> bool:
        """Whether any filter (other than the row limit) is set."""
        return any(v for k, v in self.items() if k != "limit")


def filters(
    kind: str = "",
    model: str = "",
    level: str = "",
    exercise_type: str = Query("", alias="type"),
    status: str = "",
    escalated: str = "",
    since: str = "",
    until: str = "",
    limit: str = "",
) -> Filters:
    """The filter form's query parameters (all text, checked by `Filters.run_filter` with a clear message)."""
    values = (kind, model, level, exercise_type, status, escalated, since, until, limit)
    return Filters(*(v.strip() for v in values))


def _choices() -> dict[str, Any]:
    """The options of the filter form's selects."""
    from knowledge.items import EXERCISE_TYPES

    return {"kinds": telemetry.RUN_KINDS, "levels": LEVELS, "types": EXERCISE_TYPES, "limits": LIMITS,
            "time_hint": TIME_HINT}  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# what the pages show of runs and spans


@dataclass(frozen=True)
class RunRow:
    """One run as a row of the list (and the heading of a trace or a diff side)."""

    run: RunSummary
    started: str
    name: str
    tokens: str
    duration: str
    badges: list[tuple[str, str]]


def run_row(run: RunSummary) -> RunRow:
    """The list row of a run: its start in local time, short name, tokens, duration and result badges."""
    return RunRow(
        run=run, started=run.start_time.astimezone().strftime("%Y-%m-%d %H:%M:%S"), name=run.name.split(" ", 1)[-1],
        tokens=f"{run.input_tokens}+{run.output_tokens}", duration=ms_text(run.duration_ms), badges=badges(run),
    )  # fmt: skip


def badges(run: RunSummary) -> list[tuple[str, str]]:
    """Failure, validity and escalation of a run as (text, css class) pairs, as `forge trace list` marks them."""
    out = [("failed", "bad") if run.failed else ("ok", "ok")]
    if run.valid is not None:
        aci = f" (ACI {run.aci:.2f})" if run.aci is not None else ""
        out.append(("valid" + aci, "ok") if run.valid else ("invalid" + aci, "warn"))
    if run.escalated:
        out.append(("escalated", "warn"))
    return out


def ms_text(ms: float | None) -> str:
    """A duration for people: '12.3 ms', '850 ms', '4.21 s'."""
    if ms is None:
        return "—"
    if abs(ms) < 100:
        return f"{ms:.1f} ms"
    return f"{ms:.0f} ms" if abs(ms) < 1000 else f"{ms / 1000:.2f} s"


def tokens_text(node: SpanNode | None) -> str:
    """A span's tokens as 'in+out', empty when it made no model call."""
    if node is None or (node.input_tokens is None and node.output_tokens is None):
        return ""
    return f"{node.input_tokens or 0}+{node.output_tokens or 0}"


def decision_text(decision: dict[str, Any]) -> str:
    """One routing/escalation decision in words: 'route → escalate because …'."""
    reason = f" because {decision['reason']}" if decision.get("reason") else ""
    return f"{decision.get('name')} → {decision.get('choice')}{reason}"


def span_note(node: SpanNode) -> str:
    """What the waterfall writes after a span's duration: model, tokens, verdict, decisions, error."""
    bits = [node.model or "", f"{tokens_text(node)} tok" if tokens_text(node) else ""]
    if node.valid is not None:
        bits.append(("valid" if node.valid else "invalid") + (f" ACI {node.aci:.2f}" if node.aci is not None else ""))
    bits += [decision_text(d) for d in node.decisions]
    if node.error:
        bits.append(f"error: {node.error}")
    return " · ".join(b for b in bits if b)


def flatten(roots: Sequence[SpanNode], depth: int = 0) -> Iterator[tuple[int, SpanNode]]:
    """Every span with its depth, depth first, parents before children (the waterfall's order)."""
    for node in roots:
        yield depth, node
        yield from flatten(node.children, depth + 1)


def trace_waterfall(roots: Sequence[SpanNode], title: str) -> str:
    """The spans of a trace as a waterfall SVG (plots.waterfall escapes every text)."""
    rows = [WaterfallRow(label=node.name, depth=depth, start_ms=node.offset_ms, duration_ms=node.duration_ms,
                         note=span_note(node), error=node.status == "ERROR")
            for depth, node in flatten(roots)]  # fmt: skip
    return waterfall(rows, title=title, width=960)


@dataclass
class SpanDetails:
    """What the span tree shows of one span: the heading facts, decisions, events and attributes."""

    facts: list[str]
    decisions: list[tuple[str, bool]]
    events: list[tuple[str, str]]
    violations: str
    attributes: list[tuple[str, str]] = field(default_factory=list)


def span_details(node: SpanNode) -> SpanDetails:
    """The details of one span, its attribute values as readable text (long ones cut, the export has them all)."""
    facts = [f"starts +{ms_text(node.offset_ms)}", f"takes {ms_text(node.duration_ms)}", node.kind.lower()]
    if node.model:
        facts.append(f"model {node.model}")
    if tokens_text(node):
        facts.append(f"tokens {tokens_text(node)} (in+out)")
    if node.ttft_s is not None:
        facts.append(f"first token after {ms_text(node.ttft_s * 1000)}")
    if node.attempts and node.attempts > 1:
        facts.append(f"{node.attempts} attempts")
    if node.valid is not None:
        facts.append(("valid" if node.valid else "invalid") + (f", ACI {node.aci:.2f}" if node.aci is not None else ""))
    if node.error:
        facts.append(f"error {node.error}")
    events = [(str(e.get("name")), value_text(e.get("attributes") or {})) for e in node.events]
    violations = node.attributes.get(telemetry.VIOLATIONS)  # from the (redacted) attributes, not the raw node
    return SpanDetails(
        facts=facts, decisions=[(decision_text(d), bool(d.get("escalation"))) for d in node.decisions],
        events=events, violations=value_text(violations) if violations not in (None, "", "[]") else "",
        attributes=[(key, value_text(node.attributes[key])) for key in sorted(node.attributes)],
    )  # fmt: skip


def value_text(value: Any) -> str:
    """An attribute value as text: JSON (stored as JSON text or not) indented, cut at MAX_VALUE_CHARS."""
    if isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[:MAX_VALUE_CHARS]}… ({len(text) - MAX_VALUE_CHARS:,} more characters; the JSONL export has all)"


@dataclass(frozen=True)
class DiffLine:
    """One aligned step of a diff as the table shows it."""

    step: str
    depth: int
    a_ms: str
    b_ms: str
    delta: str
    delta_class: str
    a_tokens: str
    b_tokens: str
    a_note: str
    b_note: str


def diff_line(row: DiffRow) -> DiffLine:
    """A diff row in words: the step's own name, both durations, the change, tokens and notes."""
    delta, cls = "", ""
    if row.delta_ms is not None:
        delta = f"{row.delta_ms:+.1f} ms"
        cls = "slower" if row.delta_ms > 0 else "faster" if row.delta_ms < 0 else ""
    return DiffLine(
        step=row.step.rsplit(" > ", 1)[-1], depth=row.depth,
        a_ms=ms_text(row.a.duration_ms) if row.a else "absent", b_ms=ms_text(row.b.duration_ms) if row.b else "absent",
        delta=delta, delta_class=cls, a_tokens=tokens_text(row.a), b_tokens=tokens_text(row.b),
        a_note=span_note(row.a) if row.a else "", b_note=span_note(row.b) if row.b else "",
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# pages


@router.get("/research")
def trace_list(request: Request, form: Filters = Depends(filters), login: Login = Depends(TRACE_ACCESS)) -> Response:
    """The runs this login may see, newest first, narrowed by the filter form, with two picked to compare."""
    try:
        flt = form.run_filter()
    except UserInputError as exc:
        return _list_page(request, login, form, [], str(exc), 400)
    return _list_page(request, login, form, visible_runs(web(request), login, flt), None, 200)


def _list_page(
    request: Request, login: Login, form: Filters, runs: list[RunSummary], error: str | None, status: int
) -> Response:
    """The list page with its rows (or the filter's error)."""
    return page(request, "research/list.html", status_code=status, form=form, error=error,
                rows=[run_row(r) for r in runs], limit=_safe_limit(form), can_stats=_sees_stats(login),
                **_choices())  # fmt: skip


def _safe_limit(form: Filters) -> int:
    """The row limit, or the default when the form's is not a number (the error says so)."""
    try:
        return form.row_limit()
    except UserInputError:
        return LIMITS[0]


def _sees_stats(login: Login) -> bool:
    """Whether the statistics page is open to this login."""
    return login.user.role in ("researcher", "admin")


@router.get("/research/traces/{trace_id}")
def trace_page(trace_id: str, request: Request, login: Login = Depends(TRACE_ACCESS)) -> Response:
    """One run: its summary, its spans as a waterfall and as a tree with every detail, and its items' reviews."""
    from forge.reviews.store import ReviewStore

    ctx = web(request)
    view = visible_view(ctx, login, trace_id)
    if view.run is None:  # visible_view refuses traces without a run; kept for the type checker
        raise NotFound(f"No trace {trace_id!r}.")
    reviews = ReviewStore(ctx.services.sessions).for_trace(view.run.trace_id)
    details = {node.span_id: span_details(node) for _, node in flatten(view.roots)}
    return page(request, "research/trace.html", row=run_row(view.run), roots=view.roots, details=details,
                svg=trace_waterfall(view.roots, f"Spans of {view.run.name}"), reviews=reviews,
                redacted=redactor_for(ctx, login) is not None)  # fmt: skip


@router.get("/research/diff")
def diff_page(request: Request, a: str = "", b: str = "", login: Login = Depends(TRACE_ACCESS)) -> Response:
    """Two runs side by side, step by step, with the time each step took and the change from A to B."""
    ctx = web(request)
    a, b = a.strip()[:MAX_FILTER_CHARS], b.strip()[:MAX_FILTER_CHARS]
    if not a or not b:
        return _diff_error(request, a, b, "Pick two traces to compare, A and B: a trace id, a prefix or a run id.", 400)
    try:
        found = visible_diff(ctx, login, a, b)
    except NotFound as exc:
        return _diff_error(request, a, b, str(exc), 404)
    except UserInputError as exc:
        return _diff_error(request, a, b, str(exc), 400)
    plots = [trace_waterfall(visible_view(ctx, login, run.trace_id).roots, f"{side}: {run.name}")
             for side, run in (("A", found.a), ("B", found.b))]  # fmt: skip
    return page(request, "research/diff.html", a=a, b=b, error=None, row_a=run_row(found.a), row_b=run_row(found.b),
                lines=[diff_line(r) for r in found.rows], plots=plots,
                total=diff_line_total(found.a, found.b))  # fmt: skip


def diff_line_total(a: RunSummary, b: RunSummary) -> str:
    """The change of the whole run's duration from A to B."""
    change = b.duration_ms - a.duration_ms
    return f"{change:+.1f} ms ({'B slower' if change > 0 else 'B faster' if change < 0 else 'the same'})"


def _diff_error(request: Request, a: str, b: str, message: str, status: int) -> Response:
    """The diff page with only its form and what was wrong."""
    return page(request, "research/diff.html", status_code=status, a=a, b=b, error=message, row_a=None, row_b=None,
                lines=[], plots=[], total="")  # fmt: skip


@router.get("/research/stats")
def stats_page(
    request: Request, form: Filters = Depends(filters), login: Login = Depends(role("researcher"))
) -> Response:
    """Statistics over the filtered runs: escalation, latency, tokens by model, validity and acceptance by type."""
    ctx = web(request)
    try:
        flt = form.run_filter(limited=False)
    except UserInputError as exc:
        return page(request, "research/stats.html", status_code=400, form=form, error=str(exc), stats=None,
                    **_choices())  # fmt: skip
    stats = visible_stats(ctx, login, flt)
    runs = visible_runs(ctx, login, flt)
    reviews = _reviews_of(ctx, runs)
    return page(request, "research/stats.html", form=form, error=None, stats=stats,
                figures=stats_figures(ctx, stats, runs, reviews), **_choices())  # fmt: skip


def _reviews_of(ctx: WebContext, runs: list[RunSummary]) -> list[Review]:
    """The teachers' stored reviews of the items the selected runs made."""
    from forge.reviews.store import ReviewStore

    traces = {r.trace_id for r in runs}
    return [r for r in ReviewStore(ctx.services.sessions).find() if r.trace_id in traces]


@dataclass
class StatsFigures:
    """Everything the statistics page draws and tabulates beyond the TraceStats themselves."""

    escalation_plot: str
    latency_plot: str
    histograms: list[str]
    token_plots: list[str]
    validity_rows: list[tuple[str, int, int, str]]
    validity_plot: str
    review_rows: list[tuple[str, int, int, int, int, str]]
    review_plot: str


def stats_figures(ctx: WebContext, stats: TraceStats, runs: list[RunSummary], reviews: list[Review]) -> StatsFigures:
    """The plots and small tables of the statistics page."""
    reasons = sorted(stats.escalation_reasons.items(), key=lambda kv: -kv[1])
    latency = [(n.name, n.p50_ms) for n in stats.nodes[:12]]
    validity = validity_by_type(runs)
    acceptance = acceptance_by_type(reviews)
    return StatsFigures(
        escalation_plot=bar_plot(reasons, title="Escalation reasons (runs)", width=560) if reasons else "",
        latency_plot=bar_plot(latency, title="Median latency by span (ms)", unit="ms", width=640),
        histograms=latency_histograms(ctx, runs),
        token_plots=[
            bar_plot([(m.model, m.input_tokens) for m in stats.models], title="Input tokens by model", width=360),
            bar_plot([(m.model, m.output_tokens) for m in stats.models], title="Output tokens by model", width=360),
        ],
        validity_rows=validity,
        validity_plot=bar_plot([(t, 100 * ok / n) for t, n, ok, _ in validity], unit="%", width=360,
                               title="Valid by the validator, by type (%)"),
        review_rows=acceptance,
        review_plot=bar_plot([(row[0], 100 * row[2] / row[1]) for row in acceptance], unit="%", width=360,
                             title="Accepted as is by teachers, by type (%)"),
    )  # fmt: skip


def validity_by_type(runs: list[RunSummary]) -> list[tuple[str, int, int, str]]:
    """(type, validated runs, valid runs, rate) from the runs' last validator verdicts, by exercise type."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for run in runs:
        if run.valid is not None:
            groups[run.exercise_type or f"{run.kind or 'run'} (no type)"].append(run.valid)
    return [(kind, len(v), sum(v), f"{sum(v) / len(v):.0%}") for kind, v in sorted(groups.items())]


def acceptance_by_type(reviews: list[Review]) -> list[tuple[str, int, int, int, int, str]]:
    """(type, decisions, accepted as is, modified, rejected, acceptance rate) from each reviewer's latest decisions."""
    from forge.reviews.service import stats

    rows = []
    for kind, counts in stats(reviews).by_type.items():
        total = sum(counts.values())
        accepted, modified, rejected = (counts.get(d, 0) for d in ("accept", "modify", "reject"))
        rows.append((kind, total, accepted, modified, rejected, f"{accepted / total:.0%}"))
    return rows


def latency_histograms(ctx: WebContext, runs: list[RunSummary]) -> list[str]:
    """Histograms of whole runs' durations (per run name) and of model calls (per span name), slowest first."""
    groups: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        groups[run.name].append(run.duration_ms)
    with trace_store(ctx) as store:
        for span in store.spans_of([r.trace_id for r in runs]):
            if span.is_model_call:
                groups[span.name].append(span.duration_ms)
    ranked = sorted(groups.items(), key=lambda kv: -max(kv[1]))[:MAX_HISTOGRAMS]
    return [_histogram(name, values) for name, values in ranked]


def _histogram(name: str, values: list[float]) -> str:
    """One latency histogram, in seconds when the values run into seconds, else in ms."""
    if max(values) >= 2000:
        return histogram([v / 1000 for v in values], title=f"{name} ({len(values)})", unit="s", bins=8, width=360)
    return histogram(values, title=f"{name} ({len(values)})", unit="ms", bins=8, width=360)


# ---------------------------------------------------------------------------------------------------------------
# exports


@router.get("/research/export.jsonl")
def export_jsonl_file(
    request: Request,
    form: Filters = Depends(filters),
    trace: list[str] = Query(default=[]),
    login: Login = Depends(TRACE_ACCESS),
) -> Response:
    """The filtered runs' spans as JSON Lines (one span a line, docs/tracing.md), learner text hashed if it must be."""
    from forge.trace_export import export_jsonl

    ctx = web(request)
    flt = export_filter(ctx, login, form, trace)
    out = io.StringIO()
    with trace_store(ctx) as store:
        export_jsonl(store, flt, out, redactor=redactor_for(ctx, login))
    return _download(out.getvalue(), "forge-traces.jsonl", "application/x-ndjson")


@router.get("/research/export.otlp.json")
def export_otlp_file(
    request: Request,
    form: Filters = Depends(filters),
    trace: list[str] = Query(default=[]),
    login: Login = Depends(TRACE_ACCESS),
) -> Response:
    """The filtered runs' spans as one OTLP/JSON ExportTraceServiceRequest (what a collector's /v1/traces takes)."""
    ctx = web(request)
    flt = export_filter(ctx, login, form, trace)
    with trace_store(ctx) as store:
        document = otlp_json(store, flt, redactor_for(ctx, login))
    return _download(json.dumps(document, ensure_ascii=False), "forge-traces.otlp.json", "application/json")


def export_filter(ctx: WebContext, login: Login, form: Filters, traces: list[str]) -> RunFilter:
    """Only the runs the filters select that this login may see (and, if given, only those traces)."""
    from forge.traces import RunFilter

    flt = form.run_filter()
    if traces:
        with trace_store(ctx) as store:
            ids = [_resolve(store, t) for t in traces[:100]]
        flt = flt.model_copy(update={"trace_ids": ids})
    runs = visible_runs(ctx, login, flt)
    missing = set(flt.trace_ids) - {r.trace_id for r in runs}
    if missing and not form.active:
        raise NotFound(f"No trace {sorted(missing)[0]!r} of yours.")
    return RunFilter(trace_ids=[r.trace_id for r in runs] or ["-"])


def _resolve(store: TraceStore, ident: str) -> str:
    """A trace id from an id, prefix or run id; NotFound when it names none."""
    try:
        return store.resolve(ident[:MAX_FILTER_CHARS])
    except UserInputError as exc:
        raise NotFound(str(exc)) from exc


def otlp_json(store: TraceStore, flt: RunFilter, redactor: Redactor | None) -> dict[str, Any]:
    """The selected spans in the OTLP/JSON encoding: protobuf's JSON mapping, but ids as hex and enums as numbers.

    The spans are rebuilt as `forge trace export --otlp` sends them (original ids, parents, times, redacted when
    asked), so a collector's OTLP/HTTP JSON endpoint or a file-reading tool gets the same trees.
    """
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource

    from forge.telemetry import SERVICE_NAME
    from forge.trace_export import _records, readable_span

    resource = Resource.create({"service.name": SERVICE_NAME})
    spans = [readable_span(span, resource) for span, _ in _records(store, flt, redactor)]
    document: dict[str, Any] = MessageToDict(encode_spans(spans), use_integers_for_enums=True) if spans else {}
    for resource_spans in document.setdefault("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64decode(span[key]).hex()
    return document


def _download(body: str, filename: str, media_type: str) -> Response:
    """A file to save, not to show."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)
