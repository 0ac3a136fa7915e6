"""Training rows as the world grows: the DuckDB profile, the Spark profile and the floor.

- ``duckdb``: ``get_historical_features`` through the repo's own profile
  (``feature_repo/feature_store.yaml``), exactly as ``ontime train`` builds rows;
- ``spark``: the same call through the Spark profile (``feature_repo/profiles/spark.yaml``,
  Feast's Spark offline store, its own registry of SparkSources), on ``local[2]``;
- ``peer``: the leak-free hand-written DuckDB query of ``bench_training_rows.py`` (event and
  write time both at or before the prediction time, newest event then newest write, TTLs):
  the floor.

Each side runs in a fresh process. "rows s" is the timed work (entity frame + retrieval +
on-demand features into pandas); "peak MB" is the largest resident size of the process and
all its children together (Spark's JVM is a child), sampled every 0.2 s; "time/peer" and
"mem/peer" are each side's time and peak as multiples of the floor's in the same run. A side
that fails (e.g. out of memory) is reported as such and the others go on. The rows of all sides
that finished are compared value for value afterwards.

    python benchmarks/bench_scale.py [--scale 1] [--sides duckdb,spark,peer] [--repeat 1]
        [--driver-memory 8g] [--timeout 3600]

The Spark driver gets ``--driver-memory`` (ONTIME_SPARK_DRIVER_MEMORY; the profile exits the
JVM on OutOfMemoryError, so a driver too small fails instead of hanging). A side still
running after ``--timeout`` seconds is stopped and reported as not finished.

``--scale 10`` is ~4.3M prediction events (18,000 shipments a day for 120 days).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._world import ROOT, WORK, default_world
from benchmarks.bench_training_rows import print_comparison

SIDES = ("duckdb", "spark", "peer")
DEFAULT_SHIPMENTS_PER_DAY = 1800
SPARK_CORES = 2


def spark_profile(repo: Path) -> Path:
    """The repo's Spark profile with a SQLite online store (no Redis needed to read rows)."""
    import yaml

    config = yaml.safe_load((repo / "profiles" / "spark.yaml").read_text())
    config["online_store"] = {"type": "sqlite", "path": "data/online_store-spark.db"}
    path = repo / "profiles" / "bench-spark.yaml"
    # Quoted, so a substituted ${ONTIME_SPARK_...} number stays the string Spark conf wants.
    path.write_text(yaml.safe_dump(config, default_style='"'))
    return path


