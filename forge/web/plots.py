"""Small server-side SVG plots for the web pages: pure functions from data to an SVG string (stdlib only).

- `line_plot`: a value over ordered points, e.g. the estimated CEFR level over a session's turns (y as an index
  into `y_labels`, A1..C2);
- `bar_plot`: labelled horizontal bars with their values, e.g. errors by type, tokens by model, acceptance shares;
- `histogram`: the distribution of many values, e.g. latencies;
- `waterfall`: nested timed spans on a shared time axis, the trace view (`WaterfallRow` a span).

Every plot is safe to paste into a page: all text is escaped (labels come from users), the root has `role="img"`, a
`<title>` (its accessible name) and a `<desc>` summing up the data, and a `viewBox` with `width="100%"` and a
`max-width`, so it shrinks to a phone's width but never grows past its natural size. Colours are presentation
attributes on elements with CSS classes (`bar`, `err`, `axis`, `grid`, `line`, `point`, `title`, `label`, `value`),
so a page's stylesheet overrides them (a CSS rule beats a presentation attribute) and the defaults still work
without one. Text is drawn in `currentColor`, so it follows the page's text colour. Non-finite values (NaN, inf)
are left out; a plot with nothing to draw is a small SVG saying "no data".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

SVG_NS = "http://www.w3.org/2000/svg"
NO_DATA = "no data"
FONT_SIZE = 11
CHAR_W = 6.2  # average advance of an 11 px sans-serif character, to fit labels without measuring them
TITLE_H = 20  # the band at the top holding the visible title
BAR_FILL = "#4a78b0"
ERR_FILL = "#c0392b"
AXIS_STROKE = "#8a8a8a"
GRID_STROKE = "#d8d8d8"


@dataclass(frozen=True)
class WaterfallRow:
    """One span of a trace: its label, nesting depth (0 the root), start and duration in ms, a note, failed or not."""

    label: str
    depth: int
    start_ms: float
    duration_ms: float
    note: str = ""
    error: bool = False


# --- shared SVG pieces -------------------------------------------------------------------------------------------


def _n(x: float) -> str:
    """A coordinate or length as short SVG text: at most one decimal, no trailing zeros, never '-0'."""
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _e(text: object) -> str:
    """Text escaped for SVG element content and attribute values (quotes too)."""
    return escape(str(text), quote=True)


def _finite(x: float) -> bool:
    """Whether a value can be drawn (not NaN, not infinite)."""
    return math.isfinite(x)


def _fmt(value: float, unit: str = "") -> str:
    """A value for people: whole from 100 up, else up to 3 significant digits (tiny ones as 1.2e-05), then the unit."""
    if value == int(value) or abs(value) >= 100:
        text = str(round(value))
    else:
        text = f"{value:.3g}" if abs(value) >= 0.001 else f"{value:.1e}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _fmt_ms(ms: float) -> str:
    """A duration in milliseconds for people: '850 ms', '1.25 s', '2 min 5 s'."""
    if ms < 1000:
        return _fmt(round(ms, 1), "ms")
    if ms < 60_000:
        return _fmt(round(ms / 1000, 2), "s")
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


def _fit(text: str, max_px: float) -> str:
    """Text cut with an ellipsis to fit about `max_px` pixels at the plot's font size (not escaped)."""
    max_chars = max(1, int(max_px / CHAR_W))
    return text if len(text) <= max_chars else text[: max(0, max_chars - 1)] + "…"


def _svg(title: str, desc: str, width: float, height: float, body: Iterable[str]) -> str:
    """The root element around `body`: namespace, viewBox, fluid width, accessibility and font defaults."""
    head = (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
        f'preserveAspectRatio="xMinYMin meet" '
        f'role="img" aria-label="{_e(title)}" class="plot" '
        f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">'
    )
    return "".join([head, f"<title>{_e(title)}</title>", f"<desc>{_e(desc)}</desc>", *body, "</svg>"])


def _text(
    x: float, y: float, text: str, *, cls: str, anchor: str = "start", fill: str = "currentColor", extra: str = ""
) -> str:
    """One escaped text element, by default in the page's text colour."""
    return f'<text class="{cls}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" fill="{fill}"{extra}>{_e(text)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, *, cls: str = "axis", stroke: str = AXIS_STROKE) -> str:
    """One straight line (an axis, a tick or a grid line)."""
    return (
        f'<line class="{cls}" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'stroke="{stroke}" stroke-width="1"/>'
    )


