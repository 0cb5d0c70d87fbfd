"""`forge users add|list|remove`: the web app's accounts (learner, teacher, researcher, admin).

echo 'a long password' | forge users add ana --role learner --class 7b --password-stdin
forge users list [--role teacher] [--json]
forge users remove ana
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from forge.cli.common import console, print_json, services
from knowledge.errors import UserInputError

app = typer.Typer(help="Add, list and remove the web app's accounts.", no_args_is_help=True)


@app.command("add")
def add(
    cli: typer.Context,
    name: Annotated[str, typer.Argument(help="User name: 2-32 lower-case letters, digits, '.', '_' or '-'.")],
    role: Annotated[str, typer.Option("--role", help="learner, teacher, researcher or admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
    class_name: Annotated[
        str | None, typer.Option("--class", help="The class a learner is in, or a teacher teaches.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Add an account; the password comes from standard input, never from the command line."""
    from forge.web.accounts import Accounts

    if not password_stdin:
        raise UserInputError("Give the password on standard input with --password-stdin (never as an argument).")
    password = sys.stdin.readline().rstrip("\r\n")
    user = Accounts(services(cli).sessions).add(name, role, password, class_name)
    if as_json:
        print_json(user)
        return
    where = f" in class {user.class_name}" if user.class_name else ""
    console.print(f"Added {user.role} {user.name}{where}.")


@app.command("list")
def list_users(
    cli: typer.Context,
    role: Annotated[str | None, typer.Option("--role", help="Only accounts of this role.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every account, by name."""
    from forge.web.accounts import Accounts

    users = Accounts(services(cli).sessions).users(role)
    if as_json:
        print_json({"users": users})
        return
    if not users:
        console.print("No accounts yet: forge users add NAME --role admin --password-stdin")
        return
    table = Table("name", "role", "class", "created")
    for u in users:
        table.add_row(u.name, u.role, u.class_name or "-", f"{u.created:%Y-%m-%d %H:%M}")
    console.print(table)


@app.command("remove")
def remove(
    cli: typer.Context,
    name: Annotated[str, typer.Argument(help="The account to remove.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Remove an account and end its logins (its sessions are kept; an admin still sees them)."""
    from forge.web.accounts import Accounts

    user = Accounts(services(cli).sessions).remove(name)
    if as_json:
        print_json({"removed": user.name, "role": user.role})
        return
    console.print(f"Removed {user.role} {user.name}.")
