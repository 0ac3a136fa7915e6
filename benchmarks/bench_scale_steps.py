"""Whole `ontime` steps as the world grows, for two code versions side by side.

"before" is a git revision (``--before``, a worktree at benchmarks/results/before-<rev>),
"after" the working tree, or a revision too (``--after``), so edits made while it runs
do not leak into it. Each scale (1x = 120 days x 1,800 shipments a day) is simulated
once, by "after". Each version then gets its own world folder in
benchmarks/results/world/scale_steps/ (its feature_repo and ontime.yaml, hence its own
registry, online store, MLflow, logs, reports), sharing only the simulated tables. Each
step is a fresh ``python -m ontime_cli`` with cwd and PYTHONPATH at that version's code:

    apply; materialize --start <first day> --end <W0>; train; promote 1 --force;
    serve, until GET /readyz answers 200; replay W0..W1 through it;
    stop it (SIGINT, then wait for the log writer); monitor W0..W1

W0..W1 is the last full day before the world's final day; with ``--same-work`` it is the
last 24/scale hours of that day, so every scale replays and judges about the same number
of events and only the history differs. ``--fixed-only`` reuses the worlds of a full run
and times only serve, replay and monitor. Wall times include imports;
"peak GB" is the largest resident size of the step's process tree, sampled every 0.2 s.
A failed step is reported, the steps that need it are skipped, and the run goes on.

    python benchmarks/bench_scale_steps.py [--scales 1,10] [--before 83f795a]
        [--after <rev>] [--sides before,after] [--keep] [--same-work] [--fixed-only]

``--keep`` reuses simulated tables (each version's state is always new). Results: a table
on stdout and benchmarks/results/scale_steps-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._world import ROOT, WORK
from benchmarks.bench_scale import tree_rss_mb
from ontime_cli.launcher import free_port
from serving.log_process import wait_for_writer

BASE = WORK / "scale_steps"
RESULTS = ROOT / "benchmarks" / "results"
DAYS, PER_DAY = 120, 1800
READY_TIMEOUT_S, STOP_TIMEOUT_S = 900, 600
ROWS = {  # reported steps, in table order
    "serve": "`ontime serve` until ready (wall s)",
    "replay": "`ontime replay`, one window (wall s, peak GB)",
    "monitor": "`ontime monitor`, one window (wall s, peak GB)",
    "materialize": "`ontime materialize`, full history (wall s, peak GB)",
    "train": "`ontime train` (wall s, peak GB)",
}
NEEDS = {"materialize": "apply", "train": "apply", "promote": "train", "serve": "promote"}
NEEDS |= {"replay": "serve", "monitor": "replay"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def git(code: Path, *args: str) -> list[str]:
    command = ["git", "-C", str(code), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()


def checkout(side: str, rev: str | None) -> Path:
    """The code of one side: a worktree of ``rev`` (made once), or the working tree."""
    if rev is None:
        return ROOT
    path = RESULTS / f"{side}-{rev}"
    if not path.exists():
        git(ROOT, "worktree", "add", "--detach", str(path), rev)
    return path


def environment(code: Path) -> dict[str, str]:
    """Imports from ``code`` (ahead of the editable install); no MLFLOW_*/ONTIME_* state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ONTIME_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    probe = [sys.executable, "-c", "import ontime_cli, training; print(training.__file__)"]
    found = subprocess.run(probe, env=env, cwd=code, capture_output=True, text=True).stdout
    if not Path(found.strip()).is_relative_to(code):
        raise SystemExit(f"PYTHONPATH={code} imports training from {found.strip()}")
    return env | {"PYTHONUNBUFFERED": "1"}


