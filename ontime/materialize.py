"""Load feature values into the online store in time slices, and say what was done.

Feast's ``materialize`` reads a whole interval at once, so a full-history load needs memory
for the whole history. Here each view goes forward in slices of ``chunk`` (a week by
default): peak memory follows the slice, not the history. Slices go in time order, so the
online store ends with each key's newest value, exactly as one pass would leave it.

Incremental per view: each view continues from where its last run ended. A view never
materialized starts one TTL before ``end`` (older values would be expired anyway). Feast's
own ``materialize_incremental`` starts from the wall clock, which is wrong for any replayed
or simulated history. ``start`` forces a reload from that time.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ontime.errors import OntimeError
from ontime.repo import open_store

log = logging.getLogger(__name__)

DEFAULT_CHUNK = timedelta(days=7)


@dataclass(frozen=True)
class ViewLoad:
    """What happened to one online view: loaded over [start, end] in ``slices``, or skipped."""

    view: str
    start: datetime | None
    end: datetime
    slices: int = 0
    skipped: str = ""

    def describe(self) -> str:
        if self.skipped:
            return f"{self.view}: skipped, {self.skipped}"
        return (
            f"{self.view}: {self.start.isoformat()} -> {self.end.isoformat()} "
            f"in {self.slices} slice(s)"
        )


def slices(start: datetime, end: datetime, chunk: timedelta) -> list[tuple[datetime, datetime]]:
    """Consecutive [a, b] intervals covering [start, end], each at most ``chunk`` long."""
    if chunk <= timedelta(0):
        raise OntimeError(f"materialize slice must be positive, got {chunk}")
    bounds, moment = [], start
    while moment < end:
        bounds.append((moment, min(moment + chunk, end)))
        moment += chunk
    return bounds


def _quietly(call, **kwargs) -> None:
    """Run ``call`` with Feast's per-call banner and tqdm bar kept off the terminal (one per
    slice would bury the summary); what it printed goes to the debug log."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            call(**kwargs)
    finally:
        log.debug("feast materialize said: %s", out.getvalue().strip())


def materialize(
    repo: Path,
    end: datetime,
    start: datetime | None = None,
    profile: Path | None = None,
    chunk: timedelta = DEFAULT_CHUNK,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[ViewLoad]:
    """Load values up to ``end`` into the online store, view by view, slice by slice.

    ``profile`` selects another ``feature_store.yaml`` (another online store);
    ``progress(view, done, total)`` is told after each slice.
    """
    store = open_store(repo, profile)
    loads = []
    for view in store.list_feature_views():
        if not view.online:
            continue
        done_until = view.most_recent_end_time
        begin = start or done_until or (end - (view.ttl or timedelta(days=1)))
        if begin >= end:
            reason = f"already materialized up to {begin.isoformat()}; pass --start to reload"
            loads.append(ViewLoad(view.name, None, end, skipped=reason))
            continue
        parts = slices(begin, end, chunk)
        for number, (a, b) in enumerate(parts, start=1):
            try:
                _quietly(store.materialize, start_date=a, end_date=b, feature_views=[view.name])
            except Exception as exc:  # e.g. an unreachable Redis: one line naming view and store
                kind = store.config.online_store.type
                raise OntimeError(
                    f"materialize {view.name} into the {kind} online store: {exc}"
                ) from exc
            if progress is not None:
                progress(view.name, number, len(parts))
        loads.append(ViewLoad(view.name, begin, end, slices=len(parts)))
    return loads