def _rect(x: float, y: float, w: float, h: float, *, error: bool = False, tip: str = "") -> str:
    """One bar, class `bar` (and `err` when it stands for a failure), with an optional hover tooltip."""
    cls, fill = ("bar err", ERR_FILL) if error else ("bar", BAR_FILL)
    attrs = f'class="{cls}" x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0.0))}" height="{_n(h)}" fill="{fill}"'
    return f"<rect {attrs}><title>{_e(tip)}</title></rect>" if tip else f"<rect {attrs}/>"


def _heading(title: str, width: float) -> str:
    """The visible title at the top of a plot, cut to the plot's width."""
    return _text(4, 14, _fit(title, width - 8), cls="title", extra=' font-weight="bold"')


def _no_data(title: str, width: float) -> str:
    """The small SVG shown instead of a plot with nothing to draw."""
    height = TITLE_H + 24
    body = [_heading(title, width), _text(width / 2, TITLE_H + 14, NO_DATA, cls="label nodata", anchor="middle")]
    return _svg(f"{title}: {NO_DATA}", NO_DATA, width, height, body)


def _nice_step(span: float, target: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `target` ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude)


def _ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values from `lo` up to at least `hi`."""
    step = _nice_step(hi - lo, target)
    start = math.floor(lo / step) * step
    count = math.ceil((hi - start) / step - 1e-9)
    return [start + i * step for i in range(count + 1)]


# --- line plot ---------------------------------------------------------------------------------------------------


def line_plot(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    y_labels: Sequence[str] | None = None,
    width: int = 320,
    height: int = 160,
) -> str:
    """A line over ordered points (x label, y): with `y_labels`, y is an index into them (0 = the first label).

    For the CEFR level over a session's turns: `line_plot([("1", 0), ("2", 2)], title=..., y_labels=LEVELS)`.
    Without `y_labels` the y axis runs from min(0, lowest) to the highest value. Values outside the labels' range
    are drawn at its edge. Too many x labels to fit are thinned to every k-th one.
    """
    pts = [(str(x), float(y)) for x, y in points if _finite(float(y))]
    if not pts:
        return _no_data(title, width)
    labels = list(y_labels) if y_labels else None
    lo, hi = _line_range([y for _, y in pts], labels)
    left = 8 + CHAR_W * max((len(t) for t in _y_tick_texts(lo, hi, labels)), default=1)
    box = (left, TITLE_H + 6.0, width - 12.0, height - 22.0)  # x0, y0, x1, y1 of the plot area
    body = [_heading(title, width), *_line_y_axis(box, lo, hi, labels), *_line_x_axis(box, [x for x, _ in pts])]
    body.extend(_line_series(box, pts, lo, hi, labels))
    desc = ", ".join(f"{x}: {_y_text(y, labels)}" for x, y in pts)
    return _svg(title, desc, width, height, body)


def _line_range(ys: list[float], labels: list[str] | None) -> tuple[float, float]:
    """The y range of a line plot: the labels' indices, or from min(0, lowest) to the highest value."""
    if labels:
        return 0.0, float(max(len(labels) - 1, 1))
    lo, hi = min(0.0, *ys), max(ys)
    hi = hi if hi > lo else lo + 1.0
    return lo, _ticks(lo, hi, 4)[-1]  # up to the round tick at or above the highest value


def _y_tick_texts(lo: float, hi: float, labels: list[str] | None) -> list[str]:
    """The y axis's tick texts: every label, or round numbers."""
    return labels if labels else [_fmt(t) for t in _ticks(lo, hi, 4) if t <= hi + 1e-9]


def _y_text(y: float, labels: list[str] | None) -> str:
    """A y value for the description: the nearest label (halves round up: 2.5 is the third), or the number."""
    if labels:
        return labels[min(max(math.floor(y + 0.5), 0), len(labels) - 1)]
    return _fmt(y)


