"""Feature age against TTL / max_age, and the push path that keeps scans fresh online."""

from __future__ import annotations

from datetime import timedelta

import httpx
import numpy as np
import pandas as pd
import pytest

from ontime.contract import FeatureContract, FeatureRule
from ontime.materialize import materialize
from ontime.repo import ServiceSpec
from serving.freshness import allowed_ages, feature_ages, stale_frame
from serving.lookup import ServiceLookup
from serving.store import open_serving_store
from tests.serving.conftest import copy_world, end_of_world, event_rows


def test_allowed_age_is_the_stricter_of_ttl_and_max_age():
    contract = FeatureContract(
        rules=(
            FeatureRule("a", kind="numeric", missing="indicator", max_age=timedelta(hours=1)),
            FeatureRule("b", kind="numeric", missing="indicator", max_age=timedelta(days=9)),
            FeatureRule("c", kind="numeric", missing="indicator"),
        )
    )
    spec = ServiceSpec("s", ("a", "b", "c"), (), (), (), {}, {"a": 7200.0, "b": 3600.0, "c": 0.0})
    assert allowed_ages(spec, contract, ["a", "b", "c"]) == {"a": 3600.0, "b": 3600.0, "c": np.inf}
    ages = feature_ages(np.array([10_000.0, 10_000.0]), {"a": np.array([9_000.0, np.nan])})
    stale = stale_frame(ages, {"a": 500.0}, pd.RangeIndex(2))
    assert stale["a"].tolist() == [True, False]  # an unknown age is not called stale


@pytest.mark.integration
def test_old_backlog_is_served_as_stale_with_its_age(live, live_world):
    later = end_of_world(live_world) + pd.Timedelta(hours=5)
    row = {**event_rows(live_world, 1, seed=3)[0], "prediction_time": later.isoformat()}
    response = httpx.post(live.url + "/v1/predict", json=row, timeout=30)
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    backlog = features["origin_backlog"]
    assert backlog["status"] == "stale" and backlog["age_s"] > 3 * 3600
    assert backlog["value"] is not None  # reported as served, but not used by the model
    assert features["carrier_late_rate_28d"]["status"] == "present"
    assert features["carrier_late_rate_28d"]["age_s"] < 2 * 86400
    metrics = httpx.get(live.url + "/metrics").text
    assert 'ontime_feature_stale_total{feature="origin_backlog"}' in metrics


@pytest.mark.integration
def test_push_window_makes_scans_fresh_online(world, tmp_path):
    temp = copy_world(world, tmp_path / "push")
    scans = temp.table("scan_events")
    cut = end_of_world(temp) - pd.Timedelta(days=3)
    later = cut + pd.Timedelta(hours=6)
    materialize(temp.repo, end=cut.to_pydatetime())
    arrived = scans[(scans["ingested_at"] >= cut) & (scans["ingested_at"] < later)]
    order = arrived["order_id"].iloc[0]
    known = scans[(scans["order_id"] == order) & (scans["ingested_at"] < later)]
    expected = (later - known["scan_at"].max()).total_seconds() / 3600

    def served_hours() -> float | None:
        """The online value at ``later``, read the way the scorer reads it."""
        store = open_serving_store(temp.repo)
        lookup = ServiceLookup(store, "late_delivery_v1")
        entity = {k: ["?"] for k in lookup.spec.entity_keys} | {"order_id": [order]}
        entity["request_time_epoch_s"] = [later.timestamp()]
        return lookup.fetch(store, entity).values["hours_since_last_scan"][0]

    before = served_hours()
    result = temp.ontime("push", "--from", cut.isoformat(), "--to", later.isoformat())
    pushed = dict(line.split(": pushed ") for line in result.stdout.strip().splitlines())
    assert int(pushed["scan_stream"].split()[0]) == len(arrived)
    after = served_hours()
    assert after == pytest.approx(expected, abs=1e-6)
    assert before is None or before > after


@pytest.mark.integration
def test_feature_ages_and_sla_breaches_are_exported_per_view(live_world, bundles, tmp_path):
    """/metrics carries each view's served ages (a Prometheus histogram) and counts rows past
    the view's freshness SLA (here from settings, over the views' tags)."""
    from serving.models import StaticModelSource
    from tests.serving.conftest import settings_for, start_live

    settings = settings_for(
        live_world, tmp_path / "logs", freshness_sla={"warehouse_backlog": "1h"}
    )
    running = start_live(settings, StaticModelSource({"champion": bundles.v1}))
    try:
        later = end_of_world(live_world) + pd.Timedelta(hours=5)
        rows = [{**r, "prediction_time": later.isoformat()} for r in event_rows(live_world, 4)]
        response = httpx.post(running.url + "/v1/predict/batch", json={"rows": rows}, timeout=30)
        assert response.status_code == 200, response.text
        metrics = httpx.get(running.url + "/metrics").text
    finally:
        running.server.stop()
    counts = {
        line.split("{")[1].split("}")[0]: float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("ontime_feature_age_seconds_count")
    }
    # At least these 4 rows: in a full run a stray client of an earlier test can reach a
    # server that reuses its port, so the counts are lower bounds.
    ages = [item["prediction"]["features"]["origin_backlog"]["age_s"]
            for item in response.json()["results"]]  # fmt: skip
    assert len(ages) == 4 and min(ages) > 3600  # every row is past the 1 h SLA
    assert counts['view="warehouse_backlog"'] >= 4.0 and 'view="shipment_profile"' in counts
    backlog = 'ontime_freshness_sla_breaches_total{view="warehouse_backlog"}'
    breaches = [line for line in metrics.splitlines() if line.startswith(backlog)]
    assert len(breaches) == 1 and float(breaches[0].split()[-1]) >= 4.0, metrics
    assert 'ontime_freshness_sla_breaches_total{view="shipment_profile"}' not in metrics


def test_freshness_slas_come_from_view_tags_and_settings_win():
    from ontime.errors import OntimeError
    from ontime.repo import duration_seconds, freshness_slas

    spec = ServiceSpec("s", ("a", "b"), (), (), (), {}, {}, {"a": "va", "b": "vb"}, {"va": 7200.0})
    assert freshness_slas(spec) == {"va": 7200.0}
    assert freshness_slas(spec, {"vb": "30m", "elsewhere": "1h"}) == {"va": 7200.0, "vb": 1800.0}
    assert duration_seconds("2d", "x") == 172800.0 and duration_seconds("90s", "x") == 90.0
    for bad in ("6 hours", "h", "-1h", "0m"):
        with pytest.raises(OntimeError, match="x"):
            duration_seconds(bad, "x")
