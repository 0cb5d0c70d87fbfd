"""The web pages' SVG plots: well-formed, accessible, escaped, fluid, with 'no data' for empty input."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from lxml import etree

from forge.web.plots import WaterfallRow, bar_plot, histogram, line_plot, waterfall
from tests.support.browser import PHONE, chromium_page, require_browser

NS = {"s": "http://www.w3.org/2000/svg"}
LEVELS = ["A1", "A2", "B1", "B2", "C1", "C2"]
EVIL = '<script>alert("x")</script> & co'

TRACE = [
    WaterfallRow("tutor turn", 0, 0, 1200),
    WaterfallRow("classify intent", 1, 10, 150, note="smollm2 42 tok"),
    WaterfallRow("generate reply", 1, 200, 900, note="qwen2.5 310 tok"),
    WaterfallRow("validate", 2, 1000, 90, error=True),
]


def parse(svg: str) -> etree._Element:
    root = etree.fromstring(svg.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def texts(root: etree._Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iterfind(".//s:text", NS)]


def floats(elements: list[etree._Element], attr: str) -> list[float]:
    return [float(e.get(attr)) for e in elements]


def sample_plots(label: str = "turn 1", title: str = "A plot") -> dict[str, str]:
    """One of each plot, `label` as a user-supplied label and `title` as the title."""
    return {
        "line": line_plot([(label, 1), ("2", 3)], title=title, y_labels=LEVELS),
        "bar": bar_plot([(label, 4), ("article", 2)], title=title, unit="%"),
        "histogram": histogram([0.2, 0.5, 0.5, 1.4], title=title),
        "waterfall": waterfall([WaterfallRow(label, 0, 0, 100, note=label)], title=title),
    }


@pytest.mark.parametrize("kind", ["line", "bar", "histogram", "waterfall"])
def test_every_plot_is_an_accessible_fluid_svg(kind: str) -> None:
    root = parse(sample_plots(title="Level over turns")[kind])
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Level over turns"
    first = root[0]
    assert first.tag == "{http://www.w3.org/2000/svg}title"
    assert first.text == "Level over turns"
    assert root.find("s:desc", NS) is not None and root.find("s:desc", NS).text
    assert root.get("height") is None
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    assert (x, y) == (0, 0) and w > 0 and h > 0
    assert float(root.get("width")) == w  # drawn size; app.css (max-width: 100%) shrinks it on a phone
    assert root.get("style") is None  # no inline style: the pages' CSP forbids it; app.css sizes plots


@pytest.mark.parametrize("kind", ["line", "bar", "histogram", "waterfall"])
def test_user_text_is_escaped(kind: str) -> None:
    svg = sample_plots(label=EVIL, title=EVIL)[kind]
    root = parse(svg)
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert not [e for e in root.iter() if isinstance(e.tag, str) and "script" in e.tag]
    assert root.find("s:title", NS).text == EVIL  # round-trips as text
    assert root.get("aria-label") == EVIL


@pytest.mark.parametrize(
    "make",
    [
        lambda: line_plot([], title="Level"),
        lambda: line_plot([("1", math.nan)], title="Level", y_labels=LEVELS),
        lambda: bar_plot([], title="Level"),
        lambda: histogram([], title="Level"),
        lambda: histogram([math.inf, math.nan], title="Level"),
        lambda: waterfall([], title="Level"),
    ],
)
def test_empty_input_says_no_data(make: Callable[[], str]) -> None:
    root = parse(make())
    assert "no data" in texts(root)
    assert root.find("s:title", NS).text == "Level: no data"
    assert root.find(".//s:rect", NS) is None
    assert float(root.get("viewBox").split()[3]) < 60


@pytest.mark.parametrize("width", [200, 320, 640])
def test_width_sets_the_viewbox_and_nothing_is_drawn_outside(width: int) -> None:
    plots = [
        line_plot([(str(i), i % 6) for i in range(30)], title="Level", y_labels=LEVELS, width=width),
        bar_plot([("grammar", 3), ("spelling", 10)], title="Errors", width=width),
        histogram([0.1 * i for i in range(40)], title="Latency", width=width),
        waterfall(TRACE, width=width),
    ]
    for svg in plots:
        root = parse(svg)
        vb_w = float(root.get("viewBox").split()[2])
        assert vb_w == width
        for rect in root.iterfind(".//s:rect", NS):
            x, w = float(rect.get("x")), float(rect.get("width"))
            assert x >= 0 and x + w <= width + 0.5


def test_line_plot_maps_levels_to_heights() -> None:
    root = parse(line_plot([("1", 0), ("2", 2), ("3", 5), ("4", 2.5)], title="Level", y_labels=LEVELS))
    circles = root.findall(".//s:circle", NS)
    assert len(circles) == 4
    a1, b1, c2, between = floats(circles, "cy")
    assert a1 > b1 > c2  # higher level, higher on the page (smaller y)
    assert b1 > between > c2
    xs = floats(circles, "cx")
    assert xs == sorted(xs)
    assert all(level in texts(root) for level in LEVELS)
    assert [c.find("s:title", NS).text for c in circles] == ["1: A1", "2: B1", "3: C2", "4: B2"]
    assert len(root.find(".//s:polyline", NS).get("points").split()) == 4


def test_line_plot_thins_crowded_x_labels_and_handles_one_point() -> None:
    root = parse(line_plot([(f"turn {i}", 1) for i in range(60)], title="Level", y_labels=LEVELS))
    shown = [t for t in texts(root) if t.startswith("turn")]
    assert 1 < len(shown) < 60
    one = parse(line_plot([("1", 3.0)], title="Score"))
    assert len(one.findall(".//s:circle", NS)) == 1


def test_bar_plot_bars_are_proportional_with_values_and_units() -> None:
    root = parse(bar_plot([("articles", 10), ("tense", 5), ("spelling", 0)], title="Errors by type", unit="%"))
    bars = root.findall(".//s:rect", NS)
    assert [b.get("class") for b in bars] == ["bar"] * 3
    assert [b.get("fill") for b in bars] == ["#4a78b0"] * 3  # a default the stylesheet can override
    w10, w5, w0 = floats(bars, "width")
    assert w10 == pytest.approx(2 * w5, abs=0.1) and w0 == 0
    assert {"articles", "tense", "spelling", "10%", "5%", "0%"} <= set(texts(root))
    assert len({float(b.get("x")) for b in bars}) == 1  # one baseline
    tokens = parse(bar_plot([("qwen2.5", 1234.6), ("smollm2", 0.25)], title="Tokens", unit="tok"))
    assert {"1235 tok", "0.25 tok"} <= set(texts(tokens))


def test_bar_plot_height_grows_with_rows_and_long_labels_are_cut() -> None:
    few = parse(bar_plot([("a", 1)], title="t"))
    many = parse(bar_plot([(f"type {i}", i) for i in range(10)], title="t"))
    assert float(many.get("viewBox").split()[3]) > float(few.get("viewBox").split()[3])
    long = "a very long error type name that cannot fit in the label column"
    root = parse(bar_plot([(long, 1)], title="t"))
    assert any(t.endswith("…") for t in texts(root))
    assert root.find(".//s:g/s:title", NS).text == f"{long}: 1"  # in full on hover


def test_histogram_counts_every_value_once() -> None:
    values = [0.1, 0.2, 0.25, 0.9, 1.0, 1.0, 2.0]
    root = parse(histogram(values, title="Latency", bins=4))
    bars = root.findall(".//s:rect", NS)
    assert len(bars) == 4
    counts = [int(b.find("s:title", NS).text.rsplit(": ", 1)[1]) for b in bars]
    assert sum(counts) == len(values)
    assert counts == [3, 3, 0, 1]
    heights = floats(bars, "height")
    assert heights[0] == heights[1] > heights[3] > heights[2] == 0
    assert {"0.1 s", "2 s"} <= set(texts(root))


def test_histogram_of_equal_values_is_one_bar_and_bins_must_be_positive() -> None:
    root = parse(histogram([0.5] * 5, title="Latency"))
    assert len(root.findall(".//s:rect", NS)) == 1
    with pytest.raises(ValueError, match="at least 1 bin"):
        histogram([1.0], title="Latency", bins=0)


def test_waterfall_nests_spans_on_a_shared_time_axis() -> None:
    root = parse(waterfall(TRACE))
    spans = root.findall("s:g", NS)
    assert len(spans) == 4
    labels = [g.find("s:text", NS) for g in spans]
    assert ["".join(t.itertext()) for t in labels] == [r.label for r in TRACE]
    indents = floats(labels, "x")
    assert indents[0] < indents[1] == indents[2] < indents[3]
    bars = [g.find("s:rect", NS) for g in spans]
    x = floats(bars, "x")
    w = floats(bars, "width")
    assert x[0] <= x[1] < x[2] < x[3]
    assert x[2] + w[2] <= x[0] + w[0] + 0.1  # a child ends within its parent
    assert w[0] == pytest.approx(max(x[i] + w[i] for i in range(4)) - x[0], abs=0.1)
    assert "qwen2.5 310 tok" in " ".join(texts(root))
    assert {"0 ms", "1 s"} <= set(texts(root))  # round ticks


def test_waterfall_marks_failed_spans_with_err() -> None:
    root = parse(waterfall(TRACE))
    failed = [g for g in root.findall("s:g", NS) if "err" in g.get("class").split()]
    assert len(failed) == 1
    assert failed[0].find("s:rect", NS).get("class") == "bar err"
    assert "err" in failed[0].find("s:text", NS).get("class").split()
    assert failed[0].find("s:title", NS).text.endswith("(failed)")


PLOTS_PAGE = """<!doctype html><html><head><meta name="viewport" content="width=device-width">
<style>body {{ margin: 8px; }} svg.plot {{ height: auto; max-width: 100%; }}
.bar {{ fill: rgb(1, 2, 3); }} .bar.err {{ fill: rgb(200, 0, 0); }}</style>
</head><body>{plots}</body></html>"""


def test_plots_shrink_to_a_phone_and_take_colours_from_the_stylesheet() -> None:
    require_browser()
    plots = [
        line_plot([("1", 0), ("2", 3)], title="Level", y_labels=LEVELS),
        bar_plot([("articles", 3)], title="Errors"),
        histogram([0.1, 0.4, 0.4], title="Latency"),
        waterfall(TRACE),
    ]
    with chromium_page("http://127.0.0.1", width=PHONE[0], height=PHONE[1]) as page:
        page.set_content(PLOTS_PAGE.format(plots="".join(f"<div>{p}</div>" for p in plots)))
        boxes = page.eval_on_selector_all(
            "svg", "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
        )
        fills = page.eval_on_selector_all(".bar", "els => els.map(e => getComputedStyle(e).fill)")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE[0]  # nothing sticks out sideways
    for svg, (w, h) in zip(plots, boxes, strict=True):
        _, _, vb_w, vb_h = (float(v) for v in parse(svg).get("viewBox").split())
        assert w == pytest.approx(min(vb_w, PHONE[0] - 16), abs=1)
        assert h == pytest.approx(w * vb_h / vb_w, abs=1)  # the aspect ratio is kept
    assert set(fills) == {"rgb(1, 2, 3)", "rgb(200, 0, 0)"}
