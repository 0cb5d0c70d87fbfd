"""`forge bench quality|speed|...`: benchmarks that print figures (tables for people, --json for scripts).

The benchmark modules (forge.bench.*) import the whole stack, so each command imports its own when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from forge.cli.common import EXERCISE_TYPES, console, err_console, print_json, services
from forge.cli.index import build_with_progress
from knowledge.errors import UserInputError
from knowledge.levels import Level, parse_level

app = typer.Typer(help="Benchmarks: print measured figures against the goals.", no_args_is_help=True)
_COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _levels(text: str) -> list[Level]:
    """Comma-separated levels."""
    return [parse_level(part) for part in text.split(",") if part.strip()]


def _kinds(text: str) -> list[str]:
    """Comma-separated exercise types, checked."""
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [k for k in kinds if k not in EXERCISE_TYPES]
    if unknown:
        raise UserInputError(f"Unknown exercise type {unknown[0]!r}; accepted types are {', '.join(EXERCISE_TYPES)}.")
    return kinds


def _topics(text: str | None, per_cell: int) -> list[str]:
    """Held-out topics (never the ones generation was tuned on)."""
    from forge.bench import quality

    topics = [t.strip() for t in text.split(",")] if text else list(quality.BENCH_TOPICS[:per_cell])
    tuned = [t for t in topics if t in quality.TUNING_TOPICS]
    if tuned:
        raise UserInputError(f"Topic {tuned[0]!r} was used for tuning; give held-out topics, e.g. music, weather.")
    return topics


@app.command("quality")
def quality_cmd(
    cli: typer.Context,
    levels: Annotated[str, typer.Option(help="Comma-separated levels.")] = "A1,A2,B1,B2,C1,C2",
    types: Annotated[str, typer.Option("--types", help="Comma-separated exercise types.")] = ",".join(EXERCISE_TYPES),
    topics: Annotated[str | None, typer.Option(help="Comma-separated held-out topics.")] = None,
    per_cell: Annotated[int, typer.Option("--per-cell", min=1, max=10, help="Topics per level×type cell.")] = 2,
    thresholds: Annotated[
        str | None, typer.Option(help="With an escalation target: local attempts before escalating, e.g. 1,2,3.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the first request.")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Structural validity, share of items within the level, ACI and latency, by level and by type."""
    from forge.bench import quality

    svc = services(cli)
    build_with_progress(svc, quiet=as_json)
    batch = quality.requests(_levels(levels), _kinds(types), _topics(topics, per_cell), seed)
    with Progress(*_COLUMNS, console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("Generating", total=len(batch))
        rows = quality.run(svc, batch, progress=lambda: progress.advance(task))
        table = None
        if thresholds:
            steps = [int(t) for t in thresholds.split(",")]
            task2 = progress.add_task("Escalation thresholds", total=len(batch) * len(steps))
            table = quality.routellm_table(svc, batch, steps, lambda: progress.advance(task2))
    report = {
        "overall": quality.summary(rows),
        "by_level": quality.breakdown(rows, lambda r: r.level.value),
        "by_type": quality.breakdown(rows, lambda r: r.kind),
        "escalation_thresholds": table,
        "escalation_chain": svc.settings.escalation_chain,
        "escalation_reachable": svc.agent_context.escalation_target() is not None,
        "topics": sorted({r.topic for r in rows}),
        "failures": [
            {"level": r.level.value, "type": r.kind, "topic": r.topic, "problems": r.problems[:3]}
            for r in rows
            if not r.structural
        ],
    }
    if as_json:
        print_json(report)
        return
    _print_quality(report)


def _pct(value: float) -> str:
    """A share as a whole percentage."""
    return f"{100 * value:.0f}%"


def _print_quality(report: dict[str, Any]) -> None:
    """Tables of the goal figures."""
    table = Table(title="Item quality (independent re-check of every item)", title_justify="left")
    for column in ("group", "n", "structure", "meaning", "≤5% above", "accepted", "escal.", "ACI", "med s", "p90 s"):
        table.add_column(column, justify="left" if column == "group" else "right")
    groups = [("all", report["overall"]), *report["by_level"].items(), *report["by_type"].items()]
    for name, s in groups:
        table.add_row(
            name,
            str(s["items"]),
            _pct(s["structurally_valid"]),
            _pct(s["meaning_valid"]),
            _pct(s["within_level"]),
            _pct(s["accepted"]),
            _pct(s["escalated"]),
            f"{s['mean_aci']:.2f}",
            f"{s['median_s']:.1f}",
            f"{s['p90_s']:.1f}",
            end_section=name == "all",
        )
    console.print(table)
    if report["escalation_thresholds"]:
        _print_thresholds(report["escalation_thresholds"])
    console.print(
        f"Goals: ≥95% structurally valid, ≥90% with ≤5% of words above the level, median ≤8 s and p90 ≤20 s per "
        f"item; median orchestration overhead {1000 * report['overall']['median_overhead_s']:.1f} ms. "
        f"Topics: {', '.join(report['topics'])}."
    )


def _print_thresholds(rows: list[dict[str, Any]]) -> None:
    """The RouteLLM-style table: quality against the share of items escalated."""
    table = Table(title="Quality vs share escalated (escalate after N local attempts)")
    for column in ("N", "escalated", "structurally valid", "≤5% above level", "accepted", "mean ACI", "median s"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row["local_attempts_before_escalating"]),
            _pct(row["escalated"]),
            _pct(row["structurally_valid"]),
            _pct(row["within_level"]),
            _pct(row["accepted"]),
            f"{row['mean_aci']:.3f}",
            f"{row['median_s']:.2f}",
        )
    console.print(table)


