"""Exporting stored traces: JSONL (one span per line, for pandas) and OTLP/HTTP (for any OpenTelemetry collector).

Both read the spans back from the store with their original ids, parents and timestamps, so an exported run nests
exactly as it was recorded: one root per run. With a `Redactor`, learner-written text is replaced by salted hashes
before anything leaves the store. The JSONL schema is documented in docs/tracing.md (`JSONL_FIELDS` lists it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from pydantic import BaseModel

from agents import telemetry
from forge.telemetry import SERVICE_NAME, Redactor
from forge.traces import RunFilter, RunSummary, SpanRecord, TraceStore, from_ns
from knowledge.errors import ResourceError, UserInputError

#: Columns of one JSONL line, in order.
JSONL_FIELDS = (
    "trace_id", "span_id", "parent_span_id", "run_id", "run_kind", "name", "kind", "operation", "start_time",
    "end_time", "start_ns", "end_ns", "duration_ms", "status", "status_message", "model", "input_tokens",
    "output_tokens", "service_name", "attributes", "events",
)  # fmt: skip
OTLP_PATH = "/v1/traces"
OTLP_BATCH = 512


class ExportResult(BaseModel):
    """What an export wrote."""

    runs: int
    spans: int
    destination: str
    redacted: bool


def _records(
    store: TraceStore, flt: RunFilter, redactor: Redactor | None
) -> Iterator[tuple[SpanRecord, RunSummary | None]]:
    """The selected spans with their run, redacted when asked."""
    runs = {r.trace_id: r for r in store.runs(flt)}
    for span in store.spans_of(list(runs)):
        if redactor is not None:
            span = _redacted(span, redactor)
        yield span, runs.get(span.trace_id)


def _redacted(span: SpanRecord, redactor: Redactor) -> SpanRecord:
    """A copy of the span with learner text hashed in its attributes and event attributes."""
    events = [e | {"attributes": redactor.attributes(e.get("attributes") or {})} for e in span.events]
    return span.model_copy(update={"attributes": redactor.attributes(span.attributes), "events": events})


# ---------------------------------------------------------------------------------------------------------------
# JSONL


def jsonl_record(span: SpanRecord, run: RunSummary | None) -> dict[str, Any]:
    """One flat JSONL line for a span (see JSONL_FIELDS and docs/tracing.md)."""
    a = span.attributes
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_id,
        "run_id": run.run_id if run else None,
        "run_kind": run.kind if run else None,
        "name": span.name,
        "kind": span.kind,
        "operation": a.get(telemetry.OPERATION),
        "start_time": _iso(span.start_ns),
        "end_time": _iso(span.end_ns),
        "start_ns": span.start_ns,
        "end_ns": span.end_ns,
        "duration_ms": round(span.duration_ms, 3),
        "status": span.status,
        "status_message": span.status_message,
        "model": span.model if span.is_model_call else None,
        "input_tokens": a.get(telemetry.INPUT_TOKENS),
        "output_tokens": a.get(telemetry.OUTPUT_TOKENS),
        "service_name": SERVICE_NAME,
        "attributes": a,
        "events": [{"name": e["name"], "time": _iso(e["time_ns"]), "attributes": e["attributes"]} for e in span.events],
    }


def _iso(ns: int) -> str:
    """A span time as ISO 8601 UTC with microseconds ('2025-03-01T14:30:00.123456Z')."""
    return from_ns(ns).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def export_jsonl(store: TraceStore, flt: RunFilter, out: TextIO, *, redactor: Redactor | None = None) -> ExportResult:
    """Write the selected runs' spans to `out`, one JSON object per line."""
    traces: set[str] = set()
    count = 0
    for span, run in _records(store, flt, redactor):
        out.write(json.dumps(jsonl_record(span, run), ensure_ascii=False) + "\n")
        traces.add(span.trace_id)
        count += 1
    return ExportResult(runs=len(traces), spans=count, destination=getattr(out, "name", "-"), redacted=bool(redactor))


# ---------------------------------------------------------------------------------------------------------------
# OTLP/HTTP


