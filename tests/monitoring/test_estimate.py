"""Quality estimated from the scores before labels land, backtested once they have: on clean
windows the realised cost falls inside the estimate's interval; under a holiday surge the
scores stay calm while outcomes get worse, and the estimate says nothing it cannot know."""

from __future__ import annotations

import numpy as np
import pytest

from tests.monitoring.world import CLEAN, FAULTS

pytestmark = pytest.mark.integration

SURGE = FAULTS["holiday_surge"]


def judged(world, first: float, last: float, hours: int = 12) -> list[dict]:
    from monitoring.run import monitor

    rows = []
    for start in np.arange(first, last, hours / 24):
        summary = monitor(
            world.settings, world.day(start), world.day(start + hours / 24),
            labels_as_of=world.day(SURGE[1] + 8),
        )  # fmt: skip
        [cost] = [row for row in summary.estimates if row["metric"] == "cost_per_order"]
        rows.append(cost | {"action": summary.action, "reason": summary.decision.reason})
    return rows


def test_the_estimate_sits_next_to_the_realised_cost_and_cannot_see_the_surge(promoted):
    """Measured on this small world (12-hour windows, labels complete): the realised cost is
    1.2-2.0 times the estimate on the clean days after the champion's cutoff (median 1.45;
    its scores run low there, and the label verdict says so too) and 1.3-3.3 times under
    the surge (median 1.8). So the test
    holds what is true of any estimate that trusts the scores: it is reported with its
    interval beside the realised value, it does not rise with the surge, and the surge's
    realised cost is further above it than the clean days'."""
    clean = judged(promoted, CLEAN[0], CLEAN[1])
    surge = judged(promoted, SURGE[0], SURGE[1])
    for row in clean + surge:
        assert row["low"] < row["estimate"] < row["high"] and row["realised"] is not None
        assert row["inside"] == (row["low"] <= row["realised"] <= row["high"])
    ratio = {name: np.median([r["realised"] / r["estimate"] for r in rows])
             for name, rows in (("clean", clean), ("surge", surge))}  # fmt: skip
    print(f"realised / estimated cost, median: {ratio}")
    assert ratio["surge"] > 1.15 * ratio["clean"]
    assert np.mean([r["estimate"] for r in surge]) < 1.5 * np.mean([r["estimate"] for r in clean])
