"""`ontime` commands for serving. Each command is a thin wrapper over a library function."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from ontime.errors import OntimeError
from ontime_cli.util import parse_time, profile_override, settings_of


@click.command()
@click.option("--host", default=None, help="Bind address (default: serving.host).")
@click.option("--port", type=int, default=None, help="Port (default: serving.port).")
@click.option(
    "--bundle",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Serve this saved model bundle as champion instead of the registry's alias.",
)
@profile_override
@click.pass_context
def serve(ctx, host, port, bundle) -> None:
    """Run the online scoring service (FastAPI + uvicorn) until interrupted."""
    from serving.server import run_server

    run_server(settings_of(ctx), host=host, port=port, bundle=bundle)


@click.command()
@click.option("--from", "start", required=True, help="Push rows ingested at or after this time.")
@click.option("--to", "end", default=None, help="... and before this time (default: now).")
@click.option("--source", "sources", multiple=True, help="Push source name (default: all).")
@profile_override
@click.pass_context
def push(ctx, start, end, sources) -> None:
    """Push raw rows ingested in a window to the online store through Feast PushSources."""
    from serving.push import push_window
    from serving.store import open_serving_store

    settings = settings_of(ctx)
    store = open_serving_store(settings.feature_repo, settings.serving.feature_store_yaml)
    names = sources or tuple(settings.serving.push_sources)
    end_time = parse_time(end) or datetime.now(tz=UTC)
    counts = push_window(store, parse_time(start), end_time, names)
    for name, count in counts.items():
        click.echo(f"{name}: pushed {count} rows")


@click.command()
@click.option("--from", "start", required=True, help="First prediction time (ISO, UTC).")
@click.option("--to", "end", required=True, help="End of the window (exclusive).")
@click.option("--url", default=None, help="Service URL (default: http://serving.host:port).")
@click.option("--batch-size", type=click.IntRange(1), default=100, show_default=True)
@click.option(
    "--clock/--no-clock",
    default=True,
    show_default=True,
    help="Advance the online store by write time alongside the events (replaying history).",
)
@profile_override
@click.pass_context
def replay(ctx, start, end, url, batch_size, clock) -> None:
    """Send the simulator's prediction events of a window to the running service."""
    from ontime.repo import open_store
    from serving.lookup import ServiceLookup
    from serving.replay import load_events, request_rows
    from serving.replay import replay as run

    settings = settings_of(ctx)
    serving = settings.serving
    store = open_store(settings.feature_repo, serving.feature_store_yaml)
    keys = list(ServiceLookup(store, settings.feature_service).key_types)
    time_column = settings.events.time_column
    passthrough = serving.passthrough
    window = parse_time(start), parse_time(end)
    events = load_events(settings.events.table, time_column, *window, keys, passthrough)
    if events.empty:
        raise OntimeError(f"no prediction events between {start} and {end}")
    rows = request_rows(events, keys, time_column, passthrough)
    base = url or f"http://{serving.host}:{serving.port}"
    failures: list[tuple[int, str, str]] = []
    with click.progressbar(length=len(rows), label="replaying") as bar:
        if clock:
            from serving.clock import OnlineClock, replay_with_clock

            # Only the keys these events ask for are fed: the warm-up then writes what the
            # window needs, not every row of the views' TTL.
            online = OnlineClock(store, serving.feeds, *window, keys=events[keys])
            counts = replay_with_clock(
                online, base, events, keys, time_column, progress=bar.update,
                passthrough=passthrough, failures=failures,
            )  # fmt: skip
        else:
            counts = run(base, rows, batch_size=batch_size, progress=bar.update, failures=failures)
    click.echo(f"sent {len(rows)} events to {base}")
    for status, count in sorted(counts.items()):
        click.echo(f"  {status}: {count}")
    for index, status, detail in failures[:5]:  # the first few, so a bad event can be found
        click.echo(f"failed event {index}: {status} {detail}")


COMMANDS: list[click.Command] = [serve, push, replay]
