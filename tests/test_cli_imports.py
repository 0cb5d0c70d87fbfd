"""The CLI imports what a command needs, and the product never imports the benchmarks.

Start-up time itself is a figure of `forge bench speed` (goal: `forge --help` and `forge config show` within 5× of
`import typer`), never a timed test; these tests pin the structure that makes it hold.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Modules no command module may import before its command runs.
HEAVY = ("chromadb", "llama_cpp", "langgraph", "langchain_core", "numpy", "opentelemetry.sdk", "httpx", "ollama",
         "forge.services", "forge.bench", "forge.traces", "graphs", "agents.models", "knowledge.retrieval",
         "knowledge.items", "knowledge.graph", "knowledge.nlp")  # fmt: skip


def _loaded_after(code: str) -> list[str]:
    """The top-level names of HEAVY modules a fresh interpreter has loaded after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return sorted(h for h in HEAVY if h in loaded or any(m.startswith(h + ".") for m in loaded))


def test_help_of_every_command_imports_nothing_heavy() -> None:
    code = "from forge.cli.app import COMMANDS, load_command\nfor name in COMMANDS:\n    load_command(name)"
    assert _loaded_after(code) == []


def test_config_show_imports_only_its_own_command_module() -> None:
    code = (
        "import sys\nfrom forge.cli.app import main\nsys.argv = ['forge', 'config', 'show', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "others = [m for m in sys.modules if m.startswith('forge.cli.') and m not in "
        "('forge.cli.app', 'forge.cli.common', 'forge.cli.config_cmd')]\nassert not others, others"
    )
    assert _loaded_after(code) == []


def test_help_texts_copies_match_their_sources() -> None:
    from forge.cli import trace
    from forge.cli.common import EXERCISE_TYPES
    from forge.traces import TIME_FORMS
    from knowledge.items import EXERCISE_TYPES as ITEM_TYPES

    assert EXERCISE_TYPES == ITEM_TYPES
    assert trace.TIME_FORMS == TIME_FORMS


@pytest.mark.parametrize("package", ["forge", "agents", "graphs", "knowledge"])
def test_the_product_never_imports_the_benchmarks(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("forge/bench/", "forge/cli/")):  # the bench itself, and the `forge bench` command
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{relative}: {n}" for n in names if n == "forge.bench" or n.startswith("forge.bench.")]
    assert offenders == []
