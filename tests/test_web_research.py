"""The researcher's pages over a real server and a real SQLite trace store filled by real runs.

The runs are made once for the module with the real SmolLM2: three tutoring turns through the API by two learners
of two classes, and one gap-fill item through the item graph (as `forge generate` runs it), which a teacher then
rejects (a stored review). The pages are read as a researcher, two teachers, a learner and the admin.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from forge.services import Services
from forge.telemetry import Redactor
from forge.trace_export import JSONL_FIELDS
from forge.web.accounts import Accounts
from tests.support.services_helpers import make_services
from tests.support.web_helpers import ApiClient, add_user, live_server

#: The first learner's first message: it has an error (for the tutor) and markup (to be shown escaped).
ANA_SAYS = "Yesterday I go to the market with my <b>x</b> sister."
ANA_AGAIN = "I buyed some apples and bread."
LEO_SAYS = "She don't like the cold weather in winter."
XSS = "<script>alert(1)</script>"
#: (name, role, class): tom teaches ana's class, tia leo's.
ACCOUNTS = (("ada", "admin", None), ("rita", "researcher", None), ("tom", "teacher", "7b"), ("tia", "teacher", "8c"),
            ("ana", "learner", "7b"), ("leo", "learner", "8c"))  # fmt: skip
TRACE_LINK = re.compile(r'href="/research/traces/([0-9a-f]{32})"')


@dataclass
class Site:
    """The live server and what the module's runs made."""

    base: str
    services: Services
    ana: list[str]  # trace ids of ana's two tutoring turns (class 7b), oldest first
    leo: str  # trace id of leo's tutoring turn (class 8c)
    item: str  # trace id of the gap-fill item run (no session)
    item_run: str  # its run id

    @property
    def every(self) -> set[str]:
        """Every trace id."""
        return {*self.ana, self.leo, self.item}


def make_traces(services: Services, base: str) -> Site:
    """Accounts of every role, three tutoring turns through the API and one reviewed item run: all real runs."""
    from forge.generation import Request, keep_for_review, result_record, run_request
    from forge.reviews.service import Reviewing

    for name, role, klass in ACCOUNTS:
        add_user(services, name, role, class_name=klass)
    with ApiClient(base, "ana") as api:
        first = api.post("/api/tutor", {"message": ANA_SAYS, "level": "A2"})
        second = api.post("/api/tutor", {"message": ANA_AGAIN, "session": first["session"]})
    with ApiClient(base, "leo") as api:
        third = api.post("/api/tutor", {"message": LEO_SAYS, "level": "B1"})
    services.ensure_index()
    (result,) = run_request(services, Request(level="A2", topic="food", type="gap_fill", count=1, seed=3))
    keep_for_review(services, [result_record(result)])
    reviewing = Reviewing(services)
    reviewing.review(reviewing.target(result.run_id), "reject", reason="bad_distractor", note=f"tom says {XSS}",
                     reviewer="tom")  # fmt: skip
    assert result.trace_id is not None
    return Site(base=base, services=services, ana=[first["trace_id"], second["trace_id"]], leo=third["trace_id"],
                item=result.trace_id, item_run=result.run_id)  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[Site]:
    """One server over one data dir with the module's real runs in its trace store."""
    services = make_services(tmp_path_factory.mktemp("research-data"), cache_dir)
    try:
        with live_server(services) as base:
            yield make_traces(services, base)
    finally:
        services.close()


@pytest.fixture
def rita(site: Site) -> Iterator[httpx.Client]:
    """The researcher's browser-like client (cookie set by the login)."""
    yield from _client(site, "rita")


@pytest.fixture
def ada(site: Site) -> Iterator[httpx.Client]:
    """The admin's client."""
    yield from _client(site, "ada")


def _client(site: Site, name: str) -> Iterator[httpx.Client]:
    """A logged-in client for pages (no JSON Accept header), closed after the test."""
    api = ApiClient(site.base, name)
    try:
        yield api.http
    finally:
        api.http.close()