@app.command("speed")
def speed_cmd(
    cli: typer.Context,
    per_type: Annotated[int, typer.Option("--per-type", min=1, max=20, help="Items per exercise type.")] = 3,
    level: Annotated[str, typer.Option(help="Level of the latency items.")] = "B1",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Start-up, cold first item, latency per item, overhead, backend tokens/s vs llama-cpp-python, tracing."""
    from forge.bench import quality, speed

    svc = services(cli)
    build_with_progress(svc, quiet=as_json)
    batch = quality.requests([parse_level(level)], list(EXERCISE_TYPES), quality.BENCH_TOPICS[:per_type], 5000)
    with Progress(*_COLUMNS, console=err_console, transient=True, disable=as_json) as progress:
        progress.add_task("Start-up of forge --help and forge config show (new processes)", total=None)
        startup = speed.startup()
        progress.add_task("Cold first item (a fresh process)", total=None)
        cold = speed.cold_first_item(svc, batch[0].model_copy(update={"seed": batch[0].seed + 999}))
        progress.add_task("Warming up (one item per type, not measured)", total=None)
        warm_s = speed.warm_up(svc, batch)
        task = progress.add_task("Items", total=len(batch))
        rows = speed.item_latency(svc, batch, lambda: progress.advance(task))
        progress.add_task("Backend throughput and tracing overhead", total=None)
        local = svc.model()
        throughput = speed.backend_throughput(local) if hasattr(local, "_instance") else {}  # type: ignore[arg-type]
        tracing = speed.tracing_overhead(svc, batch[: len(EXERCISE_TYPES)])
    report = {
        "startup": startup,
        "cold_first_item": cold,
        "warm_up_s": warm_s,
        "items": speed.medians(rows),
        "by_type": {k: speed.medians([r for r in rows if r["type"] == k]) for k in EXERCISE_TYPES},
        "backend": throughput,
        "tracing": tracing,
    }
    if as_json:
        print_json(report)
        return
    _print_speed(report)


def _print_speed(report: dict[str, Any]) -> None:
    """Tables of the speed figures."""
    table = Table(title="Latency per item (local model only)")
    for column in ("type", "median s", "median model s", "median overhead ms"):
        table.add_column(column, justify="right")
    for name, m in [("all", report["items"]), *report["by_type"].items()]:
        table.add_row(
            name, f"{m['median_s']:.2f}", f"{m['median_model_s']:.2f}", f"{1000 * m['median_overhead_s']:.1f}"
        )
    console.print(table)
    _print_startup(report["startup"], report["cold_first_item"])
    console.print(f"Warm-up (first item of each type, not in the table): {report['warm_up_s']:.1f} s in all.")
    b, t = report["backend"], report["tracing"]
    if b:
        console.print(
            f"Backend: {b['ours_tokens_per_s']:.1f} tokens/s through forge vs "
            f"{b['direct_tokens_per_s']:.1f} direct ({100 * b['difference']:+.1f}%; goal within 5%)."
        )
    console.print(f"Tracing: {t['on_s']:.2f} s on vs {t['off_s']:.2f} s off ({100 * t['overhead']:+.1f}%; goal ≤ 5%).")
    console.print("Goal: orchestration overhead ≤ 50 ms median per item.")


def _print_startup(startup: dict[str, Any], cold: dict[str, Any]) -> None:
    """Start-up of the CLI against `import typer`, and the cold first item's overhead, against their goals."""
    table = Table(title="Start-up (new processes)")
    for column in ("figure", "measured", "goal"):
        table.add_column(column)
    base = startup["import_typer_s"]
    table.add_row('python -c "import typer" (the floor)', f"median {base:.3f} s", "")
    for name, row in startup["commands"].items():
        mark = "" if row["ratio"] <= startup["goal_ratio"] else " [red](over)[/red]"
        table.add_row(name, f"median {row['median_s']:.3f} s = {row['ratio']:.1f}×{mark}",
                      f"≤ {startup['goal_ratio']:.0f}× import typer")  # fmt: skip
    if "error" in cold:
        table.add_row("cold first item: orchestration overhead", f"[red]{cold['error']}[/red]", "")
    else:
        mark = "" if cold["overhead_s"] < cold["goal_overhead_s"] else " [red](over)[/red]"
        slowest = sorted(cold["nodes_s"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(
            f"cold first item ({cold['type']}, {cold['status']}): orchestration overhead",
            f"{cold['overhead_s']:.3f} s{mark} (model {cold['model_s']:.2f} s of {cold['total_s']:.2f} s; "
            f"slowest nodes, model time included: {', '.join(f'{k} {v:.2f} s' for k, v in slowest)}; "
            f"set-up before it {cold['setup_s']:.1f} s, process {cold['process_s']:.1f} s)",
            f"< {cold['goal_overhead_s']} s",
        )
    console.print(table)


@app.command("review")
def review_cmd(
    cli: typer.Context,
    labels: Annotated[Path | None, typer.Option("--labels", help="Reviewed items (JSON Lines: item, reviews).")] = None,
    stored: Annotated[
        bool | None,
        typer.Option(
            "--stored/--no-stored",
            help="Also the reviews `forge review` stored (the default when no --labels is given).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Precision and recall of the accept decision against teachers' reviews, per type and level."""
    from forge.bench import review as review_bench
    from forge.reviews.labels import teacher_labels
    from forge.reviews.store import ReviewStore

    svc = services(cli)
    found, source = teacher_labels(ReviewStore(svc.sessions), labels, stored)
    ctx = svc.agent_context
    with Progress(*_COLUMNS, console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("Judging reviewed items", total=len(found))
        report = review_bench.run(ctx, found, source, progress=lambda n: progress.advance(task, n))
    if as_json:
        print_json(report)
        return
    _print_review(report)


def _print_review(report: dict[str, Any]) -> None:
    """Overall figures, then one row per type and per level, then the disagreements."""
    table = Table(title=f"Accept decision vs reviewers ({report['labels']})", title_justify="left")
    for column in ("group", "items", "usable", "accepted", "acc∧usable", "precision", "recall"):
        table.add_column(column, justify="right" if column != "group" else "left")
    groups = [("all", report["overall"]), *report["by_type"].items(), *report["by_level"].items()]
    for name, row in groups:
        table.add_row(
            name,
            str(row["items"]),
            str(row["usable"]),
            str(row["accepted"]),
            str(row["accepted_usable"]),
            "—" if row["precision"] is None else f"{row['precision']:.2f}",
            "—" if row["recall"] is None else f"{row['recall']:.2f}",
            end_section=name == "all",
        )
    console.print(table)
    for item in report["items"]:
        if not item["agrees"]:
            said = "accepted" if item["accepted"] else "rejected"
            why = f" ({item['problems'][0]})" if item["problems"] else ""
            console.print(
                f"#{item['n']} {item['type']} {item['level']}: {said}, reviewers {'/'.join(item['verdicts'])}{why}",
                highlight=False,
            )


@app.command("sessions")
def sessions_cmd(
    cli: typer.Context,
    kills: Annotated[int, typer.Option("--kills", min=1, max=20, help="Turns killed with -9 at random points.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the random kill points.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Session turn latency, kill -9 recovery, and isolation of four parallel sessions."""
    from forge.bench import sessions as session_bench
    from forge.cli.bench_sessions import print_sessions

    svc = services(cli)
    build_with_progress(svc, quiet=as_json)
    with Progress(*_COLUMNS, console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("Scripted turns", total=None)
        report = session_bench.run(svc, kills=kills, seed=seed, progress=lambda _: progress.advance(task))
    if as_json:
        print_json(report)
        return
    print_sessions(report)


@app.command("knowledge")
def knowledge_cmd(
    cli: typer.Context,
    labelled: Annotated[
        Path | None,
        typer.Option("--labelled", help="A CEFR-SP-style TSV (sentence, label A, label B; 1-6) to score levels on."),
    ] = None,
    rounds: Annotated[int, typer.Option(min=1, max=20, help="Rounds of the 60 level×topic queries.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Knowledge-graph load time, level+topic-filtered retrieval latency, and level estimation on labelled data."""
    from forge.bench import knowledge_bench

    svc = services(cli)
    build_with_progress(svc, quiet=as_json)
    with Progress(*_COLUMNS, console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("Retrieval queries", total=knowledge_bench.query_count(rounds))
        report: dict[str, Any] = {
            "graph_load_s": round(knowledge_bench.graph_load(svc.cache_dir / "knowledge"), 3),
            "retrieval": knowledge_bench.retrieval(svc, rounds, lambda: progress.advance(task)),
            "level_estimation": None,
        }
        if labelled is not None:
            progress.add_task(f"Estimating the levels of {labelled.name}", total=None)
            report["level_estimation"] = knowledge_bench.level_estimation(svc, labelled)
    if as_json:
        print_json(report)
        return
    _print_knowledge(report)


def _print_knowledge(report: dict[str, Any]) -> None:
    """Tables of the knowledge figures against the goals."""
    r = report["retrieval"]
    table = Table(title="Knowledge layer")
    for column in ("figure", "measured", "goal"):
        table.add_column(column)
    table.add_row("knowledge graph load from its cache", f"{report['graph_load_s']:.2f} s", "well under 1 s")
    table.add_row(
        f"lexicon query, level + topic filter ({r['queries']} queries, {r['entries']:,} entries)",
        f"median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms",
        "median ≤ 20 ms",
    )
    lev = report["level_estimation"]
    if lev:
        table.add_row(f"level = either label ({lev['sentences']} sentences)", f"{lev['either_label']:.3f}", "≥ 0.75")
        table.add_row("within one level of the labels' mean", f"{lev['within_one_of_mean']:.3f}", "≥ 0.92")
        table.add_row("per-level average of the first", f"{lev['per_level_either_label']:.3f}", "≥ 0.60")
        table.add_row("time per sentence", f"{lev['ms_per_sentence']:.1f} ms", "")
    console.print(table)
    if not lev:
        console.print("Level estimation: give --labelled FILE (CEFR-SP's tab-separated format) to score it.")


@app.command("gleu")
def gleu_cmd(
    cli: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="A JFLEG directory (dev.src, dev.ref0..3); never shipped.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Measure at most N sentences.")] = None,
    start: Annotated[int, typer.Option("--start", min=0, help="Index of the first sentence (held-out halves).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """GLEU on JFLEG of copying the source and of `forge correct`, false alarms on the references, time."""
    from agents.tutor.errors import ErrorDetector
    from forge.bench import gleu
    from knowledge.nlp import analyze

    jfleg = gleu.load_jfleg(data)
    if start >= len(jfleg.sources):
        raise UserInputError(f"--start {start} is past the end; {data} has {len(jfleg.sources)} sentences.")
    part, detector = jfleg.part(start, limit), ErrorDetector(services(cli).model())

    def edits(text: str) -> list[gleu.Edit]:
        return [(e.span, e.suggestion) for e in detector.detect(text).errors]

    def correct(line: str) -> str:
        return gleu.retokenised(line, edits, lambda t: [tok.text for tok in analyze(t)])

    with Progress(*_COLUMNS, console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("Correcting", total=2 * len(part.sources))
        report = gleu.run(part, correct, start, progress=lambda: progress.advance(task))
    if as_json:
        print_json(report)
        return
    table = Table(title=f"JFLEG: sentences {start}..{start + report.sentences - 1} of {data}")
    for column in ("figure", "measured", "goal"):
        table.add_column(column)
    table.add_row("GLEU, copying the source", f"{report.gleu_copy:.2f}", "")
    table.add_row("GLEU, our corrections", f"{report.gleu_system:.2f}", f"≥ {report.gleu_copy + 12:.2f}")
    table.add_row("sentences changed", f"{report.sentences_changed:.1%}", "")
    table.add_row("false alarms (a reference as input, changed)", f"{report.false_alarm_rate:.1%}", "≤ 10%")
    table.add_row("time per sentence", f"{report.s_per_sentence:.2f} s", "")
    console.print(table)


@app.command("pool")
def pool_cmd(
    cli: typer.Context,
    hosts: Annotated[
        str | None, typer.Option(help="Comma-separated Ollama URLs (two or more); default: the ollama_hosts setting.")
    ] = None,
    calls: Annotated[int, typer.Option(min=2, max=200, help="Calls in the spread phase.")] = 8,
    attempt_s: Annotated[float, typer.Option("--attempt-s", min=0.5, help="Per-attempt budget when failing over.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Ollama host pool: calls per host, failover time with a host failing or hung, turn time with every host hung."""
    from forge.bench import pool as pool_bench

    svc = services(cli)
    given = [h.strip().rstrip("/") for h in hosts.split(",") if h.strip()] if hosts else None
    urls = given or svc.settings.resolved_ollama_hosts
    if len(urls) < 2:
        raise UserInputError(f"The pool bench needs two or more hosts; got {urls}. Give --hosts URL,URL.")
    if hosts:
        svc.settings = svc.settings.model_copy(update={"ollama_hosts": urls})
    with err_console.status("Measuring the pool") as status:
        report = pool_bench.run(svc, urls, calls=calls, attempt_s=attempt_s, progress=lambda p: status.update(p))
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    table = Table(title=f"Ollama pool of {len(urls)} hosts")
    for column in ("figure", "measured"):
        table.add_column(column)
    for url, served in report.calls_per_host.items():
        table.add_row(f"calls served by {url}", str(served))

    def secs(value: float | None) -> str:
        return "skipped" if value is None else f"{value:.2f} s"

    table.add_row("one call, first host answering 500", secs(report.failover_500_s))
    table.add_row(f"one call, first host hung (attempt budget {report.attempt_s:g} s)", secs(report.failover_hang_s))
    table.add_row("next call, hung host ejected", secs(report.after_ejection_s))
    table.add_row(f"both hung: escalation + local answer (deadline {report.turn_deadline_s:g} s)",
                  secs(report.escalation_fallback_s))  # fmt: skip
    table.add_row("both hung: one tutoring turn" + (" (escalated)" if report.turn_escalated else ""),
                  secs(report.turn_s))  # fmt: skip
    console.print(table)
    if report.fallback_reason:
        console.print(f"[dim]why the chain gave up: {report.fallback_reason[:300]}[/dim]", highlight=False)
    for note in report.skipped:
        console.print(f"[dim]skipped: {note}[/dim]", highlight=False)


@app.command("load")
def load_cmd(
    url: Annotated[str, typer.Option("--url", help="The deployment's address, e.g. http://127.0.0.1:8765.")],
    learners: Annotated[int, typer.Option(min=0, max=200, help="Simulated learners (tutoring turns).")] = 8,
    teachers: Annotated[int, typer.Option(min=0, max=50, help="Simulated teachers (sets, pages, traces).")] = 1,
    seconds: Annotated[float, typer.Option(min=1, help="How long new requests are started.")] = 60,
    admin: Annotated[
        str, typer.Option("--admin", help="An admin account, to create and remove the bench's.")
    ] = "admin",
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the admin's password from the first line of standard input (else FORGE_BENCH_ADMIN_PASSWORD).",
        ),
    ] = False,
    timeout_s: Annotated[float, typer.Option("--timeout-s", min=1, help="Longest one request may take.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the scripts, levels and think times.")] = 0,
    think_s: Annotated[
        float, typer.Option("--think-s", min=0, help="Mean pause between a reply and a learner's next message.")
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Learners and teachers over real HTTP: turns and items per minute, latencies, errors, lost and mixed turns."""
    import os
    import sys

    from forge.bench import load

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else os.environ.get("FORGE_BENCH_ADMIN_PASSWORD")
    if not password:
        raise UserInputError("Give the admin's password with --password-stdin or FORGE_BENCH_ADMIN_PASSWORD.")
    config = load.LoadConfig(url=url, learners=learners, teachers=teachers, seconds=seconds, seed=seed, think_s=think_s,
                             timeout_s=timeout_s)  # fmt: skip
    report = load.run(config, admin, password, progress=lambda line: err_console.print(line, highlight=False))
    if as_json:
        print_json(report)
        return
    _print_load(report)


def _print_load(report: dict[str, Any]) -> None:
    """The load figures in 80 columns: a latency table, then rates, errors, checks and the deployment's health."""
    c = report["config"]
    title = f"{c['learners']} learners, {c['teachers']} teachers, think {c['think_s']:g} s, {report['elapsed_s']:.0f} s"
    table = Table(title=f"{title}: {c['url']}",
                  title_justify="left")  # fmt: skip
    for column in ("requests", "n", "p50 s", "p95 s", "max s"):
        table.add_column(column, justify="left" if column == "requests" else "right")
    names = {"turn": "tutoring turns", "exercise": "exercise sets", "page": "page loads", "traces": "trace browsing"}
    for kind, row in report["latency"].items():
        cells = ["-" if row[k] is None else f"{row[k]:.3f}" for k in ("p50_s", "p95_s", "max_s")]
        table.add_row(names.get(kind, kind), str(row["n"]), *cells)
    console.print(table, width=80)
    errors = ", ".join(f"{k} ×{v}" for k, v in report["errors"].items()) or "none"
    lines = [
        f"turns {report['turns']} ({report['turns_per_min']:.1f}/min), items {report['items']} "
        f"({report['items_per_min']:.1f}/min)",
        f"errors: {errors}",
        f"lost {report['lost']}, mixed {report['mixed']}"
        + (f" ({'; '.join(report['examples'])})" if report["examples"] else ""),
        *_where_time_goes(report),
        _health_line(report["health"]),
        "Goals: 0 lost, 0 mixed, 0 errors; turn p95 ≤ 15 s; page loads p95 ≤ 0.3 s.",
    ]
    if report["accounts_left"]:
        lines.append(f"NOT removed: {', '.join(report['accounts_left'])}")
    for line in lines:
        console.print(line, width=80, highlight=False, soft_wrap=False)


def _where_time_goes(report: dict[str, Any]) -> list[str]:
    """Turn time split into the model's work (the turn's trace) and the rest (queue wait, HTTP)."""
    split, queue = report["where_turn_time_goes"], report["queue_length"]
    out = [f"queue length (waiting + running): mean {queue['mean']}, max {queue['max']}"]
    if split.get("turns"):
        m, q = split["model"], split["queue_and_http"]
        out.append(f"turn time ({split['turns']} traced): model p50 {m['p50_s']:.1f} s p95 {m['p95_s']:.1f} s; "
                   f"queue+HTTP p50 {q['p50_s']:.1f} s p95 {q['p95_s']:.1f} s")  # fmt: skip
    return out


def _health_line(health: Any) -> str:
    """The deployment's /healthz in one line."""
    if not isinstance(health, dict):
        return "healthz: no answer"
    traces = health.get("traces")
    if isinstance(traces, dict):  # the trace store's own check: whether it is ok and how many spans it dropped
        traces = f"{'ok' if traces.get('ok') else traces.get('error')}, {traces.get('dropped_spans', 0)} spans dropped"
    shown = {**health, "traces": traces}
    keys = ("status", "sessions", "database", "traces", "process")
    return "healthz: " + ", ".join(f"{k} {shown[k]}" for k in keys if k in shown)
