"""`ontime` commands for monitoring. Each command is a thin wrapper over a library function."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
