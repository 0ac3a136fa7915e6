"""`ontime ui`: the monitoring dashboard on Evidently's own UI."""

from __future__ import annotations

import click

from ontime.errors import OntimeError
from ontime_cli.util import settings_of


@click.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_context
def ui(ctx: click.Context, host: str, port: int) -> None:
    """Publish every judged window to the Evidently workspace, print the dashboard's URL
    and serve Evidently's UI on it until interrupted (Ctrl-C)."""
    from monitoring.dashboard import sync
    from monitoring.dashboard_server import check_port, serve

    checks = settings_of(ctx).monitoring
    check_port(host, port)
    project, added, windows = sync(checks)
    if not windows:
        raise OntimeError(f"no judged windows in {checks.history_path}; run `ontime monitor` first")
    click.echo(f"workspace: {checks.workspace_path} ({windows} windows, {added} published now)")
    click.echo(f"dashboard: http://{host}:{port}/projects/{project}", nl=True)
    serve(checks.workspace_path, host, port)


COMMANDS: list[click.Command] = [ui]
