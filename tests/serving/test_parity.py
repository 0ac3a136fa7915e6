"""/v1/predict returns the features and score the training path computes for the same row.

The training path is ``historical_rows`` (Feast point-in-time join) + ``apply_contract`` +
the same bundle. The online store is materialized up to the prediction time, at two
checkpoints. Rows whose inputs changed after the checkpoint only in hindsight (a value
ingested or corrected later, which materialization by event time still loads) are excluded
and counted: those are real online/offline skew, not a serving bug.
"""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

from ontime.contract import apply_contract
from ontime.features import entity_frame, historical_rows
from ontime.materialize import materialize
from ontime.repo import describe_service, load_contract, open_store
from serving.models import StaticModelSource
from tests.serving.conftest import copy_world, same_value, settings_for, start_live

pytestmark = pytest.mark.integration


def known_later(temp, rows: pd.DataFrame, at: pd.Timestamp) -> pd.Series:
    """Rows with an input whose event time is <= ``at`` but that arrived after ``at``."""
    scans = temp.table("scan_events")
    late_scans = scans[(scans["scan_at"] <= at) & (scans["ingested_at"] > at)]
    backlog = temp.table("warehouse_backlog")
    late_backlog = backlog[(backlog["event_timestamp"] <= at) & (backlog["created_at"] > at)]
    return rows["order_id"].isin(late_scans["order_id"]) | rows["origin_warehouse"].isin(
        late_backlog["origin_warehouse"]
    )


def offline_scores(store, bundle, rows: pd.DataFrame, at: pd.Timestamp):
    contract = load_contract(store.repo_path)
    spec = describe_service(store, bundle.feature_service)
    events = rows.assign(prediction_time=at)
    entities = entity_frame(events, spec, "prediction_time", contract.request_time_field)
    raw = historical_rows(store, spec, entities)
    result = apply_contract(raw, contract, bundle.features, bundle.categories)
    return raw, result, bundle.predict_proba(result.frame)


def test_online_prediction_equals_training_path(world, bundles, tmp_path):
    temp = copy_world(world, tmp_path / "parity")
    events = temp.table("prediction_events")
    start = events["prediction_time"].min()
    checkpoints = [start + pd.Timedelta(days=22, hours=14, minutes=30),
                   start + pd.Timedelta(days=27, hours=9, minutes=40)]  # fmt: skip
    source = StaticModelSource({"champion": bundles.v1})
    compared = excluded = 0
    for at in checkpoints:
        materialize(temp.repo, end=at.to_pydatetime())
        live = start_live(settings_for(temp, tmp_path / "logs"), source)
        try:
            window = events[(events["prediction_time"] <= at)]
            window = window[window["prediction_time"] > at - pd.Timedelta(hours=8)]
            sample = window.drop_duplicates("order_id").sample(30, random_state=5)
            sample = sample[["order_id", "origin_warehouse", "carrier_id"]].reset_index(drop=True)
            late = known_later(temp, sample, at)
            excluded += int(late.sum())
            sample = sample[~late].reset_index(drop=True)
            store = open_store(temp.repo)
            raw, result, probabilities = offline_scores(store, bundles.v1.bundle, sample, at)
            with httpx.Client(base_url=live.url, timeout=30) as client:
                for i, row in sample.iterrows():
                    body = {**row.to_dict(), "prediction_time": at.isoformat()}
                    response = client.post("/v1/predict", json=body)
                    if not result.accepted.iloc[i]:
                        assert response.status_code in (404, 422), response.text
                        continue
                    assert response.status_code == 200, response.text
                    served = response.json()
                    assert served["model"]["version"] == "1"
                    assert served["probability"] == pytest.approx(probabilities[i], abs=1e-9)
                    for feature, report in served["features"].items():
                        assert same_value(report["value"], raw[feature].iloc[i]), (
                            feature, report, raw[feature].iloc[i])  # fmt: skip
                        offline_status = result.statuses[feature].iloc[i]
                        # Serving says "stale" where the PIT join's TTL already dropped the value.
                        assert report["status"] == offline_status or (
                            report["status"] == "stale" and offline_status == "missing"
                        )
                    compared += 1
        finally:
            live.server.stop()
    print(f"parity: {compared} rows compared, {excluded} excluded as known only later")
    assert compared >= 40, f"only {compared} rows compared ({excluded} excluded as late-known)"
    assert excluded < compared


def test_segment_thresholds_decide_online_as_offline(world, bundles, tmp_path):
    """A bundle with one threshold per ``expedited`` value: serving picks each row's threshold
    from its served value, exactly as training's ``row_thresholds`` picks it offline."""
    from dataclasses import replace

    from serving.models import ServedModel
    from training.bundle import SEGMENT_THRESHOLDS
    from training.evaluate import row_thresholds

    table = {"true": 0.05, "false": 0.9}
    segmented = replace(
        bundles.v1.bundle,
        metadata={SEGMENT_THRESHOLDS: {"column": "expedited", "values": table}},
    )
    temp = copy_world(world, tmp_path / "segments")
    events = temp.table("prediction_events")
    at = events["prediction_time"].min() + pd.Timedelta(days=22, hours=14)
    materialize(temp.repo, end=at.to_pydatetime())
    window = events[(events["prediction_time"] <= at)]
    window = window[window["prediction_time"] > at - pd.Timedelta(hours=8)]
    sample = window.drop_duplicates("order_id").sample(40, random_state=11)
    sample = sample[["order_id", "origin_warehouse", "carrier_id"]].reset_index(drop=True)
    sample = sample[~known_later(temp, sample, at)].reset_index(drop=True)
    raw, result, probabilities = offline_scores(open_store(temp.repo), segmented, sample, at)
    expected = row_thresholds(segmented, raw)
    assert set(expected) == {0.05, 0.9}, expected  # both segments are in the sample
    model = ServedModel("late_delivery", "1", "champion", segmented, run_id="run-1")
    live = start_live(settings_for(temp, tmp_path / "logs"), StaticModelSource({"champion": model}))
    try:
        rows = [{**r.to_dict(), "prediction_time": at.isoformat()} for _, r in sample.iterrows()]
        with httpx.Client(base_url=live.url, timeout=30) as client:
            answer = client.post("/v1/predict/batch", json={"rows": rows})
        assert answer.status_code == 200, answer.text
        items = answer.json()["results"]
    finally:
        live.server.stop()
    checked = 0
    for i, item in enumerate(items):
        if not result.accepted.iloc[i]:
            continue
        served = item["prediction"]
        assert served["threshold"] == pytest.approx(expected[i]), (i, item)
        assert served["decision"] == bool(probabilities[i] >= expected[i]), (i, item)
        checked += 1
    assert checked >= 20
