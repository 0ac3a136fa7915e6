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
    help="Count labels that arrived by this time (default: each window's end).",
)
@click.option("--every", default=None, help="Judge consecutive windows of this length: 1d, 12h.")
@click.option("--last", is_flag=True, help="With --every: only the window that just closed.")
@click.option("--now", default=None, hidden=True, help="The clock --last reads (tests).")
@click.option("--quiet", is_flag=True, help="Print nothing but errors (for cron).")
@profile_override
@click.pass_context
def monitor(ctx, start, end, labels_as_of, every, last, now, quiet) -> None:
    """Check served traffic of a window; write reports/<window>/ and one decision.

    With --every, judge each window of that length from --from to --to (or, with --last,
    the one that just closed): exit 0 when every decision is ok or inspect, 3 when one
    needs action. Each window is added to the metric history (`ontime monitor history`).
    `ontime monitor calibrate` backtests the checks on the champion's clean windows.
    """
    from monitoring.run import monitor as run

    if ctx.invoked_subcommand is not None:
        if start or end or labels_as_of or every or last:
            raise OntimeError(
                f"--from/--to/--labels-as-of/--every/--last belong to `ontime monitor`, "
                f"not to `ontime monitor {ctx.invoked_subcommand}`"
            )
        return
    settings = settings_of(ctx)
    echo = (lambda *_a, **_k: None) if quiet else click.echo
    if every or last:
        ctx.exit(series(settings, start, end, labels_as_of, every, last, now, echo))
    begin, finish = parse_time(start), parse_time(end)
    if begin is None or finish is None:
        raise OntimeError("--from and --to are required (or --every with --last)")
    summary = run(settings, begin, finish, labels_as_of=parse_time(labels_as_of))
    folder = settings.monitoring.reports_dir / summary.window["name"]
    for note in summary.notes:
        echo(f"note: {note}")
    echo(f"decision: {summary.action} ({summary.decision.reason})")
    echo(f"report: {folder / summary.reports.get('overview_html', 'summary.json')}")


def series(settings, start, end, labels_as_of, every, last, now, echo) -> int:
    """Judge a series of windows; the exit code says whether one needs action."""
    import sys

    from tqdm import tqdm

    from monitoring.series import (
        ACTION_NEEDED,
        QUIET_ACTIONS,
        last_closed,
        parse_every,
        run_series,
        windows,
    )

    if not every:
        raise OntimeError("--last needs --every (the length of the window)")
    step = parse_every(every)
    if last:
        if start or end:
            raise OntimeError("--last judges the window that just closed: drop --from/--to")
        spans = [last_closed(step, parse_time(now))]
    else:
        if not start or not end:
            raise OntimeError("--every needs --from and --to (or --last)")
        spans = windows(parse_time(start), parse_time(end), step)
    # A bar on a terminal only: CI and log files get the one line per window below.
    terminal = sys.stderr.isatty()
    with tqdm(total=len(spans), unit="window", disable=not terminal) as bar:

        def progress(done, total, summary) -> None:
            line = f"{summary.window['name']}: {summary.action} ({summary.decision.reason})"
            bar.update(1)
            if terminal:
                bar.write(line)  # above the bar
            else:
                echo(line)

        run = run_series(settings, spans, parse_time(labels_as_of), progress)
    echo(f"history: {settings.monitoring.history_path}")
    return ACTION_NEEDED if any(s.action not in QUIET_ACTIONS for s in run) else 0


@monitor.command("history")
@click.option("--from", "start", default=None, help="Windows starting at or after this time.")
@click.option("--to", "end", default=None, help="Windows ending at or before this time.")
@click.option("--check", default=None, help="Also list metrics whose check starts with this.")
@click.option("--all-labels", is_flag=True, help="Every labels-as-of run, not just the latest.")
@click.pass_context
def history(ctx, start, end, check, all_labels) -> None:
    """Print the metric history: one line per judged window (and its metrics with --check)."""
    from monitoring.history import read

    settings = settings_of(ctx)
    path = settings.monitoring.history_path
    found, metrics = read(path, parse_time(start), parse_time(end), check, all_labels)
    if found.empty:
        raise OntimeError(f"no judged windows in {path}; run `ontime monitor` first")
    columns = ["window_start", "window_end", "labels_as_of", "decision", "model_version"]
    click.echo(found[columns].to_string(index=False))
    if check:
        click.echo(metrics.drop(columns=["labels_as_of"]).to_string(index=False))
    click.echo(f"({len(found)} windows in {path})")


@monitor.command("alerts")
@click.pass_context
def alerts(ctx) -> None:
    """Send again the alerts the webhook did not take (the dead-letter file)."""
    from monitoring.alerts import resend

    sent, kept = resend(settings_of(ctx))
    click.echo(f"resent {sent} alert(s); {kept} still undelivered")


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
