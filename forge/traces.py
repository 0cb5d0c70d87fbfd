"""Reading the trace store: list and filter runs, one run as a tree, two runs side by side, statistics, purge.

The store is written by `forge.telemetry` (one row per span, one row per run); this module only reads it (and
deletes, for `purge`). Every problem with the database file becomes a `ResourceError` naming the file; an id that
matches no run becomes a `UserInputError`. Exports (JSONL, OTLP) live in `forge.trace_export`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents import telemetry
from forge.settings import Settings
from forge.telemetry import RUN_COLUMNS, SPAN_COLUMNS, connect, location_for_data_dir, trace_location
from forge.trace_db import Location, TraceDB, TraceDBError, describe
from knowledge.errors import ResourceError, UserInputError
from knowledge.levels import parse_level

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
TIME_FORMS = "an ISO date or time (2025-03-01, 2025-03-01T14:30) or an age such as 30m, 12h, 7d, 2w"


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time from the command line: ISO 8601 (local time unless it says otherwise) or an age ('7d')."""
    value = text.strip()
    match = _RELATIVE.match(value)
    if match:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserInputError(f"Cannot read {text!r} as a time; give {TIME_FORMS}.") from exc
    return moment.astimezone() if moment.tzinfo is None else moment


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, as spans store times."""
    return int(moment.timestamp() * 1_000_000) * 1000


def from_ns(ns: int) -> datetime:
    """A span time as an aware UTC datetime."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


class RunFilter(BaseModel):
    """Which runs a command looks at; every field left empty matches everything."""

    session: str | None = Field(default=None, description="Conversation/session id (gen_ai.conversation.id).")
    level: str | None = Field(default=None, description="Target CEFR level.")
    kind: str | None = Field(default=None, description="Run kind: item, tutoring_turn, exercise_turn, ask.")
    exercise_type: str | None = Field(default=None, description="Exercise/item type.")
    model: str | None = Field(default=None, description="Substring of a model id used in the run.")
    escalated: bool | None = None
    failed: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    trace_ids: list[str] = Field(default_factory=list, description="Only these traces.")
    limit: int | None = Field(default=None, ge=1)

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition on `runs` and its parameters."""
        level = parse_level(self.level).value.upper() if self.level else None
        pairs: list[tuple[str, Any]] = [
            ("conversation_id = ?", self.session),
            ("upper(level) = ?", level),
            ("kind = ?", self.kind),
            ("exercise_type = ?", self.exercise_type),
            ("models LIKE '%' || ? || '%'", self.model),
            ("escalated = ?", None if self.escalated is None else int(self.escalated)),
            ("failed = ?", None if self.failed is None else int(self.failed)),
            ("start_ns >= ?", to_ns(self.since) if self.since else None),
            ("start_ns < ?", to_ns(self.until) if self.until else None),
        ]
        clauses = [sql for sql, value in pairs if value is not None]
        params = [value for _, value in pairs if value is not None]
        if self.trace_ids:
            clauses.append(f"trace_id IN ({', '.join('?' * len(self.trace_ids))})")
            params += self.trace_ids
        return (" AND ".join(clauses) or "1 = 1"), params


class RunSummary(BaseModel):
    """One run (one root span) with the fields it can be filtered and compared by."""

    trace_id: str
    run_id: str | None
    kind: str | None
    name: str
    conversation_id: str | None
    level: str | None
    exercise_type: str | None
    models: list[str]
    escalated: bool
    escalation_reasons: list[str]
    failed: bool
    error: str | None
    valid: bool | None = Field(description="The last validator verdict of the run; None if nothing was validated.")
    aci: float | None = Field(description="Alignment Consistency Index of the last validation.")
    input_tokens: int
    output_tokens: int
    model_calls: int
    span_count: int
    start_time: datetime
    duration_ms: float

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RunSummary:
        """Build from a `runs` row."""
        r = dict(zip(RUN_COLUMNS, row, strict=True))
        return cls(
            **{k: r[k] for k in ("trace_id", "run_id", "kind", "name", "conversation_id", "level", "exercise_type")},
            models=json.loads(r["models"]),
            escalated=bool(r["escalated"]),
            escalation_reasons=json.loads(r["escalation_reasons"]),
            failed=bool(r["failed"]),
            error=r["error"],
            valid=None if r["valid"] is None else bool(r["valid"]),
            aci=r["aci"],
            **{k: r[k] for k in ("input_tokens", "output_tokens", "model_calls", "span_count")},
            start_time=from_ns(r["start_ns"]),
            duration_ms=(r["end_ns"] - r["start_ns"]) / 1e6,
        )


class SpanRecord(BaseModel):
    """One stored span, attributes and events decoded."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    scope: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> SpanRecord:
        """Build from a `spans` row."""
        r = dict(zip(SPAN_COLUMNS, row, strict=True))
        r["attributes"], r["events"] = json.loads(r["attributes"]), json.loads(r["events"])
        return cls(**r)

    @property
    def duration_ms(self) -> float:
        """Wall-clock duration."""
        return (self.end_ns - self.start_ns) / 1e6

    @property
    def model(self) -> str | None:
        """The model of a model-call span."""
        a = self.attributes
        return a.get(telemetry.MODEL_ID) or a.get(telemetry.RESPONSE_MODEL) or a.get(telemetry.REQUEST_MODEL)

    @property
    def is_model_call(self) -> bool:
        """Whether this span is a model call (`chat`/`text_completion`)."""
        return self.attributes.get(telemetry.OPERATION) in ("chat", "text_completion")

    def decisions(self) -> list[dict[str, Any]]:
        """Routing/escalation decisions recorded on this span: name, choice, reason, escalation flag."""
        out = []
        for event in self.events:
            if event["name"] == telemetry.DECISION_EVENT:
                a = event["attributes"]
                out.append(
                    {
                        "name": a.get(telemetry.DECISION_NAME),
                        "choice": a.get(telemetry.DECISION_CHOICE),
                        "reason": a.get(telemetry.DECISION_REASON),
                        "escalation": bool(a.get(telemetry.ESCALATED)),
                    }
                )
        return out


