"""What one served request leaves behind for the logs, kept cheap to build on the request path.

The scorer appends ``ServedBatch`` objects; the flush thread turns them into the prediction
table (the log schema shared with monitoring) and into Feast's logged-features table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain

import numpy as np
import pandas as pd

from serving.lookup import OnlineRows


@dataclass
class ScoredRows:
    """One model's scores for some rows of a batch."""

    model_name: str
    model_version: str
    role: str  # champion | canary | shadow
    threshold: np.ndarray  # per scored row (segment thresholds)
    rows: np.ndarray  # positions in the batch
    probability: np.ndarray
    decision: np.ndarray
    statuses: dict[str, list[str]]  # feature -> contract/freshness status per scored row


@dataclass
class ServedBatch:
    """One FeatureService lookup of one request and every model that scored it."""

    served_at: datetime
    feature_service: str
    request_ids: list[str]
    prediction_epoch_s: np.ndarray
    keys: dict[str, list]
    online: OnlineRows
    ages: dict[str, np.ndarray]
    future: dict[str, np.ndarray]  # feature -> value dated after the prediction time
    categorical: frozenset[str]
    scored: list[ScoredRows] = field(default_factory=list)
    latency_ms: float = 0.0
    # Declared passthrough request fields (serving.passthrough): logged, never features.
    passthrough: dict[str, list] = field(default_factory=dict)

    @property
    def answered(self) -> np.ndarray:
        """Rows returned to the caller (by the champion or a canary), for Feast's log."""
        rows = [s.rows for s in self.scored if s.role != "shadow"]
        if len(rows) == 1:  # the usual case; positions come sorted from np.flatnonzero
            return rows[0]
        return np.unique(np.concatenate(rows)) if rows else np.array([], dtype=int)

    def model_columns(self, scored: ScoredRows) -> dict[str, list]:
        """One model's rows in the shared log schema, as plain lists (cheap to build)."""
        rows = scored.rows.tolist()
        n = len(rows)
        if n == len(self.request_ids):  # every row (positions are sorted and unique)
            take = list
        else:

            def take(values) -> list:
                return [values[i] for i in rows]

        columns: dict[str, list] = {
            "request_id": take(self.request_ids),
            "served_at": [self.served_at] * n,
            "prediction_time": self.prediction_epoch_s[rows].tolist(),
        }
        for key, values in self.keys.items():
            columns[key] = [str(v) for v in take(values)]
        for name, values in self.passthrough.items():
            columns[name] = [None if v is None else str(v) for v in take(values)]
        columns.update(
            model_name=[scored.model_name] * n,
            model_version=[scored.model_version] * n,
            feature_service=[self.feature_service] * n,
            role=[scored.role] * n,
            probability=np.asarray(scored.probability, dtype="float64").tolist(),
            decision=np.asarray(scored.decision, dtype=bool).tolist(),
            threshold=np.asarray(scored.threshold, dtype="float64").tolist(),
            latency_ms=[self.latency_ms] * n,
        )
        for name, values in self.online.values.items():
            columns[name] = take(values)
            columns[f"{name}__status"] = list(scored.statuses.get(name, [None] * n))
            columns[f"{name}__age_s"] = np.asarray(self.ages[name], dtype="float64")[rows].tolist()
        return columns


def single_rows(batch: ServedBatch) -> list[ServedBatch]:
    """The batch cut into one-row batches (each model's rows apart), to isolate a bad row."""
    rows = []
    for scored in batch.scored:
        probability = np.asarray(scored.probability)
        decision = np.asarray(scored.decision)
        for i in range(len(scored.rows)):
            one = ScoredRows(
                model_name=scored.model_name,
                model_version=scored.model_version,
                role=scored.role,
                threshold=np.asarray(scored.threshold)[i : i + 1],
                rows=scored.rows[i : i + 1],
                probability=probability[i : i + 1],
                decision=decision[i : i + 1],
                statuses={name: [values[i]] for name, values in scored.statuses.items()},
            )
            rows.append(replace(batch, scored=[one]))
    return rows


def prediction_frame(batches: list[ServedBatch]) -> pd.DataFrame:
    """All scored rows of ``batches`` as one frame in the shared log schema.

    Built column-wise in plain lists joined once per column, and converted once: the flush
    thread shares the GIL with requests, so every millisecond here can delay a request.
    """
    parts: list[tuple[dict[str, list], int]] = []
    categorical: set[str] = set()
    for batch in batches:
        categorical |= batch.categorical
        for scored in batch.scored:
            if len(scored.rows):
                parts.append((batch.model_columns(scored), len(scored.rows)))
    if not parts:
        return pd.DataFrame()
    names = dict.fromkeys(name for part, _ in parts for name in part)
    # A column that some batch lacks stays null on that batch's rows.
    columns = {
        name: list(chain.from_iterable(part.get(name) or [None] * n for part, n in parts))
        for name in names
    }
    frame = pd.DataFrame(columns)
    frame["served_at"] = pd.to_datetime(frame["served_at"], utc=True).astype("datetime64[us, UTC]")
    stamps = pd.to_datetime(frame["prediction_time"].astype("float64"), unit="s", utc=True)
    frame["prediction_time"] = stamps.astype("datetime64[us, UTC]")
    for name in frame.columns:
        if name in categorical:
            frame[name] = frame[name].map(lambda v: None if v is None else str(v)).astype(object)
        elif name.endswith("__age_s") or name in ("probability", "threshold", "latency_ms"):
            frame[name] = frame[name].astype("float64")
        elif name == "decision":
            frame[name] = frame[name].astype(bool)
        elif f"{name}__status" in columns:  # a numeric or boolean raw feature
            frame[name] = pd.to_numeric(frame[name].map(_number), errors="coerce").astype("float64")
    return frame


def _number(value):
    return None if value is None else float(value)
