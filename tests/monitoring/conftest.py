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


@pytest.fixture(scope="session")
def promotion(world):
    """`ontime promote`'s output: v1 trained to day 21 is the registry's champion from here
    on, in the world's own registry (no tracking server from the environment)."""
    from tests.monitoring.world import TRAIN

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        cutoff = world.day(TRAIN[1] + 10).isoformat()
        world.repo.ontime("train", "--cutoff", cutoff)
        yield world.repo.ontime("promote", "1", "--force", "--reason", "monitoring test")


@pytest.fixture(scope="session")
def promoted(world, promotion):
    return world