def listed(client: httpx.Client, expect: int = 200, **params: str) -> set[str]:
    """The trace ids the list page links to for these filters."""
    response = client.get("/research", params=params)
    assert response.status_code == expect, response.text[:500]
    return set(TRACE_LINK.findall(response.text))


def attribute(page: str, key: str) -> list[str]:
    """The (unescaped) values the trace page shows for one span attribute, one per span that has it."""
    pattern = rf'<div data-key="{re.escape(key)}"><dt><code>[^<]*</code></dt><dd><pre>(.*?)</pre></dd></div>'
    return [html.unescape(v) for v in re.findall(pattern, page, flags=re.S)]


# the list and its filters


def test_the_trace_ids_the_runs_returned_are_in_the_store(site: Site) -> None:
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in site.every) and len(site.every) == 4


def test_filters_narrow_the_list(site: Site, rita: httpx.Client) -> None:
    everything = listed(rita)
    assert everything == site.every
    assert listed(rita, kind="item") == {site.item}
    assert listed(rita, kind="tutoring_turn") == {*site.ana, site.leo}
    assert listed(rita, level="A2") == {*site.ana, site.item}
    assert listed(rita, level="b1") == {site.leo}
    assert listed(rita, type="gap_fill") == {site.item}
    assert listed(rita, model="smollm2") == everything
    assert listed(rita, model="qwen") == set()
    assert listed(rita, since="1h") == everything and listed(rita, since="2000-01-01T00:00") == everything
    assert listed(rita, until="2000-01-01") == set()
    failed, succeeded = listed(rita, status="failed"), listed(rita, status="succeeded")
    assert failed | succeeded == everything and not failed & succeeded and site.ana[0] in succeeded
    escalated, plain = listed(rita, escalated="yes"), listed(rita, escalated="no")
    assert escalated | plain == everything and not escalated & plain and site.ana[0] in plain
    assert listed(rita, kind="tutoring_turn", level="A2") == set(site.ana)
    assert listed(rita, limit="1") == {site.item}  # newest first


def test_the_list_keeps_the_filters_in_the_form_and_in_its_links(site: Site, rita: httpx.Client) -> None:
    page = rita.get("/research", params={"kind": "tutoring_turn", "since": "7d"}).text
    assert '<option value="tutoring_turn" selected>' in page and 'name="since" value="7d"' in page
    assert 'href="/research/export.jsonl?kind=tutoring_turn&amp;since=7d"' in page
    assert 'href="/research/stats?kind=tutoring_turn&amp;since=7d"' in page
    assert 'action="/research/diff"' in page and page.count('type="radio" name="a"') == 3
    assert 'class="scroll table-wrap"' in page  # scrolls sideways on a phone


def test_bad_filter_values_get_one_sentence_and_400(rita: httpx.Client) -> None:
    for params, words in (({"level": "Z9"}, "Z9"), ({"since": "yesterday"}, "30m, 12h, 7d, 2w"),
                          ({"kind": "chat"}, "accepted kinds are"), ({"status": "maybe"}, "failed or succeeded"),
                          ({"limit": "lots"}, "limit must be"), ({"model": "m" * 300}, "longer than")):  # fmt: skip
        response = rita.get("/research", params=params)
        assert response.status_code == 400, params
        assert words in html.unescape(response.text) and 'role="alert"' in response.text
        assert "Traceback" not in response.text


def test_script_in_filter_values_is_escaped(rita: httpx.Client) -> None:
    page = rita.get("/research", params={"model": XSS})
    assert page.status_code == 200 and "No runs match" in page.text
    assert XSS not in page.text and html.escape(XSS, quote=True) in page.text
    for params in ({"kind": XSS}, {"since": "<b>x</b>"}, {"level": XSS}):
        response = rita.get("/research", params=params)
        assert response.status_code == 400
        assert XSS not in response.text and "<b>x</b>" not in response.text
    stats = rita.get("/research/stats", params={"kind": XSS})
    assert stats.status_code == 400 and XSS not in stats.text


# one trace