class SpanNode(BaseModel):
    """A span and its children, for `forge trace show`."""

    span_id: str
    name: str
    kind: str
    status: str
    error: str | None
    offset_ms: float = Field(description="Start, relative to the run's start.")
    duration_ms: float
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    ttft_s: float | None
    attempts: int | None
    decisions: list[dict[str, Any]]
    events: list[dict[str, Any]] = Field(description="Other events: retries, escalation attempts, interrupts, errors.")
    valid: bool | None
    violations: Any
    aci: float | None
    attributes: dict[str, Any]
    children: list[SpanNode] = Field(default_factory=list)

    @classmethod
    def of(cls, span: SpanRecord, start_ns: int) -> SpanNode:
        """The node of one span (without children)."""
        a = span.attributes
        return cls(
            span_id=span.span_id, name=span.name, kind=span.kind, status=span.status,
            error=a.get(telemetry.ERROR_TYPE) if span.status == "ERROR" else None,
            offset_ms=(span.start_ns - start_ns) / 1e6, duration_ms=span.duration_ms,
            model=span.model if span.is_model_call else None,
            input_tokens=a.get(telemetry.INPUT_TOKENS), output_tokens=a.get(telemetry.OUTPUT_TOKENS),
            ttft_s=a.get(telemetry.TTFT), attempts=a.get(telemetry.ATTEMPTS), decisions=span.decisions(),
            events=[e for e in span.events if e["name"] != telemetry.DECISION_EVENT],
            valid=a.get(telemetry.VALID), violations=_maybe_json(a.get(telemetry.VIOLATIONS)), aci=a.get(telemetry.ACI),
            attributes=a,
        )  # fmt: skip


class TraceView(BaseModel):
    """One run: its summary and its span tree (several roots only if the trace was cut off)."""

    run: RunSummary | None
    roots: list[SpanNode]


class DiffRow(BaseModel):
    """One aligned step of two runs; a side is None where that run has no such step."""

    step: str
    depth: int
    a: SpanNode | None
    b: SpanNode | None
    delta_ms: float | None


class TraceDiff(BaseModel):
    """Two runs side by side."""

    a: RunSummary
    b: RunSummary
    rows: list[DiffRow]


class LatencyStats(BaseModel):
    """Latency distribution of one span name (a graph node, a model call, a tool)."""

    name: str
    count: int
    errors: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


class ModelStats(BaseModel):
    """Calls and tokens of one model."""

    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    mean_latency_ms: float
    mean_ttft_ms: float | None


