"""`ontime` commands for monitoring. Each command is a thin wrapper over a library function."""

from __future__ import annotations

import click

from ontime.errors import OntimeError
from ontime_cli.util import parse_time, profile_override, settings_of


@click.group("monitor", invoke_without_command=True)
@click.option("--from", "start", default=None, help="Window start, ISO time (UTC).")
@click.option("--to", "end", default=None, help="Window end (exclusive), ISO time (UTC).")
@click.option(
    "--labels-as-of",
    default=None,
    help="Count labels that arrived by this time (default: the window end).",
)
@profile_override
@click.pass_context
def monitor(
    ctx: click.Context, start: str | None, end: str | None, labels_as_of: str | None
) -> None:
    """Check served traffic of a window; write reports/<window>/ and one decision.

    `ontime monitor calibrate` backtests the checks on the champion's clean windows.
    """
    from monitoring.run import monitor as run

    if ctx.invoked_subcommand is not None:
        if start or end or labels_as_of:
            raise OntimeError(
                f"--from/--to/--labels-as-of belong to `ontime monitor`, "
                f"not to `ontime monitor {ctx.invoked_subcommand}`"
            )
        return
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


@monitor.command("calibrate")
@click.option(
    "--hours", type=float, default=12.0, show_default=True, help="Length of a monitored window."
)
@click.pass_context
def calibrate(ctx: click.Context, hours: float) -> None:
    """Backtest every check on the champion's clean reference windows: print each check's
    threshold and false-alarm rate, and store the profile with the model."""
    from monitoring.backtest import backtest_lines, calibrate_champion

    settings = settings_of(ctx)
    profile = calibrate_champion(settings, hours)
    click.echo(
        f"model {profile.model_name} v{profile.model_version}: {profile.windows} clean "
        f"{hours:g}-hour windows from {profile.period['start']} to {profile.period['end']}, "
        f"quantile {settings.monitoring.profile.quantile:g}"
    )
    click.echo(f"{'check':44} {'threshold':>10} {'windows':>8} {'false alarms':>13} {'worst':>9}")
    for line in backtest_lines(profile, settings):
        if line.key == "any":
            click.echo(f"{'any check (one window, any alarm)':44} {'':>10} {line.windows:>8} "
                       f"{line.false_alarm_rate:>13.1%}")  # fmt: skip
            continue
        click.echo(
            f"{line.key:44} {line.threshold:>10.4g} {line.windows:>8} "
            f"{line.false_alarm_rate:>13.1%} {line.worst:>9.4g}"
        )
    click.echo("false alarms: each block of days judged with thresholds from the others")


COMMANDS: list[click.Command] = [monitor]
