"""`forge serve`: the web app (learner, teacher, researcher and admin pages, and the JSON API) on one port.

forge serve                       # http://127.0.0.1:8765, this machine only
forge serve --host 0.0.0.0 --port 8080    # reachable from the school's network
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from forge.cli.common import console, err_console, services

if TYPE_CHECKING:
    from forge.services import Services

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
    _prepare(svc)
    app = create_app(svc)
    console.print(f"Pedagogical Forge on [bold]http://{host}:{port}/[/bold] (API docs at /docs); Ctrl-C stops it.")
    if host not in LOCAL_HOSTS:
        console.print("[yellow]Listening beyond this machine: use HTTPS in front of it (a reverse proxy).[/yellow]")
    if not Accounts(svc.sessions).users():
        console.print("No accounts yet: add one with forge users add NAME --role admin --password-stdin")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _prepare(svc: Services) -> None:
    """Build what every request needs before listening (the index, the graphs, the local model's weights).

    Otherwise the first learners of a fresh deployment wait while their requests build it (measured: about two
    minutes on an empty cache); a proxy sends nobody here until /healthz answers.
    """
    with err_console.status("Preparing the knowledge graph, the retrieval index and the graphs"):
        svc.ensure_index()
        _ = svc.item_graph
        warm_up = getattr(svc.model(), "warm_up", None)  # the embedded model has one; remote models need none
        if callable(warm_up):
            warm_up()