def test_a_trace_page_shows_the_waterfall_the_span_tree_and_the_review(site: Site, rita: httpx.Client) -> None:
    response = rita.get(f"/research/traces/{site.item}")
    assert response.status_code == 200
    page = response.text
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg and "invoke_workflow item_graph" in svg and "tok" in svg  # tokens of the model call
    assert svg.count('class="bar') >= 5 and "llamacpp:smollm2-135m" in svg
    with ApiClient(site.base, "rita") as api:
        view = api.get(f"/api/traces/{site.item}")  # the tree as `forge trace show --json` prints it
    names = [n["name"] for n in _walk(view["roots"])]
    assert all(f'<span class="span-name">{html.escape(n)}</span>' in page for n in names)
    assert page.count('<li class="span') == len(names) == view["run"]["span_count"]
    assert "gen_ai.usage.output_tokens" in page and "forge.validator.valid" in page  # span details
    assert site.item_run in page and "gap_fill" in page
    reviews = page[page.index('id="reviews-title"') :]
    assert "reject" in reviews and "bad_distractor" in reviews and "tom" in reviews
    assert XSS not in page and html.escape(XSS) in reviews  # the teacher's note, escaped


def test_a_tutoring_trace_shows_decisions_and_nested_model_calls(site: Site, rita: httpx.Client) -> None:
    page = rita.get(f"/research/traces/{site.ana[0]}").text
    assert "invoke_agent detect" in page and "smollm2-135m" in page
    assert page.index("invoke_agent detect") < page.rindex("smollm2-135m")  # the score call nests under detect
    assert "tutoring_turn" in page and "A2" in page


def test_a_prefix_or_run_id_opens_the_trace_and_unknown_ids_are_404(site: Site, rita: httpx.Client) -> None:
    assert rita.get(f"/research/traces/{site.item[:8]}").status_code == 200
    assert rita.get(f"/research/traces/{site.item_run}").status_code == 200
    for bad in ("0" * 32, "feedbeef", "nothing-like-it", "<script>alert(1)"):  # (a '/' would leave the route)
        response = rita.get(f"/research/traces/{bad}")
        assert response.status_code == 404, bad
        assert "No trace" in response.text and "<script>" not in response.text


def test_a_researcher_sees_learner_text_hashed_and_the_admin_sees_it(
    site: Site, rita: httpx.Client, ada: httpx.Client
) -> None:
    hashed = Redactor.for_data_dir(site.services.data_dir).hash(ANA_SAYS)
    researcher = rita.get(f"/research/traces/{site.ana[0]}").text
    assert attribute(researcher, "forge.learner.text") == [hashed]
    assert "shown as salted hashes" in researcher
    admin = ada.get(f"/research/traces/{site.ana[0]}").text
    assert attribute(admin, "forge.learner.text") == [ANA_SAYS]
    assert html.escape(ANA_SAYS, quote=False) in admin and "<b>x</b>" not in admin  # escaped, never markup
    assert "shown as salted hashes" not in admin


def test_the_admin_switch_lets_researchers_read_learner_text(site: Site, rita: httpx.Client) -> None:
    accounts = Accounts(site.services.sessions)
    accounts.set_setting("researchers_see_text", "true")
    try:
        page = rita.get(f"/research/traces/{site.ana[0]}").text
        assert attribute(page, "forge.learner.text") == [ANA_SAYS]
        lines = _jsonl(rita, kind="tutoring_turn")
        assert ANA_SAYS in {line["attributes"].get("forge.learner.text") for line in lines}
    finally:
        accounts.set_setting("researchers_see_text", "false")
    assert attribute(rita.get(f"/research/traces/{site.ana[0]}").text, "forge.learner.text") != [ANA_SAYS]


def test_no_learner_text_reaches_a_researcher_anywhere(site: Site, rita: httpx.Client) -> None:
    page = rita.get(f"/research/traces/{site.ana[0]}").text
    assert html.escape(ANA_SAYS, quote=False) not in page
    assert not any(ANA_SAYS in json.dumps(line) for line in _jsonl(rita))


# who sees what