def _y_pos(box: tuple[float, float, float, float], y: float, lo: float, hi: float) -> float:
    """The vertical pixel position of value `y`, clamped to the plot area."""
    _, y0, _, y1 = box
    share = (min(max(y, lo), hi) - lo) / (hi - lo)
    return y1 - share * (y1 - y0)


def _x_pos(box: tuple[float, float, float, float], i: int, count: int) -> float:
    """The horizontal pixel position of the i-th of `count` points (one point sits in the middle)."""
    x0, _, x1, _ = box
    pad = 6.0
    return (x0 + x1) / 2 if count == 1 else x0 + pad + i * (x1 - x0 - 2 * pad) / (count - 1)


def _line_y_axis(box: tuple[float, float, float, float], lo: float, hi: float, labels: list[str] | None) -> list[str]:
    """The y axis: its line, and a grid line with a tick text per label or round value."""
    x0, y0, x1, y1 = box
    values = [float(i) for i in range(len(labels))] if labels else [t for t in _ticks(lo, hi, 4) if t <= hi + 1e-9]
    out = [_line(x0, y0, x0, y1)]
    for value, text in zip(values, _y_tick_texts(lo, hi, labels), strict=True):
        y = _y_pos(box, value, lo, hi)
        out.append(_line(x0, y, x1, y, cls="grid", stroke=GRID_STROKE))
        out.append(_text(x0 - 4, y + 4, text, cls="label", anchor="end"))
    return out


def _line_x_axis(box: tuple[float, float, float, float], xs: list[str]) -> list[str]:
    """The x axis: its line and the point labels, thinned so they do not overlap."""
    x0, _, x1, y1 = box
    widest = CHAR_W * max(len(x) for x in xs) + 6
    every = max(1, math.ceil(len(xs) * widest / max(x1 - x0, 1)))
    out = [_line(x0, y1, x1, y1)]
    for i, x in enumerate(xs):
        if i % every == 0:
            out.append(_text(_x_pos(box, i, len(xs)), y1 + 14, _fit(x, widest), cls="label", anchor="middle"))
    return out


def _line_series(
    box: tuple[float, float, float, float], pts: list[tuple[str, float]], lo: float, hi: float, labels: list[str] | None
) -> list[str]:
    """The line through the points and a dot on each, each dot with a tooltip."""
    coords = [(_x_pos(box, i, len(pts)), _y_pos(box, y, lo, hi)) for i, (_, y) in enumerate(pts)]
    path = " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)
    out = [f'<polyline class="line" points="{path}" fill="none" stroke="{BAR_FILL}" stroke-width="2"/>']
    for (x, y), (label, value) in zip(coords, pts, strict=True):
        out.append(
            f'<circle class="point" cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{BAR_FILL}">'
            f"<title>{_e(label)}: {_e(_y_text(value, labels))}</title></circle>"
        )
    return out


# --- bar plot ----------------------------------------------------------------------------------------------------

BAR_ROW_H = 20


def bar_plot(bars: Sequence[tuple[str, float]], *, title: str, unit: str = "", width: int = 320) -> str:
    """Horizontal bars, one a row: the label on the left, the bar, its value (with `unit`) after it.

    The height follows the number of bars. Bars start at 0 and are scaled to the largest value; a negative value
    draws no bar but its value is still written. Labels too long for the left column are cut, in full on hover.
    """
    rows = [(str(label), float(v)) for label, v in bars if _finite(float(v))]
    if not rows:
        return _no_data(title, width)
    values = [_fmt(v, unit) for _, v in rows]
    label_w = min(width * 0.4, CHAR_W * max(len(label) for label, _ in rows) + 8)
    value_w = CHAR_W * max(len(v) for v in values) + 6
    scale = max(max(v for _, v in rows), 0.0) or 1.0
    bar_w = max(width - label_w - value_w - 8, 10)
    height = TITLE_H + 6 + BAR_ROW_H * len(rows) + 4
    body = [_heading(title, width), _line(label_w, TITLE_H + 4, label_w, height - 4)]
    for i, ((label, value), text) in enumerate(zip(rows, values, strict=True)):
        top = TITLE_H + 6 + i * BAR_ROW_H
        length = max(value, 0.0) / scale * bar_w
        body.append(f'<g class="row"><title>{_e(label)}: {_e(text)}</title>')
        body.append(_text(label_w - 4, top + 14, _fit(label, label_w - 8), cls="label", anchor="end"))
        body.append(_rect(label_w, top + 3, length, BAR_ROW_H - 6))
        body.append(_text(label_w + length + 4, top + 14, text, cls="value"))
        body.append("</g>")
    desc = ", ".join(f"{label}: {text}" for (label, _), text in zip(rows, values, strict=True))
    return _svg(title, desc, width, height, body)


