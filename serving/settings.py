"""Settings section for the online scoring service."""

from __future__ import annotations

from ontime.section import Section


class ServingSettings(Section):
    """Where and how the scoring service runs."""

    host: str = "127.0.0.1"
    port: int = 8080
