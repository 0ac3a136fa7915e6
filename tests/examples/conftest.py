"""Fixtures of the example-domain tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def monkeypatch_session():
    """No tracking server from the environment: tests use their own sqlite file."""
    patcher = pytest.MonkeyPatch()
    patcher.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield patcher
    patcher.undo()
