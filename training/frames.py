"""Raw snapshot rows -> model rows, through the one feature contract shared with serving."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ontime.contract import FeatureContract, apply_contract
from training.split import row_range

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """Contract output for the accepted rows, their raw rows and labels, and what was dropped."""

    frame: pd.DataFrame  # model columns, one row per accepted raw row
    rows: pd.DataFrame  # the accepted raw rows (keys, time, features, label, segments)
    labels: np.ndarray
    rejected: int
    reasons: dict[str, int]


def prepare(
    rows: pd.DataFrame,
    contract: FeatureContract,
    features: Sequence[str],
    categories: Mapping[str, Sequence[str]],
    label: str,
) -> Prepared:
    """Apply the contract; rows it rejects are dropped and counted by reason.

    When it accepts every row (the usual case), ``rows`` are kept as they are, not copied."""
    result = apply_contract(rows, contract, features, categories)
    accepted = result.accepted.to_numpy()
    reasons = result.rejected[~accepted].value_counts().to_dict()
    if reasons:
        log.info("contract rejected %s rows: %s", int((~accepted).sum()), reasons)
    if accepted.all():
        kept, frame = row_range(rows, 0, len(rows)), row_range(result.frame, 0, len(rows))
    else:
        kept = rows.loc[accepted].reset_index(drop=True)
        frame = result.frame.loc[accepted].reset_index(drop=True)
    return Prepared(
        frame=frame,
        rows=kept,
        labels=kept[label].to_numpy(dtype=int),
        rejected=int((~accepted).sum()),
        reasons={str(k): int(v) for k, v in reasons.items()},
    )
