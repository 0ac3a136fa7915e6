"""A small simulated world, applied for real, two real XGBoost bundles, and a live server.

The world is simulated and ``feast apply``-ed once per session; tests that change the online
store (materialize, push, lock it) work on a copy of the applied repo. Bundles are trained on
contract output of point-in-time rows, exactly as training does, so parity is meaningful.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from ontime.contract import apply_contract, fit_categories
from ontime.features import entity_frame, historical_rows
from ontime.materialize import materialize
from ontime.repo import describe_service, load_contract, open_store
from ontime.settings import Settings, load_settings
from ontime.settings.serving import ServingSettings
from serving.api import create_app
from serving.models import ServedModel, StaticModelSource
from serving.server import BackgroundServer
from serving.service import ScoringService, build_service
from tests.integration.conftest import TempRepo, make_repo
from training.bundle import Calibration, ModelBundle

SERVICE = "late_delivery_v1"


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> TempRepo:
    temp = make_repo(tmp_path_factory.mktemp("serving_world"))
    temp.ontime("simulate")
    temp.ontime("apply")
    return temp


def copy_world(world: TempRepo, base: Path) -> TempRepo:
    """A private copy of the applied repo (own registry state and online store)."""
    shutil.copytree(world.root, base, dirs_exist_ok=True)
    return TempRepo(root=base, repo=base / "feature_repo", config=base / "ontime.yaml")


def train_bundle(store, events: pd.DataFrame, labels: pd.Series, seed: int, depth: int):
    """A tiny real booster on contract output of point-in-time rows (the training path)."""
    contract = load_contract(Path(store.repo_path))
    spec = describe_service(store, SERVICE)
    entities = entity_frame(events, spec, "prediction_time", contract.request_time_field)
    rows = historical_rows(store, spec, entities)
    categories = fit_categories(rows, contract, spec.features)
    result = apply_contract(rows, contract, spec.features, categories)
    target = events["order_id"].map(labels).reset_index(drop=True)
    keep = (result.accepted & target.notna()).to_numpy()
    params = {"objective": "binary:logistic", "max_depth": depth, "seed": seed, "nthread": 1}
    data = xgb.DMatrix(
        result.frame[keep], label=target[keep].astype(float), enable_categorical=True
    )
    booster = xgb.train(params, data, num_boost_round=15)
    return ModelBundle(
        booster=booster,
        calibration=Calibration(x=[0.0, 1.0], y=[0.0, 1.0]),
        feature_service=SERVICE,
        features=list(spec.features),
        model_columns=list(result.frame.columns),
        categories=categories,
        threshold=0.4,
        metadata={"seed": seed},
    )


@dataclass
class Bundles:
    v1: ServedModel
    v2: ServedModel


@pytest.fixture(scope="session")
def bundles(world) -> Bundles:
    store = open_store(world.repo)
    events = world.table("prediction_events")
    train = events[
        events["prediction_time"] < events["prediction_time"].min() + pd.Timedelta(days=20)
    ]
    train = train.sample(min(800, len(train)), random_state=3).reset_index(drop=True)
    labels = world.table("deliveries").set_index("order_id")["delivered_after_promise"]
    one = train_bundle(store, train, labels, seed=1, depth=2)
    two = train_bundle(store, train, labels, seed=2, depth=4)
    return Bundles(
        v1=ServedModel("late_delivery", "1", "champion", one, run_id="run-1"),
        v2=ServedModel("late_delivery", "2", "challenger", two, run_id="run-2"),
    )


def settings_for(temp: TempRepo, log_dir: Path, **serving) -> Settings:
    base = load_settings(temp.config)
    options = {"log_dir": log_dir, "log_flush_seconds": 0.5, "alias_poll_seconds": 0.3}
    options.update(serving)
    return base.model_copy(update={"serving": ServingSettings(**options)})


def end_of_world(temp: TempRepo) -> pd.Timestamp:
    return temp.table("prediction_events")["prediction_time"].max()


@pytest.fixture(scope="module")
def live_world(world, tmp_path_factory) -> TempRepo:
    """A copy of the world materialized to its last prediction time."""
    temp = copy_world(world, tmp_path_factory.mktemp("live"))
    materialize(temp.repo, end=end_of_world(temp).to_pydatetime())
    return temp


@dataclass
class Live:
    service: ScoringService
    server: BackgroundServer
    source: StaticModelSource
    settings: Settings

    @property
    def url(self) -> str:
        return self.server.url


def start_live(settings: Settings, source: StaticModelSource) -> Live:
    service = build_service(settings, source=source)
    server = BackgroundServer(create_app(service)).start()
    return Live(service=service, server=server, source=source, settings=settings)


@pytest.fixture
def live(live_world, bundles, tmp_path) -> Iterator[Live]:
    """A real uvicorn server with v1 as champion and v2 as challenger (shadow)."""
    source = StaticModelSource({"champion": bundles.v1, "challenger": bundles.v2})
    running = start_live(settings_for(live_world, tmp_path / "logs"), source)
    yield running
    running.server.stop()


def event_rows(temp: TempRepo, count: int, seed: int = 0, at: pd.Timestamp | None = None):
    """Request bodies for recent prediction events (their entities exist online)."""
    events = temp.table("prediction_events")
    end = at if at is not None else end_of_world(temp)
    recent = events[(events["prediction_time"] <= end)]
    recent = recent[recent["prediction_time"] > end - pd.Timedelta(hours=6)]
    sample = recent.sample(min(count, len(recent)), random_state=seed)
    rows = sample[["order_id", "origin_warehouse", "carrier_id"]].to_dict(orient="records")
    for row in rows:
        row["prediction_time"] = end.isoformat()
    return rows


def same_value(a, b) -> bool:
    if a is None or (isinstance(a, float) and np.isnan(a)):
        return b is None or (isinstance(b, float) and np.isnan(b)) or pd.isna(b)
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    return abs(float(a) - float(b)) < 1e-9
