"""The champion's release history from the audit trail, and a registry without a champion."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ontime.errors import OntimeError


@pytest.fixture
def settings(tmp_path, monkeypatch):
    from ontime.settings import load_settings

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the empty sqlite path below
    path = tmp_path / "ontime.yaml"
    path.write_text("training:\n  registry:\n    mlflow_db: registry/mlflow.db\n")
    return load_settings(path)


def write_audit(settings, *moves: tuple[str, str | None, str | None, str]) -> None:
    path = settings.training.registry.audit_log
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {"model": "m", "alias": "champion", "action": action, "from": old, "to": new, "at": at}
        for action, old, new, at in moves
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_release_is_the_last_move_to_the_version_and_what_it_replaced(settings):
    from training.lineage import release_of

    write_audit(
        settings,
        ("promote", None, "1", "2026-06-01T00:00:00+00:00"),
        ("promote", "1", "2", "2026-06-10T00:00:00+00:00"),
        ("promote", "2", "3", "2026-06-20T00:00:00"),  # a naive time is UTC
    )
    release = release_of(settings, "m", "3", "champion")
    assert release.promoted_at == datetime(2026, 6, 20, tzinfo=UTC)
    assert release.previous_version == "2"
    assert release_of(settings, "m", "9", "champion").promoted_at is None


def test_after_a_rollback_the_previous_version_is_the_one_below(settings):
    from training.lineage import release_of

    write_audit(
        settings,
        ("promote", None, "1", "2026-06-01T00:00:00+00:00"),
        ("promote", "1", "2", "2026-06-10T00:00:00+00:00"),
        ("rollback", "2", "1", "2026-06-12T00:00:00+00:00"),
    )
    release = release_of(settings, "m", "1", "champion")
    assert release.promoted_at == datetime(2026, 6, 12, tzinfo=UTC)
    assert release.previous_version is None  # version 1 was the first champion


def test_without_a_champion_there_is_nothing_to_monitor_against(settings):
    from monitoring.champion import load_reference

    with pytest.raises(OntimeError, match="no model has the alias 'champion'"):
        load_reference(settings, datetime(2026, 7, 1, tzinfo=UTC))
    assert not settings.training.registry.mlflow_db.exists()  # reading created nothing
