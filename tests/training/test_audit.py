"""The audit trail (a table in the registry database, a local copy) and what it implies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ontime.errors import OntimeError
from training import audit


def move(alias: str, old, new, action: str = "promote") -> dict:
    return audit.record(model="m", alias=alias, previous=old, new=new, action=action, reason="r")


def test_entries_are_appended_and_read_back_in_order(tmp_path):
    path = tmp_path / "deep" / "audit.jsonl"
    audit.append(path, move("champion", None, "1"))
    audit.append(path, move("champion", "1", "2"))
    entries = audit.read(path)
    assert [(e["from"], e["to"]) for e in entries] == [(None, "1"), ("1", "2")]
    assert entries[0]["who"] and entries[0]["at"] <= entries[1]["at"]
    assert audit.read(path, model="other") == []


def test_rollback_pops_and_promote_pushes():
    entries = [
        move("champion", None, "1"),
        move("challenger", None, "5", "challenger"),  # other aliases do not count
        move("champion", "1", "2"),
        move("champion", "2", "3"),
        move("champion", "3", "2", "rollback"),
    ]
    assert audit.alias_stack(entries, "champion") == ["1", "2"]
    entries.append(move("champion", "2", "1", "rollback"))
    assert audit.alias_stack(entries, "champion") == ["1"]


def test_a_corrupt_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "audit.jsonl"
    audit.append(path, move("champion", None, "1"))
    with path.open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(OntimeError, match="line 2"):
        audit.read(path)


# --- the trail in the registry's database (training.release_store), on a real MLflow sqlite
# registry with two versions and no Feast world: releases there are only alias moves.


@pytest.fixture(scope="module")
def empty_registry(tmp_path_factory) -> Path:
    """An MLflow sqlite registry with model 'm', versions 1 and 2 (created once: slow)."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        mlflow_client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        mlflow_client.create_registered_model("m")
        for _ in range(2):
            mlflow_client.create_model_version("m", source=str(folder))
    return folder / "mlflow.db"


@pytest.fixture
def registry_settings(empty_registry, tmp_path, monkeypatch):
    from ontime.settings import load_settings

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = tmp_path / "ontime.yaml"
    config.write_text(
        "training:\n  registry:\n    mlflow_db: reg/mlflow.db\n    model_name: m\n"
        "    audit_log: reg/audit.jsonl\n    release_wait_seconds: 0.5\n"
    )
    settings = load_settings(config)
    settings.training.registry.mlflow_db.parent.mkdir()
    shutil.copyfile(empty_registry, settings.training.registry.mlflow_db)
    return settings


def test_a_move_changes_the_mlflow_alias_and_the_trail_together(registry_settings):
    from training import registry, release_store

    with release_store.transaction(registry_settings) as release:
        assert release.aliases() == {}
        release.move(move("champion", None, "1"))
    with release_store.transaction(registry_settings) as release:
        release.move(move("champion", release.aliases()["champion"], "2"))
    assert registry.alias_versions(registry_settings) == {"champion": "2"}  # MLflow sees it
    trail = release_store.read_history(registry_settings, model="m")
    assert [(e["from"], e["to"]) for e in trail] == [(None, "1"), ("1", "2")]
    assert audit.read(registry_settings.training.registry.audit_log) == trail  # the copy


def test_a_failed_release_moves_nothing_and_records_nothing(registry_settings):
    from training import registry, release_store

    with (
        pytest.raises(OntimeError, match="has no version 7"),
        release_store.transaction(registry_settings) as release,
    ):
        release.move(move("champion", None, "1"))
        release.move(move("challenger", None, "7"))
    assert registry.alias_versions(registry_settings) == {}
    assert release_store.read_history(registry_settings) == []
    assert not registry_settings.training.registry.audit_log.exists()


def test_a_release_waits_for_the_lock_then_fails_clearly(registry_settings):
    import sqlite3

    from training import registry, release_store

    holder = sqlite3.connect(registry_settings.training.registry.mlflow_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another release, on this or another host, holds it
    try:
        with (
            pytest.raises(OntimeError, match=r"held the registry lock for over 0\.5 s"),
            release_store.transaction(registry_settings) as release,
        ):
            release.move(move("champion", None, "1"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert registry.alias_versions(registry_settings) == {}


def test_the_older_local_trail_is_imported_once(registry_settings):
    from training import release_store

    copy = registry_settings.training.registry.audit_log
    audit.append(copy, move("champion", None, "1"))
    assert release_store.read_history(registry_settings) == audit.read(copy)  # no table yet
    with release_store.transaction(registry_settings) as release:
        release.move(move("champion", "1", "2"))
    trail = release_store.read_history(registry_settings, model="m")
    assert [(e["from"], e["to"]) for e in trail] == [(None, "1"), ("1", "2")]
    assert audit.read(copy) == trail


def test_reading_the_trail_never_creates_a_database(tmp_path, monkeypatch):
    from ontime.settings import load_settings
    from training import release_store

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = tmp_path / "ontime.yaml"
    config.write_text("training:\n  registry:\n    mlflow_db: reg/mlflow.db\n")
    settings = load_settings(config)
    assert release_store.read_history(settings) == []
    assert not settings.training.registry.mlflow_db.exists()
    with pytest.raises(OntimeError, match="no model registry"), release_store.transaction(settings):
        pass
    assert not settings.training.registry.mlflow_db.exists()
