"""The simulated world: schema, determinism, causality, fault scenarios and validation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from simulator import SCENARIOS, FaultWindow, SimulationConfig, SimulationError, generate, simulate
from simulator.faults import KM_PER_MILE, NEW_CARRIER, OUTAGE_WAREHOUSES, STALE_CARRIER

World = dict[str, pd.DataFrame]
SMALL = SimulationConfig(days=20, shipments_per_day=150, seed=11)
WINDOW = (8, 14)
ORDER_COLUMNS = ["order_id", "created_at", "carrier", "origin_warehouse", "dest_region",
                 "distance_km", "expedited", "promised_by"]  # fmt: skip
COLUMNS = {
    "shipments": ORDER_COLUMNS,
    "shipment_stream": ORDER_COLUMNS,
    "scan_events": ["order_id", "scan_at", "ingested_at", "location", "status",
                    "last_scan_epoch_s"],
    "warehouse_backlog": ["origin_warehouse", "event_timestamp", "origin_backlog", "created_at"],
    "deliveries": ["order_id", "delivered_at", "delivered_after_promise", "label_available_at",
                   "late_complaint"],
    "prediction_events": ["order_id", "carrier_id", "origin_warehouse", "prediction_time"],
}  # fmt: skip
START = pd.Timestamp(SMALL.start)
END = START + pd.Timedelta(days=SMALL.days)
IN_START, IN_END = START + pd.Timedelta(days=WINDOW[0]), START + pd.Timedelta(days=WINDOW[1])


@pytest.fixture(scope="module")
def world() -> World:
    """The clean small world every test reads (never mutated)."""
    return generate(SMALL)


@pytest.fixture(scope="module")
def faulted() -> dict[str, World]:
    """One world per scenario, each with the fault on days [8, 14) of 20."""
    return {
        name: generate(replace(SMALL, faults=(FaultWindow(name, *WINDOW),))) for name in SCENARIOS
    }


def inside(ts: pd.Series) -> pd.Series:
    """Which timestamps fall inside the fault window."""
    return (ts >= IN_START) & (ts < IN_END)


def late_rate(frames: World, created_inside: bool) -> float:
    """Late share of delivered orders created inside (or outside) the fault window."""
    joined = frames["shipments"].merge(frames["deliveries"], on="order_id")
    return joined.loc[
        inside(joined["created_at"]) == created_inside, "delivered_after_promise"
    ].mean()


def test_same_seed_gives_identical_frames(world: World) -> None:
    again = generate(SMALL)
    for name, frame in world.items():
        pd.testing.assert_frame_equal(frame, again[name])


def test_another_seed_gives_another_world(world: World) -> None:
    other = generate(replace(SMALL, seed=12))
    assert not world["shipments"].equals(other["shipments"])
    assert not world["scan_events"].equals(other["scan_events"])


def test_tables_have_exact_columns_and_microsecond_utc_timestamps(world: World) -> None:
    assert {name: list(f.columns) for name, f in world.items()} == COLUMNS
    for name, frame in world.items():
        for column in frame.columns:
            if column.endswith(("_at", "_by", "_time", "_timestamp")):
                assert str(frame[column].dtype) == "datetime64[us, UTC]", (name, column)
    assert world["shipments"]["order_id"].str.fullmatch(r"O-\d{7}").all()
    assert world["shipments"]["order_id"].is_unique
    assert world["shipments"]["distance_km"].between(20, 3000).all()
    assert world["shipments"]["carrier"].nunique() == 5
    assert world["shipments"]["origin_warehouse"].nunique() == 8


def test_labels_come_after_delivery_and_match_the_promise(world: World) -> None:
    joined = world["deliveries"].merge(world["shipments"], on="order_id")
    assert (joined["label_available_at"] > joined["delivered_at"]).all()
    label_delay = joined["label_available_at"] - joined["delivered_at"]
    assert label_delay.between(pd.Timedelta(days=1), pd.Timedelta(days=4)).all()
    late = joined["delivered_at"] > joined["promised_by"]
    assert (joined["delivered_after_promise"] == late).all()
    assert (joined["delivered_at"] < END).all()
    assert (joined["delivered_at"] > joined["created_at"]).all()
    assert 0.15 <= joined["delivered_after_promise"].mean() <= 0.35
    # Complaints mostly follow late deliveries.
    assert (
        joined.loc[late, "late_complaint"].mean() > 5 * joined.loc[~late, "late_complaint"].mean()
    )


def test_prediction_events_happen_while_in_transit(world: World) -> None:
    asks = world["prediction_events"]
    assert not asks.duplicated(["order_id", "prediction_time"]).any()
    assert (asks["prediction_time"].dt.microsecond == 0).all()
    assert asks.groupby("order_id").size().between(1, 3).all()
    joined = asks.merge(world["shipments"], on="order_id", suffixes=("", "_order")).merge(
        world["deliveries"], on="order_id", how="left"
    )
    assert (joined["carrier_id"] == joined["carrier"]).all()
    assert (joined["origin_warehouse"] == joined["origin_warehouse_order"]).all()
    assert (joined["prediction_time"] >= joined["created_at"] + pd.Timedelta(hours=1)).all()
    assert (joined["prediction_time"] < joined["promised_by"]).all()
    delivered = joined["delivered_at"].notna()
    assert (joined.loc[delivered, "prediction_time"] < joined.loc[delivered, "delivered_at"]).all()
    assert (joined["prediction_time"] < END).all()


def test_scans_are_sorted_ingested_after_they_happen_and_carry_their_epoch(world: World) -> None:
    scans = world["scan_events"]
    assert scans.equals(scans.sort_values(["order_id", "scan_at"], kind="stable"))
    assert (scans["ingested_at"] >= scans["scan_at"]).all()
    assert (scans["ingested_at"] <= END).all()
    assert (scans["ingested_at"] - scans["scan_at"]).max() < pd.Timedelta(hours=1)
    epoch = (scans["scan_at"] - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    assert np.array_equal(scans["last_scan_epoch_s"].to_numpy(), epoch.to_numpy())
    assert set(scans["status"]) == {
        "label_created", "picked_up", "in_transit", "out_for_delivery", "delivered"
    }  # fmt: skip
    delivered_scans = scans.loc[scans["status"] == "delivered", ["order_id", "scan_at"]]
    check = delivered_scans.merge(world["deliveries"], on="order_id")
    assert (check["scan_at"] == check["delivered_at"]).all()


def test_some_parcels_stall_and_stalled_parcels_are_late_more_often(world: World) -> None:
    scans = world["scan_events"]
    gap = scans.groupby("order_id")["scan_at"].diff().groupby(scans["order_id"]).max()
    joined = world["deliveries"].set_index("order_id").join(gap.rename("longest_gap"))
    stalled = joined["longest_gap"] > pd.Timedelta(hours=48)
    assert 0.02 < stalled.mean() < 0.3
    late = joined["delivered_after_promise"]
    assert late[stalled].mean() > late[~stalled].mean() + 0.15


def test_clean_stream_equals_batch_and_backlog_is_complete(world: World) -> None:
    pd.testing.assert_frame_equal(world["shipment_stream"], world["shipments"])
    assert world["warehouse_backlog"]["origin_backlog"].notna().all()


def test_late_backfills_repeat_the_hour_with_a_later_report(world: World) -> None:
    backlog = world["warehouse_backlog"]
    assert len(backlog) > SMALL.days * 24 * 8
    key = ["origin_warehouse", "event_timestamp"]
    repeated = backlog[backlog.duplicated(key, keep=False)].sort_values([*key, "created_at"])
    assert len(repeated) >= 2
    first, later = repeated.groupby(key).nth(0), repeated.groupby(key).nth(1)
    assert (later["created_at"].to_numpy() > first["created_at"].to_numpy()).all()
    on_time = backlog.drop_duplicates(key, keep="first")
    assert (on_time["created_at"] - on_time["event_timestamp"] == pd.Timedelta(minutes=5)).all()


def test_backlog_outage_blanks_three_warehouses_inside_the_window(
    world: World, faulted: dict[str, World]
) -> None:
    backlog = faulted["backlog_outage"]["warehouse_backlog"]
    assert len(backlog) == len(world["warehouse_backlog"])
    missing = backlog["origin_backlog"].isna()
    expected = inside(backlog["event_timestamp"]) & backlog["origin_warehouse"].isin(
        OUTAGE_WAREHOUSES
    )
    assert missing.any()
    assert (missing == expected).all()


def test_stale_scans_lag_one_carrier_inside_the_window(faulted: dict[str, World]) -> None:
    frames = faulted["stale_scans"]
    scans = frames["scan_events"].merge(frames["shipments"][["order_id", "carrier"]], on="order_id")
    lagged = scans["ingested_at"] - scans["scan_at"] > pd.Timedelta(hours=1)
    assert lagged.any()
    assert (scans.loc[lagged, "carrier"] == STALE_CARRIER).all()
    assert inside(scans.loc[lagged, "scan_at"]).all()
    lag = scans.loc[lagged, "ingested_at"] - scans.loc[lagged, "scan_at"]
    assert lag.between(pd.Timedelta(hours=30), pd.Timedelta(hours=48)).all()


def test_new_carrier_appears_only_for_orders_created_inside_the_window(
    faulted: dict[str, World],
) -> None:
    frames = faulted["new_carrier"]
    orders = frames["shipments"]
    newco = orders["carrier"] == NEW_CARRIER
    assert inside(orders.loc[newco, "created_at"]).all()
    assert 0.10 < newco[inside(orders["created_at"])].mean() < 0.20
    newco_ids = set(orders.loc[newco, "order_id"])
    assert (frames["shipment_stream"]["carrier"] == NEW_CARRIER).sum() == newco.sum()
    assert (
        set(frames["prediction_events"].query("carrier_id == @NEW_CARRIER")["order_id"])
        <= newco_ids
    )
    assert newco_ids & set(frames["deliveries"]["order_id"])
    assert newco_ids & set(frames["scan_events"]["order_id"])


def test_holiday_surge_raises_backlog_and_lateness_only_inside_the_window(
    world: World, faulted: dict[str, World]
) -> None:
    surge = faulted["holiday_surge"]

    def mean_backlog(frames: World, in_window: bool) -> float:
        backlog = frames["warehouse_backlog"]
        return backlog.loc[inside(backlog["event_timestamp"]) == in_window, "origin_backlog"].mean()

    assert mean_backlog(surge, True) > 2 * mean_backlog(world, True)
    assert mean_backlog(surge, False) == pytest.approx(mean_backlog(world, False), rel=0.01)
    assert late_rate(surge, True) > late_rate(world, True) + 0.1
    # Orders placed before the surge are untouched.
    before = world["shipments"]["created_at"] < IN_START
    ids = set(world["shipments"].loc[before, "order_id"])
    clean_before = world["deliveries"][world["deliveries"]["order_id"].isin(ids)]
    surge_before = surge["deliveries"][surge["deliveries"]["order_id"].isin(ids)]
    pd.testing.assert_frame_equal(clean_before, surge_before)


def test_online_skew_writes_miles_in_the_stream_only_inside_the_window(
    world: World, faulted: dict[str, World]
) -> None:
    frames = faulted["online_skew"]
    pd.testing.assert_frame_equal(frames["shipments"], world["shipments"])
    batch, stream = frames["shipments"], frames["shipment_stream"]
    differs = ~np.isclose(batch["distance_km"], stream["distance_km"])
    assert (differs == inside(batch["created_at"])).all()
    ratio = batch.loc[differs, "distance_km"] / stream.loc[differs, "distance_km"]
    assert np.allclose(ratio, KM_PER_MILE)


@pytest.mark.parametrize("name", ["backlog_outage", "stale_scans", "online_skew"])
def test_feed_faults_leave_true_deliveries_alone(
    world: World, faulted: dict[str, World], name: str
) -> None:
    pd.testing.assert_frame_equal(faulted[name]["deliveries"], world["deliveries"])


def test_lateness_is_learnable_from_raw_causes(world: World) -> None:
    asks = world["prediction_events"].sort_values("prediction_time")
    scans = world["scan_events"][["order_id", "scan_at"]].sort_values("scan_at")
    rows = pd.merge_asof(asks, scans, left_on="prediction_time", right_on="scan_at", by="order_id")
    rows = rows.merge(world["shipments"].drop(columns="origin_warehouse"), on="order_id")
    rows = rows.merge(world["deliveries"], on="order_id")
    hours = pd.Timedelta(hours=1)
    features = pd.DataFrame({
        "log_distance": np.log(rows["distance_km"]),
        "expedited": rows["expedited"].astype(float),
        "weekend_ahead": rows["created_at"].dt.weekday.isin([4, 5]).astype(float),
        "hours_since_last_scan": (rows["prediction_time"] - rows["scan_at"]) / hours,
        "hours_to_promise": (rows["promised_by"] - rows["prediction_time"]) / hours,
    }).join(pd.get_dummies(rows["carrier"], dtype=float))  # fmt: skip
    train = rows["created_at"] < START + pd.Timedelta(days=12)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(features[train], rows.loc[train, "delivered_after_promise"])
    scores = model.predict_proba(features[~train])[:, 1]
    auc = roc_auc_score(rows.loc[~train, "delivered_after_promise"], scores)
    # Learnable, but noisy: not trivially separable.
    assert 0.65 < auc < 0.95


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days": -3}, "days must be positive, got -3"),
        ({"shipments_per_day": 0}, "shipments_per_day must be positive, got 0"),
        ({"faults": (FaultWindow("meteor", 1, 2),)}, "unknown scenario 'meteor'; known: backlog"),
        ({"faults": (FaultWindow("stale_scans", 15, 25),)}, r"\[15, 25\) is outside \[0, 20\)"),
        ({"faults": (FaultWindow("stale_scans", -1, 5),)}, "is outside"),
        ({"faults": (FaultWindow("online_skew", 5, 5),)}, "start_day 5 must be before end_day 5"),
        ({"start": SMALL.start.replace(tzinfo=None)}, "start must be timezone-aware"),
    ],
)
def test_invalid_config_names_the_problem(changes: dict[str, object], message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        generate(replace(SMALL, **changes))


def test_simulate_writes_parquet_with_microsecond_utc(tmp_path: Path, world: World) -> None:
    paths = simulate(SMALL, tmp_path / "raw")
    assert set(paths) == set(COLUMNS)
    for name, path in paths.items():
        assert path == tmp_path / "raw" / f"{name}.parquet"
        for field in pq.read_schema(path):
            if str(field.type).startswith("timestamp"):
                assert str(field.type) == "timestamp[us, tz=UTC]", (name, field.name)
        pd.testing.assert_frame_equal(pd.read_parquet(path), world[name])
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(
        f"{name}.parquet" for name in COLUMNS
    )


def test_simulate_refuses_an_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(SimulationError, match=r"cannot write to .*not_a_folder"):
        simulate(SMALL, blocker / "raw")
