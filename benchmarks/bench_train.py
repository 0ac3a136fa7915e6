"""Wall time and peak memory of ``ontime train`` on the default simulated world, by stage.

    .venv/bin/python benchmarks/bench_train.py            # simulate + apply a fresh world
    .venv/bin/python benchmarks/bench_train.py --world DIR  # reuse DIR/ontime.yaml

Stages: snapshot (labels + Feast point-in-time retrieval + data tests + parquet), fit
(contract, XGBoost with early stopping, calibration, threshold), evaluate (test metrics,
slices and the logistic baseline), register (MLflow run, model version, report, alias).
Peak memory is the process's maximum resident set size (``getrusage``) at the end of each
stage, so it is cumulative; ``--tracemalloc`` adds the Python/numpy heap peak per stage
(slower). Results are printed as a table and written to benchmarks/results/bench_train.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def make_world(base: Path) -> Path:
    """Copy the feature repo declarations, write default settings, simulate and apply."""
    repo = base / "feature_repo"
    shutil.copytree(
        ROOT / "feature_repo", repo, ignore=shutil.ignore_patterns("data", "__pycache__")
    )
    # The repo's own settings (default world, segments, costs, gates), paths made local.
    settings = yaml.safe_load((ROOT / "ontime.yaml").read_text())
    keep = ("feature_repo", "feature_service", "raw_data_dir", "simulation", "training")
    config = base / "ontime.yaml"
    config.write_text(yaml.safe_dump({k: settings[k] for k in keep if k in settings}))
    for command in ("simulate", "apply"):
        subprocess.run(
            [sys.executable, "-m", "ontime_cli", "--config", str(config), command],
            cwd=base,
            check=True,
            capture_output=True,
        )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="Folder with an ontime.yaml to reuse.")
    parser.add_argument("--tracemalloc", action="store_true", help="Also trace heap peaks.")
    args = parser.parse_args()

    temp = None
    if args.world:
        config = args.world / "ontime.yaml"
    else:
        temp = Path(tempfile.mkdtemp(prefix="bench-train-"))
        print(f"simulating the default world in {temp} ...", flush=True)
        config = make_world(temp)

    started = time.perf_counter()
    from ontime.settings import load_settings
    from training.pipeline import train

    rows = [("startup (imports)", time.perf_counter() - started, rss_mb(), None)]
    if args.tracemalloc:
        tracemalloc.start()

    def on_stage(name: str, seconds: float) -> None:
        heap = None
        if args.tracemalloc:
            heap = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.reset_peak()
        rows.append((name, seconds, rss_mb(), heap))

    settings = load_settings(config)
    result = train(settings, on_stage=on_stage)
    total = time.perf_counter() - started
    metrics = result.evaluation["model"]["metrics"]

    print(
        f"\nontime train on {result.snapshot.manifest.rows} snapshot rows "
        f"(version {result.version})"
    )
    print(f"{'stage':<20}{'wall s':>9}{'share':>8}{'peak RSS MB':>13}{'heap peak MB':>14}")
    for name, seconds, rss, heap in rows:
        heap_text = f"{heap:.0f}" if heap is not None else "-"
        print(f"{name:<20}{seconds:>9.1f}{seconds / total:>8.0%}{rss:>13.0f}{heap_text:>14}")
    print(f"{'total':<20}{total:>9.1f}{1:>8.0%}{rss_mb():>13.0f}")
    print(
        f"test ROC AUC {metrics['roc_auc']:.4f}, cost/order {metrics['cost_per_order']:.4f}, "
        f"ECE {metrics['ece']:.4f}"
    )

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "rows": result.snapshot.manifest.rows,
        "total_s": total,
        "peak_rss_mb": rss_mb(),
        "stages": [
            {"stage": name, "seconds": s, "peak_rss_mb": r, "heap_peak_mb": h}
            for name, s, r, h in rows
        ],
    }
    (out / "bench_train.json").write_text(json.dumps(record, indent=2))
    if temp is not None:
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