# --- histogram ---------------------------------------------------------------------------------------------------


def histogram(
    values: Sequence[float], *, title: str, bins: int = 10, unit: str = "s", width: int = 320, height: int = 160
) -> str:
    """The distribution of `values` in `bins` equal-width bins between the lowest and the highest value.

    Each bar has a tooltip with its range and count; the x axis shows the lowest, middle and highest edges with
    `unit`, the y axis the largest count. All-equal values make one bar. `bins` must be at least 1.
    """
    if bins < 1:
        raise ValueError(f"a histogram needs at least 1 bin, not {bins}")
    data = [float(v) for v in values if _finite(float(v))]
    if not data:
        return _no_data(title, width)
    lo, hi = min(data), max(data)
    counts = _bin_counts(data, lo, hi, bins if hi > lo else 1)
    top = max(counts)
    left = 8 + CHAR_W * len(str(top))
    box = (left, TITLE_H + 6.0, width - 12.0, height - 22.0)
    body = [_heading(title, width), *_hist_axes(box, lo, hi, top, unit), *_hist_bars(box, counts, lo, hi, unit)]
    desc = f"{len(data)} values from {_fmt(lo, unit)} to {_fmt(hi, unit)}; counts per bin: " + ", ".join(
        map(str, counts)
    )
    return _svg(title, desc, width, height, body)


def _bin_counts(data: list[float], lo: float, hi: float, bins: int) -> list[int]:
    """How many values fall in each of `bins` equal bins over [lo, hi] (the highest value in the last bin)."""
    counts = [0] * bins
    span = hi - lo
    for v in data:
        index = bins - 1 if span == 0 else min(int((v - lo) / span * bins), bins - 1)
        counts[index] += 1
    return counts


def _hist_axes(box: tuple[float, float, float, float], lo: float, hi: float, top: int, unit: str) -> list[str]:
    """The histogram's axes: y with 0 and the largest count, x with the lowest, middle and highest edges."""
    x0, y0, x1, y1 = box
    out = [_line(x0, y0, x0, y1), _line(x0, y1, x1, y1)]
    out.append(_text(x0 - 4, y1, "0", cls="label", anchor="end"))
    out.append(_text(x0 - 4, y0 + 8, str(top), cls="label", anchor="end"))
    edges = [(x0, lo, "start"), ((x0 + x1) / 2, (lo + hi) / 2, "middle"), (x1, hi, "end")] if hi > lo else []
    for x, value, anchor in edges or [((x0 + x1) / 2, lo, "middle")]:
        out.append(_text(x, y1 + 14, _fmt(value, unit), cls="label", anchor=anchor))
    return out


def _hist_bars(box: tuple[float, float, float, float], counts: list[int], lo: float, hi: float, unit: str) -> list[str]:
    """One bar a bin, its height its count, its tooltip its range and count."""
    x0, y0, x1, y1 = box
    slot = (x1 - x0) / len(counts)
    step = (hi - lo) / len(counts)
    out = []
    for i, count in enumerate(counts):
        h = count / max(counts) * (y1 - y0)
        rng = f"{_fmt(lo + i * step, unit)}–{_fmt(lo + (i + 1) * step, unit)}" if hi > lo else _fmt(lo, unit)
        out.append(_rect(x0 + i * slot + 1, y1 - h, slot - 2, h, tip=f"{rng}: {count}"))
    return out


# --- waterfall (trace view) --------------------------------------------------------------------------------------

WF_ROW_H = 18
WF_INDENT = 12
WF_AXIS_H = 18


