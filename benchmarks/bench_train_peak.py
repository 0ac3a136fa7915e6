"""Wall time and peak memory of ``ontime train`` on an existing world, as a fresh process.

    python benchmarks/bench_train_peak.py WORLD_DIR [--trace FILE]

Runs ``python -m ontime_cli --config WORLD_DIR/ontime.yaml train`` with this checkout's
code first on PYTHONPATH, samples the resident size of its process tree every 0.2 s
(``bench_scale.tree_rss_mb``, as bench_scale_steps does) and prints the wall time, the peak
and the output's lines (which carry the stage timings), each with the time it appeared
and the process tree's memory then. ``--trace`` also writes every sample (seconds, MB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scale import tree_rss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="Folder with the world's ontime.yaml.")
    parser.add_argument("--trace", type=Path, help="Write every memory sample here.")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ONTIME_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    config = args.world.resolve() / "ontime.yaml"
    command = [sys.executable, "-m", "ontime_cli", "--config", str(config), "train"]
    started = time.perf_counter()
    child = subprocess.Popen(
        command,
        cwd=args.world,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    samples: list[tuple[float, float]] = []

    def sample() -> None:
        while child.poll() is None:
            samples.append((time.perf_counter() - started, tree_rss_mb(child.pid)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for line in child.stdout:
        now = time.perf_counter() - started
        current = samples[-1][1] if samples else 0.0
        print(f"[{now:7.1f}s {current:6.0f} MB] {line.rstrip()}", flush=True)
    child.wait()
    wall = time.perf_counter() - started
    sampler.join()
    peak_at, peak = max(samples, key=lambda s: s[1]) if samples else (0.0, 0.0)
    print(
        f"exit {child.returncode}; wall {wall:.1f} s; peak {peak / 1024:.2f} GB at {peak_at:.1f} s"
    )
    if args.trace:
        args.trace.write_text("".join(f"{t:.1f}\t{mb:.0f}\n" for t, mb in samples))


if __name__ == "__main__":
    main()
