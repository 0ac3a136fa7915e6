"""Say plainly whether a model beats its baseline, in one sentence the report leads with.

Beating the baseline means a lower expected cost per order (the decision the business pays
for) without a lower ROC AUC. Anything else is said as it is, with the numbers.
"""

from __future__ import annotations


def verdict(
    roc_auc_gain: float | None, cost_saving: float | None, is_baseline: bool = False
) -> dict:
    """``beats_baseline`` and a one-line ``verdict`` from the test-split comparison."""
    if is_baseline:
        return {"beats_baseline": None, "verdict": "this model is the logistic baseline itself"}
    if cost_saving is None:
        return {"beats_baseline": None, "verdict": "cost per order is undefined on the test rows"}
    auc = (
        "ROC AUC n/a"
        if roc_auc_gain is None
        else f"ROC AUC {'+' if roc_auc_gain >= 0 else '-'}{abs(roc_auc_gain):.4f}"
    )
    if cost_saving <= 0:
        return {
            "beats_baseline": False,
            "verdict": f"the model does NOT beat its baseline: cost per order "
            f"{-cost_saving:.4f} higher than the logistic baseline's ({auc})",
        }
    if roc_auc_gain is not None and roc_auc_gain < 0:
        return {
            "beats_baseline": False,
            "verdict": f"the model does NOT beat its baseline on ranking ({auc}), although its "
            f"cost per order is {cost_saving:.4f} lower",
        }
    return {
        "beats_baseline": True,
        "verdict": f"the model beats the logistic baseline: cost per order {cost_saving:.4f} "
        f"lower, {auc}",
    }