def applied_spark(config: Path) -> Path:
    """Apply the world's repo with the Spark profile once (its own registry of SparkSources)."""
    from ontime.settings import load_settings

    repo = load_settings(config).feature_repo
    profile = spark_profile(repo)
    stamp = repo / "data" / "registry-spark.applied"
    fingerprint = (repo / "data" / "definitions.sha256").read_text()
    if not stamp.exists() or stamp.read_text() != fingerprint:
        command = ["apply", "--profile", str(profile)]
        subprocess.run(
            [sys.executable, "-m", "ontime_cli", "--config", str(config), *command],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        stamp.write_text(fingerprint)
    return profile


def run_store(config: Path, profile: Path | None, out: Path | None) -> dict:
    """Entity frame + historical rows through Feast, as training builds them."""
    start = time.perf_counter()
    import pandas as pd

    from ontime.features import entity_frame, historical_rows
    from ontime.repo import describe_service, load_contract, open_store
    from ontime.settings import load_settings

    settings = load_settings(config)
    store = open_store(settings.feature_repo, profile)
    spec = describe_service(store, settings.feature_service)
    contract = load_contract(settings.feature_repo)
    events = pd.read_parquet(settings.events.table)
    ready = time.perf_counter()
    entities = entity_frame(events, spec, settings.events.time_column, contract.request_time_field)
    rows = historical_rows(store, spec, entities)
    done = time.perf_counter()
    if out is not None:
        rows.to_parquet(out, index=False)
    return {"rows": len(rows), "setup_s": ready - start, "wall_s": done - ready}


def tree_rss_mb(pid: int) -> float:
    """Resident size of a process and all its descendants, in MB."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def measure(side: str, config: Path, out: Path | None, driver_memory: str, timeout: float) -> dict:
    """Run one side in a fresh process, sampling its process tree's memory."""
    command = [sys.executable, __file__, "--side", side, "--config", str(config)]
    if out is not None:
        command += ["--out", str(out)]
    env = {**os.environ, "ONTIME_SPARK_MASTER": f"local[{SPARK_CORES}]"}
    env["ONTIME_SPARK_DRIVER_MEMORY"] = driver_memory
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a timeout stops the JVM too
    )
    peak = [0.0]

    def sample() -> None:
        while child.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(child.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        sampler.join()
        return {"failed": f"not finished after {timeout:.0f} s", "peak_mb": peak[0]}
    sampler.join()
    if child.returncode != 0:
        lines = [line for line in stderr.splitlines() if line.strip()]
        reason = "killed (out of memory?)" if child.returncode < 0 else lines[-1][:200]
        return {"failed": reason, "peak_mb": peak[0]}
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = peak[0]
    return result


def report(results: dict[str, list[dict]], per_day: int) -> None:
    """Medians per side: rows, wall time, setup and peak memory (or why a side failed), and
    time and memory as multiples of the hand-written floor's when it ran."""
    names = {
        "duckdb": "DuckDB profile",
        "spark": f"Spark profile local[{SPARK_CORES}]",
        "peer": "hand-written DuckDB",
    }
    medians = {}
    for side, runs in results.items():
        done = [r for r in runs if "failed" not in r]
        if done:
            medians[side] = {key: statistics.median(r[key] for r in done) for key in done[0]}
    floor = medians.get("peer")
    print(f"training rows, {per_day} shipments/day x 120 days")
    print(f"{'':26}{'rows':>11}{'rows s':>9}{'setup s':>9}{'peak MB':>9}{'time/peer':>11}"
          f"{'mem/peer':>10}")  # fmt: skip
    for side, runs in results.items():
        if side not in medians:
            print(
                f"{names[side]:26}  failed: {runs[0]['failed']} (peak {runs[0]['peak_mb']:.0f} MB)"
            )
            continue
        med = medians[side]
        ratios = (
            f"{med['wall_s'] / floor['wall_s']:>10.2f}x{med['peak_mb'] / floor['peak_mb']:>9.2f}x"
            if floor
            else ""
        )
        print(
            f"{names[side]:26}{int(med['rows']):>11,}{med['wall_s']:>9.1f}"
            f"{med['setup_s']:>9.1f}{med['peak_mb']:>9.0f}{ratios}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="world size vs the default")
    parser.add_argument("--sides", default=",".join(SIDES), help="comma-separated subset")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--driver-memory", default="8g", help="the Spark driver's heap")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per side and run")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        if args.side == "peer":
            from benchmarks.bench_training_rows import run_peer

            result = run_peer(args.config, args.out)
        else:
            from ontime.settings import load_settings

            repo = load_settings(args.config).feature_repo
            profile = repo / "profiles" / "bench-spark.yaml" if args.side == "spark" else None
            result = run_store(args.config, profile, args.out)
        print(json.dumps(result))
        return

    sides = [s for s in args.sides.split(",") if s]
    unknown = sorted(set(sides) - set(SIDES))
    if unknown or not sides:
        parser.error(f"--sides takes some of {', '.join(SIDES)}; got {args.sides!r}")
    per_day = round(DEFAULT_SHIPMENTS_PER_DAY * args.scale)
    config = default_world(shipments_per_day=per_day)
    if "spark" in sides:
        applied_spark(config)
    outputs = {side: WORK / f"scale-{per_day}-{side}.parquet" for side in sides}
    for path in outputs.values():
        path.unlink(missing_ok=True)
    results: dict[str, list[dict]] = {side: [] for side in sides}
    for run in range(args.repeat):
        for side in sides:  # interleaved, so a busy moment hits every side alike
            out = outputs[side] if run == 0 else None
            results[side].append(measure(side, config, out, args.driver_memory, args.timeout))
    report(results, per_day)
    print(f"Spark driver memory {args.driver_memory}, at most {args.timeout:.0f} s a side")
    if print_comparison(outputs):
        sys.exit(1)


if __name__ == "__main__":
    main()
