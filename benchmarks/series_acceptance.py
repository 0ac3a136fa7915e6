"""A 30-day daily monitoring series over the default world, through the whole loop.

The default world (120 days x 1,800 shipments) gets every fault scenario in its own window
inside days 61-91. The champion is trained and promoted as `ontime train` / `ontime promote`
do it (cutoff day 58), a real service scores each day of the span through the online store
as it was at the time (`serving.clock`), and `monitor --every 1d` judges the 30 days twice:
as a cron job would at each window's close (labels known then), and again once every label
has landed (day 120). It prints, per day, the fault active that day and both decisions, and
the estimate's backtest: on days with no fault, how often the realised cost per order falls
inside the interval estimated from the scores alone.

    python benchmarks/series_acceptance.py     # ~30-40 min the first time; cached after
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORK = ROOT / "benchmarks" / "results" / "series_30d"
CONFIG = WORK / "ontime.yaml"
DAY0 = pd.Timestamp("2026-06-01", tz="UTC")
SPAN = (61, 91)
CUTOFF_DAY = 58
SPILL = 0.01  # a day after a fault counts as affected while >= 1% of its rows carry it
FAULTS = {  # [start, end) day of the world; gaps let after-effects fade
    "backlog_outage": (64, 66),
    "holiday_surge": (68, 71),
    "stale_scans": (74, 76),
    "online_skew": (79, 81),
    "new_carrier": (84, 87),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ontime(*args: str) -> str:
    command = [sys.executable, "-m", "ontime_cli", "--config", str(CONFIG), *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 3):
        raise SystemExit(f"ontime {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def day(index: float) -> pd.Timestamp:
    return DAY0 + pd.Timedelta(days=index)


def ensure_world() -> None:
    """Simulate, apply, train and promote once (cached under WORK)."""
    if (WORK / "promoted.txt").exists():
        return
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    shutil.copytree(ROOT / "feature_repo", WORK / "repo",
                    ignore=shutil.ignore_patterns("data", "__pycache__"))  # fmt: skip
    scenarios = ", ".join(f"{name}:{a}-{b}" for name, (a, b) in FAULTS.items())
    settings = (ROOT / "ontime.yaml").read_text()
    settings = settings.replace("feature_repo: feature_repo", "feature_repo: repo")
    settings = settings.replace("feature_repo/data/raw", "repo/data/raw")
    settings = settings.replace("scenarios: []", f"scenarios: [{scenarios}]")
    settings += (
        "events:\n  table: repo/data/raw/prediction_events.parquet\n"
        "labels:\n  table: repo/data/raw/deliveries.parquet\n"
    )
    CONFIG.write_text(settings)
    for step in (("simulate",), ("apply",),
                 ("reviewed-cases", "--cutoff", day(CUTOFF_DAY).isoformat())):  # fmt: skip
        log(f"ontime {' '.join(step)}")
        ontime(*step)
    log("ontime train")
    log(ontime("train", "--cutoff", day(CUTOFF_DAY).isoformat()))
    log(ontime("promote", "1", "--force", "--reason", "series acceptance"))
    (WORK / "promoted.txt").write_text("1\n")


def ensure_replayed() -> None:
    """Score every event of the span through a real service, day by day, in time order."""
    if (WORK / "replayed.txt").exists():
        return
    from ontime.repo import describe_service, open_store
    from ontime.settings import load_settings
    from ontime_cli.launcher import ServiceProcess
    from serving.clock import OnlineClock, replay_with_clock

    settings = load_settings(CONFIG)
    shutil.rmtree(settings.serving.log_dir, ignore_errors=True)
    store = open_store(settings.feature_repo, settings.serving.feature_store_yaml)
    keys = list(describe_service(store, settings.feature_service).entity_keys)
    events = pd.read_parquet(settings.events.table)
    times = pd.to_datetime(events[settings.events.time_column], utc=True)
    clock = OnlineClock(store, settings.serving.feeds, day(SPAN[0]), day(SPAN[1]))
    with ServiceProcess(CONFIG, profile=settings.serving.feature_store_yaml) as url:
        for index in range(*SPAN):
            chosen = events[(times >= day(index)) & (times < day(index + 1))]
            counts = replay_with_clock(clock, url, chosen, keys, settings.events.time_column)
            log(f"replayed day {index}: {dict(counts)}")
    (WORK / "replayed.txt").write_text("done\n")


def judge(labels_as_of: pd.Timestamp | None) -> list:
    from monitoring.series import run_series
    from ontime.settings import load_settings

    settings = load_settings(CONFIG)
    spans = [(day(i).to_pydatetime(), day(i + 1).to_pydatetime()) for i in range(*SPAN)]
    labels = None if labels_as_of is None else labels_as_of.to_pydatetime()

    def progress(done: int, total: int, summary) -> None:
        log(f"  {done}/{total} {summary.action}")

    return run_series(settings, spans, labels_as_of=labels, progress=progress)


def fault_on(index: int) -> str:
    return next((name for name, (a, b) in FAULTS.items() if a <= index < b), "")


def exposure() -> pd.DataFrame:
    """Per day, the share of served rows a fault still reaches after its window: rows of
    shipments made during a fault that marks shipments at creation, and rows served while a
    scan the stale feed delayed (by a day or more) was still on its way."""
    served = pd.read_parquet(WORK / "logs" / "serving" / "predictions",
                             columns=["order_id", "prediction_time"])  # fmt: skip
    raw = WORK / "repo" / "data" / "raw"
    created = pd.read_parquet(raw / "shipments.parquet", columns=["order_id", "created_at"])
    rows = served.merge(created, on="order_id")
    rows["day"] = (rows["prediction_time"] - DAY0).dt.days
    created_day = (rows["created_at"] - DAY0).dt.days
    shares = {}
    for name in ("holiday_surge", "online_skew", "new_carrier"):
        first, end = FAULTS[name]
        shares[name] = ((created_day >= first) & (created_day < end)).groupby(rows["day"]).mean()
    scans = pd.read_parquet(raw / "scan_events.parquet",
                            columns=["order_id", "scan_at", "ingested_at"])  # fmt: skip
    first, end = FAULTS["stale_scans"]
    delayed = scans[(scans["scan_at"] >= day(first)) & (scans["scan_at"] < day(end))
                    & (scans["ingested_at"] - scans["scan_at"] > pd.Timedelta(days=1))]  # fmt: skip
    pending = rows.reset_index().merge(delayed, on="order_id")
    pending = pending[(pending["scan_at"] <= pending["prediction_time"])
                      & (pending["prediction_time"] < pending["ingested_at"])]  # fmt: skip
    stale = pending.groupby("day")["index"].nunique() / rows.groupby("day").size()
    shares["stale_scans"] = stale
    return pd.DataFrame(shares).fillna(0.0)


def after_effect(index: int, shares: pd.DataFrame) -> str:
    """A fault still in the served rows after its window, by its share of the rows."""
    if index not in shares.index:
        return ""
    name = shares.loc[index].idxmax()
    share = shares.loc[index, name]
    return f"after {name}: {share:.1%}" if share >= SPILL else ""


def judged() -> list[dict]:
    """Per day: the decision at the window's close, the decision with every label landed,
    and the cost estimate next to the realised cost (cached in judged.json)."""
    saved = WORK / "judged.json"
    if saved.exists():
        return json.loads(saved.read_text())
    log("series at each window's close")
    then = judge(None)
    log("series with every label landed")
    now = judge(day(120))
    days = []
    for index, first, second in zip(range(*SPAN), then, now, strict=True):
        cost = next((row for row in second.estimates if row["metric"] == "cost_per_order"), {})
        days.append({"day": index, "at_close": first.action, "labelled": second.action,
                     "cost": cost})  # fmt: skip
    saved.write_text(json.dumps(days, indent=1, default=float))
    return days


def main() -> None:
    ensure_world()
    ensure_replayed()
    shares = exposure()
    lines, clean_flagged, strict_flagged, fault_missed, inside = [], [], [], [], []
    nan = float("nan")
    for judged_day in judged():
        index, cost = judged_day["day"], judged_day["cost"]
        first, second = judged_day["at_close"], judged_day["labelled"]
        fault = fault_on(index)
        spill = "" if fault else after_effect(index, shares)
        realised = cost.get("realised")
        lines.append(f"day {index} {day(index):%a %Y-%m-%d} {fault or '-':>14} {spill:>22}  "
                     f"at close: {first:<13} labelled: {second:<13} "
                     f"cost est {cost.get('estimate', nan):.3f} "
                     f"[{cost.get('low', nan):.3f}, {cost.get('high', nan):.3f}] "
                     f"realised {nan if realised is None else realised:.3f}")  # fmt: skip
        flagged = first != "ok" or second != "ok"
        if fault and not flagged:
            fault_missed.append(index)
        if not fault and flagged:
            strict_flagged.append(index)
        if not fault and not spill:
            if flagged:
                clean_flagged.append(index)
            if realised is not None:
                inside.append(bool(cost["inside"]))
    print("\n".join(lines))
    print(f"fault days not flagged: {fault_missed or 'none'}")
    print(f"days outside the fault windows flagged: {strict_flagged or 'none'}")
    print(f"... of which a fault reached < {SPILL:.0%} of rows: {clean_flagged or 'none'}")
    print(f"estimate coverage on those clean days: {sum(inside)}/{len(inside)} "
          "realised costs inside the interval")  # fmt: skip
    every = [d["cost"]["inside"] for d in judged() if d["cost"].get("realised") is not None]
    print(f"... and on every day, faults included: {sum(every)}/{len(every)}")


if __name__ == "__main__":
    main()
