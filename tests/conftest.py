"""Shared fixtures: the repo root and the late-delivery contract."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def contract():
    from ontime.repo import load_contract

    return load_contract(ROOT / "feature_repo")


@pytest.fixture(scope="session")
def monkeypatch_session():
    """No tracking server from the environment: tests use their own sqlite file."""
    patcher = pytest.MonkeyPatch()
    patcher.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield patcher
    patcher.undo()
