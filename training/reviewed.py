"""The reviewed critical case set: orders a person looked at, whose outcome is known.

The table (parquet or csv, path in ``training.gate.reviewed_cases``) holds the service's
entity keys, the prediction time (``events.time_column``) and the known outcome
(``labels.column``). The gate fetches each case's features as of its prediction time through
the FeatureService (the same offline path as training) and scores it with the candidate's
own thresholds: every late case must be flagged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ontime.contract import FeatureContract, apply_contract
from ontime.errors import OntimeError
from ontime.features import entity_frame, historical_rows
from ontime.settings import Settings
from training.bundle import ModelBundle
from training.datatests import check_columns, check_label_values

log = logging.getLogger(__name__)


def read_cases(path: Path, columns: list[str]) -> pd.DataFrame:
    """The case table, refused with one line when it is missing, unreadable or incomplete."""
    if not path.exists():
        raise OntimeError(
            f"reviewed case set not found at {path}; build one with `ontime reviewed-cases`"
        )
    try:
        cases = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # any reader error is the same problem for the user
        raise OntimeError(f"reviewed case set {path} is unreadable: {exc}") from None
    check_columns(cases, columns, f"reviewed case set {path}")
    if cases.empty:
        raise OntimeError(f"reviewed case set {path} has no cases")
    return cases


def reviewed_summary(
    settings: Settings, bundle: ModelBundle, contract: FeatureContract, store=None
) -> dict | None:
    """How ``bundle`` decides on every reviewed case; None when no case set is configured.

    A problem with the table becomes ``error`` (the gate fails on it) rather than an
    exception: a gate that cannot see the reviewed cases must not wave a model through.
    """
    path = settings.training.gate.reviewed_cases
    if path is None:
        return None
    try:
        return _score_cases(settings, bundle, contract, Path(path), store)
    except OntimeError as exc:
        return {"path": str(path), "error": str(exc)}


def _score_cases(
    settings: Settings, bundle: ModelBundle, contract: FeatureContract, path: Path, store
) -> dict:
    from ontime.repo import describe_service, open_store

    store = store or open_store(settings.feature_repo, settings.profile)
    spec = describe_service(store, bundle.feature_service)
    time_column, label = settings.events.time_column, settings.labels.column
    cases = read_cases(path, [*spec.entity_keys, time_column, label])
    check_label_values(cases[label], label)
    entities = entity_frame(cases, spec, time_column, contract.request_time_field)
    rows = historical_rows(store, spec, entities)
    result = apply_contract(rows, contract, bundle.features, bundle.categories)
    accepted = result.accepted.to_numpy()
    probability = np.full(len(rows), np.nan)
    if accepted.any():
        probability[accepted] = bundle.predict_proba(result.frame.loc[accepted])
    column = bundle.threshold_column
    thresholds = (
        bundle.row_thresholds(rows[column].tolist())
        if column in rows.columns
        else np.full(len(rows), bundle.threshold)
    )
    flagged = accepted & (np.nan_to_num(probability, nan=-1.0) >= thresholds)
    late = cases[label].astype(int).to_numpy() == 1
    missed = late & ~flagged
    times = pd.to_datetime(cases[time_column], utc=True)
    trained_until = bundle.metadata.get("validation_end")
    in_training = int((times < pd.Timestamp(trained_until)).sum()) if trained_until else 0
    return {
        "path": str(path),
        "cases": len(cases),
        "late": int(late.sum()),
        "missed": int(missed.sum()),
        "false_alarms": int((flagged & ~late).sum()),
        "rejected": int((~accepted).sum()),
        "in_training_period": in_training,
        "missed_cases": [
            _describe(
                cases.iloc[i],
                spec.entity_keys,
                time_column,
                probability[i],
                thresholds[i],
                result.rejected.iloc[i],
            )
            for i in np.flatnonzero(missed)
        ],
    }


def _describe(
    case: pd.Series,
    keys: tuple[str, ...],
    time_column: str,
    probability: float,
    threshold: float,
    rejected: str,
) -> str:
    who = ", ".join(f"{key}={case[key]}" for key in keys)
    if np.isnan(probability):
        return f"{who} at {case[time_column]}: rejected by the contract ({rejected})"
    return f"{who} at {case[time_column]}: p={probability:.3f} < threshold {threshold:.3f}"
