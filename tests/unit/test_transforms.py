"""Pure transforms behind the ODFV and the batch pipeline."""

from __future__ import annotations

import math

import pandas as pd

from feature_repo.transforms import carrier_late_rate, hours_since_last_scan


def epoch(text: str) -> float:
    return pd.Timestamp(text, tz="UTC").timestamp()


def test_worked_example_prediction_at_nine_last_scan_at_one_gives_eight_hours():
    hours = hours_since_last_scan(
        pd.Series([epoch("2026-06-02 01:00")]), pd.Series([epoch("2026-06-02 09:00")])
    )
    assert hours.iloc[0] == 8.0


def test_hours_are_capped_at_168_and_missing_stays_missing():
    hours = hours_since_last_scan(
        pd.Series([epoch("2026-06-01 00:00"), float("nan")]),
        pd.Series([epoch("2026-06-20 00:00"), epoch("2026-06-20 00:00")]),
    )
    assert hours.iloc[0] == 168.0
    assert math.isnan(hours.iloc[1])


def test_carrier_late_rate_uses_only_labels_available_before_the_day():
    shipments = pd.DataFrame({"order_id": ["a", "b", "c"], "carrier": ["x", "x", "x"]})
    deliveries = pd.DataFrame(
        {
            "order_id": ["a", "b", "c"],
            "delivered_after_promise": [True, False, True],
            "label_available_at": pd.to_datetime(
                ["2026-06-01 10:00", "2026-06-02 23:00", "2026-06-03 00:00"], utc=True
            ),
        }
    )
    days = pd.date_range("2026-06-01", "2026-06-05", freq="D", tz="UTC")
    table = carrier_late_rate(shipments, deliveries, days, prior_weight=0.0).set_index(
        "event_timestamp"
    )
    # Day 1 has no label yet; day 2 sees "a"; day 3 sees a+b; day 4 sees all three.
    assert pd.Timestamp("2026-06-01", tz="UTC") not in table.index
    assert table.loc[pd.Timestamp("2026-06-02", tz="UTC"), "carrier_labels_28d"] == 1
    assert table.loc[pd.Timestamp("2026-06-03", tz="UTC"), "carrier_late_rate_28d"] == 0.5
    assert table.loc[pd.Timestamp("2026-06-04", tz="UTC"), "carrier_labels_28d"] == 3
    assert math.isclose(
        table.loc[pd.Timestamp("2026-06-04", tz="UTC"), "carrier_late_rate_28d"], 2 / 3
    )


def test_odfv_body_survives_feasts_source_rehydration(root):
    """Feast 0.67 rebuilds a UDF from its source text (numpy and pandas only in scope) before
    trying the pickle; the ODFV body must work that way too, on the worked example."""
    import sys

    from feast.transformation.udf_rehydrate import rehydrate_udf_from_source

    sys.path.insert(0, str(root / "feature_repo"))
    source = (root / "feature_repo" / "shipments.py").read_text()
    start = source.index("@on_demand_feature_view(")
    udf = rehydrate_udf_from_source(source[start:], preferred_name="scan_staleness")
    assert udf is not None, "Feast could not rebuild the ODFV from its source"
    out = udf(
        {
            "last_scan_epoch_s": [epoch("2026-06-02 01:00"), None],
            "request_time_epoch_s": [epoch("2026-06-02 09:00"), epoch("2026-06-02 09:00")],
        }
    )
    assert out == {"hours_since_last_scan": [8.0, None]}
