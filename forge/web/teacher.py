"""The teacher pages: a teacher's exercise sets, each item with its evidence and reviews, exports, and the class.

- `/teach`: the teacher's sets, and two ways to make one: a conversation (the exercise session's own words, sent to
  `/api/exercises`) or a form (level, topic, type, count) whose sentence is composed here and checked with the
  session's parser before it is sent, so the set made is the one the form asked for.
- `/teach/sets/{session}`: each item as a card (what the learner sees, the key, its status) with its evidence — what
  the item and its trace recorded, and the words, constructions and ACI parts the alignment checker finds in it
  now — its reviews, and forms to accept, reject with a rubric reason, or edit it in place (the review service
  `forge review` uses, with the same checks); the set's version history and a conversation box to refine it.
- `/teach/sets/{session}/export?format=F`: the set as a download in any classroom format `forge export` writes.
- `/teach/class`: the learners of the teacher's class with their tutoring sessions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from forge.web import api
from forge.web.accounts import Login, User
from forge.web.app import page
from forge.web.security import Forbidden, NotFound, check_own_session, role, web
from forge.web.traces import visible_view
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from agents.exercise_session.sets import ExerciseSet, SessionItem, SetVersion
    from forge.sessions.store import SessionInfo
    from forge.traces import SpanNode
    from forge.web.app import WebContext
    from knowledge.aci import AlignmentReport
    from knowledge.level_estimator import WordEvidence
    from knowledge.levels import Level
    from knowledge.reviews import Review

router = APIRouter(include_in_schema=False)
TEACHER = role("teacher")
LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
#: How the form's count is said in a request ("three gap fills ...").
COUNT_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: How each exercise type is named in a request (singular, plural), as the session's parser reads it.
TYPE_PHRASES: dict[str, tuple[str, str]] = {
    "gap_fill": ("gap fill", "gap fills"),
    "open_gap": ("open gap", "open gaps"),
    "word_formation": ("word formation item", "word formation items"),
    "reorder": ("reorder item", "reorder items"),
    "error_correction": ("error correction item", "error correction items"),
    "matching": ("matching exercise", "matching exercises"),
    "reading": ("reading text", "reading texts"),
}
MAX_TOPIC = 60
#: What a download of each format is served as.
MEDIA_TYPES = {
    "moodle": "application/xml", "gift": "text/plain; charset=utf-8", "qti": "application/zip",
    "anki": "application/octet-stream", "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "markdown": "text/markdown; charset=utf-8", "json": "application/json",
}  # fmt: skip
#: Item fields a teacher does not edit in place (the set's type, level and topic stay the item's).
FIXED_FIELDS = ("type", "level", "topic")
#: Longest edited field accepted.
MAX_FIELD_CHARS = 5000


class FormRequest(BaseModel):
    """POST /teach/sets: the form's choices (strings, as a browser form sends them)."""

    level: str = Field(default="", max_length=8)
    topic: str = Field(default="", max_length=200)
    type: str = Field(default="", max_length=32)
    count: int | str = Field(default=3)
    wait: bool = True


@dataclass
class Evidence:
    """What is known about how an item was made: recorded with it, recorded in its trace, and re-checked now."""

    aci: float | None
    violations: list[str]
    run_id: str | None
    trace_id: str | None
    traced: bool = False
    models: list[str] = field(default_factory=list)
    escalated: bool = False
    escalation_reason: str | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    all_violations: list[dict[str, Any]] = field(default_factory=list)
    above_share: float | None = None
    target_words: list[dict[str, Any]] = field(default_factory=list)
    target_constructions: list[dict[str, Any]] = field(default_factory=list)
    check: AlignmentReport | None = None
    words: list[WordEvidence] = field(default_factory=list)
    constructions: list[ConstructionRow] = field(default_factory=list)


@dataclass
class ConstructionRow:
    """A CEFR-J construction the checker found in an item: its name, level, and where it occurs."""

    item_id: str
    name: str
    level: Level | None
    examples: list[str]


