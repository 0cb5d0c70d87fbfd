"""Running exercise requests for the CLI and scripts: validation, one-off runs, and resumable batches.

A batch reads requests from JSON Lines and appends one result line per item to the output file, flushed as it goes.
Each output line carries the key of the request it answers (input line number and item index), so a run that was
interrupted (Ctrl-C, kill, power loss) resumes where it stopped: finished items are skipped, none is lost or doubled.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agents.models.deadline import deadline
from forge.services import Services
from graphs.item.graph import run_item
from graphs.item.state import MAX_USED_WORDS, ItemRequest, ItemResult
from knowledge.errors import ResourceError, UserInputError
from knowledge.items import item_fields, taught_words
from knowledge.levels import parse_level

MAX_COUNT = 1000
Progress = Callable[[ItemResult], None]


class Request(BaseModel):
    """One request as a person or a batch line gives it: `count` items of a type at a level on a topic."""

    level: str
    topic: str
    type: str
    count: int = Field(default=1)
    seed: int | None = None
    source_text: str | None = None


def checked(request: Request) -> ItemRequest:
    """The first item request of a request; UserInputError in one clear sentence if anything is wrong.

    The fields are validated where they become an `ItemRequest` (once: the graph trusts it), the count here.
    """
    level = parse_level(request.level)
    first = ItemRequest.of({"level": level, "topic": request.topic, "type": request.type,
                            "source_text": request.source_text})  # fmt: skip
    if not 1 <= request.count <= MAX_COUNT:
        raise UserInputError(f"A count of {request.count:,} is not accepted; give a count from 1 to {MAX_COUNT:,}.")
    return first


def item_requests(request: Request, session_id: str | None = None) -> list[ItemRequest]:
    """The item requests of a request, validated once, with distinct seeds."""
    base = request.seed if request.seed is not None else int.from_bytes(os.urandom(3), "big")
    return _copies(checked(request), request.count, base, session_id)


def _copies(first: ItemRequest, count: int, seed: int, session_id: str | None = None) -> list[ItemRequest]:
    """`count` runs of a validated item request, seeds counting up from `seed`, each with its own run id."""
    return [
        first.model_copy(update={"seed": seed + i, "session_id": session_id, "run_id": uuid.uuid4().hex})
        for i in range(count)
    ]


def run_request(svc: Services, request: Request, progress: Progress | None = None) -> Iterator[ItemResult]:
    """Run every item of a request through the item graph, one trace each; later items avoid earlier answers."""
    return run_items(svc, item_requests(request), progress)


def run_items(svc: Services, requests: list[ItemRequest], progress: Progress | None = None) -> Iterator[ItemResult]:
    """Run validated item requests of one set through the item graph, one trace each, later ones off earlier words."""
    used: list[str] = []
    for item_request in requests:
        result = _run_in_set(svc, item_request, used)
        if progress:
            progress(result)
        yield result


def _run_in_set(svc: Services, request: ItemRequest, used: list[str]) -> ItemResult:
    """Run one item of a set, steering it off the words in `used`, then add the words it teaches to `used`."""
    graph = svc.item_graph  # built (models loaded) before the item's deadline starts
    with deadline(svc.settings.item_deadline_s, label="item"):  # bounds every model call of the item
        result = run_item(graph, request.model_copy(update={"used_words": used[-MAX_USED_WORDS:]}))
    used.extend(taught_words(result.item))
    return result


def result_record(result: ItemResult) -> dict[str, Any]:
    """One item as scripts read it: the exercise fields flat, then alignment and provenance."""
    fields = item_fields(result.item) if result.item else {}
    instructions = fields.pop("instructions", None)
    return {
        **fields,
        "type": result.type,
        "level": result.level.value,
        "topic": result.topic,
        "instructions": instructions,
        "aci": result.aci,
        "above_level_share": result.above_share,
        "violations": [v.model_dump(mode="json") for v in result.violations],
        "model": result.model,
        "escalated": result.escalated,
        "escalation_reason": result.escalation_reason,
        "attempts": result.attempts,
        "status": result.status,
        "flagged": result.status == "flagged",
        "failure": result.failure,
        "run_id": result.run_id,
        "trace_id": result.trace_id,
        "timings": result.timings,
    }


def keep_for_review(svc: Services, records: list[dict[str, Any]]) -> None:
    """Store items so a teacher can review them by run id later; a store that fails costs only that (a warning)."""
    from forge.reviews.store import ReviewStore

    try:
        ReviewStore(svc.sessions).keep_generated(records)
    except ResourceError as exc:
        logging.getLogger(__name__).warning("The items were not kept for review: %s", exc)


def batch_summary(results: list[ItemResult]) -> dict[str, Any]:
    """What a CLI run prints with --json: a run id, the items, and the failures."""
    items = [result_record(r) for r in results if r.status != "failed"]
    failed = [result_record(r) for r in results if r.status == "failed"]
    return {"run_id": uuid.uuid4().hex, "items": items, "failed": failed}


class BatchLine(BaseModel):
    """One line of a batch input, with its number."""

    number: int
    request: Request | None = None
    checked: ItemRequest | None = Field(default=None, description="The line's first item request, validated.")
    error: str | None = None


def read_batch(path: Path) -> list[BatchLine]:
    """Parse a JSON Lines request file; bad lines are kept with the reason (they become failure records)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(
            f"Cannot read the batch file {path} ({exc.strerror}); give a readable .jsonl file."
        ) from exc
    except UnicodeDecodeError as exc:
        raise UserInputError(f"The batch file {path} is not UTF-8 text; give a JSON Lines file.") from exc
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.strip():
            lines.append(_parse_line(number, raw))
    if not lines:
        raise UserInputError(f"The batch file {path} has no requests; give one JSON object per line.")
    return lines


