"""The `forge` command: global options, error handling, and the registry of sub-commands.

Errors are reported by whose fault they are: bad input or a missing resource prints one sentence and exits 2;
anything else is our bug, reported as an internal error with exit 1. `--debug` shows the traceback either way.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from forge.cli import ask, bench, check, config_cmd, exercises, generate, index, kg, level, models_cmd, sessions
from forge.cli import trace as trace_cmd
from forge.cli import tutor as tutor_cmd
from forge.cli.common import CliState, err_console
from knowledge.errors import ForgeError

app = typer.Typer(
    name="forge",
    help="Pedagogical Forge: CEFR-aligned English learning material from a local model, audited by a knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Directory for everything written (overrides FORGE_DATA_DIR).")
    ] = None,
) -> None:
    """Global options shared by every command."""
    ctx.obj = CliState({"data_dir": data_dir}, debug=debug)
    ctx.call_on_close(ctx.obj.close)


app.add_typer(config_cmd.app, name="config")
app.command("models")(models_cmd.models)
app.command("ask")(ask.ask)
app.add_typer(kg.app, name="kg")
app.add_typer(trace_cmd.app, name="trace")
app.command("level")(level.level)
app.command("check")(check.check)
app.command("generate")(generate.generate_cmd)
app.add_typer(index.app, name="index")
app.add_typer(bench.app, name="bench")
app.command("exercises")(exercises.exercises)
app.add_typer(sessions.app, name="sessions")
app.command("tutor")(tutor_cmd.tutor)


def main() -> None:
    """Console-script entry point: run the app and turn errors into one clear sentence and an exit code."""
    debug = "--debug" in sys.argv
    try:
        app()
    except ForgeError as exc:
        _report(exc, debug, code=2)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
    except Exception as exc:  # our bug: say so, keep the traceback behind --debug
        _report(exc, debug, code=1, internal=True)


def _report(exc: BaseException, debug: bool, *, code: int, internal: bool = False) -> None:
    """Print the error (and the traceback with --debug), then exit."""
    if debug:
        err_console.print_exception()
    prefix = "Internal error (please report it; --debug shows the traceback): " if internal else "Error: "
    err_console.print(Text.assemble((prefix, "red"), str(exc)), highlight=False)
    sys.exit(code)
