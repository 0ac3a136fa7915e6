"""The champion's reference, built from what training records about the released model.

Everything about the model's history (registry, audit trail, snapshot, stored metrics) is
read through ``training.lineage``; this module only turns that lineage into the
``Reference`` the checks compare a window with.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from monitoring.calibrate import LABEL
from monitoring.reference import Reference
from ontime.errors import OntimeError
from serving.log_reader import PREDICTION_TIME, PROBABILITY, THRESHOLD
from training import lineage as lineages
from training.lineage import ModelLineage, champion_lineage

if TYPE_CHECKING:
    from ontime.settings import Settings


def load_reference(settings: Settings, window_end: datetime) -> Reference:
    """The reference of the model the champion alias points at, for a window ending then."""
    alias = settings.serving.champion_alias
    rollback_window = timedelta(days=settings.monitoring.labels.rollback_window_days)
    lineage = champion_lineage(settings, alias, window_end, rollback_window)
    if lineage is None:
        raise OntimeError(
            f"no model has the alias '{alias}': nothing to monitor against; "
            "run `ontime train` and promote a model"
        )
    return reference_of(lineage)


def reference_of(lineage: ModelLineage) -> Reference:
    """The checks' view of a model's lineage."""
    return Reference(
        model_name=lineage.name,
        model_version=lineage.version,
        rows=lineage.reference_rows,
        validation_scores=lineage.validation_scores,
        test_metrics=dict(lineage.test_metrics),
        previous_test_metrics=lineage.previous_test_metrics,
        promoted_at=lineage.promoted_at,
        period=(lambda: _period(lineage)) if lineage.period else None,
        profile_store=lineage.profiles,
    )


def _period(lineage: ModelLineage) -> pd.DataFrame:
    """The lineage's reference period with the column names of the served-prediction log."""
    return lineage.period().rename(
        columns={
            lineages.PERIOD_TIME: PREDICTION_TIME,
            lineages.PERIOD_SCORE: PROBABILITY,
            lineages.PERIOD_THRESHOLD: THRESHOLD,
            lineages.PERIOD_LABEL: LABEL,
        }
    )
