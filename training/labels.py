"""The labelled entity frame: prediction events up to a cutoff, with outcomes known by then.

An event enters a snapshot only if its label had *arrived* by the cutoff; anything else
would train on knowledge the business did not have at that time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from ontime.errors import OntimeError
from ontime.settings import Settings
from ontime.timeutil import utc_timestamp
from training.datatests import check_columns, check_label_values, check_unique

log = logging.getLogger(__name__)


@dataclass
class LabelledEvents:
    """Events that passed the cutoff rules, their labels, and why the others were left out."""

    events: pd.DataFrame  # event columns + the label column (0/1), one row per event
    cutoff: datetime
    counts: dict[str, int] = field(default_factory=dict)


def _read(path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise OntimeError(f"no {what} table at {path}; run `ontime simulate` first")
    return pd.read_parquet(path)


def labelled_events(settings: Settings, cutoff: datetime | None = None) -> LabelledEvents:
    """Events with ``time <= cutoff - label_wait`` joined to labels available by the cutoff.

    The default cutoff is the newest ``available_at`` in the label table: the moment the
    latest known outcome arrived.
    """
    spec_events, spec_labels = settings.events, settings.labels
    events = _read(spec_events.table, "prediction events")
    labels = _read(spec_labels.table, "label")
    check_columns(events, [spec_events.time_column, spec_labels.join_key], "the events table")
    label_columns = [spec_labels.join_key, spec_labels.column, spec_labels.available_at]
    check_columns(labels, label_columns, "the label table")
    check_unique(labels, [spec_labels.join_key], "label table")
    check_label_values(labels[spec_labels.column], spec_labels.column)

    available = pd.to_datetime(labels[spec_labels.available_at], utc=True)
    if len(labels) == 0:
        raise OntimeError(f"the label table {spec_labels.table} is empty")
    cutoff = utc_timestamp(cutoff or available.max()).to_pydatetime()
    known = labels.loc[available <= cutoff, [spec_labels.join_key, spec_labels.column]]
    if known.empty:
        raise OntimeError(
            f"no labels available by cutoff {cutoff.isoformat()}; "
            f"the first label arrives at {available.min().isoformat()}"
        )

    times = pd.to_datetime(events[spec_events.time_column], utc=True)
    window_end = cutoff - settings.training.label_wait
    in_window = times <= window_end
    counts = {
        "events_total": len(events),
        "events_after_window": int((~in_window).sum()),
    }
    windowed = events.loc[in_window]
    if windowed.empty:
        raise OntimeError(
            f"empty window: no prediction events up to {window_end.isoformat()} "
            f"(cutoff {cutoff.isoformat()} minus label_wait {settings.training.label_wait}); "
            f"events start at {times.min().isoformat() if len(times) else 'never'}"
        )
    if spec_labels.column in windowed.columns:
        raise OntimeError(f"the events table already has a column '{spec_labels.column}'")
    joined = windowed.merge(known, on=spec_labels.join_key, how="inner", validate="many_to_one")
    counts["events_without_label"] = len(windowed) - len(joined)
    if joined.empty:
        raise OntimeError(
            f"none of the {len(windowed)} events up to {window_end.isoformat()} has a label "
            f"available by {cutoff.isoformat()}"
        )
    joined[spec_labels.column] = joined[spec_labels.column].astype("int8")
    counts["events_labelled"] = len(joined)
    log.info("labelled events: %s", counts)
    return LabelledEvents(events=joined.reset_index(drop=True), cutoff=cutoff, counts=counts)
