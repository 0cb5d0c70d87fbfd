"""Run the real `forge` console script in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

FORGE = [sys.executable, "-c", "from forge.cli.app import main; main()"]


def run_forge(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 300,
              cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `forge ARGS` with the test's environment (plus `env`), returning the completed process."""
    full_env = dict(os.environ) | (env or {})
    return subprocess.run(
        [*FORGE, *args], capture_output=True, text=True, env=full_env, input=stdin, timeout=timeout, cwd=cwd
    )


def forge_json(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    """Run `forge ARGS --json` expecting success, and parse stdout."""
    proc = run_forge(*args, "--json", env=env, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_clean_error(proc: subprocess.CompletedProcess[str], *fragments: str, code: int = 2) -> None:
    """Bad input: the given exit code, one clear message containing the fragments, and no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in " ".join(proc.stderr.split()), proc.stderr
