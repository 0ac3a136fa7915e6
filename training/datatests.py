"""Data tests run before any model sees a snapshot.

Each test raises :class:`OntimeError` (or :class:`LeakageError`) naming the problem, so a
bad snapshot stops training with one line instead of producing a quietly wrong model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from ontime.errors import OntimeError

LABEL_VALUES = {0, 1}


def check_schema(rows: pd.DataFrame, service: str, features: Sequence[str]) -> None:
    """Every feature of the FeatureService is a column of the snapshot."""
    absent = [name for name in features if name not in rows.columns]
    if absent:
        raise OntimeError(f"snapshot lacks feature(s) {absent} of FeatureService '{service}'")


def check_label_values(labels: pd.Series, name: str) -> None:
    """The label is binary: 0/1 or False/True, never missing."""
    if labels.isna().any():
        raise OntimeError(f"label column '{name}' has {int(labels.isna().sum())} missing values")
    values = set(pd.unique(labels))
    strange = sorted({repr(v) for v in values if v not in LABEL_VALUES})  # True == 1 in Python
    if strange:
        raise OntimeError(f"label column '{name}' must be 0/1 or bool; found {strange[:5]}")


def check_unique(rows: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """No two rows share the same values of ``columns`` (e.g. entity keys + prediction time)."""
    duplicated = rows.duplicated(list(columns), keep=False)
    if duplicated.any():
        example = rows.loc[duplicated, list(columns)].iloc[0].to_dict()
        raise OntimeError(
            f"{what}: {int(duplicated.sum())} rows share {list(columns)}, e.g. {example}"
        )


def check_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    """A table has the columns the settings say it has."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise OntimeError(f"{table} lacks column(s) {absent} named in the settings")


def check_both_classes(labels: pd.Series, name: str, split: str) -> None:
    """A split used to fit or calibrate must contain both outcomes."""
    counts = labels.value_counts()
    if len(counts) < 2:
        raise OntimeError(
            f"the {split} split has only label {counts.index.tolist()} in '{name}'; "
            "move the cutoff or widen the window"
        )


def check_leakage(store, service: str, future_only: Iterable[str]) -> None:
    """The registered FeatureService reads no field known only after the prediction time."""
    from ontime.leakage import check_registered_service

    check_registered_service(store, service, future_only)


def run_snapshot_tests(
    rows: pd.DataFrame,
    *,
    store,
    service: str,
    features: Sequence[str],
    entity_keys: Sequence[str],
    time_column: str,
    label: str,
    future_only: Iterable[str],
) -> None:
    """All data tests on a labelled snapshot, cheapest first."""
    check_schema(rows, service, features)
    check_label_values(rows[label], label)
    check_unique(rows, [*entity_keys, time_column], "snapshot")
    check_leakage(store, service, future_only)