def make_world(folder: Path, code: Path, per_day: int, tables: Path | None = None) -> Path:
    """``code``'s feature_repo and ontime.yaml in ``folder``; returns the settings file."""
    import yaml

    shutil.rmtree(folder, ignore_errors=True)
    ignore = shutil.ignore_patterns("data", "__pycache__")
    shutil.copytree(code / "feature_repo", folder / "feature_repo", ignore=ignore)
    if tables is not None:
        (folder / "feature_repo" / "data").mkdir()
        for name in ("raw", "derived"):
            (folder / "feature_repo" / "data" / name).symlink_to(tables / name)
    config = yaml.safe_load((code / "ontime.yaml").read_text())
    config.setdefault("simulation", {}).update(days=DAYS, shipments_per_day=per_day)
    # Nobody has reviewed this world's critical cases: the gate runs without a reviewed set.
    config.get("training", {}).get("gate", {}).pop("reviewed_cases", None)
    config.setdefault("serving", {})["log_dir"] = "logs/serving"
    (folder / "ontime.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder / "ontime.yaml"


def simulated(per_day: int, keep: bool, env: dict) -> Path:
    """Simulate a scale once, with the "after" code; returns its tables' folder."""
    folder = BASE / f"sim-{DAYS}x{per_day}"
    if not (keep and (folder / "simulated.ok").exists()):
        config = make_world(folder, ROOT, per_day)
        log(f"simulating {DAYS} days x {per_day} shipments/day")
        command = [sys.executable, "-m", "ontime_cli", "--config", str(config), "simulate"]
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        (folder / "simulated.ok").touch()
    return folder / "feature_repo" / "data"


def window(tables: Path) -> list[str]:
    """First day of the world, then W0 and W1: the last full day before its final day."""
    import pandas as pd
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = tables / "raw" / "prediction_events.parquet"
    bounds = pc.min_max(pq.read_table(path, columns=["prediction_time"])[0]).as_py()
    first, last = (pd.Timestamp(bounds[key]).floor("D") for key in ("min", "max"))
    return [day.isoformat() for day in (first, last - pd.Timedelta(days=1), last)]


def spawn(command: list[str], code: Path, env: dict, **streams) -> tuple:
    """Start a process; returns it and its tree's peak RSS in GB (updated every 0.2 s)."""
    process = subprocess.Popen(command, cwd=code, env=env, text=True, **streams)
    peak = [0.0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(process.pid) / 1024)
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    return process, peak


def reason(stderr: str, code: int) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()] or [f"exit {code}"]
    return f"killed by signal {-code}" if code < 0 else lines[-1]


