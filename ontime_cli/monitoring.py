"""`ontime` commands for monitoring. Each command is a thin wrapper over a library function."""

from __future__ import annotations

import click

from ontime.errors import OntimeError
from ontime_cli.util import parse_time, settings_of


@click.command("monitor")
@click.option("--from", "start", required=True, help="Window start, ISO time (UTC).")
@click.option("--to", "end", required=True, help="Window end (exclusive), ISO time (UTC).")
@click.option(
    "--labels-as-of",
    default=None,
    help="Count labels that arrived by this time (default: the window end).",
)
@click.pass_context
def monitor(ctx: click.Context, start: str, end: str, labels_as_of: str | None) -> None:
    """Check served traffic of a window; write reports/<window>/ and one decision."""
    from monitoring.run import monitor as run

    settings = settings_of(ctx)
    begin, finish = parse_time(start), parse_time(end)
    if begin is None or finish is None:
        raise OntimeError("--from and --to are required")
    summary = run(settings, begin, finish, labels_as_of=parse_time(labels_as_of))
    folder = settings.monitoring.reports_dir / summary.window["name"]
    for note in summary.notes:
        click.echo(f"note: {note}")
    click.echo(f"decision: {summary.action} ({summary.decision.reason})")
    click.echo(f"report: {folder / summary.reports.get('overview_html', 'summary.json')}")


COMMANDS: list[click.Command] = [monitor]
