"""Import Feast without typeguard's import-time instrumentation.

Feast decorates its definition classes (Entity, FeatureView, FeatureService, the data
sources, ...) with typeguard's ``@typechecked``, which re-parses and recompiles each class's
source at every import: about 6 of the 8.8 s that ``import feast`` takes on this project's
2-core machine, paid by every ``ontime`` command and the service's start-up. The checks guard
the arguments of hand-written definitions. Processes that only load definitions from a
registry (serve, replay, monitor, train, materialize) gain nothing from them, so those
import Feast through ``import_feast()``, which lends typeguard a no-op decorator for the
length of the import and then puts the real one back.

``feast apply`` (run by ``ontime apply`` as Feast's own CLI, in a process of its own) keeps
the checks. ``ONTIME_FEAST_TYPECHECKS=1`` keeps them everywhere.
"""

from __future__ import annotations

import os
import sys

CHECKS_ENV = "ONTIME_FEAST_TYPECHECKS"


def import_feast() -> None:
    """Import Feast unchecked, unless it is already imported or the user keeps the checks."""
    if "feast" in sys.modules or os.environ.get(CHECKS_ENV, "") not in ("", "0"):
        return
    import typeguard

    checked = typeguard.typechecked
    typeguard.typechecked = _unchecked
    try:
        import feast  # noqa: F401  (binds the no-op decorator in Feast's modules)
    finally:
        typeguard.typechecked = checked


def _unchecked(target=None, **_options):
    """``@typechecked`` and ``@typechecked(...)`` both return the target untouched."""
    return _unchecked if target is None else target
