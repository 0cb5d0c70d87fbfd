"""Traces as the web app shows them: only those a login may see, with learner text redacted for researchers.

Researchers and admins see every run; a teacher the runs of their own sessions and their learners' (an item's
run carries its set's session id); learners have no trace pages. Researchers see learner-written text as salted
hashes (as `forge trace export --redact` writes it) unless the admin has switched `researchers_see_text` on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from forge.web.accounts import Login
from forge.web.security import NotFound, check_trace_access, owners_visible_to, sees_everything
from knowledge.errors import UserInputError

if TYPE_CHECKING:
    from forge.telemetry import Redactor
    from forge.traces import RunFilter, RunSummary, SpanNode, TraceDiff, TraceStats, TraceStore, TraceView
    from forge.web.app import WebContext


@contextmanager
def trace_store(ctx: WebContext) -> Iterator[TraceStore]:
    """The trace store of the data dir, after flushing this process's finished spans into it."""
    from forge.telemetry import active_tracing
    from forge.traces import TraceStore

    tracing = active_tracing()
    if tracing is not None:
        tracing.flush()
    with TraceStore.for_data_dir(ctx.services.settings.data_dir) as store:
        yield store


def visible_runs(ctx: WebContext, login: Login, flt: RunFilter) -> list[RunSummary]:
    """The runs the filter selects that this login may see, newest first."""
    limit = flt.limit
    with trace_store(ctx) as store:
        if sees_everything(login):
            return store.runs(flt)
        sessions: set[str] = set(ctx.accounts.owned_by("session", owners_visible_to(ctx, login)))
        runs = [r for r in store.runs(flt.model_copy(update={"limit": None})) if r.conversation_id in sessions]
    return runs[:limit] if limit else runs


def visible_view(ctx: WebContext, login: Login, ident: str) -> TraceView:
    """One trace as a span tree, if this login may see it (NotFound otherwise), redacted when it must be."""
    with trace_store(ctx) as store:
        try:
            view = store.tree(ident)
        except UserInputError as exc:
            raise NotFound(str(exc)) from exc
    if view.run is None:
        raise NotFound(f"No trace {ident!r}.")
    check_trace_access(ctx, login, view.run.conversation_id)
    redactor = redactor_for(ctx, login)
    return redacted_view(view, redactor) if redactor else view


def visible_diff(ctx: WebContext, login: Login, first: str, second: str) -> TraceDiff:
    """Two traces step by step, if this login may see both."""
    visible_view(ctx, login, first)
    visible_view(ctx, login, second)
    with trace_store(ctx) as store:
        found = store.diff(first, second)
    redactor = redactor_for(ctx, login)
    if redactor is None:
        return found
    rows = [row.model_copy(update={side: _redacted_node(node, redactor) for side in ("a", "b")
                                   if (node := getattr(row, side)) is not None}) for row in found.rows]  # fmt: skip
    return found.model_copy(update={"rows": rows})


def visible_stats(ctx: WebContext, login: Login, flt: RunFilter) -> TraceStats:
    """Statistics over the runs this login may see."""
    with trace_store(ctx) as store:
        if sees_everything(login):
            return store.stats(flt)
    runs = visible_runs(ctx, login, flt)
    with trace_store(ctx) as store:
        return store.stats(flt.model_copy(update={"trace_ids": [r.trace_id for r in runs] or ["-"]}))


def redactor_for(ctx: WebContext, login: Login) -> Redactor | None:
    """The redactor to apply for this login: researchers get one unless the admin allows learner text."""
    from forge.telemetry import Redactor

    if login.user.role != "researcher" or ctx.accounts.setting("researchers_see_text") == "true":
        return None
    return Redactor.for_data_dir(ctx.services.data_dir)


def redacted_view(view: TraceView, redactor: Redactor) -> TraceView:
    """A copy of the view with learner text hashed in every node's attributes and events."""
    return view.model_copy(update={"roots": [_redacted_node(n, redactor) for n in view.roots]})


def _redacted_node(node: SpanNode, redactor: Redactor) -> SpanNode:
    """One node and its children, redacted."""
    events: list[dict[str, Any]] = [
        e | {"attributes": redactor.attributes(e.get("attributes") or {})} for e in node.events
    ]
    return node.model_copy(update={
        "attributes": redactor.attributes(node.attributes), "events": events,
        "children": [_redacted_node(c, redactor) for c in node.children],
    })  # fmt: skip
