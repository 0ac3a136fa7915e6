"""A 30-window daily series against standalone single-window runs, on the default world.

Setup (cached under benchmarks/results/monitor_series/): the default simulated world
(120 days x 1,800 shipments) in its own Feast repo. Every prediction event of days 60-90
gets its real point-in-time features through Feast and is logged as the service would log
it (served at its prediction time, contract statuses, ages, a stand-in score); the
reference is 50k events of days 20-50, built the same way.

Measured, on the same windows and the same in-memory reference (so neither side pays the
registry; that only favours the standalone side):
- standalone: ``monitor(settings, start, end, reference=...)`` for one window, in a fresh
  process, as `ontime monitor` runs: imports, opening the repo, the Evidently worker's
  start-up and the window's checks. Wall time of the whole process; several windows.
- series: ``run_series`` over the 30 windows in one fresh process (imports included); the
  per-window cost is the median time between consecutive windows, and the whole process's
  wall time divided by 30 is printed too.

    python benchmarks/bench_monitor_series.py [--windows 30] [--standalone 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_monitor import ensure_world  # noqa: E402

WORK = ROOT / "benchmarks" / "results" / "monitor_series"
CONFIG = WORK / "ontime.yaml"
DAY0 = pd.Timestamp("2026-06-01", tz="UTC")
LOGGED, REFERENCE = (60, 90), (20, 50)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def served(events: pd.DataFrame, settings, categories=None) -> tuple[pd.DataFrame, dict]:
    """Events with real Feast rows, statuses, ages and a stand-in score, as logged."""
    from ontime.contract import apply_contract, fit_categories
    from ontime.features import entity_frame, historical_rows
    from ontime.repo import describe_service, load_contract, open_store

    store = open_store(settings.feature_repo)
    spec = describe_service(store, settings.feature_service)
    contract = load_contract(settings.feature_repo)
    frame = events.reset_index(drop=True)
    entities = entity_frame(frame, spec, "prediction_time", contract.request_time_field)
    rows = historical_rows(store, spec, entities)
    for feature in spec.features:
        frame[feature] = rows[feature].to_numpy()
    categories = categories or fit_categories(frame, contract, spec.features)
    result = apply_contract(frame, contract, spec.features, categories)
    rng = np.random.default_rng(0)
    for feature in spec.features:
        frame[f"{feature}__status"] = result.statuses[feature].to_numpy()
        age = rng.exponential(6 * 3600, len(frame))
        frame[f"{feature}__age_s"] = np.where(frame[feature].isna(), np.nan, age)
        if frame[feature].dtype == bool:
            frame[feature] = frame[feature].astype("float64")
    model = result.frame.select_dtypes("number").fillna(0).to_numpy(dtype="float64")
    z = (model - model.mean(0)) / (model.std(0) + 1e-9)
    frame["probability"] = 1 / (1 + np.exp(-(z.sum(1) / 3 - 1 + rng.normal(0, 0.5, len(z)))))
    return frame, {"spec": spec, "categories": categories}


def ensure_logs() -> None:
    if (WORK / "reference.parquet").exists():
        return
    from ontime.settings import load_settings

    settings = load_settings(CONFIG)
    events = pd.read_parquet(settings.events.table)
    day = (events["prediction_time"] - DAY0).dt.days
    pool = events[(day >= REFERENCE[0]) & (day < REFERENCE[1])].sample(50_000, random_state=1)
    log("Feast rows for 50k reference events")
    reference, made = served(pool.sort_values("prediction_time"), settings)
    reference.to_parquet(WORK / "reference.parquet", index=False)
    window = events[(day >= LOGGED[0]) & (day < LOGGED[1])]
    log(f"Feast rows for {len(window):,} logged events")
    rows, _ = served(window, settings, made["categories"])
    spec = made["spec"]
    rows = rows.assign(
        request_id=[uuid.uuid4().hex for _ in range(len(rows))],
        served_at=rows["prediction_time"].astype("datetime64[us, UTC]"),
        model_name=spec.name, model_version="1", feature_service=spec.name,
        role="champion", threshold=0.35, latency_ms=12.0,
    )  # fmt: skip
    rows["prediction_time"] = rows["prediction_time"].astype("datetime64[us, UTC]")
    rows["decision"] = rows["probability"] >= rows["threshold"]
    for date, part in rows.groupby(rows["served_at"].dt.strftime("%Y-%m-%d")):
        folder = WORK / "logs" / "predictions" / f"date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        part.to_parquet(folder / f"part-{uuid.uuid4().hex}.parquet", index=False)


def reference():
    from monitoring.reference import Reference

    rows = pd.read_parquet(WORK / "reference.parquet")
    return Reference("late_delivery_v1", "1", rows, rows["probability"].to_numpy(),
                     {"precision": 0.4, "recall": 0.6, "cost_per_order": 3.0})  # fmt: skip


def spans(count: int) -> list[tuple]:
    first = DAY0 + pd.Timedelta(days=LOGGED[0])
    return [(first + pd.Timedelta(days=i), first + pd.Timedelta(days=i + 1)) for i in range(count)]


def child(mode: str, count: int, index: int) -> None:
    """The measured process: one standalone window, or the whole series."""
    from monitoring.run import monitor
    from monitoring.series import run_series
    from ontime.settings import load_settings

    settings = load_settings(CONFIG)
    base = reference()
    chosen = [s for s in spans(count)]
    if mode == "standalone":
        start, end = chosen[index]
        print(monitor(settings, start.to_pydatetime(), end.to_pydatetime(), reference=base).action)
        return
    marks = [time.perf_counter()]
    windows = [(a.to_pydatetime(), b.to_pydatetime()) for a, b in chosen]
    run_series(settings, windows, progress=lambda *_: marks.append(time.perf_counter()),
               reference=base)  # fmt: skip
    gaps = np.diff(marks[1:])  # window 2..n: what each further window costs
    print(f"{statistics.median(gaps):.3f} {marks[1] - marks[0]:.3f}")


def timed(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    return time.perf_counter() - started, out.splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=30)
    parser.add_argument("--standalone", type=int, default=5)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, count, index = args.child
        return child(mode, int(count), int(index))
    ensure_world(WORK)  # bench_monitor's world setup, in this benchmark's own folder
    ensure_logs()
    picks = np.linspace(0, args.windows - 1, args.standalone).round().astype(int)
    alone = [timed("standalone", str(args.windows), str(i))[0] for i in picks]
    wall, out = timed("series", str(args.windows), "0")
    per_window, first = (float(x) for x in out.split())
    median_alone = statistics.median(alone)
    print(f"standalone `monitor`, one window (median of {len(alone)}): {median_alone:.1f} s")
    print(f"series of {args.windows}: {wall:.1f} s in all, first window {first:.1f} s")
    print(f"  per further window (median): {per_window:.2f} s "
          f"= {per_window / median_alone:.2f} x standalone")  # fmt: skip
    print(f"  whole series / windows: {wall / args.windows:.2f} s "
          f"= {wall / args.windows / median_alone:.2f} x standalone")  # fmt: skip


if __name__ == "__main__":
    main()
