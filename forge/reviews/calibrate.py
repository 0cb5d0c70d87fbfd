"""`forge review calibrate`: fit the accept decision's thresholds to what teachers said of reviewed items.

Each reviewed item is judged again by the item graph's accept decision under candidate thresholds (the meaning
checks' margins and fluency floor, and the ACI threshold), one threshold at a time over a small grid around its
measured default. The local model's scores are cached, so only the first pass costs model time. The fit
maximises F0.5 (precision counts twice as much as recall: a teacher is hurt more by a bad item accepted than by a
good one flagged); ties keep the value nearer the default. Too few labels, or labels all of one kind, refuse to
fit rather than fit noise. `--apply` writes the result to `<data_dir>/calibration.json`, which every later run
reads (`forge review calibrate --reset` removes it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, Field, ValidationError

from agents.item.meaning.base import Thresholds
from forge.reviews.labels import Labelled, figures
from forge.validation import judge_record
from knowledge.errors import ResourceError, UserInputError
from knowledge.files import write_atomically

if TYPE_CHECKING:
    from agents.context import AgentContext
    from agents.models.base import ChatModel

FILE_NAME = "calibration.json"
#: Fewest labelled items, and fewest of each kind (usable, not usable), a fit needs.
MIN_ITEMS = 12
MIN_EACH = 4
#: Candidate values per threshold, around the measured defaults.
GRID: dict[str, tuple[float, ...]] = {
    "fluency_floor": (-7.0, -6.6, -6.2, -5.8, -5.4, -5.0),
    "gap_margin": (1.0, 1.5, 2.0, 3.0, 4.0, 5.0),
    "free_preposition_margin": (4.0, 6.0, 8.0),
    "same_pos_margin": (3.0, 5.0, 7.0),
    "reorder_margin": (3.0, 5.0, 7.0, 9.0),
    "matching_margin": (0.0, 0.03, 0.06, 0.1),
    "main_idea_margin": (0.0, 0.03, 0.06),
    "aci_threshold": (0.7, 0.75, 0.8, 0.85, 0.9),
}
BETA = 0.5


class Fit(BaseModel):
    """How the accept decision agrees with the labels under one set of thresholds."""

    accepted: int
    accepted_usable: int
    usable: int
    precision: float | None
    recall: float | None
    f_half: float


class Calibration(BaseModel):
    """A fitted set of thresholds, the figures before and after, and what it was fitted on."""

    thresholds: Thresholds
    aci_threshold: float = Field(ge=0, le=1)
    items: int
    usable: int
    before: Fit
    after: Fit
    changed: dict[str, tuple[float, float]] = Field(description="Threshold → (default, fitted), for those moved.")
    source: str


def calibrate(
    ctx: AgentContext, labels: list[Labelled], source: str, progress: Callable[[int], None] | None = None
) -> Calibration:
    """Fit the thresholds to the labels by coordinate search (see the module docstring)."""
    usable = sum(lab.usable for lab in labels)
    if len(labels) < MIN_ITEMS or min(usable, len(labels) - usable) < MIN_EACH:
        raise UserInputError(
            f"Calibration needs at least {MIN_ITEMS} reviewed items with {MIN_EACH} usable and {MIN_EACH} rejected; "
            f"there are {len(labels)} ({usable} usable). Review more items first."
        )
    cached = replace(ctx, local=cast("ChatModel", _CachedScorer(ctx.local)))
    start = {**ctx.policy.thresholds.model_dump(), "aci_threshold": ctx.policy.aci_threshold}
    before = _fit(cached, labels, start, progress)
    best, best_fit = dict(start), before
    for name, grid in GRID.items():
        for value in grid:
            trial = {**best, name: value}
            fit = _fit(cached, labels, trial, progress)
            if _better(fit, best_fit, value, best[name], start[name]):
                best, best_fit = trial, fit
    aci = best.pop("aci_threshold")
    changed = {k: (start[k], v) for k, v in {**best, "aci_threshold": aci}.items() if v != start[k]}
    return Calibration(thresholds=Thresholds(**best), aci_threshold=aci, items=len(labels), usable=usable,
                       before=before, after=best_fit, changed=changed, source=source)


def passes(labels: list[Labelled]) -> int:
    """How many judgements a calibration makes (for a progress bar)."""
    return len(labels) * (1 + sum(len(g) for g in GRID.values()))


def _fit(ctx: AgentContext, labels: list[Labelled], values: dict[str, float],
         progress: Callable[[int], None] | None) -> Fit:
    """Judge every label under the values and score the agreement."""
    policy = ctx.policy.model_copy(update={
        "aci_threshold": values["aci_threshold"],
        "thresholds": Thresholds(**{k: v for k, v in values.items() if k != "aci_threshold"}),
    })
    trial = replace(ctx, policy=policy)
    pairs = []
    for lab in labels:
        pairs.append((lab, judge_record(trial, lab.n, lab.record)))
        if progress:
            progress(1)
    counts = figures(pairs)
    p, r = counts["precision"] or 0.0, counts["recall"] or 0.0
    f = (1 + BETA**2) * p * r / (BETA**2 * p + r) if p + r else 0.0
    return Fit(accepted=counts["accepted"], accepted_usable=counts["accepted_usable"], usable=counts["usable"],
               precision=counts["precision"], recall=counts["recall"], f_half=round(f, 4))


def _better(fit: Fit, best: Fit, value: float, current: float, default: float) -> bool:
    """A clearly higher F0.5, or an equal one nearer the default."""
    if fit.f_half > best.f_half + 1e-9:
        return True
    return abs(fit.f_half - best.f_half) <= 1e-9 and abs(value - default) < abs(current - default)


class _CachedScorer:
    """The local model with its scores remembered, so repeated judgements of the same items cost no model time."""

    def __init__(self, model: ChatModel) -> None:
        self._model = model
        self._memo: dict[tuple[str, tuple[str, ...]], list[float]] = {}

    def __getattr__(self, name: str) -> Any:
        """Everything but `score` is the model's own."""
        return getattr(self._model, name)

    def score(self, prefix: str, continuations: list[str]) -> list[float]:
        """The model's log-probabilities, computed once per prefix and continuations."""
        key = (prefix, tuple(continuations))
        if key not in self._memo:
            self._memo[key] = self._model.score(prefix, continuations)
        return self._memo[key]


def save(calibration: Calibration, data_dir: Path) -> Path:
    """Write the calibration where later runs read it (atomically)."""
    path = data_dir / FILE_NAME
    try:
        write_atomically(path, (calibration.model_dump_json(indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ResourceError(f"Cannot write {path} ({exc.strerror}); check FORGE_DATA_DIR is writable.") from exc
    return path


def load(data_dir: Path) -> Calibration | None:
    """The calibration later runs use, or None when there is none (a damaged file is a clear error)."""
    path = data_dir / FILE_NAME
    if not path.is_file():
        return None
    try:
        return Calibration.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise ResourceError(
            f"The calibration file {path} cannot be read ({type(exc).__name__}); remove it with "
            "`forge review calibrate --reset` or fit it again."
        ) from exc
