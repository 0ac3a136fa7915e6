"""Consecutive windows judged as one job: a backfill, or the scheduled run.

The work every window shares is done once per series: the feature repo is opened once, the
champion's reference (rows, validation scores, profiles) is loaded once, and one Evidently
worker process serves every window. Each window is then judged by ``monitor`` as a single
run judges it (one difference: the champion's release, which says whether a regression can
be blamed on a recent promotion, is read once, at the series' end), added to the metric
history (re-running a window replaces it), and, when its decision needs someone, sent to
the alert webhook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from ontime.errors import OntimeError

if TYPE_CHECKING:
    from monitoring.reference import Reference
    from monitoring.summary import Summary
    from ontime.settings import Settings

UNITS = {"m": "minutes", "h": "hours", "d": "days"}
# Decisions that need someone; a series that reaches one exits with ACTION_NEEDED.
QUIET_ACTIONS = ("ok", "inspect")
ACTION_NEEDED = 3


def parse_every(text: str) -> timedelta:
    """``1d``, ``12h``, ``30m`` as a timedelta."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", text or "")
    if not match:
        raise OntimeError(f"--every takes a length like 1d, 12h or 30m, not '{text}'")
    step = timedelta(**{UNITS[match.group(2)]: float(match.group(1))})
    if step < timedelta(minutes=5):
        raise OntimeError(f"--every {text} is shorter than the 5-minute minimum")
    return step


def windows(start: datetime, end: datetime, every: timedelta) -> list[tuple[datetime, datetime]]:
    """Consecutive full windows of length ``every`` from ``start``; a partial tail is left out."""
    if end <= start:
        raise OntimeError(f"the series ends ({end}) before it starts ({start})")
    spans, moment = [], start
    while moment + every <= end:
        spans.append((moment, moment + every))
        moment += every
    if not spans:
        raise OntimeError(f"no full {every} window between {start} and {end}")
    return spans


def last_closed(every: timedelta, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The window of length ``every`` that closed last, aligned to multiples of ``every``
    since the Unix epoch (so daily windows run midnight to midnight UTC)."""
    now = pd.Timestamp(now or datetime.now(UTC))
    epoch = pd.Timestamp(0, tz="UTC")
    end = epoch + ((now - epoch) // every) * every
    return (end - every).to_pydatetime(), end.to_pydatetime()


def run_series(
    settings: Settings,
    spans: list[tuple[datetime, datetime]],
    labels_as_of: datetime | None = None,
    progress: Callable[[int, int, Summary], None] | None = None,
    reference: Reference | None = None,
) -> list[Summary]:
    """Judge each window in time order; ``progress(done, total, summary)`` after each.

    ``reference`` defaults to the registry's champion, loaded once for the series.
    """
    from monitoring.alerts import deliver
    from monitoring.background import EvidentlyWorker
    from monitoring.champion import load_reference
    from monitoring.run import _open_repo, monitor

    store, _ = _open_repo(settings, None)
    reference = reference or load_reference(settings, spans[-1][1])
    reports = settings.monitoring.drift.evidently_reports
    summaries = []
    with EvidentlyWorker() if reports else nullcontext() as worker:
        for done, (start, end) in enumerate(spans, start=1):
            summary = monitor(
                settings, start, end, reference=reference, labels_as_of=labels_as_of,
                store=store, worker=worker,
            )  # fmt: skip
            deliver(settings, summary)
            summaries.append(summary)
            if progress is not None:
                progress(done, len(spans), summary)
    return summaries