@dataclass
class EditField:
    """One field of the in-place edit form: its name, how it is typed, and its current text."""

    name: str
    kind: str  # "line", "text" (a textarea), "list" (one entry a line) or "json"
    value: str

    @property
    def rows(self) -> int:
        """How many rows its textarea shows: enough for the value (about 50 characters a row), 2 to 12."""
        lines = self.value.split("\n")
        return max(2, min(12, sum(1 + len(line) // 50 for line in lines)))


@dataclass
class ReviewView:
    """One stored review as a card lists it."""

    review: Review
    reason_text: str
    edited_lines: list[str]
    edited_key: str | None
    edit_problems: list[str]


@dataclass
class Card:
    """One item of the shown version, with everything its card shows."""

    number: int
    item: SessionItem
    title: str
    lines: list[str]
    key: str
    evidence: Evidence
    reviews: list[ReviewView]
    latest: list[Review]
    fields: list[EditField]


@dataclass
class LearnerRow:
    """One learner of the class: their tutoring sessions, newest first."""

    user: User
    sessions: list[SessionInfo]

    @property
    def last_active(self) -> datetime | None:
        """When the learner last had a tutoring turn (their newest session's update)."""
        return self.sessions[0].updated if self.sessions else None

    @property
    def level(self) -> str | None:
        """The level the newest session recorded."""
        return next((s.level for s in self.sessions if s.level), None)


# the teacher's sets


@router.get("/teach")
def teach_page(request: Request, login: Login = Depends(TEACHER)) -> Response:
    """The teacher's exercise sets, and the two ways to make a new one."""
    from knowledge.render import TYPE_TITLES

    ctx = web(request)
    types = [(key, TYPE_TITLES[key]) for key in TYPE_PHRASES]
    return page(request, "teacher/index.html", sets=own_sets(ctx, login), levels=LEVELS, types=types,
                counts=range(1, len(COUNT_WORDS) + 1))  # fmt: skip


def own_sets(ctx: WebContext, login: Login) -> list[tuple[SessionInfo, int]]:
    """The login's exercise sessions, most recently changed first, each with its current number of items."""
    found = []
    for ident in ctx.accounts.owned_by("session", [login.user.name]):
        try:
            info = ctx.services.sessions.get(ident, kind="exercises")
        except UserInputError:
            continue  # a tutoring session, or one deleted since
        versions = ctx.exercises.versions(info.id)
        found.append((info, len(versions[-1].set.items) if versions else 0))
    return sorted(found, key=lambda pair: pair[0].updated, reverse=True)


@router.post("/teach/sets")
def new_set_by_form(body: FormRequest, request: Request, login: Login = Depends(TEACHER)) -> Response:
    """Make a set from the form: its sentence goes to the exercise session as if the teacher had typed it."""
    say = compose_request(body.level, body.topic, body.type, body.count)
    return api.exercises_turn(api.ExercisesBody(say=say, wait=body.wait), request, login)


def compose_request(level: str, topic: str, kind: str, count: int | str) -> str:
    """The session sentence for a form ("three gap fills about food at A2"), checked with the session's parser."""
    wanted_level = level.strip().upper()
    if wanted_level not in LEVELS:
        raise UserInputError(f"Choose a level from {LEVELS[0]} to {LEVELS[-1]}.")
    if kind not in TYPE_PHRASES:
        raise UserInputError(f"Choose an exercise type: {', '.join(TYPE_PHRASES)}.")
    number = _count(count)
    words = " ".join(topic.split())
    if not words:
        raise UserInputError("Give a topic, for example food, travel or a job interview.")
    if len(words) > MAX_TOPIC:
        raise UserInputError(f"A topic is at most {MAX_TOPIC} characters; say it in a few words.")
    phrase = TYPE_PHRASES[kind][0 if number == 1 else 1]
    say = f"{COUNT_WORDS[number - 1]} {phrase} about {words} at {wanted_level}"
    _check_reading(say, number, kind, wanted_level, words)
    return say


def _count(count: int | str) -> int:
    """The form's count as a number from 1 to 10."""
    text = str(count).strip()
    if not text.isdigit() or not 1 <= int(text) <= len(COUNT_WORDS):
        raise UserInputError(f"Choose how many items: 1 to {len(COUNT_WORDS)}.")
    return int(text)


def _check_reading(say: str, count: int, kind: str, level: str, topic: str) -> None:
    """Refuse a sentence the session would read differently from the form (a topic with command words in it)."""
    from agents.exercise_session.commands import normalise, parse

    commands = parse(say).commands
    expected = re.sub(r"^(the|a|an)\s+", "", normalise(topic))
    read = commands[0] if len(commands) == 1 else None
    if (read is None or read.action != "add" or read.count != count or read.types != [kind]
            or str(read.level) != level or read.topic != expected):  # fmt: skip
        raise UserInputError(
            f"The topic {topic!r} cannot be sent as a plain topic (use letters, spaces and ' & / - only, without "
            "command words such as 'only', 'save' or 'then'); reword it, or ask in the conversation box instead."
        )


# one set


@router.get("/teach/sets/{session}")
def set_page(
    session: str, request: Request, version: str | None = None, reviewed: str | None = None,
    login: Login = Depends(TEACHER),
) -> Response:  # fmt: skip
    """One set at a version: its items as cards with evidence and reviews, its history, export and refinement."""
    ctx = web(request)
    info = own_set(ctx, login, session)
    context = set_context(ctx, login, info, _version(version))
    done = int(reviewed) if reviewed and reviewed.isdigit() else None
    return page(request, "teacher/set.html", **context, reviewed=done, error=None, error_item=None, draft={})


def own_set(ctx: WebContext, login: Login, session: str) -> SessionInfo:
    """The login's exercise session with exactly this id (NotFound for anything else, someone else's included)."""
    try:
        info = ctx.services.sessions.get(session, kind="exercises")
    except UserInputError as exc:
        raise NotFound(f"No exercise set {session!r} of yours.") from exc
    if info.id != session:  # a prefix names a set on the command line, not in a link
        raise NotFound(f"No exercise set {session!r} of yours.")
    check_own_session(ctx, login, info.id)
    return info


def _version(text: str | None) -> int | None:
    """The ?version= parameter as a number (None: the current version)."""
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise UserInputError(f"version must be a whole number, not {text[:20]!r}.")
    return int(text)


def set_context(ctx: WebContext, login: Login, info: SessionInfo, version: int | None) -> dict[str, Any]:
    """Everything the set page shows for one version of a set."""
    from agents.exercise_session.formats import FORMATS
    from knowledge.reviews import REASONS

    _, current, chosen = ctx.exercises.show(info.id, version)
    number = current if version is None else version
    versions: list[SetVersion] = ctx.exercises.versions(info.id)
    return {
        "info": info, "number": number, "current": current, "set": chosen, "versions": list(reversed(versions)),
        "cards": cards(ctx, login, info.id, chosen), "formats": [(f.name, f.description) for f in FORMATS.values()],
        "reasons": REASONS,
    }  # fmt: skip


def cards(ctx: WebContext, login: Login, session_id: str, chosen: ExerciseSet) -> list[Card]:
    """The cards of a version's items, with each item's reviews from every version of the set."""
    from forge.reviews.store import ReviewFilter, ReviewStore
    from knowledge.render import TYPE_TITLES, key_line, learner_lines
    from knowledge.reviews import latest

    reviews = ReviewStore(ctx.services.sessions).find(ReviewFilter(session_id=session_id))
    traces: dict[str, dict[str, SpanNode]] = {}
    found = []
    for n, item in enumerate(chosen.items, 1):
        typed = item.item
        mine = [r for r in reviews if r.item_id == item.id]
        found.append(Card(
            number=n, item=item, title=TYPE_TITLES.get(item.type, item.type), lines=learner_lines(typed),
            key=key_line(typed), evidence=evidence(ctx, login, item, traces), reviews=[review_view(r) for r in mine],
            latest=latest(mine), fields=edit_fields(item),
        ))  # fmt: skip
    return found


# evidence


def evidence(ctx: WebContext, login: Login, item: SessionItem, traces: dict[str, dict[str, SpanNode]]) -> Evidence:
    """An item's evidence: what the set recorded, its run in the trace (if kept), and the checker's reading now."""
    found = Evidence(aci=item.aci, violations=list(item.violations), run_id=item.run_id, trace_id=item.trace_id)
    runs = _item_runs(ctx, login, item.trace_id, traces) if item.trace_id else {}
    node = runs.get(item.run_id or "")
    if node is not None:
        _from_trace(found, node)
    found.check = ctx.services.alignment_checker.check(item.item.learner_text(), item.level)
    found.words = list({(w.text.lower(), w.level): w for w in found.check.words}.values())
    found.constructions = construction_rows(found.check)
    return found


def construction_rows(report: AlignmentReport) -> list[ConstructionRow]:
    """The constructions of a report, one row per construction (in order of first occurrence) with its examples."""
    rows: dict[str, ConstructionRow] = {}
    for c in report.constructions:
        row = rows.setdefault(c.item_id, ConstructionRow(item_id=c.item_id, name=c.name, level=c.level, examples=[]))
        row.examples.append(c.text)
    return list(rows.values())


def _item_runs(
    ctx: WebContext, login: Login, trace_id: str, traces: dict[str, dict[str, SpanNode]]
) -> dict[str, SpanNode]:
    """The item-graph runs of a trace by run id (an exercise turn's trace holds one per item made), read once."""
    if trace_id not in traces:
        try:
            view = visible_view(ctx, login, trace_id)
        except NotFound:
            view = None
        traces[trace_id] = {} if view is None else {
            str(n.attributes.get("forge.run.id")): n for n in _walk(view.roots)
            if n.attributes.get("forge.run.kind") == "item"
        }  # fmt: skip
    return traces[trace_id]


def _walk(nodes: list[SpanNode]) -> list[SpanNode]:
    """Every node of a span tree, depth first."""
    out: list[SpanNode] = []
    for node in nodes:
        out.append(node)
        out.extend(_walk(node.children))
    return out


def _from_trace(found: Evidence, run: SpanNode) -> None:
    """Fill in what an item's run recorded: models, decisions, escalation, constraints and the run's result."""
    nodes = _walk(run.children)
    found.traced = True
    found.models = list(dict.fromkeys(n.model for n in nodes if n.model))
    found.decisions = [d for n in nodes for d in n.decisions]
    found.escalated = any(d.get("escalation") for d in found.decisions)
    found.escalation_reason = next((d.get("reason") for d in found.decisions if d.get("escalation")), None)
    constraints = _json(next((n.attributes.get("forge.constraints") for n in nodes if n.name.endswith(" constrain")),
                             None))  # fmt: skip
    if isinstance(constraints, dict):
        found.target_words = [w for w in constraints.get("target_words") or [] if isinstance(w, dict)]
        found.target_constructions = [c for c in constraints.get("target_constructions") or [] if isinstance(c, dict)]
    output = _json(next((n.attributes.get("forge.node.output") for n in nodes if n.name.endswith(" finalize")), None))
    result = output.get("result") if isinstance(output, dict) else None
    if isinstance(result, dict):
        found.models = [result["model"]] if result.get("model") else found.models
        found.escalated = bool(result.get("escalated"))
        found.escalation_reason = result.get("escalation_reason") or found.escalation_reason
        found.attempts = [a for a in result.get("attempt_log") or [] if isinstance(a, dict)]
        found.all_violations = [v for v in result.get("violations") or [] if isinstance(v, dict)]
        found.above_share = result.get("above_share")


def _json(value: Any) -> Any:
    """A span attribute holding JSON, decoded (None when it is missing or not JSON)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


# reviews


def review_view(review: Review) -> ReviewView:
    """A review with its reason in words and, for an edit, the edited item as the learner would see it."""
    from knowledge.render import key_line, learner_lines
    from knowledge.reviews import REASONS

    lines: list[str] = []
    key = None
    if review.edited is not None:
        typed = _typed(review.edited)
        if typed is not None:
            lines, key = learner_lines(typed), key_line(typed)
    check = review.edit_check or {}
    problems = [] if check.get("accepted", True) else [
        f"{p.get('kind')}: {p.get('detail')}" for p in check.get("problems", []) if isinstance(p, dict)
    ]  # fmt: skip
    return ReviewView(review=review, reason_text=REASONS.get(review.reason or "", ""), edited_lines=lines,
                      edited_key=key, edit_problems=problems)  # fmt: skip


def _typed(record: dict[str, Any]) -> Any:
    """A stored record as a typed item, or None when it cannot be read as one."""
    from pydantic import ValidationError

    from knowledge.items import item_from_record

    try:
        return item_from_record(record)
    except (ValueError, ValidationError):
        return None


def edit_fields(item: SessionItem) -> list[EditField]:
    """The in-place edit form's fields: the item's own fields, each typed as the form shows it."""
    from knowledge.items import ITEM_TYPES, item_fields

    fields = item_fields(item.item)
    names = [n for n in ITEM_TYPES[item.type].model_fields if n not in FIXED_FIELDS and n in fields]
    return [_edit_field(name, fields[name]) for name in names]


def _edit_field(name: str, value: Any) -> EditField:
    """One field as a line, a text, a list (one entry a line) or JSON."""
    if isinstance(value, str):
        return EditField(name, "text" if len(value) > 70 or name in ("stem", "text", "answer") else "line", value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return EditField(name, "list", "\n".join(value))
    return EditField(name, "json", json.dumps(value, ensure_ascii=False, indent=1))


@router.post("/teach/sets/{session}/items/{number}/review")
async def review_item(session: str, number: str, request: Request, login: Login = Depends(TEACHER)) -> Response:
    """Accept, reject with a reason, or edit one item (the review service's checks); back to the card."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    ctx = web(request)
    info = own_set(ctx, login, session)
    if not number.isdigit():
        raise NotFound(f"No item {number[:20]!r} in this set.")
    version = _version(values.get("version"))
    try:
        shown = await run_in_threadpool(record_review, ctx, info.id, version, int(number), values, login.user.name)
    except (NotFound, Forbidden):
        raise
    except UserInputError as exc:
        context = await run_in_threadpool(set_context, ctx, login, info, version)
        on_card = int(number) if any(c.number == int(number) for c in context["cards"]) else None
        return page(request, "teacher/set.html", status_code=400, **context, reviewed=None, error=str(exc),
                    error_item=on_card, draft=values)  # fmt: skip
    target = f"/teach/sets/{info.id}?version={shown}&reviewed={number}#item-{number}"
    return RedirectResponse(target, status_code=303)


def record_review(
    ctx: WebContext, session_id: str, version: int | None, number: int, values: dict[str, str], reviewer: str
) -> int:
    """Store one review of item `number` of a version, as `forge review SESSION@V:N` does; the version reviewed."""
    from forge.reviews.service import Reviewing

    decision = values.get("decision", "")
    if decision not in ("accept", "reject", "modify"):
        raise UserInputError("Choose accept, reject or edit for the item.")
    reason = (values.get("reason") or "").strip() or None
    if decision == "reject" and reason is None:
        raise UserInputError("A rejection needs a reason; choose one of the rubric's reasons.")
    reviewing = Reviewing(ctx.services)
    _, current, _ = ctx.exercises.show(session_id, version)
    shown = current if version is None else version
    target = reviewing.target(f"{session_id}@{shown}:{number}")
    edited = edited_fields(target.record, values) if decision == "modify" else None
    reviewing.review(target, decision, reason=reason if decision != "accept" else None,  # type: ignore[arg-type]
                     note=values.get("note", ""), reviewer=reviewer, edited=edited)  # fmt: skip
    return shown


def edited_fields(record: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The fields the edit form changed, read back into the types they have in the item."""
    from knowledge.items import ITEM_TYPES

    kind = str(record.get("type"))
    changed: dict[str, Any] = {}
    for name in ITEM_TYPES[kind].model_fields if kind in ITEM_TYPES else ():
        sent = values.get(f"field.{name}")
        if name in FIXED_FIELDS or name not in record or sent is None:
            continue
        if len(sent) > MAX_FIELD_CHARS:
            raise UserInputError(f"The field {name!r} is longer than {MAX_FIELD_CHARS:,} characters.")
        value = _field_value(name, record[name], sent)
        if value != record[name]:
            changed[name] = value
    if not changed:
        raise UserInputError("Nothing was changed in the item; edit a field, or accept the item as it is.")
    return changed


def _field_value(name: str, original: Any, sent: str) -> Any:
    """A form field's text as the original field's type (text, list of lines, or JSON)."""
    field_kind = _edit_field(name, original).kind
    if field_kind in ("line", "text"):
        return sent.strip() if field_kind == "line" else sent.strip().replace("\r\n", "\n")
    if field_kind == "list":
        return [line.strip() for line in sent.splitlines() if line.strip()]
    try:
        return json.loads(sent)
    except ValueError as exc:
        raise UserInputError(f"The field {name!r} is not valid JSON ({exc}); keep its brackets and quotes.") from exc


# export


@router.get("/teach/sets/{session}/export")
def export_set(
    session: str, request: Request, format: str = "", version: str | None = None,
    login: Login = Depends(TEACHER),
) -> Response:  # fmt: skip
    """A version of the set as a download in a classroom format (the file is made in memory, never on disk)."""
    from agents.exercise_session.formats import get_format
    from agents.exercise_session.formats.sheet import ExportSheet

    spec = get_format(format)  # an unknown format is refused before any set is read
    ctx = web(request)
    info = own_set(ctx, login, session)
    wanted = _version(version)
    _, current, chosen = ctx.exercises.show(info.id, wanted)
    number = current if wanted is None else wanted
    if not chosen.items:
        raise UserInputError(f"Version {number} of this set has no items; there is nothing to export.")
    data = spec.render(ExportSheet.of(chosen, session_id=info.id, version=number))
    name = download_name(info.id, number, spec.suffix)
    return Response(data, media_type=MEDIA_TYPES.get(spec.name, "application/octet-stream"),
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def download_name(session_id: str, version: int, suffix: str) -> str:
    """The file name a download is offered under: built from the set's id and version only, never from the user."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "", session_id)[:64] or "set"
    return f"exercises-{safe}-v{int(version)}{suffix}"


# the class


@router.get("/teach/class")
def class_page(request: Request, login: Login = Depends(TEACHER)) -> Response:
    """The learners of the teacher's class, with their tutoring sessions and a link to their progress."""
    ctx = web(request)
    rows = [learner_row(ctx, user) for user in ctx.accounts.learners_of(login.user)]
    return page(request, "teacher/class.html", rows=rows, class_name=login.user.class_name)


def learner_row(ctx: WebContext, user: User) -> LearnerRow:
    """A learner's tutoring sessions from the registry, newest first."""
    sessions = []
    for ident in ctx.accounts.owned_by("session", [user.name]):
        try:
            sessions.append(ctx.services.sessions.get(ident, kind="tutor"))
        except UserInputError:
            continue
    return LearnerRow(user=user, sessions=sorted(sessions, key=lambda s: s.updated, reverse=True))