def otlp_endpoint(base_url: str) -> str:
    """The traces endpoint for a collector base URL, as OTEL_EXPORTER_OTLP_ENDPOINT does: `URL/v1/traces`.

    A URL that already ends in /v1/traces is taken as the endpoint itself.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserInputError(
            f"{base_url!r} is not a collector URL; give its base URL, e.g. http://127.0.0.1:4318 "
            "(the exporter posts to URL/v1/traces)."
        )
    url = base_url.strip().rstrip("/")
    return url if url.endswith(OTLP_PATH) else url + OTLP_PATH


def readable_span(span: SpanRecord, resource: Resource) -> ReadableSpan:
    """Rebuild an SDK span with the stored ids, parent, timestamps, attributes, events and status."""
    flags = TraceFlags(TraceFlags.SAMPLED)
    trace_id = int(span.trace_id, 16)
    parent = None
    if span.parent_id:
        parent = SpanContext(trace_id, int(span.parent_id, 16), is_remote=False, trace_flags=flags)
    events = [Event(e["name"], e.get("attributes") or {}, timestamp=e["time_ns"]) for e in span.events]
    return ReadableSpan(
        name=span.name,
        context=SpanContext(trace_id, int(span.span_id, 16), is_remote=False, trace_flags=flags),
        parent=parent,
        resource=resource,
        attributes=span.attributes,
        events=events,
        kind=SpanKind[span.kind],
        status=Status(StatusCode[span.status], span.status_message if span.status == "ERROR" else None),
        start_time=span.start_ns,
        end_time=span.end_ns,
        instrumentation_scope=InstrumentationScope(span.scope or telemetry.TRACER_NAME),
    )


def parse_headers(pairs: Sequence[str]) -> dict[str, str]:
    """HTTP headers from 'Name=value' strings (as in OTEL_EXPORTER_OTLP_HEADERS), e.g. for a collector's auth."""
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UserInputError(f"Header {pair!r} is not Name=value; give e.g. --header 'Authorization=Basic …'.")
        headers[name.strip()] = value.strip()
    return headers


def export_otlp(
    store: TraceStore,
    flt: RunFilter,
    base_url: str,
    *,
    redactor: Redactor | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 10.0,
) -> ExportResult:
    """Post the selected runs' spans to a collector over OTLP/HTTP (protobuf), in batches."""
    endpoint = otlp_endpoint(base_url)
    resource = Resource.create({"service.name": SERVICE_NAME})
    traces: set[str] = set()
    count = 0
    with httpx.Client(timeout=timeout_s, headers=headers or {}) as client:
        for batch in _batches(_records(store, flt, redactor), OTLP_BATCH):
            _post(client, endpoint, [readable_span(s, resource) for s in batch])
            traces.update(s.trace_id for s in batch)
            count += len(batch)
    return ExportResult(runs=len(traces), spans=count, destination=endpoint, redacted=bool(redactor))


def _batches(records: Iterator[tuple[SpanRecord, RunSummary | None]], size: int) -> Iterator[list[SpanRecord]]:
    """Spans in lists of at most `size`."""
    batch: list[SpanRecord] = []
    for span, _ in records:
        batch.append(span)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _post(client: httpx.Client, endpoint: str, spans: Sequence[ReadableSpan]) -> None:
    """Send one ExportTraceServiceRequest; a collector that cannot be reached or refuses it is a ResourceError."""
    body = encode_spans(spans).SerializeToString()
    try:
        response = client.post(endpoint, content=body, headers={"Content-Type": "application/x-protobuf"})
    except httpx.HTTPError as exc:
        raise ResourceError(
            f"Cannot reach the OTLP collector at {endpoint} ({exc or type(exc).__name__}); "
            "check that it is running and give its base URL, e.g. http://127.0.0.1:4318."
        ) from exc
    if response.status_code >= 400:
        raise ResourceError(
            f"The OTLP collector at {endpoint} refused the traces (HTTP {response.status_code}: "
            f"{response.text[:200].strip() or 'no detail'}); check the URL and the collector's OTLP/HTTP receiver."
        )
