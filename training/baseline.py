"""The comparison baseline: logistic regression on the same contract output, as a bundle.

Categorical columns are one-hot encoded, numeric ones imputed with the training median and
standardised (scikit-learn). It is cross-fitted, calibrated and thresholded exactly like the
main model (``training.crossfit``), so any gap in ranking or cost is the model's, not the
post-processing's. The fitted regression is then written into an XGBoost ``gblinear``
booster (same margin, see ``training.linear_inputs``), so the baseline is a
:class:`ModelBundle` like any model: it can be registered, gated and served.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xgboost as xgb

from ontime.settings.training import TrainingSettings
from training.bundle import ModelBundle
from training.crossfit import Development, cross_fit, post_process
from training.folds import Fold
from training.linear_inputs import MISSING, LinearInputs

BASELINE_KIND = "logistic_baseline"


def logistic_pipeline(frame: pd.DataFrame):
    """One-hot categories, median-imputed standardised numbers, logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

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
    return Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=2000))])


def fit_baseline(
    dev: Development,
    settings: TrainingSettings,
    service: str,
    features: Sequence[str],
    categories: Mapping[str, Sequence[str]],
    usable_columns: Sequence[str],
    metadata: dict | None = None,
) -> ModelBundle:
    """Cross-fit on the folds, fit on the train split, post-process like the model."""

    def fit_and_score(fold: Fold) -> tuple[np.ndarray, dict]:
        pipeline = logistic_pipeline(dev.frame).fit(dev.frame.iloc[fold.fit], dev.labels[fold.fit])
        return pipeline.predict_proba(dev.frame.iloc[fold.holdout])[:, 1], {}

    oof = cross_fit(dev.folds, fit_and_score, len(dev.rows))
    train = dev.parts["train"]  # the rows the XGBoost model is fitted on, too
    pipeline = logistic_pipeline(train.frame).fit(train.frame, train.labels)
    post = post_process(oof, dev.labels, dev.rows, settings, usable_columns)
    columns = list(dev.frame.columns)
    booster, inputs = linear_booster(pipeline, columns)
    return ModelBundle(
        booster=booster,
        calibration=post.calibration,
        feature_service=service,
        features=list(features),
        model_columns=columns,
        categories={k: list(v) for k, v in categories.items()},
        threshold=post.thresholds.default,
        metadata={**(metadata or {}), "model_kind": BASELINE_KIND, **post.metadata()},
        linear_inputs=inputs,
    )


def linear_booster(pipeline, columns: list[str]) -> tuple[xgb.Booster, LinearInputs]:
    """The fitted logistic pipeline as a ``gblinear`` booster and its numeric inputs.

    A category's input is its one-hot coefficient (booster weight 1); a number keeps its
    value with the scaler folded into its weight and the intercept.
    """
    encode, model = pipeline.named_steps["encode"], pipeline.named_steps["model"]
    coef, bias = model.coef_[0].astype(float), float(model.intercept_[0])
    slices = encode.output_indices_
    category_weights: dict[str, dict[str, float]] = {}
    if "categorical" in encode.named_transformers_ and slices["categorical"].stop:
        encoder = encode.named_transformers_["categorical"]
        offset = slices["categorical"].start
        for name, known in zip(encoder.feature_names_in_, encoder.categories_, strict=True):
            category_weights[str(name)] = {
                (MISSING if pd.isna(value) else str(value)): float(coef[offset + i])
                for i, value in enumerate(known)
            }
            offset += len(known)
    weights = {name: 1.0 for name in category_weights}
    fill: dict[str, float] = {}
    if "numeric" in encode.named_transformers_ and slices["numeric"].stop:
        imputer, scaler = (step for _, step in encode.named_transformers_["numeric"].steps)
        names = list(imputer.feature_names_in_)
        numeric_coef = coef[slices["numeric"]]
        for name, c, median, mean, scale in zip(
            names, numeric_coef, imputer.statistics_, scaler.mean_, scaler.scale_, strict=True
        ):
            weights[str(name)] = float(c / scale)
            bias -= float(c * mean / scale)
            fill[str(name)] = 0.0 if np.isnan(median) else float(median)
    return _gblinear(columns, [weights[name] for name in columns], bias), LinearInputs(
        category_weights, fill
    )


def _gblinear(columns: list[str], weights: list[float], bias: float) -> xgb.Booster:
    """A ``gblinear`` booster with exactly these weights and bias (margin offset 0)."""
    data = xgb.DMatrix(
        np.zeros((2, len(columns)), dtype="float32"), label=[0, 1], feature_names=columns
    )
    params = {"booster": "gblinear", "objective": "binary:logistic", "base_score": 0.5}
    model = json.loads(xgb.train(params, data, num_boost_round=1).save_raw("json"))
    model["learner"]["gradient_booster"]["model"]["weights"] = [*weights, bias]
    booster = xgb.Booster()
    booster.load_model(bytearray(json.dumps(model).encode()))
    return booster
