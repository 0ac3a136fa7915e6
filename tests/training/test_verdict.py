"""The evaluation says plainly whether the model beats its baseline."""

from __future__ import annotations

from training.text import evaluation_text
from training.verdict import verdict


def test_a_costlier_model_does_not_beat_its_baseline():
    said = verdict(roc_auc_gain=0.004, cost_saving=-0.048)
    assert said["beats_baseline"] is False
    assert said["verdict"] == (
        "the model does NOT beat its baseline: cost per order 0.0480 higher than the "
        "logistic baseline's (ROC AUC +0.0040)"
    )


def test_a_cheaper_model_that_ranks_worse_does_not_beat_it_either():
    said = verdict(roc_auc_gain=-0.01, cost_saving=0.02)
    assert said["beats_baseline"] is False and "on ranking (ROC AUC -0.0100)" in said["verdict"]


def test_a_cheaper_model_that_ranks_at_least_as_well_beats_it():
    said = verdict(roc_auc_gain=0.06, cost_saving=0.139)
    assert said["beats_baseline"] is True
    assert said["verdict"].startswith("the model beats the logistic baseline: cost per order")


def test_the_baseline_itself_is_named_as_such():
    assert verdict(0.0, 0.0, is_baseline=True)["verdict"] == (
        "this model is the logistic baseline itself"
    )


def metrics(cost: float, auc: float) -> dict:
    return {"cost_per_order": cost, "roc_auc": auc, "threshold": 0.3}


def test_the_evaluation_text_leads_with_the_verdict():
    side = {"calibration_table": [], "slices": {}, "critical": None}
    document = {
        "rows": 10,
        "rejected_by_contract": 0,
        "model": side | {"metrics": metrics(2.258, 0.70)},
        "baseline": side | {"metrics": metrics(2.210, 0.69)},
        "comparison": {"roc_auc_gain": 0.01, "cost_saving_per_order": -0.048}
        | verdict(0.01, -0.048),
        "fitting": {
            "folds": [
                {
                    "fold": 1,
                    "fit_rows": 5,
                    "holdout_rows": 5,
                    "base_rate": 0.2,
                    "best_iteration": 9,
                    "roc_auc": 0.7,
                    "ece_raw": 0.05,
                    "ece": 0.01,
                    "ece_forward": None,
                },
            ],
            "calibration": {"chosen": "isotonic", "fitted_on_rows": 5},
        },
    }
    text = evaluation_text(document)
    assert text.splitlines()[0].startswith("the model does NOT beat its baseline")
    fold_line = next(line for line in text.splitlines() if line.split()[:1] == ["1"])
    assert fold_line.split() == ["1", "5", "5", "0.2000", "10", "0.7000", "0.0500", "0.0100", "n/a"]
