"""Fit the calibrated XGBoost model: early stopping and isotonic calibration on validation,
then the cost-minimising threshold, all packed into a :class:`ModelBundle`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xgboost as xgb

from ontime.contract import FeatureContract, fit_categories
from ontime.errors import OntimeError
from ontime.settings.training import TrainingSettings
from training.bundle import ModelBundle
from training.calibration import select_calibration
from training.costs import choose_threshold
from training.datatests import check_both_classes
from training.frames import Prepared, prepare
from training.split import TimeSplit

log = logging.getLogger(__name__)


@dataclass
class FittedModel:
    """The bundle and the prepared splits it was fitted on (reused by evaluation)."""

    bundle: ModelBundle
    parts: dict[str, Prepared]
    best_iteration: int


def model_features(service_features: Sequence[str], without: Sequence[str]) -> list[str]:
    """The service's features minus the ablated ones; unknown names are an error."""
    unknown = [name for name in without if name not in service_features]
    if unknown:
        raise OntimeError(
            f"--without {unknown}: not feature(s) of the service; known: {list(service_features)}"
        )
    kept = [name for name in service_features if name not in set(without)]
    if not kept:
        raise OntimeError("--without removes every feature of the service")
    return kept


def booster_params(settings: TrainingSettings) -> dict:
    model = settings.model
    params = {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "tree_method": "hist",
        "max_depth": model.max_depth,
        "eta": model.learning_rate,
        "min_child_weight": model.min_child_weight,
        "subsample": model.subsample,
        "colsample_bytree": model.colsample_bytree,
        "seed": model.seed,
    }
    if model.nthread:
        params["nthread"] = model.nthread
    return params


def fit_model(
    split: TimeSplit,
    contract: FeatureContract,
    service: str,
    features: Sequence[str],
    label: str,
    time_column: str,
    settings: TrainingSettings,
    metadata: dict,
) -> FittedModel:
    """Categories from train, trees on train (stopped on validation), calibration and
    threshold on validation. The test split is prepared here but never looked at."""
    categories = fit_categories(split.train, contract, features)
    parts = {
        name: prepare(split.part(name), contract, features, categories, label)
        for name in ("train", "validation", "test")
    }
    for name in ("train", "validation"):
        if parts[name].frame.empty:
            raise OntimeError(f"the feature contract rejected every row of the {name} split")
        check_both_classes(parts[name].rows[label], label, name)
    train, validation = parts["train"], parts["validation"]
    dtrain = xgb.DMatrix(train.frame, label=train.labels, enable_categorical=True)
    dvalid = xgb.DMatrix(validation.frame, label=validation.labels, enable_categorical=True)
    booster = xgb.train(
        booster_params(settings),
        dtrain,
        num_boost_round=settings.model.max_rounds,
        evals=[(dvalid, "validation")],
        early_stopping_rounds=settings.model.early_stopping_rounds,
        verbose_eval=False,
    )
    best = int(booster.best_iteration)
    # xgb.train keeps the rounds after the best one; keep only the trees that were chosen.
    booster = booster[: best + 1]
    raw_validation = booster.predict(dvalid)
    times = validation.rows[time_column].to_numpy()
    calibration, calibration_info = select_calibration(
        raw_validation, validation.labels, times, settings.calibration
    )
    calibrated = np.clip(calibration(raw_validation), 0.0, 1.0)
    threshold = choose_threshold(calibrated, validation.labels, settings.costs)
    log.info(
        "fitted %s trees; calibration %s; threshold %.4f",
        best + 1,
        calibration_info["chosen"],
        threshold,
    )
    bundle = ModelBundle(
        booster=booster,
        calibration=calibration,
        feature_service=service,
        features=list(features),
        model_columns=list(train.frame.columns),
        categories=categories,
        threshold=threshold,
        metadata={**metadata, "best_iteration": best, "calibration_choice": calibration_info},
    )
    return FittedModel(bundle=bundle, parts=parts, best_iteration=best)