class TraceStats(BaseModel):
    """Aggregates over the selected runs."""

    runs: int
    failed: int
    escalated: int
    escalation_rate: float | None
    escalation_reasons: dict[str, int]
    validated: int
    valid: int
    validity_rate: float | None
    mean_aci: float | None
    nodes: list[LatencyStats]
    models: list[ModelStats]


class PurgeResult(BaseModel):
    """What `purge` deleted."""

    runs: int
    spans: int
    before: datetime


class TraceStore:
    """Read access to one trace database (SQLite file or PostgreSQL URL); a missing file reads as an empty store."""

    def __init__(self, path: Location) -> None:
        self.path = path
        self._db: TraceDB | None = None

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> TraceStore:
        """The store of a data dir (the PostgreSQL one when its settings, given to `setup_tracing`, name one)."""
        return cls(location_for_data_dir(data_dir))

    @classmethod
    def for_settings(cls, settings: Settings) -> TraceStore:
        """The store these settings write: PostgreSQL when `postgres_url` is set, else the data dir's file."""
        return cls(trace_location(settings))

    @property
    def where(self) -> str:
        """The store for messages (no password)."""
        return describe(self.path)

    def close(self) -> None:
        """Close the connection, if one was opened."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query (tables as `{spans}`, `{runs}`); an unreadable database becomes a ResourceError naming it."""
        if isinstance(self.path, Path) and not self.path.is_file():
            return []
        try:
            return self._open().rows(self._open().sql(sql), params)
        except TraceDBError as exc:
            self.close()
            raise ResourceError(self._unreadable(exc)) from exc

    def _open(self) -> TraceDB:
        """The connection, opened on first use."""
        if self._db is None:
            self._db = connect(self.path, create=False)
        return self._db

    def _unreadable(self, exc: Exception) -> str:
        """The sentence for a store that cannot be read."""
        if isinstance(self.path, Path):
            return f"The trace database {self.path} cannot be read ({exc}); move it away and a new one is started."
        return f"The trace database at {self.where} cannot be read ({exc}); check that PostgreSQL is running."

    # -- runs ------------------------------------------------------------------------------------------------

    def runs(self, flt: RunFilter | None = None) -> list[RunSummary]:
        """Runs matching the filter, newest first."""
        where, params = (flt or RunFilter()).where()
        limit = f" LIMIT {int(flt.limit)}" if flt and flt.limit else ""
        sql = f"SELECT {', '.join(RUN_COLUMNS)} FROM {{runs}} WHERE {where} ORDER BY start_ns DESC{limit}"
        return [RunSummary.from_row(r) for r in self._rows(sql, params)]

    def resolve(self, ident: str) -> str:
        """The trace id for a trace id, a unique prefix of one (at least 4 hex digits), or a run id."""
        key = ident.strip().lower()
        rows = self._rows("SELECT trace_id FROM {runs} WHERE run_id = ?", (ident.strip(),))
        if not rows and re.fullmatch(r"[0-9a-f]{4,32}", key):
            rows = self._rows("SELECT trace_id FROM {runs} WHERE trace_id LIKE ? LIMIT 2", (key + "%",))
        if not rows and re.fullmatch(r"[0-9a-f]{4,32}", key):  # a trace whose root never arrived (cut off)
            rows = self._rows("SELECT DISTINCT trace_id FROM {spans} WHERE trace_id LIKE ? LIMIT 2", (key + "%",))
        if len(rows) > 1:
            raise UserInputError(f"{ident!r} matches several traces; give more digits of the trace id.")
        if not rows:
            raise UserInputError(
                f"No trace {ident!r} in {self.where}; give a trace id (or run id) shown by `forge trace list`."
            )
        return str(rows[0][0])

    def run(self, trace_id: str) -> RunSummary | None:
        """The run of a trace, if its root span was recorded."""
        rows = self._rows(f"SELECT {', '.join(RUN_COLUMNS)} FROM {{runs}} WHERE trace_id = ?", (trace_id,))
        return RunSummary.from_row(rows[0]) if rows else None

    # -- spans -----------------------------------------------------------------------------------------------

    def spans(self, trace_id: str) -> list[SpanRecord]:
        """All spans of one trace, in start order."""
        sql = f"SELECT {', '.join(SPAN_COLUMNS)} FROM {{spans}} WHERE trace_id = ? ORDER BY start_ns, end_ns DESC"
        return [SpanRecord.from_row(r) for r in self._rows(sql, (trace_id,))]

    def spans_of(self, trace_ids: Sequence[str], *, batch: int = 200) -> Iterator[SpanRecord]:
        """Spans of the given traces, trace by trace, each trace in start order (queried in batches)."""
        for start in range(0, len(trace_ids), batch):
            chunk = list(trace_ids[start : start + batch])
            marks = ", ".join("?" * len(chunk))
            columns = ", ".join(SPAN_COLUMNS)
            sql = f"SELECT {columns} FROM {{spans}} WHERE trace_id IN ({marks}) ORDER BY trace_id, start_ns"
            yield from (SpanRecord.from_row(r) for r in self._rows(sql, chunk))

    def tree(self, ident: str) -> TraceView:
        """One run as a tree of spans with timings, tokens, decisions and verdicts."""
        trace_id = self.resolve(ident)
        spans = self.spans(trace_id)
        start = min(s.start_ns for s in spans)
        nodes = {s.span_id: SpanNode.of(s, start) for s in spans}
        roots: list[SpanNode] = []
        for s in spans:
            parent = nodes.get(s.parent_id) if s.parent_id else None
            (parent.children if parent is not None else roots).append(nodes[s.span_id])
        return TraceView(run=self.run(trace_id), roots=roots)

    def diff(self, ident_a: str, ident_b: str) -> TraceDiff:
        """Two runs side by side, step by step, aligned on the sequence of span names."""
        views = [self.tree(ident_a), self.tree(ident_b)]
        if views[0].run is None or views[1].run is None:
            raise UserInputError("Both traces must be complete runs (with a root span) to be compared.")
        steps_a, steps_b = _steps(views[0].roots), _steps(views[1].roots)
        keys_a, keys_b = [k for k, _, _ in steps_a], [k for k, _, _ in steps_b]
        rows: list[DiffRow] = []
        matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                rows += [_row(steps_a[i], steps_b[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            else:
                rows += [_row(steps_a[i], None) for i in range(i1, i2)]
                rows += [_row(None, steps_b[j]) for j in range(j1, j2)]
        return TraceDiff(a=views[0].run, b=views[1].run, rows=rows)

    # -- stats -----------------------------------------------------------------------------------------------

    def stats(self, flt: RunFilter | None = None) -> TraceStats:
        """Latency percentiles per span name, escalation rate and reasons, tokens by model, validity rate."""
        runs = self.runs(flt)
        spans = list(self.spans_of([r.trace_id for r in runs]))
        reasons = Counter(reason for r in runs for reason in r.escalation_reasons)
        validated = [r for r in runs if r.valid is not None]
        acis = [r.aci for r in validated if r.aci is not None]
        escalated = sum(r.escalated for r in runs)
        return TraceStats(
            runs=len(runs),
            failed=sum(r.failed for r in runs),
            escalated=escalated,
            escalation_rate=escalated / len(runs) if runs else None,
            escalation_reasons=dict(reasons.most_common()),
            validated=len(validated),
            valid=sum(bool(r.valid) for r in validated),
            validity_rate=sum(bool(r.valid) for r in validated) / len(validated) if validated else None,
            mean_aci=sum(acis) / len(acis) if acis else None,
            nodes=_latency_stats(spans),
            models=_model_stats(spans),
        )

    # -- purge -----------------------------------------------------------------------------------------------

    def purge(self, before: datetime) -> PurgeResult:
        """Delete every run that started before `before` (and stray spans older than it), overwriting the data."""
        cutoff = to_ns(before)
        if isinstance(self.path, Path) and not self.path.is_file():
            return PurgeResult(runs=0, spans=0, before=before)
        doomed = "SELECT trace_id FROM {runs} WHERE start_ns < ? UNION " \
                 "SELECT trace_id FROM {spans} GROUP BY trace_id HAVING max(end_ns) < ? " \
                 "AND trace_id NOT IN (SELECT trace_id FROM {runs})"  # fmt: skip
        both = (cutoff, cutoff)
        runs = self._rows(f"SELECT count(*) FROM {{runs}} WHERE trace_id IN ({doomed})", both)[0][0]
        spans = self._rows(f"SELECT count(*) FROM {{spans}} WHERE trace_id IN ({doomed})", both)[0][0]
        try:
            db = self._open()
            with db.purge_guard(), db.write():
                db.rows(db.sql(f"DELETE FROM {{spans}} WHERE trace_id IN ({doomed})"), both)
                db.rows(db.sql(f"DELETE FROM {{runs}} WHERE trace_id IN ({doomed})"), both)
        except TraceDBError as exc:
            self.close()
            raise ResourceError(self._unreadable(exc)) from exc
        return PurgeResult(runs=runs, spans=spans, before=before)


def _maybe_json(value: Any) -> Any:
    """Decode attribute values we stored as JSON text."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _steps(roots: list[SpanNode]) -> list[tuple[str, int, SpanNode]]:
    """Spans below the root in depth-first start order, keyed by their path of names (the root is not a step)."""
    out: list[tuple[str, int, SpanNode]] = []

    def visit(node: SpanNode, path: tuple[str, ...]) -> None:
        key = (*path, node.name)
        out.append((" > ".join(key), len(key) - 1, node))
        for child in node.children:
            visit(child, key)

    for root in roots:
        for child in root.children:
            visit(child, ())
    return out


def _row(a: tuple[str, int, SpanNode] | None, b: tuple[str, int, SpanNode] | None) -> DiffRow:
    """One diff row from the aligned steps of two runs."""
    step, depth, _ = a or b or ("", 0, None)
    node_a, node_b = (a[2] if a else None), (b[2] if b else None)
    delta = node_b.duration_ms - node_a.duration_ms if node_a and node_b else None
    return DiffRow(step=step, depth=depth, a=node_a, b=node_b, delta_ms=delta)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _latency_stats(spans: list[SpanRecord]) -> list[LatencyStats]:
    """Latency percentiles per span name (graph nodes, model calls, tools), slowest median first."""
    groups: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        groups[span.name].append(span)
    out = []
    for name, group in groups.items():
        ms = [s.duration_ms for s in group]
        out.append(LatencyStats(
            name=name, count=len(ms), errors=sum(s.status == "ERROR" for s in group), mean_ms=sum(ms) / len(ms),
            p50_ms=percentile(ms, 50), p90_ms=percentile(ms, 90), p95_ms=percentile(ms, 95),
            p99_ms=percentile(ms, 99), max_ms=max(ms),
        ))  # fmt: skip
    return sorted(out, key=lambda s: -s.p50_ms)


def _model_stats(spans: list[SpanRecord]) -> list[ModelStats]:
    """Calls, tokens and mean latency / time to first token per model."""
    groups: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        if span.is_model_call:
            groups[str(span.model)].append(span)
    out = []
    for model, group in sorted(groups.items()):
        ttfts = [float(s.attributes[telemetry.TTFT]) * 1000 for s in group if s.attributes.get(telemetry.TTFT)]
        out.append(ModelStats(
            model=model, calls=len(group),
            input_tokens=sum(int(s.attributes.get(telemetry.INPUT_TOKENS) or 0) for s in group),
            output_tokens=sum(int(s.attributes.get(telemetry.OUTPUT_TOKENS) or 0) for s in group),
            mean_latency_ms=sum(s.duration_ms for s in group) / len(group),
            mean_ttft_ms=sum(ttfts) / len(ttfts) if ttfts else None,
        ))  # fmt: skip
    return out


def stats_rows(stats: TraceStats) -> list[dict[str, Any]]:
    """Stats as long-format rows (section, name, metric, value) for CSV and pandas (`pivot` them back)."""
    rows: list[dict[str, Any]] = []
    run_metrics = stats.model_dump(include={"runs", "failed", "escalated", "escalation_rate", "validated", "valid",
                                            "validity_rate", "mean_aci"})  # fmt: skip
    rows += [{"section": "runs", "name": "all", "metric": k, "value": v} for k, v in run_metrics.items()]
    rows += [{"section": "escalation_reason", "name": k, "metric": "count", "value": v}
             for k, v in stats.escalation_reasons.items()]  # fmt: skip
    for node in stats.nodes:
        rows += [{"section": "latency", "name": node.name, "metric": k, "value": v}
                 for k, v in node.model_dump(exclude={"name"}).items()]  # fmt: skip
    for model in stats.models:
        rows += [{"section": "model", "name": model.model, "metric": k, "value": v}
                 for k, v in model.model_dump(exclude={"model"}).items()]  # fmt: skip
    return rows
