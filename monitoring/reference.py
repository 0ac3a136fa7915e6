"""What the champion is judged against: everything frozen with the model at training time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from ontime.errors import OntimeError

# Metric names shared by the model's test metrics and the window's label metrics.
QUALITY_METRICS = ("precision", "recall", "cost_per_order")


@dataclass
class Reference:
    """The champion's reference data and test results.

    ``rows`` are (a sample of) the training snapshot: one row per training example with
    the raw feature columns; ``<feature>__age_s`` columns, when present, let freshness be
    judged against the ages seen in training. ``validation_scores`` are the champion's
    probabilities on its validation window. ``test_metrics`` hold precision, recall and
    expected cost per row at the model's threshold, computed with the same costs as
    ``monitoring.quality``; ``previous_test_metrics`` are those of the model it replaced.
    """

    model_name: str
    model_version: str
    rows: pd.DataFrame
    validation_scores: np.ndarray
    test_metrics: dict[str, float] = field(default_factory=dict)
    previous_test_metrics: dict[str, float] | None = None
    promoted_at: datetime | None = None

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
