"""The `forge` command: global options, error handling, and the registry of sub-commands.

Errors are reported by whose fault they are: bad input or a missing resource prints one sentence and exits 2;
anything else is our bug, reported as an internal error with exit 1. `--debug` shows the traceback either way.

Sub-commands are registered by name and their modules imported only when one is run or its help is shown, so
`forge config show` imports the settings and nothing of the models, graphs or index. Command modules in turn import
the heavy stack (graphs, agents, knowledge, chromadb, llama.cpp) inside the command functions.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text
from typer.core import TyperGroup

from forge.cli.common import CliState, err_console
from knowledge.errors import ForgeError
from knowledge.files import keep_private

if TYPE_CHECKING:
    from typer._click import Command, Context  # typer 0.29 vendors click; these are the types TyperGroup uses

#: Sub-commands in the order `forge --help` lists them (commands, then groups): name -> (module in forge.cli,
#: attribute). An attribute that is a `typer.Typer` is a command group; otherwise it is the command's function.
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("models_cmd", "models"),
    "ask": ("ask", "ask"),
    "level": ("level", "level"),
    "check": ("check", "check"),
    "generate": ("generate", "generate_cmd"),
    "validate": ("validate", "validate_cmd"),
    "correct": ("correct", "correct_cmd"),
    "exercises": ("exercises", "exercises"),
    "export": ("export", "export_cmd"),
    "tutor": ("tutor", "tutor"),
    "serve": ("serve", "serve"),
    "config": ("config_cmd", "app"),
    "kg": ("kg", "app"),
    "trace": ("trace", "app"),
    "index": ("index", "app"),
    "bench": ("bench", "app"),
    "sessions": ("sessions", "app"),
    "review": ("review", "app"),
    "users": ("users", "app"),
}


class LazyGroup(TyperGroup):
    """The root group: knows every sub-command by name and builds each from its module on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        """Every sub-command, registered ones in `COMMANDS` order."""
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The sub-command, importing its module the first time it is asked for."""
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


def load_command(name: str) -> Command:
    """Build one sub-command exactly as registering it on the app would (typer's own conversion)."""
    module, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(f"forge.cli.{module}"), attribute)
    holder = typer.Typer()
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


app = typer.Typer(
    name="forge",
    help="Pedagogical Forge: CEFR-aligned English learning material from a local model, audited by a knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)


@app.callback()
def _root(
    cli: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Directory for everything written (overrides FORGE_DATA_DIR).")
    ] = None,
) -> None:
    """Global options shared by every command."""
    cli.obj = CliState({"data_dir": data_dir}, debug=debug)
    cli.call_on_close(cli.obj.close)


def main() -> None:
    """Console-script entry point: run the app and turn errors into one clear sentence and an exit code."""
    debug = "--debug" in sys.argv
    keep_private()  # databases, traces and exports hold learners' text: readable by this account only
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