def test_teachers_see_only_their_classes_traces(site: Site) -> None:
    with ApiClient(site.base, "tom") as tom:
        assert listed(tom.http) == set(site.ana)
        assert tom.http.get(f"/research/traces/{site.ana[0]}").status_code == 200
        for other in (site.leo, site.item):  # another class's learner; an item run of no session
            response = tom.http.get(f"/research/traces/{other}")
            assert response.status_code == 404 and "No such trace of yours" in response.text
        assert tom.http.get("/research/diff", params={"a": site.ana[0], "b": site.leo}).status_code == 404
        assert tom.http.get("/research/stats").status_code == 403
        assert {line["trace_id"] for line in _jsonl(tom.http)} == set(site.ana)
        assert tom.http.get("/research/export.jsonl", params={"trace": site.leo}).status_code == 404
        page = tom.http.get(f"/research/traces/{site.ana[0]}").text
        assert attribute(page, "forge.learner.text") == [ANA_SAYS]  # teachers read their own class's text
    with ApiClient(site.base, "tia") as tia:
        assert listed(tia.http) == {site.leo}
        assert tia.http.get(f"/research/traces/{site.ana[0]}").status_code == 404


def test_learners_and_strangers_get_no_research_page(site: Site) -> None:
    with ApiClient(site.base, "ana") as ana:
        for path in ("/research", f"/research/traces/{site.ana[0]}", "/research/stats", "/research/export.jsonl",
                     "/research/export.otlp.json", f"/research/diff?a={site.ana[0]}&b={site.ana[1]}"):  # fmt: skip
            response = ana.http.get(path)
            assert response.status_code == 403, path
            assert "for researcher or teacher accounts" in response.text or "for researcher accounts" in response.text
    anonymous = httpx.get(f"{site.base}/research", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/research"


# diff


def test_two_traces_side_by_side(site: Site, rita: httpx.Client) -> None:
    response = rita.get("/research/diff", params={"a": site.ana[0], "b": site.ana[1]})
    assert response.status_code == 200
    page = response.text
    table = page[page.index('<table class="diff">') : page.index("</table>")]
    assert table.count("<tr>") == 1 + len(_diff_rows(site))
    assert ">invoke_agent detect<" in table and ">invoke_agent intake<" in table and " ms<" in table
    assert re.search(r"[+-]\d+\.\d ms", table)  # the change from A to B
    assert page.count("<svg") == 2 and "Whole run:" in page
    mixed = rita.get("/research/diff", params={"a": site.ana[0], "b": site.item}).text
    assert ">absent<" in mixed  # steps only one run has


def _diff_rows(site: Site) -> list[dict[str, object]]:
    """The diff rows as `forge trace diff --json` computes them."""
    from forge.traces import TraceStore

    with TraceStore.for_data_dir(site.services.data_dir) as store:
        return [r.model_dump() for r in store.diff(site.ana[0], site.ana[1]).rows]


def test_a_bad_or_unknown_id_in_a_diff_gets_a_clear_message(site: Site, rita: httpx.Client) -> None:
    missing = rita.get("/research/diff", params={"a": site.ana[0]})
    assert missing.status_code == 400 and "Pick two traces" in missing.text
    unknown = rita.get("/research/diff", params={"a": site.ana[0], "b": "feedfacefeedface"})
    assert unknown.status_code == 404 and "No trace &#39;feedfacefeedface&#39;" in unknown.text
    assert f'value="{site.ana[0]}"' in unknown.text  # the form keeps what was typed
    script = rita.get("/research/diff", params={"a": XSS, "b": site.ana[0]})
    assert script.status_code == 404 and XSS not in script.text


# statistics


def test_the_statistics_page_draws_its_plots(site: Site, rita: httpx.Client) -> None:
    response = rita.get("/research/stats")
    assert response.status_code == 200
    page = response.text
    assert page.count("<svg") >= 6
    for heading in ("Escalation", "Latency", "Percentiles by span", "Tokens by model", "Acceptance by type",
                    "By the validator (from the runs)", "By teachers (stored reviews)"):  # fmt: skip
        assert heading in page, heading
    assert '<span class="big">4</span> runs' in page
    assert "invoke_workflow tutor_graph (3)" in page  # the histogram of the three tutoring turns
    assert "Input tokens by model" in page and "llamacpp:smollm2-135m" in page
    teachers = page[page.index("By teachers (stored reviews)") :]
    assert re.search(r'<th scope="row">gap_fill</th><td class="num">1</td><td class="num">0</td>'
                     r'<td class="num">0</td><td class="num">1</td><td class="num">0%</td>', teachers)  # fmt: skip
    narrowed = rita.get("/research/stats", params={"kind": "tutoring_turn"}).text
    assert '<span class="big">3</span> runs matching' in narrowed and "No teacher has reviewed" in narrowed


def test_the_statistics_agree_with_the_cli_numbers(site: Site, rita: httpx.Client) -> None:
    from forge.traces import RunFilter, TraceStore

    with TraceStore.for_data_dir(site.services.data_dir) as store:
        stats = store.stats(RunFilter(kind="tutoring_turn"))
    page = rita.get("/research/stats", params={"kind": "tutoring_turn"}).text
    for node in stats.nodes:
        assert f'<th scope="row">{html.escape(node.name)}</th><td class="num">{node.count}</td>' in page
        assert f"{node.p50_ms:.1f}" in page


# exports


def _jsonl(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    """The JSONL export's lines, parsed (and the response checked to be a download)."""
    response = client.get("/research/export.jsonl", params=params)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-disposition"] == 'attachment; filename="forge-traces.jsonl"'
    return [json.loads(line) for line in response.text.splitlines()]


def test_jsonl_export_parses_and_follows_the_filters(site: Site, rita: httpx.Client) -> None:
    lines = _jsonl(rita)
    assert lines and all(list(line) == list(JSONL_FIELDS) for line in lines)
    assert {line["trace_id"] for line in lines} == site.every
    assert sum(line["parent_span_id"] is None for line in lines) == len(site.every)  # one root per run
    items = _jsonl(rita, kind="item")
    assert {line["trace_id"] for line in items} == {site.item}
    assert {line["trace_id"] for line in _jsonl(rita, trace=site.ana[1][:10])} == {site.ana[1]}
    assert rita.get("/research/export.jsonl", params={"trace": "feedfacefeed"}).status_code == 404


def test_exports_hash_learner_text_for_researchers_not_for_the_admin(
    site: Site, rita: httpx.Client, ada: httpx.Client
) -> None:
    hashed = Redactor.for_data_dir(site.services.data_dir).hash(ANA_SAYS)
    texts = {line["attributes"].get("forge.learner.text") for line in _jsonl(rita, kind="tutoring_turn")}
    assert hashed in texts and ANA_SAYS not in texts
    admin = {line["attributes"].get("forge.learner.text") for line in _jsonl(ada, kind="tutoring_turn")}
    assert ANA_SAYS in admin and hashed not in admin


def test_otlp_json_export_holds_the_same_spans_with_hex_ids(site: Site, rita: httpx.Client) -> None:
    response = rita.get("/research/export.otlp.json", params={"kind": "tutoring_turn"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="forge-traces.otlp.json"'
    document = response.json()
    (resource,) = document["resourceSpans"]
    service = {a["key"]: a["value"] for a in resource["resource"]["attributes"]}["service.name"]
    assert service == {"stringValue": "pedagogical-forge"}
    spans = [s for scope in resource["scopeSpans"] for s in scope["spans"]]
    jsonl = _jsonl(rita, kind="tutoring_turn")
    assert {(s["traceId"], s["spanId"]) for s in spans} == {(j["trace_id"], j["span_id"]) for j in jsonl}
    assert {s["traceId"] for s in spans} == {*site.ana, site.leo}
    assert all(isinstance(s["kind"], int) for s in spans)
    learner = [a["value"]["stringValue"] for s in spans for a in s["attributes"] if a["key"] == "forge.learner.text"]
    assert learner and all(v.startswith("sha256:") for v in learner)
    empty = rita.get("/research/export.otlp.json", params={"model": "no-such-model"}).json()
    assert empty == {"resourceSpans": []}


def _walk(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every node of a trace's JSON tree."""
    for node in nodes:
        yield node
        yield from _walk(node["children"])
