"""A simulated world with every fault scenario in its own window, and the logs serving would write.

One world, applied for real (``ontime simulate`` and ``ontime apply`` in subprocesses), holds
the faults in separate day windows so one Feast repo serves every scenario test. Served
feature values are the real offline point-in-time rows (what the online store holds when
the pipelines work), with the online-only faults overlaid the way the simulator defines them:
the shipment stream's distances (in miles under ``online_skew``). Statuses come from the
real contract; ages from the raw tables' event times. A small XGBoost model trained on the
first days plays the champion, so scores and decisions are real model outputs.

This helper knows the late-delivery domain (tests may; library code may not).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from monitoring.reference import Reference
from ontime.contract import apply_contract, fit_categories
from simulator.transit import HOLIDAYS
from tests.integration.conftest import TempRepo, make_repo

DAYS, PER_DAY = 46, 200
# Day windows [start, end). Gaps let each fault's after-effects fade before the next one.
# Day 0 is Monday 2026-06-01; days 18 and 32 are holidays, days 6, 13, 20, ... Sundays.
TRAIN, VALIDATION, TEST, CLEAN = (0, 11), (11, 18), (18, 21), (21, 24)
FAULTS = {
    "backlog_outage": (24, 26),
    "holiday_surge": (27, 30),
    "stale_scans": (32, 34),
    "online_skew": (36, 38),
    "new_carrier": (40, 43),
}
LATENCY_MS = 12.0


@dataclass
class ScenarioWorld:
    repo: TempRepo
    settings: object  # ontime.settings.Settings
    store: object
    day0: pd.Timestamp
    rows: pd.DataFrame  # every prediction event as serving would log it (champion role)
    reference: Reference  # what the champion is judged against

    def day(self, index: float) -> pd.Timestamp:
        return self.day0 + pd.Timedelta(days=index)


def config_text(
    base: Path,
    *,
    seed: int = 5,
    days: int = DAYS,
    per_day: int = PER_DAY,
    faults: dict[str, tuple[int, int]] | None = None,
) -> str:
    faults = FAULTS if faults is None else faults
    scenarios = ", ".join(f"{name}:{a}-{b}" for name, (a, b) in faults.items())
    return (
        "feature_repo: feature_repo\nfeature_service: late_delivery_v1\n"
        "raw_data_dir: feature_repo/data/raw\n"
        "events:\n  table: feature_repo/data/raw/prediction_events.parquet\n"
        "labels:\n  table: feature_repo/data/raw/deliveries.parquet\n"
        f"simulation:\n  days: {days}\n  shipments_per_day: {per_day}\n  seed: {seed}\n"
        f"  scenarios: [{scenarios}]\n"
        "training:\n  segments: [carrier, origin_warehouse, expedited]\n"
        "serving:\n  log_dir: logs\n"
        "monitoring:\n  reports_dir: reports\n"
        f"  profile:\n    holidays: [{', '.join(map(str, HOLIDAYS))}]\n"
    )


def build_world(base: Path, **world: object) -> ScenarioWorld:
    """Simulate and apply a world (``config_text``'s keywords choose seed, size and faults),
    fit the champion on its first days and score every prediction event."""
    from ontime.features import entity_frame, historical_rows
    from ontime.repo import describe_service, load_contract, open_store
    from ontime.settings import load_settings

    repo = make_repo(base)
    repo.config.write_text(config_text(base, **world))
    repo.ontime("simulate")
    repo.ontime("apply")
    settings = load_settings(repo.config)
    store = open_store(repo.repo)
    spec = describe_service(store, settings.feature_service)
    contract = load_contract(repo.repo)

    events = repo.table("prediction_events").sort_values("prediction_time", ignore_index=True)
    entities = entity_frame(events, spec, "prediction_time", contract.request_time_field)
    offline = historical_rows(store, spec, entities)
    rows = events.copy()
    for feature in spec.features:
        rows[feature] = offline[feature].to_numpy()
    # What the online store serves: the stream's distance, which differs under online_skew.
    stream = repo.table("shipment_stream").set_index("order_id")["distance_km"]
    rows["distance_km"] = rows["order_id"].map(stream).to_numpy()
    rows["expedited"] = rows["expedited"].astype("float64")
    ages = served_ages(repo, rows)
    for feature, age in ages.items():
        rows[f"{feature}__age_s"] = age
    day0 = pd.Timestamp(settings.simulation.start)
    rows["_day"] = (rows["prediction_time"] - day0).dt.total_seconds() / 86400
    labels = repo.table("deliveries").set_index("order_id")["delivered_after_promise"]
    rows["_label"] = rows["order_id"].map(labels)

    train = rows[_in(rows, TRAIN) & rows["_label"].notna()]
    categories = fit_categories(train, contract, spec.features)
    model = _fit(train, contract, spec.features, categories)
    stale = pd.DataFrame(
        {
            rule.name: rows[f"{rule.name}__age_s"] > rule.max_age.total_seconds()
            for rule in contract.rules
            if rule.max_age is not None
        }
    )
    result = apply_contract(rows, contract, spec.features, categories, stale=stale)
    for feature in spec.features:
        rows[f"{feature}__status"] = result.statuses[feature].to_numpy()
    rows["probability"] = model.predict_proba(result.frame)[:, 1]

    validation = rows[_in(rows, VALIDATION) & rows["_label"].notna()]
    threshold = _threshold(validation, settings.training.costs)
    rows["decision"] = rows["probability"] >= threshold
    rows["threshold"] = threshold
    return _world(repo, settings, store, rows)


def reopen_world(base: Path) -> ScenarioWorld | None:
    """A world saved by ``save_world`` under ``base``, or None (benchmarks reuse worlds)."""
    from ontime.repo import open_store
    from ontime.settings import load_settings

    saved = base / "rows.pkl"
    if not saved.exists():
        return None
    repo = TempRepo(root=base, repo=base / "feature_repo", config=base / "ontime.yaml")
    settings = load_settings(repo.config)
    return _world(repo, settings, open_store(repo.repo), pd.read_pickle(saved))


def save_world(world: ScenarioWorld) -> None:
    """Keep a built world's scored rows next to its repo, for ``reopen_world``."""
    world.rows.to_pickle(world.repo.root / "rows.pkl")


def _world(repo: TempRepo, settings, store, rows: pd.DataFrame) -> ScenarioWorld:
    """The world around scored rows: the champion's reference is its own first days."""
    day0 = pd.Timestamp(settings.simulation.start)
    test = rows[_in(rows, TEST) & rows["_label"].notna()]
    reference = Reference(
        model_name="late_delivery",
        model_version="1",
        rows=rows[_in(rows, TRAIN)].reset_index(drop=True),
        validation_scores=rows.loc[_in(rows, VALIDATION), "probability"].to_numpy(),
        test_metrics=quality(test, settings.training.costs),
        # The monitoring profile's clean reference period: validation and test days.
        period=rows[_in(rows, (VALIDATION[0], TEST[1]))].reset_index(drop=True),
    )
    return ScenarioWorld(repo, settings, store, day0, rows, reference)


def _in(rows: pd.DataFrame, days: tuple[float, float]) -> pd.Series:
    return (rows["_day"] >= days[0]) & (rows["_day"] < days[1])


def served_ages(repo: TempRepo, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Seconds between each prediction time and the event time of the value it was served."""
    t = rows["prediction_time"]
    shipments = repo.table("shipments").set_index("order_id")["created_at"]
    profile_age = (t - rows["order_id"].map(shipments)).dt.total_seconds().to_numpy()
    backlog = _asof_event(rows, repo.table("warehouse_backlog"), "origin_warehouse",
                          "origin_warehouse", "event_timestamp", "created_at")  # fmt: skip
    rates = _asof_event(rows, repo.table("carrier_reliability"), "carrier_id",
                        "carrier_id", "event_timestamp", "created_at")  # fmt: skip
    scans = _asof_event(rows, repo.table("scan_events"), "order_id", "order_id",
                        "scan_at", "ingested_at")  # fmt: skip
    age = {
        "carrier": profile_age,
        "distance_km": profile_age,
        "expedited": profile_age,
        "origin_backlog": (t - backlog).dt.total_seconds().to_numpy(),
        "carrier_late_rate_28d": (t - rates).dt.total_seconds().to_numpy(),
        "hours_since_last_scan": (t - scans).dt.total_seconds().to_numpy(),
    }
    # A missing value has no age.
    return {f: np.where(rows[f].isna().to_numpy(), np.nan, a) for f, a in age.items()}


def _asof_event(rows, table, row_key, table_key, event, created) -> pd.Series:
    """Newest event time per row among values written by its prediction time."""
    table = table.sort_values(created)
    # Newest event time known at each write (writes can arrive out of event order).
    table["_known_event"] = table.groupby(table_key)[event].cummax()
    found = pd.merge_asof(
        rows[[row_key, "prediction_time"]].reset_index().sort_values("prediction_time"),
        table[[table_key, created, "_known_event"]].rename(columns={table_key: row_key}),
        left_on="prediction_time",
        right_on=created,
        by=row_key,
    )
    return found.set_index("index").sort_index()["_known_event"]


def _fit(train, contract, features, categories) -> xgb.XGBClassifier:
    frame = apply_contract(train, contract, features, categories).frame
    model = xgb.XGBClassifier(
        n_estimators=120, max_depth=4, learning_rate=0.1, enable_categorical=True, n_jobs=1
    )
    model.fit(frame, train["_label"].astype(int))
    return model


def _threshold(rows: pd.DataFrame, costs) -> float:
    from training.costs import choose_threshold

    return choose_threshold(rows["probability"].to_numpy(), rows["_label"].to_numpy(bool), costs)


def quality(rows: pd.DataFrame, costs) -> dict[str, float]:
    """Training's metrics at the logged threshold (as its test report would compute them)."""
    from training.metrics import binary_metrics

    labels = rows["_label"].astype(bool).to_numpy(dtype=int)
    return binary_metrics(labels, rows["probability"].to_numpy(), rows["threshold"].iloc[0], costs)


def write_logs(
    world: ScenarioWorld,
    days: tuple[float, float],
    rows: pd.DataFrame | None = None,
    served_shift: pd.Timedelta | None = None,
):
    """Write the window's rows as serving's prediction log (one part file per day).

    ``served_shift`` moves ``served_at`` (not the prediction time), to replay rows into a
    spare stretch of the log.
    """
    rows = world.rows[_in(world.rows, days)] if rows is None else rows
    log_dir = world.settings.serving.log_dir
    served = rows.drop(columns=[c for c in rows.columns if c.startswith("_")]).copy()
    served.insert(0, "request_id", [uuid.uuid4().hex for _ in range(len(served))])
    served["served_at"] = served["prediction_time"] + (served_shift or pd.Timedelta(0))
    served["model_name"] = world.reference.model_name
    served["model_version"] = world.reference.model_version
    served["feature_service"] = world.settings.feature_service
    served["role"] = "champion"
    served["latency_ms"] = LATENCY_MS
    for column in ("served_at", "prediction_time"):
        served[column] = served[column].astype("datetime64[us, UTC]")
    for date, part in served.groupby(served["served_at"].dt.strftime("%Y-%m-%d")):
        folder = log_dir / "predictions" / f"date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        part.to_parquet(folder / f"part-{uuid.uuid4().hex}.parquet", index=False)
    return served
