"""Small helpers shared by the command modules of the ``ontime`` CLI."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ontime.errors import OntimeError
from ontime.settings import Settings
from ontime.timeutil import as_utc


def settings_of(ctx: click.Context) -> Settings:
    """The settings loaded once by the top-level group."""
    return ctx.obj["settings"]


def parse_time(value: str | None) -> datetime | None:
    """An ISO timestamp from the command line; naive values are taken as UTC."""
    if value is None:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OntimeError(f"not an ISO timestamp: '{value}'") from None
    return as_utc(stamp)


def profile_override(command):
    """``--profile PATH``: every store the command opens uses another feature_store.yaml.

    The same as ``profile:`` in ontime.yaml (training, monitoring and serving all follow it),
    for one run, e.g. ``ontime train --profile feature_repo/profiles/spark.yaml``.
    """

    def use(ctx: click.Context, _param, value: Path | None) -> None:
        if value is not None:
            ctx.obj["settings"] = settings_of(ctx).with_profile(value.resolve())

    return click.option(
        "--profile",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        expose_value=False,
        callback=use,
        help="Another feature_store.yaml for the same definitions, e.g. "
        "feature_repo/profiles/spark.yaml (default: profile in ontime.yaml, else the repo's own).",
    )(command)
