"""The Evidently wrapper: declared column types, explicit methods, results read by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from monitoring.evidently_reports import run_drift, save_html, save_json

rng = np.random.default_rng(5)


def frames(n=600):
    reference = pd.DataFrame(
        {
            "count": rng.integers(0, 5, n).astype("int64"),  # few values, but numeric
            "level": rng.normal(0.0, 1.0, n),
            "kind": rng.choice(["x", "y"], n),
        }
    )
    current = pd.DataFrame(
        {
            "count": rng.integers(0, 5, n).astype("int64"),
            "level": rng.normal(0.5, 4.0, n),
            "kind": rng.choice(["x", "y"], n),
        }
    )
    return current, reference


def test_declared_types_and_methods_are_used_per_column():
    current, reference = frames()
    run = run_drift(
        current, reference, ["count", "level"], ["kind"], "wasserstein", "jensenshannon"
    )
    assert set(run.columns) == {"count", "level", "kind"}
    assert run.columns["count"].method == "wasserstein"  # not inferred as categorical
    assert run.columns["kind"].method == "jensenshannon"
    assert run.columns["level"].drifted and not run.columns["kind"].drifted
    assert run.drifted_count == sum(c.drifted for c in run.columns.values())


def test_current_comes_first():
    current, reference = frames()
    run = run_drift(
        current, reference, ["count", "level"], ["kind"], "wasserstein", "jensenshannon"
    )
    # Evidently's normed Wasserstein divides by the *reference* spread.
    expected = wasserstein_distance(current["level"], reference["level"]) / reference["level"].std()
    assert run.columns["level"].score == pytest.approx(expected, rel=0.02)


def test_reports_save_as_html_and_json(tmp_path):
    current, reference = frames(200)
    run = run_drift(current, reference, ["level"], ["kind"], "wasserstein", "jensenshannon")
    html = save_html(run, tmp_path / "drift.html").read_text()
    assert "<html" in html.lower()
    assert "ValueDrift" in save_json(run, tmp_path / "drift.json").read_text()
