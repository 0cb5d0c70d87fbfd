"""Recording traces: the OpenTelemetry provider, the span store it writes, and redaction of learner text.

`setup_tracing(settings)` installs a TracerProvider (service.name "pedagogical-forge") whose BatchSpanProcessor hands
finished spans to `StoreSpanExporter` on a background thread, so a run only pays for creating spans, never for
writing them. The store is `traces.sqlite` in the data dir (WAL), or PostgreSQL when `postgres_url` is set (tables
`forge_spans`, `forge_runs`, `forge_trace_meta`), so every process of a deployment writes one store; the SQL is the
same for both (`forge.trace_db`). A `spans` table has one row per span and a `runs` table one row per root span with
the fields `forge trace list` filters on. A store that cannot be written (disk full, database down, corrupt file)
never fails a learner's run: the lost spans are counted (`trace_health()`, for /healthz; `forge trace …` prints one
warning line), warned about once in the log, and the next batch tries again. Queries over the store live in
`forge.traces`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import NoOpTracerProvider

from agents import telemetry
from forge.settings import APP_NAME, Settings
from forge.trace_db import Location, StoreVersionError, TraceDB, TraceDBError, describe, open_db
from knowledge.errors import ResourceError

log = logging.getLogger(__name__)

DB_NAME = "traces.sqlite"
SALT_NAME = "trace-salt"
SCHEMA_VERSION = 1
SERVICE_NAME = APP_NAME
SALT_KEY = "redaction_salt"
__all__ = ["StoreVersionError", "TraceDBError"]  # re-exported: callers catch them from here

SCHEMA = """
CREATE TABLE IF NOT EXISTS {meta} (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {spans} (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_ns {int64} NOT NULL,
    end_ns {int64} NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT,
    attributes TEXT NOT NULL,
    events TEXT NOT NULL,
    scope TEXT,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS {spans}_start ON {spans} (start_ns);
CREATE TABLE IF NOT EXISTS {runs} (
    trace_id TEXT PRIMARY KEY,
    root_span_id TEXT NOT NULL,
    run_id TEXT,
    kind TEXT,
    name TEXT NOT NULL,
    conversation_id TEXT,
    level TEXT,
    exercise_type TEXT,
    models TEXT NOT NULL,
    escalated INTEGER NOT NULL,
    escalation_reasons TEXT NOT NULL,
    failed INTEGER NOT NULL,
    error TEXT,
    valid INTEGER,
    aci {float},
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    model_calls INTEGER NOT NULL,
    span_count INTEGER NOT NULL,
    start_ns {int64} NOT NULL,
    end_ns {int64} NOT NULL
);
CREATE INDEX IF NOT EXISTS {runs}_start ON {runs} (start_ns);
CREATE INDEX IF NOT EXISTS {runs}_conversation ON {runs} (conversation_id);
CREATE INDEX IF NOT EXISTS {runs}_run_id ON {runs} (run_id);
"""

SPAN_COLUMNS = (
    "trace_id", "span_id", "parent_id", "name", "kind", "start_ns", "end_ns", "status", "status_message",
    "attributes", "events", "scope",
)  # fmt: skip
RUN_COLUMNS = (
    "trace_id", "root_span_id", "run_id", "kind", "name", "conversation_id", "level", "exercise_type", "models",
    "escalated", "escalation_reasons", "failed", "error", "valid", "aci", "input_tokens", "output_tokens",
    "model_calls", "span_count", "start_ns", "end_ns",
)  # fmt: skip


def trace_db_path(data_dir: Path) -> Path:
    """Where the SQLite trace store of a data dir lives."""
    return data_dir.expanduser() / DB_NAME


def trace_location(settings: Settings) -> Location:
    """Where the traces of these settings go: PostgreSQL when `postgres_url` is set, else the data dir's file."""
    return settings.postgres_url or trace_db_path(settings.data_dir)


#: PostgreSQL URLs of the data dirs whose settings were given to `setup_tracing`, so code that only knows a data
#: dir (`TraceStore.for_data_dir`, `Redactor.for_data_dir`) reads the store those settings write.
_postgres_of: dict[Path, str] = {}


def location_for_data_dir(data_dir: Path) -> Location:
    """The trace store of a data dir: the PostgreSQL store its settings named, else its SQLite file."""
    return _postgres_of.get(_key(data_dir)) or trace_db_path(data_dir)


def _key(data_dir: Path) -> Path:
    """A data dir as a dictionary key."""
    return data_dir.expanduser().absolute()


def connect(location: Location, *, create: bool) -> TraceDB:
    """Open the trace store (creating the schema when `create`); raises TraceDBError when it cannot be used.

    SQLite readers pass create=False and must check the file exists first.
    """
    return open_db(location, create=create)


# ---------------------------------------------------------------------------------------------------------------
# Writing spans


def span_row(span: ReadableSpan) -> tuple[Any, ...]:
    """One `spans` row for a finished span."""
    ctx = span.get_span_context()
    parent = span.parent
    events = [{"name": e.name, "time_ns": e.timestamp, "attributes": _plain(e.attributes or {})} for e in span.events]
    return (
        format(ctx.trace_id, "032x") if ctx else "",
        format(ctx.span_id, "016x") if ctx else "",
        format(parent.span_id, "016x") if parent is not None else None,
        span.name,
        span.kind.name,
        span.start_time or 0,
        span.end_time or span.start_time or 0,
        span.status.status_code.name,
        span.status.description,
        json.dumps(_plain(span.attributes or {}), ensure_ascii=False),
        json.dumps(events, ensure_ascii=False),
        span.instrumentation_scope.name if span.instrumentation_scope else None,
    )


def _plain(attributes: Any) -> dict[str, Any]:
    """Attributes as a JSON-ready dict (OTel keeps sequences as tuples)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dict(attributes).items()}


def write_spans(db: TraceDB, spans: Sequence[ReadableSpan]) -> None:
    """Insert spans and refresh the `runs` rows of the traces they belong to, in one transaction."""
    rows = [span_row(s) for s in spans]
    with db.write():
        db.many(db.sql(_upsert("spans", SPAN_COLUMNS, ("trace_id", "span_id"))), rows)
        refresh_runs(db, {row[0] for row in rows})


def refresh_runs(db: TraceDB, trace_ids: Iterable[str]) -> None:
    """Recompute the `runs` row of each trace from all its stored spans.

    Children may arrive before the root, and one trace's spans in several batches.
    """
    select = db.sql(f"SELECT {', '.join(SPAN_COLUMNS)} FROM {{spans}} WHERE trace_id = ?")
    upsert = db.sql(_upsert("runs", RUN_COLUMNS, ("trace_id",)))
    for trace_id in sorted(trace_ids):
        rows = db.rows(select, (trace_id,))
        summary = summarize_trace([dict(zip(SPAN_COLUMNS, r, strict=True)) for r in rows])
        if summary is not None:
            db.rows(upsert, tuple(summary[c] for c in RUN_COLUMNS))


def _upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """INSERT … ON CONFLICT DO UPDATE of every column (both engines speak it), with the table as a placeholder."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {{{table}}} VALUES ({marks}) ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


def summarize_trace(spans: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The `runs` row of one trace: root fields, models used, tokens, escalation, failure, last validator verdict.

    Returns None while the root span has not arrived yet.
    """
    root = _root_of(spans)
    if root is None:
        return None
    attrs = [json.loads(s["attributes"]) for s in spans]
    root_attrs = json.loads(root["attributes"])
    calls = [a for a in attrs if a.get(telemetry.INPUT_TOKENS) is not None or a.get(telemetry.MODEL_ID)]
    reasons = _escalation_reasons(spans)
    verdict = _last_verdict(spans, attrs)
    failed = root["status"] == "ERROR" or bool(root_attrs.get(telemetry.RUN_FAILED))
    return {
        "trace_id": root["trace_id"],
        "root_span_id": root["span_id"],
        "run_id": root_attrs.get(telemetry.RUN_ID),
        "kind": root_attrs.get(telemetry.RUN_KIND),
        "name": root["name"],
        "conversation_id": root_attrs.get(telemetry.CONVERSATION_ID),
        "level": root_attrs.get(telemetry.LEVEL),
        "exercise_type": root_attrs.get(telemetry.EXERCISE_TYPE),
        "models": json.dumps(sorted({str(_model_of(a)) for a in calls if _model_of(a)})),
        "escalated": int(bool(reasons) or bool(root_attrs.get(telemetry.ESCALATED))),
        "escalation_reasons": json.dumps(reasons, ensure_ascii=False),
        "failed": int(failed),
        "error": root["status_message"] or root_attrs.get(telemetry.RUN_FAILURE_REASON),
        "valid": None if verdict is None else int(bool(verdict.get(telemetry.VALID))),
        "aci": None if verdict is None else verdict.get(telemetry.ACI),
        "input_tokens": sum(int(a.get(telemetry.INPUT_TOKENS) or 0) for a in calls),
        "output_tokens": sum(int(a.get(telemetry.OUTPUT_TOKENS) or 0) for a in calls),
        "model_calls": len(calls),
        "span_count": len(spans),
        "start_ns": root["start_ns"],
        "end_ns": root["end_ns"],
    }


def _root_of(spans: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The run's root: the span without a parent (or whose parent lies outside this trace)."""
    ids = {s["span_id"] for s in spans}
    roots = [s for s in spans if s["parent_id"] is None or (s["parent_id"] not in ids and _is_run(s))]
    return min(roots, key=lambda s: s["start_ns"]) if roots else None


def _is_run(span: dict[str, Any]) -> bool:
    """Whether a span was opened by `run_span`."""
    return telemetry.RUN_KIND in json.loads(span["attributes"])


def _model_of(attrs: dict[str, Any]) -> str | None:
    """The model a model-call span used: our full model id, else the response/request model name."""
    return attrs.get(telemetry.MODEL_ID) or attrs.get(telemetry.RESPONSE_MODEL) or attrs.get(telemetry.REQUEST_MODEL)


def _escalation_reasons(spans: list[dict[str, Any]]) -> list[str]:
    """Reasons of every escalation decision in the trace, in time order."""
    events = [e for s in spans for e in json.loads(s["events"]) if e["name"] == telemetry.DECISION_EVENT]
    events.sort(key=lambda e: e["time_ns"])
    escalations = [e["attributes"] for e in events if e["attributes"].get(telemetry.ESCALATED)]
    return [str(a.get(telemetry.DECISION_REASON, "")) for a in escalations]


def _last_verdict(spans: list[dict[str, Any]], attrs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Attributes of the last-ending span with a validator verdict (the root only mirrors it, so children win)."""
    pairs = zip(spans, attrs, strict=True)
    found = [(s["parent_id"] is not None, s["end_ns"], a) for s, a in pairs if telemetry.VALID in a]
    return max(found, key=lambda f: (f[0], f[1]))[2] if found else None


class TraceLoss:
    """What this process could not write to its trace stores: a person sees it in `forge trace …` and /healthz."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.dropped_spans = 0
        self.error: str | None = None
        self.ok = True

    def failed(self, location: Location, exc: Exception, count: int) -> None:
        """Count `count` lost spans and remember why."""
        with self._lock:
            self.dropped_spans += count
            self.error = f"{describe(location)}: {exc}"
            self.ok = False

    def written(self) -> None:
        """A batch was stored: the store works again (the count and the last error stay)."""
        self.ok = True

    def health(self) -> dict[str, Any]:
        """Ok (the last write succeeded), the spans lost in this process and the last error."""
        with self._lock:
            return {"ok": self.ok, "dropped_spans": self.dropped_spans, "error": self.error}


#: The trace loss of this process, over every tracing instance it started.
LOSS = TraceLoss()


def trace_health() -> dict[str, Any]:
    """The trace store's health for this process: {"ok", "dropped_spans", "error", "store"} (for /healthz).

    `ok` is False while the last batch could not be written (disk full, database down); `dropped_spans` counts every
    span lost since the process started; `error` is the last failure, kept after the store recovers.
    """
    active = active_tracing()
    return LOSS.health() | {"store": describe(active.location) if active else None}


def loss_warning() -> str | None:
    """One sentence about spans this process could not save, or None when nothing was lost."""
    health = LOSS.health()
    if not health["dropped_spans"]:
        return None
    return (f"Warning: {health['dropped_spans']} trace spans of this process could not be saved ({health['error']}); "
            "the runs themselves completed.")  # fmt: skip


class StoreSpanExporter(SpanExporter):
    """Writes batches of finished spans to the trace store (SQLite or PostgreSQL), never failing a run.

    Failures are counted in `LOSS`, warned about once and swallowed; a failed batch drops the connection, so the
    next one reconnects.
    """

    def __init__(self, location: Location) -> None:
        self.location = location
        self._db: TraceDB | None = None
        self._lock = threading.Lock()
        self.failures = 0
        self.dropped_spans = 0
        self.last_error: str | None = None

    @property
    def path(self) -> Location:
        """The store (kept under its old name)."""
        return self.location

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Store one batch (called on the processor's background thread, and on flush)."""
        try:
            with self._lock:
                if self._db is None:
                    self._db = connect(self.location, create=True)
                write_spans(self._db, spans)
            LOSS.written()
            return SpanExportResult.SUCCESS
        except Exception as exc:  # any store failure (disk full, database down, a bug) must stay out of the run
            self._fail(exc, len(spans))
            return SpanExportResult.FAILURE

    def _fail(self, exc: Exception, count: int) -> None:
        """Count the lost spans, warn once per exporter, and drop the connection so the next batch retries."""
        self.failures += 1
        self.dropped_spans += count
        self.last_error = str(exc)
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
        LOSS.failed(self.location, exc, count)
        if self.failures == 1:
            log.warning("Traces are not being saved to %s (%s); runs go on without them.", describe(self.location), exc)
        log.debug("dropped %d spans", count, exc_info=exc)

    def shutdown(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here: every export commits."""
        return True


#: The former name, from when the store was SQLite only.
SqliteSpanExporter = StoreSpanExporter


# ---------------------------------------------------------------------------------------------------------------
# The provider


@dataclass
class Tracing:
    """The tracing of one application instance: its provider and where its spans go.

    Several `Services` of one process that share a data dir share one instance; each releases it when it closes,
    and the last release flushes and stops it.
    """

    provider: TracerProvider
    exporter: StoreSpanExporter
    users: int = 0

    @property
    def location(self) -> Location:
        """The trace store this instance writes: a SQLite file or a PostgreSQL URL."""
        return self.exporter.location

    @property
    def path(self) -> Location:
        """The trace store this instance writes (the name from when it was always a file)."""
        return self.exporter.location

    @property
    def dropped_spans(self) -> int:
        """Spans this instance could not write (disk full, database down)."""
        return self.exporter.dropped_spans

    def flush(self) -> bool:
        """Write every finished span now (e.g. before reading the store back)."""
        return self.provider.force_flush()

    def release(self) -> None:
        """Give up one use; the last one shuts tracing down."""
        with _setup_lock:
            self.users -= 1
            last = self.users <= 0
        if last:
            self.shutdown()

    def shutdown(self) -> None:
        """Flush and stop this instance; spans go back to the instance started before it, if that is still in use."""
        with _setup_lock:
            if self in _in_use:
                _in_use.remove(self)
            _activate_top()
        self.provider.shutdown()
        if self.exporter.dropped_spans:
            log.warning("%d trace spans were not saved to %s (last error: %s).", self.exporter.dropped_spans,
                        describe(self.location), self.exporter.last_error)  # fmt: skip


#: Instances still in use, oldest first; the last one receives the project's spans.
_in_use: list[Tracing] = []
#: Set when the latest `setup_tracing` call had tracing off: spans are recorded nowhere until tracing is set up again.
_switched_off = False
_setup_lock = threading.Lock()


def _activate_top() -> None:
    """Route the project's spans to the most recently started instance still in use (call under the lock)."""
    if _switched_off:
        telemetry.set_tracer_provider(NoOpTracerProvider())
    else:
        telemetry.set_tracer_provider(_in_use[-1].provider if _in_use else None)


def setup_tracing(settings: Settings, *, schedule_delay_ms: int = 1000) -> Tracing | None:
    """Start recording traces into the data dir's store, or return None when the `tracing` setting is off.

    Idempotent: a second call for the same store returns the running instance (one more user, see
    `Tracing.release`). A call for another data dir starts a second instance and routes spans to it until it is
    released, then back to the first (so two application instances in one process, as in the tests, both record).
    The latest call decides: with tracing off nothing is recorded (not even into an earlier instance's store) until
    tracing is set up again. Nothing is opened or written until the first spans are exported.
    """
    global _switched_off
    telemetry.set_capture_content(settings.trace_content)
    with _setup_lock:
        _switched_off = not settings.tracing
        if _switched_off:
            _remember(settings)
            _activate_top()
            return None
        _remember(settings)
    location = trace_location(settings)
    with _setup_lock:
        current = next((t for t in _in_use if t.location == location), None)
        if current is None:
            current = _new_tracing(location, schedule_delay_ms)
        else:
            _in_use.remove(current)
        _in_use.append(current)
        current.users += 1
        _activate_top()
    return current


def _remember(settings: Settings) -> None:
    """Note which store the data dir's traces go to, for readers that only know the data dir."""
    if settings.postgres_url:
        _postgres_of[_key(settings.data_dir)] = settings.postgres_url
    else:
        _postgres_of.pop(_key(settings.data_dir), None)


def _new_tracing(location: Location, schedule_delay_ms: int) -> Tracing:
    """A provider with a batch processor feeding the store's exporter."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        service_version = version(APP_NAME)
    except PackageNotFoundError:
        service_version = "0"
    resource = Resource.create({"service.name": SERVICE_NAME, "service.version": service_version})
    exporter = StoreSpanExporter(location)
    # shutdown_on_exit flushes at interpreter exit too, in case a caller never shuts down.
    provider = TracerProvider(resource=resource, shutdown_on_exit=True)
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_queue_size=16384, schedule_delay_millis=schedule_delay_ms)
    )
    return Tracing(provider=provider, exporter=exporter)


def active_tracing() -> Tracing | None:
    """The tracing instance spans currently go to, if any."""
    return _in_use[-1] if _in_use else None


def shutdown_tracing(instance: Tracing | None = None) -> None:
    """Flush and stop tracing: the given instance, or the active one. Safe to call when tracing is off."""
    target = instance if instance is not None else active_tracing()
    if target is not None:
        target.shutdown()


# ---------------------------------------------------------------------------------------------------------------
# Redaction


#: Salts read from trace databases in this process, by URL (a salt never changes once written).
_db_salts: dict[str, bytes] = {}


class Redactor:
    """Replaces learner-written text in span attributes by salted hashes (`sha256:<hex>`).

    The salt is created once per install and kept with its traces: a file in the data dir with SQLite, a row of the
    trace database with PostgreSQL (so every machine of one deployment hashes alike). The same text always maps to
    the same hash within an install (runs can still be compared) while the hashes cannot be matched against another
    install's.
    """

    def __init__(self, salt: bytes) -> None:
        self.salt = salt

    @classmethod
    def for_settings(cls, settings: Settings) -> Redactor:
        """The redactor of the install these settings describe."""
        location = trace_location(settings)
        return cls.for_data_dir(settings.data_dir) if isinstance(location, Path) else cls.in_database(location)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Redactor:
        """The redactor of a data dir: its salt file, or the database salt when its settings use PostgreSQL."""
        location = location_for_data_dir(data_dir)
        if not isinstance(location, Path):
            return cls.in_database(location)
        path = data_dir.expanduser() / SALT_NAME
        try:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
                path.chmod(0o600)
            return cls(bytes.fromhex(path.read_text(encoding="ascii").strip()))
        except (OSError, ValueError) as exc:
            raise ResourceError(
                f"The redaction salt {path} cannot be created or read ({exc}); check the data dir, or delete a "
                "damaged salt file (hashes then change)."
            ) from exc

    @classmethod
    def in_database(cls, location: Location) -> Redactor:
        """The redactor whose salt is kept in the trace database, created by the first process that asks."""
        if str(location) in _db_salts:
            return cls(_db_salts[str(location)])
        try:
            db = connect(location, create=True)
            try:
                with db.write():
                    insert = "INSERT INTO {meta} VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
                    db.rows(db.sql(insert), (SALT_KEY, secrets.token_hex(32)))
                    (value,) = db.rows(db.sql("SELECT value FROM {meta} WHERE key = ?"), (SALT_KEY,))[0]
            finally:
                db.close()
            salt = _db_salts[str(location)] = bytes.fromhex(str(value).strip())
            return cls(salt)
        except (TraceDBError, ValueError) as exc:
            raise ResourceError(
                f"The redaction salt in {describe(location)} cannot be created or read ({exc}); check that the "
                "database is reachable."
            ) from exc

    def hash(self, text: Any) -> str:
        """The salted hash of one piece of learner text."""
        raw = text if isinstance(text, str) else json.dumps(text, sort_keys=True, ensure_ascii=False)
        return "sha256:" + hashlib.sha256(self.salt + raw.encode("utf-8")).hexdigest()

    def attributes(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A copy of a span's attributes with every piece of learner text hashed."""
        fields = set(telemetry.LEARNER_FIELDS) | set(attrs.get(telemetry.LEARNER_FIELDS_ATTR) or [])
        out: dict[str, Any] = {}
        for key, value in attrs.items():
            if key in telemetry.LEARNER_ATTRIBUTES:
                out[key] = self.hash(value)
            elif isinstance(value, str) and value[:1] in "[{":
                out[key] = self._json_text(value, fields)
            else:
                out[key] = value
        return out

    def _json_text(self, text: str, fields: set[str]) -> str:
        """Redact inside an attribute that holds JSON (messages, node state, tool arguments)."""
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return text
        return json.dumps(self._walk(value, fields), ensure_ascii=False)

    def _walk(self, value: Any, fields: set[str]) -> Any:
        """Hash learner fields and the text of user messages, at any depth."""
        if isinstance(value, list):
            return [self._walk(v, fields) for v in value]
        if not isinstance(value, dict):
            return value
        if value.get("role") == "user" or value.get("type") == "human":
            return self._user_message(value, fields)
        return {k: self.hash(v) if k in fields and v is not None else self._walk(v, fields) for k, v in value.items()}

    def _user_message(self, message: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        """A user (learner) message or turn: its content, text and text parts hashed, structure kept."""
        out = dict(message)
        for key in ("content", "text"):
            if isinstance(out.get(key), str):
                out[key] = self.hash(out[key])
        if isinstance(out.get("parts"), list):
            out["parts"] = [self._part(p) for p in out["parts"]]
        kept = ("role", "type", "content", "text", "parts")
        return {k: v if k in kept else self._walk(v, fields) for k, v in out.items()}

    def _part(self, part: Any) -> Any:
        """One message part in the GenAI shape: its text content hashed."""
        if isinstance(part, dict) and isinstance(part.get("content"), str):
            return part | {"content": self.hash(part["content"])}
        return part
