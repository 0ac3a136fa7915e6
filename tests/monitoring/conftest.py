"""Fixtures for monitoring tests: tiny frames for units, one simulated world for scenarios."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """The fault-scenario world, applied for real, with every prediction event logged."""
    from tests.monitoring.world import DAYS, build_world, write_logs

    built = build_world(tmp_path_factory.mktemp("monitoring-world"))
    write_logs(built, (0, DAYS))
    return built
