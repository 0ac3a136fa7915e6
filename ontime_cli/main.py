"""The one console script: ``ontime <command>``. Each command wraps a library function."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from ontime.errors import OntimeError
from ontime.settings import load_settings
from ontime.spark import lost_driver_hint
from ontime_cli import monitoring, serving, training, ui
from ontime_cli.util import parse_time, profile_override, settings_of

log = logging.getLogger("ontime")


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Settings file (default: ./ontime.yaml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """ontime: point-in-time training, contract-checked serving, honest monitoring."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        # Feast logs every registry refresh at INFO, and it resets warning filters on import
        # so its dependencies' deprecation notes get through; route warnings to logging and
        # keep them for --verbose.
        logging.getLogger("feast").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.captureWarnings(True)
        logging.getLogger("py.warnings").setLevel(logging.ERROR)
    ctx.obj = {"settings": load_settings(config_path), "config_path": config_path}


@cli.command()
@click.option("--days", type=int, default=None, help="Days of history to simulate.")
@click.option("--shipments-per-day", type=int, default=None)
@click.option("--seed", type=int, default=None)
@click.option("--start", default=None, help="First day, ISO date (UTC).")
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="Fault window NAME:START_DAY-END_DAY, e.g. backlog_outage:100-107. Repeatable.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the raw tables (default: raw_data_dir from settings).",
)
@click.pass_context
def simulate(ctx, days, shipments_per_day, seed, start, scenarios, out) -> None:
    """Generate the simulated delivery world and its derived feature tables."""
    from simulator.runner import run_simulation

    settings = settings_of(ctx)
    paths = run_simulation(
        settings,
        days=days,
        shipments_per_day=shipments_per_day,
        seed=seed,
        start=parse_time(start),
        scenarios=scenarios,
        out=out,
    )
    for name, path in paths.items():
        click.echo(f"{name}: {path}")


def profile_option(command):
    """``--profile PATH``: another feature_store.yaml (e.g. feature_repo/profiles/redis.yaml)."""
    return click.option(
        "--profile",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Another feature_store.yaml for the same definitions, e.g. "
        "feature_repo/profiles/redis.yaml (default: serving.feature_store_yaml, "
        "else the repo's own).",
    )(command)


def store_profile(ctx, profile: Path | None) -> Path | None:
    """The chosen profile; by default the one serving reads, so both see one online store."""
    return profile or settings_of(ctx).serving.feature_store_yaml


@cli.command()
@profile_option
@click.pass_context
def apply(ctx, profile) -> None:
    """Run the leakage gate on every FeatureService, then ``feast apply``."""
    from ontime.repo import apply_repo

    output = apply_repo(settings_of(ctx).feature_repo, profile=store_profile(ctx, profile))
    click.echo(output.strip())


@cli.command()
@click.option("--end", default=None, help="Materialize up to this time (default: now).")
@click.option("--start", default=None, help="Full materialization from this time.")
@click.option(
    "--slice-days",
    type=click.FloatRange(min=0.01),
    default=7.0,
    show_default=True,
    help="Load this many days at a time (peak memory follows the slice, not the history).",
)
@profile_option
@click.pass_context
def materialize(ctx, end, start, slice_days, profile) -> None:
    """Load feature values into the online store, in time slices."""
    import sys

    from tqdm import tqdm

    from ontime.materialize import materialize as run

    bars: dict[str, tqdm] = {}

    def progress(view: str, done: int, total: int) -> None:
        """Slices done per view, with the time left; quiet in CI and logs (not a terminal)."""
        if view not in bars:
            bars[view] = tqdm(total=total, desc=view, unit="slice", disable=not sys.stderr.isatty())
        bars[view].update(done - bars[view].n)
        if done == total:
            bars[view].close()

    end_time = parse_time(end) or datetime.now(tz=UTC)
    loads = run(
        settings_of(ctx).feature_repo,
        end=end_time,
        start=parse_time(start),
        profile=store_profile(ctx, profile),
        chunk=timedelta(days=slice_days),
        progress=progress,
    )
    for load in loads:
        click.echo(load.describe())
    if any(not load.skipped for load in loads):
        click.echo(f"materialized up to {end_time.isoformat()}")
    else:
        click.echo(f"nothing materialized up to {end_time.isoformat()}: every view was skipped")


@cli.command()
@profile_override
@click.pass_context
def demo(ctx) -> None:
    """The whole loop: simulate a faulty world, train, serve, replay, monitor, decide."""
    from ontime_cli.demo import run_demo

    click.echo(run_demo(settings_of(ctx), ctx.obj["config_path"], click.echo))


@cli.command("show-rows")
@profile_override
@click.pass_context
def show_rows(ctx) -> None:
    """Show one training row beside the matching online row (needs simulate + apply)."""
    from serving.show_rows import show_training_and_online_row

    click.echo(show_training_and_online_row(settings_of(ctx)))


for _module in (training, serving, monitoring, ui):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Entry point: every failure becomes one line on stderr and a non-zero exit.

    User errors (``OntimeError``) say what to fix. Anything else escaped a library we call
    (Feast, DuckDB, MLflow, ...) on input we did not foresee: it still gets one line naming
    the exception, and ``-v`` shows the traceback.
    """
    try:
        code = cli.main(standalone_mode=False)  # a command's ctx.exit(n) comes back as n
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except OntimeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        if _verbose():
            log.exception("unexpected failure")
        detail = one_line(str(exc)) or "no message"
        click.echo(
            f"error: {type(exc).__name__}: {detail} (rerun with -v for the traceback)", err=True
        )
        hint = lost_driver_hint(exc)
        if hint:
            click.echo(f"hint: {hint}", err=True)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


def one_line(text: str, limit: int = 400) -> str:
    """The first non-empty line of a message, cut to ``limit`` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _verbose() -> bool:
    return any(arg in ("-v", "--verbose") for arg in sys.argv[1:])


if __name__ == "__main__":
    main()
