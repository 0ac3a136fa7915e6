"""Monitoring's false-alarm and detection rates over many worlds (issue 14's targets).

The longer version of tests/monitoring/test_matrix.py. Worlds whose seeds and fault days
are not used in the tests are simulated and applied for real (cached under
benchmarks/results/monitor_calibration/), a small XGBoost champion is fitted on each
world's first days, and every prediction event is logged as serving would. Each world's
monitoring profile is calibrated on its reference period (validation and test days); then
``monitor`` judges, with the default settings:

- clean 12-hour windows at random alignments, at the window's end and once labels arrive:
  share ``ok``, false ``block`` count, and which checks fired;
- fault windows at random alignments inside every fault's days: whether the expected
  decision came, naming the right feature (surge: ``inspect`` at the end, ``retrain`` once
  labels arrive), split by the fault's first day and later days;
- the label evidence behind the surge's verdicts: each labelled surge window's cost z
  against its threshold and the largest z of the clean windows, with the share of its
  asks about parcels created since the surge began and the late rates of both kinds.

    python benchmarks/bench_monitor_calibration.py [--worlds 3] [--per-day 600]
        [--clean 12] [--per-fault 4] [--seed 7001]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.monitoring.matrix import (  # noqa: E402
    MATRIX_DAYS,
    draw_faults,
    draw_windows,
    met,
    monitor_window,
)
from tests.monitoring.world import (  # noqa: E402
    build_world,
    reopen_world,
    save_world,
    write_logs,
)

WORK = ROOT / "benchmarks" / "results" / "monitor_calibration"
TEST_SEEDS = {5}  # the scenario world; the matrix test draws its own from TEST_SEED


def world_for(seed: int, faults: dict, per_day: int):
    """A cached world (simulated, applied, scored and logged once)."""
    layout = "-".join(f"{a}" for a, _ in faults.values())
    base = WORK / f"world-{seed}-{per_day}-{layout}"
    world = reopen_world(base)
    if world is None:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        world = build_world(base, seed=seed, per_day=per_day, days=MATRIX_DAYS, faults=faults)
        write_logs(world, (0, MATRIX_DAYS))
        save_world(world)
    return world


def cost_z(summary) -> tuple[float, float]:
    """The labelled window's cost-per-order z and the threshold it was held against."""
    found = (summary.labels.get("intervals") or {}).get("cost_per_order") or {}
    z, limit = found.get("z"), found.get("z_threshold")
    return float("nan") if z is None else z, float("nan") if limit is None else limit


def parcel_asks(world):
    """Every logged ask with its parcel's creation time and outcome (read once per world)."""
    import pandas as pd

    raw = world.repo.raw
    created = pd.read_parquet(raw / "shipments.parquet", columns=["order_id", "created_at"])
    outcomes = ["order_id", "delivered_after_promise"]
    late = pd.read_parquet(raw / "deliveries.parquet", columns=outcomes)
    asks = world.rows[["order_id", "prediction_time"]].merge(created, on="order_id")
    asks = asks.merge(late, on="order_id")
    for column in ("prediction_time", "created_at"):
        asks[column] = pd.to_datetime(asks[column], utc=True)
    return asks


def surge_mix(asks, window, surge_start) -> str:
    """Of a window's asks: the share about parcels created since the surge began (only
    they travel slower), and the late rate of those and of the older parcels."""
    times = asks["prediction_time"]
    mine = asks[(times >= window.start) & (times < window.end)]
    new = mine["created_at"] >= surge_start
    outcome = mine["delivered_after_promise"].astype(float)
    return (
        f"{new.mean():.0%} of asks about surge parcels (late {outcome[new].mean():.2f}), "
        f"older parcels late {outcome[~new].mean():.2f}"
    )


