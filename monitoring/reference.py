"""What the champion is judged against: everything frozen with the model at training time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
import pandas as pd

from ontime.errors import OntimeError

# Metric names shared by the model's test metrics and the window's label metrics.
QUALITY_METRICS = ("precision", "recall", "cost_per_order")


class ProfileStore(Protocol):
    """Where a released model's monitoring profiles are kept (``training.lineage`` for a
    registered model): plain JSON dicts by name."""

    def load(self, name: str) -> dict | None: ...

    def save(self, name: str, profile: dict) -> object: ...


@dataclass
class Reference:
    """The champion's reference data and test results.

    ``rows`` are (a sample of) the training snapshot: one row per training example with
    the raw feature columns; ``<feature>__age_s`` columns, when present, let freshness be
    judged against the ages seen in training. ``validation_scores`` are the champion's
    probabilities on its validation window. ``test_metrics`` hold precision, recall and
    expected cost per row at the model's threshold, computed with the same costs as
    ``monitoring.quality``; ``previous_test_metrics`` are those of the model it replaced.

    ``period`` is the reference period the monitoring profile is built from: rows the model
    scored but was not trained on (its validation and test periods), with prediction time,
    probability, threshold, ``_label`` and the raw feature, status and age columns; a
    callable is asked only when a profile must be built. ``profile_store`` keeps built
    profiles with the released model; ``profiles`` caches them for this process.
    """

    model_name: str
    model_version: str
    rows: pd.DataFrame
    validation_scores: np.ndarray
    test_metrics: dict[str, float] = field(default_factory=dict)
    previous_test_metrics: dict[str, float] | None = None
    promoted_at: datetime | None = None
    period: pd.DataFrame | Callable[[], pd.DataFrame] | None = None
    profile_store: ProfileStore | None = None
    profiles: dict = field(default_factory=dict)

    def period_rows(self) -> pd.DataFrame | None:
        """The reference period, loaded (once) if it is only known how to load it."""
        if callable(self.period):
            self.period = self.period()
        return self.period

    def __post_init__(self) -> None:
        self.validation_scores = np.asarray(self.validation_scores, dtype="float64")
        self.validation_scores = self.validation_scores[np.isfinite(self.validation_scores)]
        if self.rows.empty:
            raise OntimeError(f"model {self.describe()} has an empty reference snapshot")
        if self.validation_scores.size == 0:
            raise OntimeError(f"model {self.describe()} has no validation scores")
        for name, metrics in (
            ("test_metrics", self.test_metrics),
            ("previous_test_metrics", self.previous_test_metrics),
        ):
            if metrics and not set(QUALITY_METRICS) & set(metrics):
                raise OntimeError(f"{name} name none of {QUALITY_METRICS}: {sorted(metrics)}")

    def describe(self) -> str:
        """``<model> v<version>``, for messages."""
        return f"{self.model_name} v{self.model_version}"
