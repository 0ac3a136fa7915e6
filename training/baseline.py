"""The comparison baseline: logistic regression on the same contract output.

Categorical columns are one-hot encoded, numeric ones imputed with the training median and
standardised. It is calibrated and thresholded exactly like the main model, so any gap in
ranking or cost is the model's, not the post-processing's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ontime.settings.training import CostMatrix
from training.bundle import Calibration
from training.calibration import fit_isotonic
from training.costs import choose_threshold
from training.frames import Prepared


@dataclass
class Baseline:
    pipeline: object
    calibration: Calibration
    threshold: float

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        raw = self.pipeline.predict_proba(frame)[:, 1]
        return np.clip(self.calibration(raw), 0.0, 1.0)


def fit_baseline(train: Prepared, validation: Prepared, costs: CostMatrix) -> Baseline:
    """Fit on train; calibrate and pick the threshold on validation."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = train.frame
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in frame.columns if c not in categorical]
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()
                ),
                numeric,
            ),
        ]
    )
    pipeline = Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=2000))])
    pipeline.fit(frame, train.labels)
    raw = pipeline.predict_proba(validation.frame)[:, 1]
    calibration = fit_isotonic(raw, validation.labels)
    threshold = choose_threshold(np.clip(calibration(raw), 0.0, 1.0), validation.labels, costs)
    return Baseline(pipeline=pipeline, calibration=calibration, threshold=threshold)
