"""`ontime monitor` end to end: the reference comes from the registry, its snapshot and the
audit trail, as in production (train -> promote -> monitor, each a real command)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal

from tests.monitoring.world import DAYS, FAULTS

pytestmark = pytest.mark.integration


def test_promotion_stores_the_profile_monitor_would_build(promotion, promoted):
    """Built at promotion with the settings `ontime monitor` uses, so monitor reads it as
    it is (a profile with another fingerprint would be rebuilt)."""
    from monitoring.profile import MonitoringProfile, fingerprint

    line = promotion.stdout.strip().splitlines()[-1]
    assert line.startswith("monitoring profile: ") and "stored with" in line, promotion.stdout
    registry = promoted.settings.training.registry
    folder = Path(registry.artifact_dir) / "monitoring_profiles"
    stored = list(folder.glob("*/v1/window-12h.json"))
    assert len(stored) == 1
    profile = MonitoringProfile.from_dict(json.loads(stored[0].read_text()))
    assert profile.fingerprint == fingerprint(promoted.settings.monitoring, 12.0)
    assert profile.model_version == "1" and profile.windows >= 20


def test_the_champion_reference_is_its_snapshot_and_stored_metrics(promoted):
    from monitoring.champion import load_reference
    from training.registry import load_alias
    from training.snapshot import load_snapshot

    settings = promoted.settings
    champion = load_alias(settings, "champion")
    reference = load_reference(settings, promoted.day(DAYS).to_pydatetime())
    assert (reference.model_name, reference.model_version) == (champion.name, "1")
    snapshot = load_snapshot(settings, champion.bundle.metadata["snapshot_id"])
    assert len(reference.rows) == len(snapshot.rows) > 1000
    assert reference.test_metrics["cost_per_order"] == pytest.approx(
        champion.bundle.metadata["test_metrics"]["cost_per_order"]
    )
    assert reference.validation_scores.size > 100
    assert reference.promoted_at is not None  # from the audit trail
    assert reference.previous_test_metrics is None  # the first champion replaced nothing


def test_the_lineage_recomputes_what_older_metadata_lacks(promoted):
    from dataclasses import replace

    from training.lineage import champion_lineage, model_lineage
    from training.registry import load_alias

    settings = promoted.settings
    end = promoted.day(DAYS).to_pydatetime()
    stored = champion_lineage(settings, "champion", end, timedelta(days=7))
    assert stored is not None and stored.previous_version is None
    champion = load_alias(settings, "champion")
    meta = {
        k: v
        for k, v in champion.bundle.metadata.items()
        if k not in ("validation_scores", "test_metrics")
    }
    older = replace(champion, bundle=replace(champion.bundle, metadata=meta))
    recomputed = model_lineage(settings, older)
    assert recomputed.validation_scores == pytest.approx(stored.validation_scores)
    assert recomputed.test_metrics["cost_per_order"] == pytest.approx(
        stored.test_metrics["cost_per_order"]
    )


def test_monitor_command_judges_the_registered_champion(promoted):
    start, end = (promoted.day(d) for d in FAULTS["holiday_surge"])
    result = promoted.repo.ontime(
        "monitor",
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
        "--labels-as-of",
        promoted.day(DAYS - 1).isoformat(),
    )
    assert "decision: retrain" in result.stdout, result.stdout + result.stderr
    report = result.stdout.strip().splitlines()[-1].removeprefix("report: ")
    summary = json.loads((promoted.repo.root / report).parent.joinpath("summary.json").read_text())
    assert summary["model"]["version"] == "1"
    assert {a["check"] for a in summary["alarms"]} == {"degraded"}


def test_calibrate_backtests_the_champion_and_stores_its_profile(promoted):
    result = promoted.repo.ontime("monitor", "calibrate", "--hours", "12")
    out = result.stdout
    assert "clean 12-hour windows" in out, out + result.stderr
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
    for check in ("prediction_drift", "null_rate.origin_backlog", "quality.cost_per_order"):
        assert check in rows, out
        assert rows[check][3].endswith("%")  # the false-alarm rate, next to the threshold
    registry = promoted.settings.training.registry
    stored = Path(registry.artifact_dir) / "monitoring_profiles"
    assert list(stored.glob("*/v1/window-12h.json")), list(stored.rglob("*"))


def test_later_windows_read_the_kept_reference_rows_not_the_snapshot(promoted, monkeypatch):
    """Judging a window costs the same whatever the history: once kept with the model, the
    reference rows are read from their own file, never from the whole snapshot."""
    import training.snapshot
    from monitoring.champion import load_reference
    from training.registry import load_alias

    settings = promoted.settings
    moment = promoted.day(DAYS).to_pydatetime()
    snapshot = training.snapshot.load_snapshot(
        settings, load_alias(settings, "champion").bundle.metadata["snapshot_id"]
    )
    load_reference(settings, moment)  # keeps the rows if promotion had not

    def refused(*args, **kwargs):
        raise AssertionError("the whole snapshot was read for one window")

    monkeypatch.setattr(training.snapshot, "load_snapshot", refused)
    kept = load_reference(settings, moment)
    assert_frame_equal(kept.rows, snapshot.rows)  # the default world is below the cap
    assert kept.validation_scores.size > 100


def test_an_edited_reference_file_is_rebuilt_from_the_verified_snapshot(promoted, caplog):
    from monitoring.champion import load_reference
    from training.kept_reference import ROWS_FILE

    settings = promoted.settings
    moment = promoted.day(DAYS).to_pydatetime()
    before = load_reference(settings, moment)
    [kept] = Path(settings.training.registry.artifact_dir).glob(f"**/v1/{ROWS_FILE}")
    edited = before.rows.copy()
    edited[edited.columns[-1]] = edited[edited.columns[-1]].iloc[::-1].to_numpy()
    edited.to_parquet(kept, index=False)
    after = load_reference(settings, moment)
    assert "does not match its recorded SHA-256" in caplog.text
    assert_frame_equal(after.rows, before.rows)
    assert after.validation_scores == pytest.approx(before.validation_scores)


def test_a_large_snapshot_is_kept_as_a_seeded_sample_in_snapshot_order(promoted):
    from training.kept_reference import sample_rows
    from training.registry import load_alias
    from training.snapshot import load_snapshot

    settings = promoted.settings
    champion = load_alias(settings, "champion")
    snapshot = load_snapshot(settings, champion.bundle.metadata["snapshot_id"])
    rows = sample_rows(snapshot.rows, 1000, seed=0)
    assert len(rows) == 1000 < len(snapshot.rows)
    assert_frame_equal(sample_rows(snapshot.rows, 1000, seed=0), rows)  # seeded
    keys = [*snapshot.manifest.entity_keys, snapshot.manifest.time_column]
    positions = snapshot.rows.reset_index().merge(rows[keys], on=keys)["index"]
    assert len(positions) == 1000 and positions.is_monotonic_increasing
    assert sample_rows(snapshot.rows, len(snapshot.rows), seed=0) is snapshot.rows