def _parse_line(number: int, raw: str) -> BatchLine:
    """One batch line, or the reason it cannot be used."""
    try:
        request = Request.model_validate(json.loads(raw))
        return BatchLine(number=number, request=request, checked=checked(request))
    except json.JSONDecodeError as exc:
        return BatchLine(number=number, error=f"line {number} is not JSON: {exc.msg}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return BatchLine(number=number, error=f"line {number}: {where}: {first['msg']}")
    except UserInputError as exc:
        return BatchLine(number=number, error=f"line {number}: {exc}")


def done_keys(out: Path) -> set[str]:
    """Keys of the results already in the output file (a torn last line from a crash is ignored)."""
    if not out.exists():
        return set()
    keys = set()
    for raw in out.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            keys.add(str(json.loads(raw)["key"]))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return keys


def _append(out: Path, record: dict[str, Any]) -> None:
    """Append one result line and make it durable before the next item starts."""
    try:
        with out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise ResourceError(f"Cannot write to {out} ({exc.strerror}); choose a writable --out file.") from exc


def _repair_tail(out: Path) -> None:
    """Cut a torn last line (from a kill mid-write) so appended lines start cleanly."""
    if not out.exists():
        return
    data = out.read_bytes()
    if data and not data.endswith(b"\n"):
        out.write_bytes(data[: data.rfind(b"\n") + 1])


def run_batch(svc: Services, lines: list[BatchLine], out: Path, progress: Progress | None = None) -> dict[str, int]:
    """Run every request line not yet answered in `out`; return counts of what happened."""
    _repair_tail(out)
    finished = done_keys(out)
    counts = {"done_before": len(finished), "generated": 0, "failed": 0, "invalid_lines": 0}
    for line in lines:
        if line.request is None:
            key = f"{line.number}:invalid"
            if key not in finished:
                _append(out, {"key": key, "line": line.number, "status": "invalid", "failure": line.error})
                counts["invalid_lines"] += 1
            continue
        counts = _run_line(svc, line, out, finished, counts, progress)
    return counts


def _run_line(
    svc: Services, line: BatchLine, out: Path, finished: set[str], counts: dict[str, int], progress: Progress | None
) -> dict[str, int]:
    """Generate the items of one request line that are not in the output yet."""
    used: list[str] = []
    for index, item_request in enumerate(_line_requests(line)):
        key = f"{line.number}:{index}"
        if key in finished:
            continue
        result = _run_in_set(svc, item_request, used)
        record = result_record(result)
        _append(out, {"key": key, "line": line.number, **record})
        keep_for_review(svc, [record])
        counts["failed" if result.status == "failed" else "generated"] += 1
        if progress:
            progress(result)
    return counts


def _line_requests(line: BatchLine) -> list[ItemRequest]:
    """The item requests of a valid line, seeded from its line number when it names no seed (resume-stable)."""
    if line.request is None or line.checked is None:
        raise ValueError("a batch line without a request was passed to _line_requests")
    seed = line.request.seed if line.request.seed is not None else line.number * 1000
    return _copies(line.checked, line.request.count, seed)
