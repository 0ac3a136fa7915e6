"""Inputs of a linear model stored as an XGBoost ``gblinear`` booster (the logistic baseline).

XGBoost's linear booster takes numbers only, so each model column becomes one number first:
a category becomes the weight the logistic regression learnt for it (0 when unseen, as
scikit-learn's one-hot encoder with ``handle_unknown="ignore"`` does), and a missing number
becomes the training median the imputer learnt. The booster's weights then hold the
scaled numeric coefficients and the intercept, so its margin equals the regression's.
Plain JSON, no pickle: the bundle stores it next to the booster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING = "<missing>"  # a category key for a missing value the encoder saw in training


@dataclass
class LinearInputs:
    """How to turn model columns into the numeric matrix a linear booster scores."""

    category_weights: dict[str, dict[str, float]]  # categorical column -> category -> weight
    fill: dict[str, float]  # numeric column -> value that replaces a missing entry

    def matrix(self, frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
        """One float32 column per model column, in ``columns`` order."""
        out = np.empty((len(frame), len(columns)), dtype="float32")
        for position, name in enumerate(columns):
            column = frame[name]
            if name in self.category_weights:
                weights = self.category_weights[name]
                text = column.astype("object").where(column.notna(), MISSING).astype(str)
                out[:, position] = text.map(weights).fillna(0.0).to_numpy(dtype="float32")
            else:
                values = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64")
                out[:, position] = np.where(np.isnan(values), self.fill.get(name, 0.0), values)
        return out
