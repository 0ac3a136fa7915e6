"""What a scored row becomes: a prediction with its provenance, or a refusal that says why.

The contract decides *that* a row is rejected and gives a generic reason ("required feature
X is missing"). Serving knows more: the entity may be unknown (404), or the value was there
but too old at the prediction time, or dated after it. ``rejection`` turns those facts into
the message, the way an operator can act on it; it decides nothing the contract did not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np

from ontime.contract import STALE, ContractArrays, FeatureContract
from serving.bounds import shorten
from serving.log_reader import FUTURE
from serving.models import ServedModel
from serving.outcome import CONTRACT, NOT_FOUND, FeatureReport, Prediction, ScoringError
from serving.records import ServedBatch


def prediction(
    model: ServedModel,
    role: str,
    batch: ServedBatch,
    row: int,
    probability: float,
    decision: bool,
    threshold: float,
    statuses: dict[str, str],
) -> Prediction:
    """Row ``row`` of ``batch`` as scored by ``model``: the decision and every input's report."""
    reports = {}
    for feature, status in statuses.items():
        age = float(batch.ages[feature][row])
        reports[feature] = FeatureReport(
            value=batch.online.values[feature][row],
            status=status,
            age_s=None if np.isnan(age) else age,
        )
    return Prediction(
        request_id=batch.request_ids[row],
        prediction_time=datetime.fromtimestamp(batch.prediction_epoch_s[row], tz=UTC),
        probability=probability,
        decision=decision,
        threshold=threshold,
        model_name=model.name,
        model_version=model.version,
        role=role,
        feature_service=batch.feature_service,
        features=reports,
    )


def rejection(
    result: ContractArrays,
    position: int,
    batch: ServedBatch,
    row: int,
    contract: FeatureContract,
    limits: Mapping[str, float],
) -> ScoringError:
    """The error for row ``row`` of ``batch`` (``position`` in the contract's output)."""
    online = batch.online
    for feature in result.statuses:
        rule = contract.rule(feature)
        if rule.missing == "reject" and not online.found[feature][row]:
            named = ", ".join(
                f"{k}='{shorten(str(batch.keys[k][row]))}'" for k in online.feature_keys[feature]
            )
            return ScoringError(NOT_FOUND, f"{named} is not in the online store")
    at = datetime.fromtimestamp(float(batch.prediction_epoch_s[row]), tz=UTC).isoformat()
    for feature, statuses in result.statuses.items():
        rule = contract.rule(feature)
        status = statuses[position]
        if status == STALE and (rule.missing == "reject" or rule.on_stale == "reject"):
            age = float(batch.ages[feature][row])
            return ScoringError(
                CONTRACT,
                f"required feature {feature} is stale: its value is {_span(age)} old at the "
                f"prediction time {at}, and at most {_span(limits[feature])} is allowed",
            )
        if status == FUTURE and rule.missing == "reject":
            ahead = float(online.newest_epoch_s[feature][row] - batch.prediction_epoch_s[row])
            return ScoringError(
                CONTRACT,
                f"required feature {feature} is from the future: its value is dated "
                f"{_span(ahead)} after the prediction time {at}",
            )
    return ScoringError(CONTRACT, str(result.rejected[position]))


def _span(seconds: float) -> str:
    """A duration for people: seconds, and hours when it is long."""
    if not np.isfinite(seconds):
        return "unlimited"
    if abs(seconds) < 3600:
        return f"{seconds:.0f} s"
    return f"{seconds:.0f} s ({seconds / 3600:.1f} h)"
