"""Evidently reports in a worker process, so they overlap the rest of ``monitor``.

Importing Evidently takes ~3 s and its drift report ~1.5 s on 50k rows a side; Feast's
import takes ~5 s. Threads do not overlap them (imports and both libraries hold the GIL;
measured slower than one after the other), a process does. The worker is spawned when a
run starts and imports Evidently at once; jobs are submitted when their inputs are ready
and their results (plain dataclasses with rendered HTML) collected before anything is
written. With one free core the worker gains the overlap; without one it costs the spawn
(~0.5 s) and the pickling of the samples.
"""

from __future__ import annotations

import logging
import multiprocessing
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from monitoring import dashboard, evidently_reports

log = logging.getLogger(__name__)


def _warm_up(quiet: bool) -> None:
    """Worker start: Evidently's import, with the caller's warning policy."""
    if quiet:  # a spawned process does not inherit the CLI's warning routing
        warnings.simplefilter("ignore")
    import evidently.presets  # noqa: F401


class EvidentlyWorker:
    """One spawned process that runs ``evidently_reports.run_drift`` jobs in order."""

    def __init__(self) -> None:
        quiet = not logging.getLogger().isEnabledFor(logging.DEBUG)
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded parent
            initializer=_warm_up,
            initargs=(quiet,),
        )
        # The pool spawns its process at the first submit: submit at once, so the import
        # starts now, not when the first report's inputs are ready.
        self._pool.submit(int)

    def run_drift(self, *args: Any, **kwargs: Any) -> Future:
        """``evidently_reports.run_drift(*args, **kwargs)`` in the worker; a future DriftRun."""
        return self._pool.submit(evidently_reports.run_drift, *args, **kwargs)

    def publish(self, checks: Any, summary: Any) -> None:
        """Put a judged window on the dashboard (``dashboard.publish``) here, where Evidently
        is imported already; waits, so the window is there when ``monitor`` returns. The
        dashboard is a view: its failure (in it, or of the worker) is logged, never raised,
        so it cannot cost the run its alert, and ``ontime ui`` publishes what is missing."""
        window = summary.window
        try:
            self._pool.submit(dashboard.publish, checks, window["start"], window["end"],
                              summary).result()  # fmt: skip
        except Exception as exc:  # the run's result stands
            log.warning("dashboard not updated for %s: %s", window["name"], exc)

    def close(self) -> None:
        """Wait for the running job, drop queued ones and stop the worker."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> EvidentlyWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
