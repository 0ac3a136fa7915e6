"""Point-in-time correctness of training rows, against independent pandas computations.

Two Feast modes are checked, each against its own reference:
- training mode (``filter_by_created_timestamp=True``, what ``training/`` uses): a value is
  usable only once both its event time and its write time are <= the prediction time.
  Reference: an explicit merge on keys + filter + latest (no Feast code involved).
- Feast's default mode: the latest event time wins and a late backfill (same event time,
  later created time) replaces the original. Reference: ``pandas.merge_asof`` with TTL as
  tolerance on the table deduplicated to the newest write per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from ontime.features import entity_frame, historical_rows
from ontime.repo import describe_service, load_contract

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class View:
    table: str
    key: str  # join key in the entity frame
    table_key: str  # same key in the raw table
    ts: str
    created: str | None
    ttl: timedelta
    features: tuple[str, ...]


VIEWS = {
    "shipment_profile": View(
        "shipments",
        "order_id",
        "order_id",
        "created_at",
        None,
        timedelta(days=30),
        ("carrier", "distance_km", "expedited"),
    ),
    "warehouse_backlog": View(
        "warehouse_backlog",
        "origin_warehouse",
        "origin_warehouse",
        "event_timestamp",
        "created_at",
        timedelta(hours=3),
        ("origin_backlog",),
    ),
    "carrier_reliability": View(
        "carrier_reliability",
        "carrier_id",
        "carrier_id",
        "event_timestamp",
        "created_at",
        timedelta(days=2),
        ("carrier_late_rate_28d",),
    ),
    "shipment_scans": View(
        "scan_events",
        "order_id",
        "order_id",
        "scan_at",
        "ingested_at",
        timedelta(days=8),
        ("scan_at",),
    ),
}


def reference_known_at_time(entities: pd.DataFrame, table: pd.DataFrame, view: View):
    """Latest (event, created) row with event <= t, created <= t and event >= t - ttl."""
    right = table.rename(columns={view.table_key: view.key})
    columns = [view.key, view.ts, *([view.created] if view.created else []), *view.features]
    merged = entities[["row", view.key, "t"]].merge(
        right[list(dict.fromkeys(columns))], on=view.key
    )
    keep = (merged[view.ts] <= merged["t"]) & (merged[view.ts] >= merged["t"] - view.ttl)
    if view.created:
        keep &= merged[view.created] <= merged["t"]
    order = ["row", view.ts, *([view.created] if view.created else [])]
    latest = merged[keep].sort_values(order).drop_duplicates("row", keep="last")
    return latest.set_index("row").reindex(entities["row"])[list(view.features)]


def reference_merge_asof(entities: pd.DataFrame, table: pd.DataFrame, view: View):
    """merge_asof on event time; a backfill (same event, later write) replaces the original."""
    right = table.rename(columns={view.table_key: view.key})
    order = [view.ts, *([view.created] if view.created else [])]
    right = right.sort_values(order).drop_duplicates([view.key, view.ts], keep="last")
    right = right[list(dict.fromkeys([view.key, view.ts, *view.features]))]
    if view.ts in view.features:  # merge_asof consumes the "on" column; keep a copy
        right = right.assign(**{f"{view.ts}_value": right[view.ts]})
    joined = (
        pd.merge_asof(
            entities[["row", view.key, "t"]].sort_values("t"),
            right.sort_values(view.ts),
            left_on="t",
            right_on=view.ts,
            by=view.key,
            direction="backward",
            tolerance=pd.Timedelta(view.ttl),
            allow_exact_matches=True,
        )
        .set_index("row")
        .reindex(entities["row"])
    )
    if view.ts in view.features:
        joined[view.ts] = joined[f"{view.ts}_value"]
    return joined[list(view.features)]


def expected_rows(entities, tables, reference) -> pd.DataFrame:
    parts = [reference(entities, tables[v.table], v) for v in VIEWS.values()]
    expected = pd.concat(parts, axis=1)
    hours = (entities.set_index("row")["t"] - expected["scan_at"]).dt.total_seconds() / 3600
    expected["hours_since_last_scan"] = hours.clip(upper=168.0)
    return expected.drop(columns="scan_at").reset_index(drop=True)


@pytest.fixture(scope="module")
def tables(applied_repo):
    names = [
        "shipments",
        "warehouse_backlog",
        "carrier_reliability",
        "scan_events",
        "prediction_events",
    ]
    return {name: applied_repo.table(name) for name in names}


@pytest.fixture(scope="module")
def probe_events(tables) -> pd.DataFrame:
    """Sampled asks plus edge cases: exact report hours, inside backfill gaps, after expiry."""
    events = tables["prediction_events"].sample(400, random_state=3)
    backlog = tables["warehouse_backlog"]
    shipments = tables["shipments"].set_index("order_id")
    edge = events.sample(60, random_state=4).copy()
    # At an exact report hour the report itself is written 5 minutes later: not yet known.
    edge["prediction_time"] = edge["prediction_time"].dt.floor("h")
    expired = events.sample(30, random_state=5).copy()
    expired["prediction_time"] = backlog["event_timestamp"].max() + pd.Timedelta(hours=5)
    # Between a report and its late correction: training must see the original value.
    dup = backlog[backlog.duplicated(["origin_warehouse", "event_timestamp"], keep=False)]
    corrected = dup.sort_values("created_at").drop_duplicates(
        ["origin_warehouse", "event_timestamp"], keep="last"
    )
    assert len(corrected), "the simulator should write late backfills"
    gap = []
    for _, fix in corrected.head(40).iterrows():
        match = events[events["origin_warehouse"] == fix["origin_warehouse"]].head(1).copy()
        match["prediction_time"] = fix["event_timestamp"] + pd.Timedelta(minutes=30)
        gap.append(match)
    probes = pd.concat([events, edge, expired, *gap], ignore_index=True)
    probes = probes.drop_duplicates(["order_id", "prediction_time"]).reset_index(drop=True)
    assert (probes["order_id"].map(shipments["carrier"]) == probes["carrier_id"]).all()
    return probes


@pytest.fixture(scope="module")
def entities(store, applied_repo, probe_events):
    spec = describe_service(store, "late_delivery_v1")
    contract = load_contract(applied_repo.repo)
    frame = entity_frame(probe_events, spec, "prediction_time", contract.request_time_field)
    return spec, frame


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["expedited"] = out["expedited"].astype("float64")
    out["carrier"] = out["carrier"].astype("string")
    return out.astype({c: "float64" for c in out.columns if c != "carrier"})


def test_training_rows_use_only_values_known_at_prediction_time(store, entities, tables):
    spec, frame = entities
    actual = historical_rows(store, spec, frame)[list(spec.features)]
    keyed = frame.assign(row=range(len(frame)), t=frame["event_timestamp"])
    expected = expected_rows(keyed, tables, reference_known_at_time)[list(spec.features)]
    pd.testing.assert_frame_equal(comparable(actual), comparable(expected))
    # The probes must exercise the edge cases, or this test proves nothing about them.
    assert actual["origin_backlog"].isna().sum() >= 30, "TTL expiry not exercised"


def test_feast_default_mode_matches_merge_asof(store, entities, tables):
    spec, frame = entities
    job = store.get_historical_features(
        entity_df=frame.assign(_row=range(len(frame))),
        features=store.get_feature_service(spec.name),
    )
    actual = job.to_df().sort_values("_row").reset_index(drop=True)[list(spec.features)]
    keyed = frame.assign(row=range(len(frame)), t=frame["event_timestamp"])
    expected = expected_rows(keyed, tables, reference_merge_asof)[list(spec.features)]
    pd.testing.assert_frame_equal(comparable(actual), comparable(expected))


def test_late_backfill_does_not_leak_into_training_rows(store, entities, tables):
    """Between a report and its correction, training sees the original; Feast's default
    mode would already see the correction, written after the prediction time."""
    spec, frame = entities
    backlog = tables["warehouse_backlog"]
    offset = pd.Timedelta(minutes=30)
    training = historical_rows(store, spec, frame)
    hits = 0
    for i, row in frame.iterrows():
        reports = backlog[
            (backlog["origin_warehouse"] == row["origin_warehouse"])
            & (backlog["event_timestamp"] == row["event_timestamp"] - offset)
        ]
        if len(reports) < 2:
            continue
        reports = reports.sort_values("created_at")
        original, correction = reports.iloc[0], reports.iloc[-1]
        if correction["created_at"] <= row["event_timestamp"]:
            continue
        assert training.loc[i, "origin_backlog"] == original["origin_backlog"]
        hits += 1
    assert hits >= 5, f"only {hits} backfill probes landed in a correction gap"


def test_no_feature_value_is_stamped_after_its_prediction_time(store, entities, tables):
    spec, frame = entities
    training = historical_rows(store, spec, frame)
    epoch_at_t = frame["event_timestamp"].astype("int64") / 1e6
    used_scan = training["last_scan_epoch_s"]
    assert (used_scan.dropna() <= epoch_at_t[used_scan.notna()]).all()
    assert np.all(training["hours_since_last_scan"].dropna() >= 0)


def reference_event_time(entities: pd.DataFrame, table: pd.DataFrame, view: View) -> pd.Series:
    """Event time of the newest (event, created) row with event <= t and created <= t, with
    no TTL: the row serving reads online, where an expired value is still there."""
    right = table.rename(columns={view.table_key: view.key})
    columns = [view.key, view.ts, *([view.created] if view.created else [])]
    merged = entities[["row", view.key, "t"]].merge(right[columns], on=view.key)
    keep = merged[view.ts] <= merged["t"]
    if view.created:
        keep &= merged[view.created] <= merged["t"]
    order = ["row", view.ts, *([view.created] if view.created else [])]
    latest = merged[keep].sort_values(order).drop_duplicates("row", keep="last")
    return latest.set_index("row")[view.ts].reindex(entities["row"])


def test_feature_ages_date_the_row_the_join_picked(store, entities, tables):
    """Ages as serving logs them: prediction time minus the picked row's event time in whole
    seconds, the TTL not applied; an on-demand output is as old as its input view's row."""
    from ontime.feature_ages import feature_ages

    spec, frame = entities
    ages = feature_ages(store, spec, frame[list(spec.entity_keys)], frame["event_timestamp"])
    keyed = frame.assign(row=range(len(frame)), t=frame["event_timestamp"])
    t_s = keyed["t"].astype("int64").to_numpy() / 1e6
    sources = {f: view for view, v in VIEWS.items() for f in v.features}
    sources |= {"hours_since_last_scan": "shipment_scans", "last_scan_epoch_s": "shipment_scans"}
    for feature in spec.features:
        view = VIEWS[sources.get(feature, spec.views[feature])]
        event = reference_event_time(keyed, tables[view.table], view)
        seconds = np.floor(event.dt.as_unit("us").astype("int64").to_numpy() / 1e6)
        expected = np.where(event.isna().to_numpy(), np.nan, t_s - seconds)
        np.testing.assert_array_equal(ages[feature], expected, err_msg=feature)
    # The expired probes are dated, not blanked: their backlog is older than its 3 h TTL.
    assert (ages["origin_backlog"] > 3 * 3600).sum() >= 30
    assert np.isnan(ages["origin_backlog"]).sum() < len(frame)
