"""The one module through which monitoring reaches Evidently (0.7).

Column types are always declared (Evidently would take an int column with ten or fewer
values for a category), each column gets an explicit drift method, and results are read
by metric type and column name from the snapshot, never by position. Note the argument
order of Evidently's ``Report.run``: current data first, reference second.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

VALUE_DRIFT = "ValueDrift"
DRIFTED_COLUMNS = "DriftedColumnsCount"
FAILED = "FAIL"


@dataclass(frozen=True)
class ColumnDrift:
    """Evidently's verdict on one column."""

    column: str
    method: str
    score: float
    threshold: float
    drifted: bool


@dataclass
class DriftRun:
    """A computed drift report: its results by name and its rendered HTML and JSON.

    Rendered as text, not kept as Evidently's snapshot, so a run can come back from the
    worker process (``monitoring.background``) and be written after the decision.
    """

    columns: dict[str, ColumnDrift]
    drifted_count: int
    drifted_share: float
    html: str
    json: str


def run_drift(
    current: pd.DataFrame,
    reference: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    numeric_method: str,
    categorical_method: str,
    drift_share: float = 0.5,
) -> DriftRun:
    """DataDriftPreset over the given columns with declared types and per-column methods."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    columns = [*numeric, *categorical]
    definition = DataDefinition(
        numerical_columns=list(numeric),
        categorical_columns=list(categorical),
        datetime_columns=[],
        text_columns=[],
        unknown_columns=[],
        list_columns=[],
    )
    methods = {c: numeric_method for c in numeric} | {c: categorical_method for c in categorical}
    report = Report(
        [DataDriftPreset(columns=columns, per_column_method=methods, drift_share=drift_share)],
        include_tests=True,
    )
    snapshot = report.run(
        Dataset.from_pandas(current[columns], data_definition=definition),
        Dataset.from_pandas(reference[columns], data_definition=definition),
    )
    return _read(snapshot)


def _read(snapshot: Snapshot) -> DriftRun:
    """Pull scores, thresholds and verdicts out of the snapshot by metric type and column."""
    content = snapshot.dict()
    verdicts: dict[str, bool] = {}
    for test in content["tests"]:
        params = test.get("metric_config", {}).get("params", {})
        if params.get("type", "").endswith(VALUE_DRIFT):
            verdicts[params["column"]] = _status(test["status"]) == FAILED
    columns: dict[str, ColumnDrift] = {}
    count, share = 0, 0.0
    for result in content["metrics"]:
        config = result.get("config", {})
        kind = config.get("type", "")
        if kind.endswith(VALUE_DRIFT):
            name = config["column"]
            columns[name] = ColumnDrift(
                column=name,
                method=str(config.get("method")),
                score=float(result["value"]),
                threshold=float(config.get("threshold")),
                drifted=verdicts.get(name, False),
            )
        elif kind.endswith(DRIFTED_COLUMNS):
            count, share = int(result["value"]["count"]), float(result["value"]["share"])
    return DriftRun(
        columns=columns,
        drifted_count=count,
        drifted_share=share,
        html=snapshot.get_html_str(as_iframe=False),  # what Snapshot.save_html writes
        json=json.dumps(json.loads(snapshot.json()), indent=1),
    )


def _status(status: object) -> str:
    """A test status as text, whether Evidently gives an enum or a string."""
    return getattr(status, "value", str(status))


def save_html(run: DriftRun, path: Path) -> Path:
    """Evidently's own HTML rendering of the report."""
    path.write_text(run.html, encoding="utf-8")
    return path


def save_json(run: DriftRun, path: Path) -> Path:
    """Evidently's metric/test JSON, for later investigation."""
    path.write_text(run.json)
    return path
