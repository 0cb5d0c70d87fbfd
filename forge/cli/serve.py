"""`forge serve`: the web app (learner, teacher, researcher and admin pages, and the JSON API) on one port.

forge serve                       # http://127.0.0.1:8765, this machine only
forge serve --host 0.0.0.0 --port 8080    # reachable from the school's network
"""

from __future__ import annotations

from typing import Annotated

import typer

from forge.cli.common import console, services

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def serve(
    cli: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 127.0.0.1 keeps it on this machine.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
) -> None:
    """Serve the web app and its JSON API (OpenAPI at /docs) until Ctrl-C."""
    import uvicorn

    from forge.web.accounts import Accounts
    from forge.web.app import create_app

    svc = services(cli)
    app = create_app(svc)
    console.print(f"Pedagogical Forge on [bold]http://{host}:{port}/[/bold] (API docs at /docs); Ctrl-C stops it.")
    if host not in LOCAL_HOSTS:
        console.print("[yellow]Listening beyond this machine: use HTTPS in front of it (a reverse proxy).[/yellow]")
    if not Accounts(svc.sessions).users():
        console.print("No accounts yet: add one with forge users add NAME --role admin --password-stdin")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
