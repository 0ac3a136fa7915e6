"""The logistic baseline as a bundle: same probabilities as scikit-learn, saved and served."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ontime.contract import apply_contract, apply_contract_arrays
from ontime.settings.training import TrainingSettings
from tests.training.test_bundle_columns import FEATURES, KNOWN, raw_rows
from training.baseline import BASELINE_KIND, fit_baseline, linear_booster, logistic_pipeline
from training.bundle import ModelBundle
from training.crossfit import development
from training.split import split_by_time


def labelled(contract, count: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = apply_contract(raw_rows(count, seed), contract, FEATURES, KNOWN).frame
    rng = np.random.default_rng(seed)
    risk = 1 / (1 + np.exp(-(frame["distance_km"] / 700 - 1.5)))
    return frame, (rng.random(count) < risk).astype(int)


def test_the_linear_booster_scores_exactly_like_the_logistic_pipeline(contract):
    frame, labels = labelled(contract, 400, 4)
    pipeline = logistic_pipeline(frame).fit(frame, labels)
    booster, inputs = linear_booster(pipeline, list(frame.columns))
    bundle = ModelBundle(
        booster, None, "s", FEATURES, list(frame.columns), KNOWN, 0.5, linear_inputs=inputs
    )
    bundle.calibration = lambda scores: scores  # compare the raw regression only
    # New rows, with missing backlog values and an unseen carrier ("newco" -> missing).
    other, _ = labelled(contract, 200, 5)
    expected = pipeline.predict_proba(other)[:, 1]
    np.testing.assert_allclose(bundle.predict_proba(other), expected, atol=1e-6)
    assert other["origin_backlog"].isna().any()


def rows_over_time(contract, count: int) -> pd.DataFrame:
    raw = raw_rows(count, 6)
    _, labels = labelled(contract, count, 6)
    times = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(count), unit="h")
    return raw.assign(t=times, order=[f"o{i}" for i in range(count)], late=labels)


def test_the_baseline_bundle_is_saved_loaded_and_served_like_any_model(contract, tmp_path):
    rows = rows_over_time(contract, 1200)
    split = split_by_time(rows, "t", "order", 0.7, 0.15)
    dev = development(split, contract, FEATURES, KNOWN, "late", "t", "order", 3)
    settings = TrainingSettings(folds=3, min_slice_count=50)
    bundle = fit_baseline(dev, settings, "late_delivery_v1", FEATURES, KNOWN, FEATURES)
    assert bundle.metadata["model_kind"] == BASELINE_KIND
    assert [f["fold"] for f in bundle.metadata["folds"]] == [1, 2, 3]
    loaded = ModelBundle.load(bundle.save(tmp_path / "baseline"))
    test = dev.parts["test"]
    expected = bundle.predict_proba(test.frame)
    np.testing.assert_allclose(loaded.predict_proba(test.frame), expected, atol=1e-7)
    assert expected.min() < loaded.threshold < expected.max()
    # Serving's path: contract arrays, one row and a batch.
    for part in (slice(0, 1), slice(0, len(test.rows))):
        raw = test.rows.iloc[part]
        arrays = apply_contract_arrays(
            {f: raw[f].to_numpy() for f in FEATURES}, contract, FEATURES, KNOWN
        )
        served = loaded.predict_proba_columns(arrays.columns, arrays.categories)
        np.testing.assert_allclose(served, expected[part], atol=1e-6)


def test_an_unknown_model_kind_is_refused_in_one_line():
    from ontime.errors import OntimeError
    from ontime.settings import Settings
    from training.pipeline import train

    with pytest.raises(OntimeError, match="unknown model 'forest'; choose one of"):
        train(Settings(), model="forest")