def run(command: list[str], code: Path, env: dict) -> dict:
    """One step in a fresh process: wall time, peak RSS, the last lines it printed."""
    started = time.perf_counter()
    child, peak = spawn(command, code, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = child.communicate()
    result = {"wall_s": time.perf_counter() - started, "peak_gb": peak[0]}
    if child.returncode:
        result["failed"] = reason(stderr, child.returncode)
    return result | {"output": [line for line in stdout.splitlines() if line.strip()][-6:]}


def serve(command: list[str], code: Path, env: dict, url: str, stderr) -> tuple:
    """Start the service; returns it, its peak RSS and the seconds until it was ready."""
    started = time.perf_counter()
    process, peak = spawn(command, code, env, stdout=subprocess.DEVNULL, stderr=stderr)
    while time.perf_counter() - started < READY_TIMEOUT_S and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return process, peak, {"wall_s": time.perf_counter() - started}
        except OSError:  # refused, or 503 while it warms up
            pass
        time.sleep(0.2)
    stderr.seek(0)
    why = f"not ready within {READY_TIMEOUT_S} s"
    if process.poll() is not None:
        why = reason(stderr.read(), process.returncode)
    return process, peak, {"failed": why}


def stop(process: subprocess.Popen, log_dir: Path) -> None:
    """SIGINT (a clean shutdown flushes the log), then wait until the log writer is done."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if not wait_for_writer(log_dir, STOP_TIMEOUT_S):
        log(f"the log writer of {log_dir} is still busy")


def run_side(
    side: str,
    code: Path,
    env: dict,
    per_day: int,
    tables: Path,
    days,
    hours: float = 24.0,
    fixed_only: bool = False,
) -> dict:
    """Every step of one version on one scale, in a fresh world folder of its own.

    ``hours``: the replayed and monitored window, ending at W1. ``fixed_only``: reuse the
    world a full run left (applied, trained, promoted) and time only serve, replay and
    monitor, with a log folder of their own.
    """
    first, _, w1 = days
    w0 = (datetime.fromisoformat(w1) - timedelta(hours=hours)).isoformat()
    folder = BASE / f"{side}-{DAYS}x{per_day}"
    if fixed_only:
        import yaml

        config = folder / f"ontime-{hours:g}h.yaml"
        settings = yaml.safe_load((folder / "ontime.yaml").read_text())
        settings["serving"]["log_dir"] = f"logs/serving-{hours:g}h"
        config.write_text(yaml.safe_dump(settings, sort_keys=False))
    else:
        config = make_world(folder, code, per_day, tables)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    steps = {
        "apply": [],
        "materialize": ["--start", first, "--end", w0],
        "train": [],
        "promote": ["1", "--force", "--reason", "bench"],
        "serve": ["--port", str(port)],
        "replay": ["--from", w0, "--to", w1, "--url", url],
        "monitor": ["--from", w0, "--to", w1],
    }
    if fixed_only:
        steps = {name: steps[name] for name in ("serve", "replay", "monitor")}
    results: dict[str, dict] = {}
    service = None
    logs = folder / "logs" / (f"serving-{hours:g}h" if fixed_only else "serving")
    with open(folder / "serve.stderr", "w+") as serve_log:
        try:
            for name, args in steps.items():
                command = [sys.executable, "-m", "ontime_cli", "--config", str(config), name]
                if "failed" in results.get(NEEDS.get(name, ""), {}):
                    results[name] = {"failed": f"skipped: {NEEDS[name]} failed"}
                elif name == "serve":
                    service = serve([*command, *args], code, env, url, serve_log)
                    results[name] = service[2]
                else:
                    results[name] = run([*command, *args], code, env)
                if name == "replay" and service:  # stop it before monitoring its log
                    stop(service[0], logs)
                    results["serve"]["peak_gb"] = service[1][0]
                log(f"  {side} {per_day}/day {name}: {cell(results[name], name != 'serve')}")
        finally:  # never leave a service running, also when interrupted
            if service and service[0].poll() is None:
                stop(service[0], logs)
    return results


def cell(result: dict | None, peak: bool = True) -> str:
    if not result or "failed" in result:
        return f"failed ({result['failed'][:80]})" if result else "-"
    return f"{result['wall_s']:.1f} s" + (f", {result['peak_gb']:.2f} GB" if peak else "")


def growth(big: dict | None, small: dict | None, peak: bool) -> str:
    """How much a step grew from the smallest scale to the largest: time, memory."""
    if not big or not small or "failed" in big or "failed" in small:
        return "-"
    keys = ["wall_s", "peak_gb"] if peak else ["wall_s"]
    return ", ".join(f"x{big[key] / max(small[key], 1e-9):.1f}" for key in keys)


def table(scales: dict, sides: list[str]) -> str:
    """Markdown: a row per step, a column per (scale, side), then largest / smallest."""
    names = list(scales)
    columns = [(scale, side) for scale in names for side in sides]
    ratio = len(names) > 1 and "after" in sides
    header = ["step", *(f"{scale} {side}" for scale, side in columns)]
    header += [f"{names[-1]}/{names[0]} after"] if ratio else []
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for step, label in ROWS.items():
        peak = step != "serve"
        got = {(n, side): scales[n]["sides"].get(side, {}).get(step) for n, side in columns}
        row = [label, *(cell(got[column], peak) for column in columns)]
        if ratio:
            row.append(growth(got[names[-1], "after"], got[names[0], "after"], peak))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="sizes vs 1,800 shipments a day")
    parser.add_argument("--before", default="83f795a", help="git revision of 'before'")
    parser.add_argument(
        "--after", default=None, help="git revision of 'after' (default: the working tree)"
    )
    parser.add_argument("--sides", default="before,after", help="comma-separated subset")
    parser.add_argument("--keep", action="store_true", help="reuse simulated tables")
    parser.add_argument(
        "--same-work",
        action="store_true",
        help="replay and monitor a window of 24 h / scale (the same events at every scale)",
    )
    parser.add_argument(
        "--fixed-only",
        action="store_true",
        help="reuse the worlds of a full run; time only serve, replay and monitor",
    )
    args = parser.parse_args()
    scales = sorted(float(s) for s in args.scales.split(",") if s)
    sides = [s for s in args.sides.split(",") if s]
    if not scales or not sides or set(sides) - {"before", "after"}:
        parser.error("--sides takes before and/or after; --scales one number or more")
    revs = {"before": args.before, "after": args.after}
    codes = {side: checkout(side, revs[side]) for side in {"after", *sides}}
    envs = {side: environment(code) for side, code in codes.items()}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    heads = {side: git(code, "rev-parse", "HEAD")[0] for side, code in codes.items()}
    changed = git(ROOT, "status", "--short")  # what "after" adds to its HEAD
    document = {"started": stamp, "before": args.before, "heads": heads, "after_changes": changed}
    document["scales"] = {}
    for scale in scales:
        per_day = round(PER_DAY * scale)
        entry = document["scales"][f"{scale:g}x"] = {"shipments_per_day": per_day, "sides": {}}
        try:
            tables = simulated(per_day, args.keep, envs["after"])
        except subprocess.CalledProcessError as exc:
            failed = {"failed": "simulate: " + reason(exc.stderr, exc.returncode)}
            entry["sides"] = {side: dict.fromkeys(ROWS, failed) for side in sides}
            continue
        days = entry["window"] = window(tables)
        log(f"{scale:g}x: materialize from {days[0]}; window {days[1]} to {days[2]}")
        for side in sides:
            hours = 24.0 / scale if args.same_work else 24.0
            entry["window_hours"] = hours
            entry["sides"][side] = run_side(
                side, codes[side], envs[side], per_day, tables, days, hours, args.fixed_only
            )
    print(table(document["scales"], sides))
    out = RESULTS / f"scale_steps-{stamp}.json"
    out.write_text(json.dumps(document, indent=2))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