def waterfall(rows: Sequence[WaterfallRow], *, width: int = 720, title: str = "Trace timeline") -> str:
    """Nested spans of a trace: a label column indented by depth, and a bar a span on a shared time axis.

    The axis runs from the earliest start to the latest end, with round ticks in ms or s. Each bar is followed
    by its duration and note; failed spans get the class `err` (bar and label). Rows with non-finite times are
    left out. Rows are drawn in the order given (pass them depth-first, parents before children).
    """
    spans = [r for r in rows if _finite(r.start_ms) and _finite(r.duration_ms)]
    if not spans:
        return _no_data(title, width)
    t0 = min(r.start_ms for r in spans)
    t1 = max(r.start_ms + max(r.duration_ms, 0.0) for r in spans)
    span = t1 - t0 or 1.0
    ticks = [t for t in _ticks(0.0, span) if t <= span * 1.0001]
    label_w = min(width * 0.35, max(WF_INDENT * r.depth + CHAR_W * len(r.label) for r in spans) + 12)
    plot = (label_w, width - 8.0)
    height = TITLE_H + WF_AXIS_H + WF_ROW_H * len(spans) + 6
    body = [_heading(title, width), *_wf_axis(plot, ticks, span, height)]
    for i, row in enumerate(spans):
        body.extend(_wf_row(row, TITLE_H + WF_AXIS_H + i * WF_ROW_H, plot, t0, span))
    desc = "; ".join(_wf_desc(r, t0) for r in spans)
    return _svg(title, desc, width, height, body)


def _wf_axis(plot: tuple[float, float], ticks: list[float], span: float, height: float) -> list[str]:
    """The time axis along the top, a tick text and a faint grid line down the rows at each tick."""
    x0, x1 = plot
    top = TITLE_H + WF_AXIS_H - 4
    out = [_line(x0, top, x1, top)]
    for t in ticks:
        x = x0 + t / span * (x1 - x0)
        anchor = "start" if t == 0 else "end" if x > x1 - 20 else "middle"
        out.append(_line(x, top, x, height - 4, cls="grid", stroke=GRID_STROKE))
        out.append(_text(x, top - 4, _fmt_ms(t), cls="label axis-label", anchor=anchor))
    return out


def _wf_row(row: WaterfallRow, top: float, plot: tuple[float, float], t0: float, span: float) -> list[str]:
    """One span: its indented label, its bar at its start and length, and its duration and note beside it."""
    x0, x1 = plot
    indent = WF_INDENT * max(row.depth, 0)
    start = x0 + (row.start_ms - t0) / span * (x1 - x0)
    length = max(max(row.duration_ms, 0.0) / span * (x1 - x0), 1.0)
    info = _fmt_ms(max(row.duration_ms, 0.0)) + (f" · {row.note}" if row.note else "")
    label_cls = "label err" if row.error else "label"
    tip = f"{row.label}: {info}" + (" (failed)" if row.error else "")
    return [
        f'<g class="span{" err" if row.error else ""}"><title>{_e(tip)}</title>',
        _text(4 + indent, top + 13, _fit(row.label, x0 - 8 - indent), cls=label_cls),
        _rect(start, top + 3, length, WF_ROW_H - 6, error=row.error),
        _wf_info(info, top + 13, start, length, plot),
        "</g>",
    ]


def _wf_info(info: str, y: float, start: float, length: float, plot: tuple[float, float]) -> str:
    """A span's duration and note: after its bar, else inside it (in white), else before it, whichever fits first.

    When it fits nowhere in full it goes where there is most room, cut with an ellipsis.
    """
    x0, x1 = plot
    need = CHAR_W * len(info)
    places = [  # (room, x, anchor, class, fill)
        (x1 - start - length - 4, start + length + 4, "start", "value", "currentColor"),
        (length - 8, start + 4, "start", "value inside", "#fff"),
        (start - x0 - 4, start - 4, "end", "value", "currentColor"),
    ]
    room, x, anchor, cls, fill = next((p for p in places if p[0] >= need), max(places, key=lambda p: p[0]))
    text = _fit(info, max(room, CHAR_W * 2))
    return _text(x, y, text, cls=cls, anchor=anchor, fill=fill)


def _wf_desc(row: WaterfallRow, t0: float) -> str:
    """One span in the text description: label, start, duration, note and failure."""
    text = f"{row.label} at {_fmt_ms(row.start_ms - t0)} for {_fmt_ms(max(row.duration_ms, 0.0))}"
    return text + (f" ({row.note})" if row.note else "") + (" failed" if row.error else "")