def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    clean_end, clean_late, clean_z, surge_lines = [], [], [], []
    detections: dict[tuple[str, str], list[bool]] = defaultdict(list)
    fired: Counter = Counter()
    blocks = 0
    for number in range(args.worlds):
        seed = rng.randint(1000, 9999)
        while seed in TEST_SEEDS:
            seed = rng.randint(1000, 9999)
        faults = draw_faults(rng, MATRIX_DAYS)
        started = time.perf_counter()
        world = world_for(seed, faults, args.per_day)
        print(
            f"world {number + 1}: seed {seed}, faults {faults} "
            f"({time.perf_counter() - started:.0f} s to build or load)",
            flush=True,
        )
        late = world.day(MATRIX_DAYS - 1)
        asks = parcel_asks(world)
        windows = draw_windows(rng, world, faults, MATRIX_DAYS, args.clean, args.per_fault)
        for window in windows:
            summary = monitor_window(world, window, None)
            if window.kind == "clean":
                clean_end.append(met(window, summary, False))
                blocks += summary.action == "block"
                fired.update(f"{a.check}:{a.feature}" for a in summary.alarms)
                fired.update(s.check for s in summary.signals)
                labelled = monitor_window(world, window, late)
                clean_late.append(met(window, labelled, True))
                clean_z.append(cost_z(labelled)[0])
                blocks += labelled.action == "block"
                fired.update(f"labels {a.check}" for a in labelled.alarms if a.area == "quality")
                if not clean_late[-1]:
                    print(f"  clean {window.start} with labels: {labelled.decision.reason}")
                if not clean_end[-1]:
                    print(f"  clean {window.start}: {summary.action}: {summary.decision.reason}")
                continue
            day = "first day" if window.fault_day == 0 else "later days"
            ok = met(window, summary, False)
            detections[(window.kind, day)].append(ok)
            if not ok:
                reason = summary.decision.reason
                print(f"  {window.kind} {window.start}: {summary.action}: {reason}")
            if window.kind == "holiday_surge":
                labelled = monitor_window(world, window, late)
                sufficient = bool(labelled.labels.get("sufficient"))
                ok = met(window, labelled, sufficient)
                detections[(f"{window.kind} (labels)", day)].append(ok)
                if not ok:
                    print(f"  surge {window.start} with labels: {labelled.decision.reason}")
                z, limit = cost_z(labelled)
                mix = surge_mix(asks, window, world.day(faults["holiday_surge"][0]))
                surge_lines.append(
                    f"  {day:10} {window.start:%m-%d %H:%M} {labelled.action:8} cost z "
                    f"{z:5.2f} (threshold {limit:.2f}); {mix}"
                )
    report(clean_end, clean_late, blocks, fired, detections)
    print(f"label evidence: largest cost z of a clean window {np.nanmax(clean_z):.2f}")
    print("surge windows once labelled:")
    print("\n".join(surge_lines))


def report(clean_end, clean_late, blocks, fired, detections) -> None:
    print()
    print(f"clean 12-hour windows ok at window end:   {sum(clean_end)}/{len(clean_end)} "
          f"({sum(clean_end) / len(clean_end):.1%})")  # fmt: skip
    print(f"clean 12-hour windows ok once labelled:  {sum(clean_late)}/{len(clean_late)} "
          f"({sum(clean_late) / len(clean_late):.1%})")  # fmt: skip
    print(f"false block decisions on clean windows:  {blocks}")
    print("checks that fired on clean windows (count over all clean runs):")
    for check, count in fired.most_common() or [("none", 0)]:
        print(f"  {check:50} {count}")
    print("fault windows with the expected decision naming the right feature:")
    for (kind, day), found in sorted(detections.items()):
        print(f"  {kind:28} {day:11} {sum(found)}/{len(found)} ({sum(found) / len(found):.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=3)
    parser.add_argument("--per-day", type=int, default=600)
    parser.add_argument("--clean", type=int, default=12, help="clean windows per world")
    parser.add_argument("--per-fault", type=int, default=4, help="windows per fault per world")
    parser.add_argument("--seed", type=int, default=7001, help="draws worlds and windows")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING)
    run(args)


if __name__ == "__main__":
    main()
