"""Logged rows read back equal what was served; Feast's own feature log is written too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ontime.errors import OntimeError
from serving.log_reader import ERROR_COLUMNS, PREDICTION_COLUMNS, read_errors, read_predictions
from serving.models import StaticModelSource
from serving.store import open_serving_store
from tests.serving.conftest import event_rows, same_value, settings_for, start_live

pytestmark = pytest.mark.integration

SOON = timedelta(minutes=5)


def window():
    now = datetime.now(UTC)
    return now - SOON, now + SOON


def feast_log_files(repo: Path) -> set[Path]:
    store = open_serving_store(repo)
    destination = store.get_feature_service("late_delivery_v1").logging_config.destination
    return set(Path(destination.path).glob("*.parquet"))


def test_logged_rows_equal_served_rows_after_shutdown(live_world, bundles, tmp_path):
    before = feast_log_files(live_world.repo)
    source = StaticModelSource({"champion": bundles.v1})
    # A long flush interval: only the flush on shutdown can write these rows.
    settings = settings_for(live_world, tmp_path / "logs", log_flush_seconds=3600)
    live = start_live(settings, source)
    rows = event_rows(live_world, 5, seed=9)
    try:
        single = httpx.post(live.url + "/v1/predict", json=rows[0], timeout=30).json()
        batch = httpx.post(live.url + "/v1/predict/batch", json={"rows": rows[1:]}, timeout=30)
        unknown = httpx.post(live.url + "/v1/predict", json={**rows[0], "order_id": "O-X"})
        assert unknown.status_code == 404
    finally:
        live.server.stop()  # clean shutdown flushes the buffer
    served = [single] + [item["prediction"] for item in batch.json()["results"]]
    logged = read_predictions(tmp_path / "logs", *window()).set_index("request_id")
    assert len(logged) == len(served) == 5
    assert set(PREDICTION_COLUMNS) - {"request_id"} <= set(logged.columns)
    for answer in served:
        row = logged.loc[answer["request_id"]]
        assert row["model_version"] == answer["model"]["version"] == "1"
        assert row["role"] == "champion" and row["feature_service"] == answer["feature_service"]
        assert row["probability"] == pytest.approx(answer["probability"], abs=1e-12)
        assert bool(row["decision"]) == answer["decision"]
        assert row["prediction_time"] == pd.Timestamp(answer["prediction_time"])
        for feature, report in answer["features"].items():
            assert same_value(report["value"], row[feature]), feature
            assert row[f"{feature}__status"] == report["status"]
            assert same_value(report["age_s"], row[f"{feature}__age_s"]), feature
    errors = read_errors(tmp_path / "logs", *window())
    assert list(errors.columns) == ERROR_COLUMNS
    assert errors["kind"].tolist() == ["not_found"]
    assert "O-X" in errors["detail"].iloc[0]

    new_files = feast_log_files(live_world.repo) - before
    feast_rows = pd.concat([pq.read_table(p).to_pandas() for p in new_files])
    assert set(feast_rows["__request_id"]) == {a["request_id"] for a in served}
    assert {"shipment_profile__carrier__status", "__log_timestamp", "order_id"} <= set(
        feast_rows.columns
    )
    by_id = feast_rows.set_index("__request_id")
    for answer in served:
        carrier = answer["features"]["carrier"]["value"]
        assert by_id.loc[answer["request_id"], "shipment_profile__carrier"] == carrier


def test_sample_rate_zero_logs_no_predictions_but_all_errors(live_world, bundles, tmp_path):
    source = StaticModelSource({"champion": bundles.v1})
    live = start_live(settings_for(live_world, tmp_path / "logs", log_sample_rate=0.0), source)
    row = event_rows(live_world, 1)[0]
    try:
        assert httpx.post(live.url + "/v1/predict", json=row, timeout=30).status_code == 200
        assert httpx.post(live.url + "/v1/predict", json={**row, "order_id": 3}).status_code == 422
    finally:
        live.server.stop()
    assert read_predictions(tmp_path / "logs", *window()).empty
    assert read_errors(tmp_path / "logs", *window())["kind"].tolist() == ["validation"]


def test_readers_fail_clearly_and_return_typed_empty_frames(tmp_path):
    with pytest.raises(OntimeError, match="not found"):
        read_predictions(tmp_path / "nowhere", *window())
    empty = read_predictions(tmp_path, *window())
    assert list(empty.columns) == PREDICTION_COLUMNS and empty.empty
    assert str(empty["served_at"].dtype) == "datetime64[us, UTC]"
