"""Small helpers shared by the command modules of the ``ontime`` CLI."""

from __future__ import annotations

from datetime import datetime

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
