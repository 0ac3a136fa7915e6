"""Batches and replays judge every row on its own; passthrough fields reach the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pytest

from ontime.errors import ConfigError
from serving.log_reader import read_predictions
from serving.models import StaticModelSource
from serving.replay import connect, request_rows, send
from serving.service import build_service
from tests.serving.conftest import event_rows, settings_for, start_live

KEYS = ["order_id", "origin_warehouse", "carrier_id"]


def logged_rows(live) -> pd.DataFrame:
    live.service.logger.flush()
    now = datetime.now(UTC)
    return read_predictions(live.settings.serving.log_dir, now - timedelta(minutes=5), now)


def test_request_rows_send_nulls_as_null_and_a_missing_time_as_invalid():
    events = pd.DataFrame({
        "order_id": ["O-1", None, "O-3"],
        "carrier_id": ["a", "b", np.nan],
        "origin_warehouse": ["W", "W", "W"],
        "ticket": [7, None, 9],
        "prediction_time": pd.to_datetime(["2026-06-01", "2026-06-02", None], utc=True),
    })  # fmt: skip
    rows = request_rows(events, KEYS, "prediction_time", ["ticket"])
    assert rows[1]["order_id"] is None and rows[2]["carrier_id"] is None
    assert rows[0]["ticket"] == 7 and rows[1]["ticket"] is None
    assert rows[0]["prediction_time"] == "2026-06-01T00:00:00+00:00"
    assert rows[2]["prediction_time"] == "NaT"  # not null: null would mean "now"


@pytest.mark.integration
def test_a_bad_event_gets_its_own_422_and_the_batch_is_scored_and_logged(live, live_world):
    rows = event_rows(live_world, 5, seed=12)
    rows[2] = {**rows[2], "order_id": None}
    failures: list = []
    with connect(live.url) as client:
        counts = send(client, rows, batch_size=100, failures=failures)
    assert counts == {"200": 4, "422": 1}
    assert failures == [(2, "422", "rows.2.order_id: Input should be a valid string")]
    logged = logged_rows(live)
    champion = logged[logged["role"] == "champion"]
    assert sorted(champion["order_id"]) == sorted(
        r["order_id"] for i, r in enumerate(rows) if i != 2
    )


@pytest.mark.integration
def test_passthrough_fields_are_logged_as_columns_and_never_used(live_world, bundles, tmp_path):
    settings = settings_for(live_world, tmp_path / "logs", passthrough=["ticket_ref"],
                            release_mode="off", max_key_length=64)  # fmt: skip
    live = start_live(settings, StaticModelSource({"champion": bundles.v1}))
    rows = event_rows(live_world, 3, seed=19)
    try:
        one = httpx.post(live.url + "/v1/predict", json={**rows[0], "ticket_ref": "T-100"})
        assert one.status_code == 200, one.text
        assert "ticket_ref" not in one.json()["features"]
        events = pd.DataFrame(rows[1:]).assign(ticket_ref=[2001, None])
        events["prediction_time"] = pd.to_datetime(events["prediction_time"], utc=True)
        with connect(live.url) as client:
            counts = send(client, request_rows(events, KEYS, "prediction_time", ["ticket_ref"]))
        assert counts == {"200": 2}
        too_long = httpx.post(live.url + "/v1/predict", json={**rows[0], "ticket_ref": "T" * 65})
        assert too_long.status_code == 422 and "ticket_ref" in too_long.json()["error"]["detail"]
        logged = logged_rows(live)
    finally:
        live.server.stop()
    by_order = logged.set_index("order_id")["ticket_ref"]
    assert by_order[rows[0]["order_id"]] == "T-100"
    assert by_order[rows[1]["order_id"]] == "2001"
    assert by_order[rows[2]["order_id"]] is None


@pytest.mark.integration
def test_a_passthrough_name_the_log_already_uses_is_a_config_error(live_world, tmp_path):
    for taken in ("order_id", "probability", "carrier", "carrier__status"):
        settings = settings_for(live_world, tmp_path / "logs", passthrough=[taken])
        with pytest.raises(ConfigError, match=f"serving.passthrough: '{taken}'"):
            build_service(settings, source=StaticModelSource())
