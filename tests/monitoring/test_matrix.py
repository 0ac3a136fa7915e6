"""A randomized scenario matrix: two small worlds (the scenario world and one whose seed and
fault days are drawn at random), clean and fault windows at random alignments, every one
judged by ``monitor`` against the world's calibrated monitoring profile.

Drawn with a fixed test seed, so a failure reproduces. Clean windows must stay ``ok`` (one
miss in all is tolerated, a false ``block`` never is); every fault window, once its fault
has run half a day, must get its expected decision naming the right feature.
``benchmarks/bench_monitor_calibration.py`` runs the same matrix on more worlds and windows.
"""

from __future__ import annotations

import random

import pytest

from tests.monitoring.matrix import MATRIX_DAYS, draw_faults, draw_windows, met, monitor_window
from tests.monitoring.world import DAYS, FAULTS, build_world, write_logs

pytestmark = pytest.mark.integration

TEST_SEED = 20260614
CLEAN_WINDOWS, FAULT_WINDOWS = 6, 1
SETTLE_HOURS = 12


@pytest.fixture(scope="module")
def drawn(world, tmp_path_factory):
    """Both worlds with their windows, drawn from the test seed."""
    rng = random.Random(TEST_SEED)
    faults = draw_faults(rng, MATRIX_DAYS)
    other = build_world(
        tmp_path_factory.mktemp("matrix-world"),
        seed=rng.randint(100, 999),
        days=MATRIX_DAYS,
        faults=faults,
    )
    write_logs(other, (0, MATRIX_DAYS))
    return [
        (built, days, draw_windows(rng, built, layout, days, CLEAN_WINDOWS, FAULT_WINDOWS))
        for built, layout, days in ((world, FAULTS, DAYS), (other, faults, MATRIX_DAYS))
    ]


def _judged(drawn, kind, labelled):
    found = []
    for built, days, windows in drawn:
        for window in windows:
            if window.kind == kind or (kind == "fault" and window.kind != "clean"):
                as_of = built.day(days - 1) if labelled else None  # every label is in
                found.append((window, monitor_window(built, window, as_of)))
    return found


def test_clean_windows_stay_ok_at_window_end_and_never_block(drawn):
    judged = _judged(drawn, "clean", labelled=False)
    missed = [(w.start, s.action, s.decision.reason) for w, s in judged if not met(w, s, False)]
    assert len(judged) == 2 * CLEAN_WINDOWS
    assert len(missed) <= 1, missed
    assert all(s.action != "block" for _, s in judged), missed


def test_clean_windows_stay_ok_once_labels_arrive(drawn):
    judged = _judged(drawn, "clean", labelled=True)
    missed = [(w.start, s.action, s.decision.reason) for w, s in judged if not met(w, s, True)]
    assert all(s.labels["intervals"] for _, s in judged if s.labels.get("sufficient"))
    assert len(missed) <= 1, missed


def _missed(judged, labelled=False):
    return [
        (w.kind, str(w.start), s.action, s.decision.reason)
        for w, s in judged
        if not met(w, s, labelled and s.labels.get("sufficient", False))
    ]


def test_every_input_fault_window_gets_its_decision_naming_the_feature(drawn):
    """A new carrier or a lagging scan feed, once it has run half a day: before that its
    parcels or its lag may not be in the served traffic yet (first-day rates: the
    benchmark). An outage or a skew is judged from its first hour."""
    judged = [(w, s) for w, s in _judged(drawn, "fault", labelled=False)]
    judged = [(w, s) for w, s in judged if w.kind != "holiday_surge"]
    assert len(judged) == 2 * 4 * FAULT_WINDOWS
    ramping = {"new_carrier", "stale_scans"}
    settled = [(w, s) for w, s in judged if w.kind not in ramping or w.fault_hours >= SETTLE_HOURS]
    assert len(settled) >= 5
    assert not _missed(settled)


@pytest.mark.xfail(
    strict=True,
    reason="known gap: once labelled, a surge's first-day windows mostly stay inside the cost "
    "interval (bench_monitor_calibration.py, 3 worlds at 600 a day, seed 7001: retrain 0/5 "
    "on the first day, 6/7 later; inspect at window end 12/12); in these 200-a-day worlds "
    "a 12-hour surge window can also stay inside the clean range of score drift",
)
def test_holiday_surge_is_inspected_then_retrained(drawn):
    before = _judged(drawn, "holiday_surge", labelled=False)
    after = _judged(drawn, "holiday_surge", labelled=True)
    assert not _missed(before) + _missed(after, labelled=True)
