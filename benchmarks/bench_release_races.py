"""50 concurrent ``ontime promote`` / ``rollback`` processes, repeated: do alias and trail agree?

    .venv/bin/python benchmarks/bench_release_races.py                 # 50 racers, 3 rounds
    .venv/bin/python benchmarks/bench_release_races.py --racers 20 --rounds 5

A small world is simulated, applied and trained twice (v1 and v2, the same model, so each
ships against the other), then v1 is made champion. Each round starts every racer as its
own process at once and waits for all; the registry is then checked exactly as
``tests/reliability/test_release_races.py`` checks it (replaying the audit trail gives the
alias, every move starts where the previous ended, each rollback returned to the champion
below it, one entry per racer that moved the alias, a clear line from every other one). It
prints, per round, the outcomes, the wall time and any disagreement, and writes
benchmarks/results/bench_release_races.json. There is no peer to compare with: the figure
that matters is the number of rounds in which alias and trail disagreed (it must be 0).

Racers are forked from one launcher (``tests/reliability/racers.py``): 50 interpreters that
each import MLflow before reaching the lock need over 11 GB and minutes of CPU; forks share
the imported code. Each is still its own process running the real CLI entry point.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

log = logging.getLogger("bench_release_races")


def outcome(racer) -> str:
    """A racer's result in a few words, for the table."""
    if racer.code == 0:
        said = [line for line in racer.out.splitlines() if line.startswith("champion: ")]
        return (said or [racer.out.strip()])[-1].split("(")[-1].rstrip(")")
    return racer.err.strip().split(";")[0].split(":")[-1].strip()[:40]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--racers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary world.")
    parser.add_argument(
        "--python-per-racer",
        action="store_true",
        help="Start each racer as its own `python -m ontime_cli` (about 230 MB each) instead "
        "of forking all from one launcher that imported the CLI once.",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.pop("MLFLOW_TRACKING_URI", None)

    from ontime.settings import load_settings
    from tests.reliability.test_release_races import build_world, disagreements, race
    from training.release import history

    base = Path(tempfile.mkdtemp(prefix="bench-races-"))
    started = time.perf_counter()
    temp = build_world(base)
    settings = load_settings(temp.config)
    log.info("world ready in %.0f s (%s)", time.perf_counter() - started, base)
    rounds = []
    for number in range(1, args.rounds + 1):
        before = sum(e["alias"] == "champion" for e in history(settings))
        started = time.perf_counter()
        racers = race(temp, args.racers, seed=number, forked=not args.python_per_racer)
        seconds = time.perf_counter() - started
        problems = disagreements(settings, before, racers)
        outcomes = Counter(outcome(r) for r in racers)
        rounds.append(
            {
                "round": number,
                "seconds": round(seconds, 1),
                "outcomes": dict(outcomes),
                "disagreements": problems,
            }
        )
        log.info(
            "round %d: %d racers in %.0f s: %s; %s",
            number, args.racers, seconds, dict(outcomes),
            "alias and trail agree" if not problems else f"DISAGREE: {problems}",
        )  # fmt: skip
    failed = sum(bool(r["disagreements"]) for r in rounds)
    log.info("%d of %d rounds disagreed", failed, len(rounds))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    document = {"racers": args.racers, "rounds": rounds, "rounds_disagreeing": failed}
    (results / "bench_release_races.json").write_text(json.dumps(document, indent=2))
    if not args.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
