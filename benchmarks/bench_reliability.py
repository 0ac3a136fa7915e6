"""Reliability under faults: a crash loop of SIGKILLs and a long fuzz, on `ontime serve`.

Crash loop: `ontime serve` runs as a subprocess while two clients stream single rows and
small batches; at a random moment the server, its log writer, or the writer and then the
server get SIGKILL; the server restarts; repeat (--kills, default 20). At the end, every
request id that was answered 200 must be in the prediction log exactly once.

Fuzz: schemathesis generates requests from the service's OpenAPI document (valid and
invalid, half with real entity keys) against a running `ontime serve`, then the hand-made
hostile requests are sent on keep-alive sockets, each followed by a valid request.
Then seeded mutations of real requests (``--mutations``) on keep-alive sockets. Counts 5xx
answers and dropped connections (target: 0 and 0).

Soak: a steady two-client stream for ``--soak-seconds`` (default 600) after a 60 s warm-up;
server + writer resident memory growth after warm-up (target < 5%), errors (target 0) and
acknowledged rows missing from the log (target 0).

    python benchmarks/bench_reliability.py [--kills 20] [--cases 10000] [--soak-seconds 600]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._world import default_world
from benchmarks.bench_serving import prepare

VICTIMS = ("server", "writer", "writer then server")


def request_rows(events: pd.DataFrame, at: pd.Timestamp, count: int = 200) -> list[dict]:
    sample = events.sample(min(count, len(events)), random_state=1)
    rows = sample[["order_id", "origin_warehouse", "carrier_id"]].to_dict(orient="records")
    return [{**row, "prediction_time": at.isoformat()} for row in rows]


def serve_config(config: Path, name: str, **serving) -> Path:
    """A settings file beside the world's, with a serving section of its own."""
    # Strings quoted: YAML reads a bare ``off`` as false.
    lines = "".join(
        f"  {key}: '{value}'\n" if isinstance(value, str) else f"  {key}: {value}\n"
        for key, value in serving.items()
    )
    path = config.with_name(f"{config.stem}-{name}.yaml")
    path.write_text(config.read_text() + "serving:\n" + lines)
    return path


def crash_loop(config: Path, bundle: Path, rows: list[dict], kills: int, seed: int) -> dict:
    """SIGKILL the server and/or its writer ``kills`` times; count lost and repeated rows."""
    from serving.log_reader import read_predictions
    from tests.serving.processes import ServeProcess
    from tests.serving.streams import Stream

    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    settings = serve_config(config, "crash", log_dir=str(work / "logs"), log_flush_seconds=0.3,
                            release_mode="off")  # fmt: skip
    server = ServeProcess(settings, bundle, work / "serve.err")
    acknowledged: list[str] = []
    sigkills = 0
    started = time.monotonic()
    for number in range(kills):
        if server.process is None or server.process.poll() is not None:
            server.start(timeout_s=900)
        stream = Stream(server.url, rows, clients=2, seed=seed + number).start()
        stream.wait_for_acknowledgements(1, timeout_s=120)
        time.sleep(rng.uniform(0.0, 2.0))  # then kill at a random moment of the stream
        victim = VICTIMS[number % len(VICTIMS)]
        if victim.startswith("writer"):
            os.kill(server.writer_pid(), signal.SIGKILL)
            sigkills += 1
            time.sleep(rng.uniform(0.1, 1.0))
        if victim.endswith("server"):
            server.kill()
            sigkills += 1
        stream.stop()
        acknowledged += stream.acknowledged
        print(f"  kill {number + 1:2d}: {victim:18} acknowledged {len(stream.acknowledged):5d}")
    if server.process.poll() is not None:
        server.start(timeout_s=900)
    deadline = time.monotonic() + 120
    while httpx.get(server.url + "/readyz", timeout=10).json()["log"]["backlog_rows"]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    server.stop()
    now = datetime.now(UTC)
    logged = read_predictions(work / "logs", now - timedelta(hours=6), now + timedelta(minutes=1))
    ids = logged["request_id"]
    dead = work / "logs" / "dead_letter.jsonl"
    return {
        "kills": kills,
        "sigkills_sent": sigkills,
        "acknowledged": len(acknowledged),
        "logged": len(ids),
        "lost": len(set(acknowledged) - set(ids)),
        "duplicated": int(ids.duplicated().sum()),
        "dead_lettered": sum(1 for _ in open(dead)) if dead.exists() else 0,
        "seconds": time.monotonic() - started,
    }


def fuzz(
    config: Path, bundle: Path, rows: list[dict], cases: int, mutations: int, seed: int
) -> dict:
    """Generated, hostile and mutated requests against a running `ontime serve`."""
    from tests.serving.fuzzing import FuzzResult, hostile_cases, schema_cases
    from tests.serving.mutations import mutated_cases
    from tests.serving.processes import ServeProcess

    work = Path(tempfile.mkdtemp(prefix="bench-fuzz-"))
    settings = serve_config(config, "fuzz", log_dir=str(work / "logs"), release_mode="off")
    server = ServeProcess(settings, bundle, work / "serve.err").start(timeout_s=900)
    started = time.monotonic()
    try:
        generated = schema_cases(server.url, rows, cases, seed)
        hostile = hostile_cases(server.url, rows[0], rounds=20)
        mutated = mutated_cases(server.url, rows, mutations, seed)
    finally:
        server.stop()
    total = FuzzResult().merge(generated).merge(hostile).merge(mutated)
    return {
        "generated_requests": generated.requests,
        "hostile_requests": hostile.requests,
        "mutated_requests": mutated.requests,
        "status_counts": dict(sorted(total.statuses.items(), key=str)),
        "server_errors_5xx": len(total.server_errors),
        "dropped_connections": len(total.dropped),
        "examples": (total.server_errors + total.dropped)[:5],
        "seconds": time.monotonic() - started,
        "server_stderr_tracebacks": server.stderr().count("Traceback"),
    }


def soak_run(config: Path, bundle: Path, rows: list[dict], seconds: float) -> dict:
    """A steady stream for ``seconds`` after a warm-up; memory, errors, rows kept."""
    from serving.log_reader import read_predictions
    from tests.serving.processes import ServeProcess
    from tests.serving.soak import soak

    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    settings = serve_config(config, "soak", log_dir=str(work / "logs"), log_flush_seconds=1.0,
                            release_mode="off")  # fmt: skip
    server = ServeProcess(settings, bundle, work / "serve.err").start(timeout_s=900)
    result = soak(server, rows, seconds=seconds, warmup_s=min(60.0, seconds / 5))
    code = server.stop()
    now = datetime.now(UTC)
    ids = read_predictions(work / "logs", now - timedelta(hours=6), now + timedelta(minutes=1))[
        "request_id"
    ]
    return {
        "seconds": result.seconds,
        "requests": sum(result.statuses.values()),
        "errors": result.errors,
        "acknowledged": len(result.acknowledged),
        "not_persisted": len(set(result.acknowledged) - set(ids)),
        "duplicated": int(ids.duplicated().sum()),
        "rss_after_warmup_mb": result.rss_after_warmup_mb,
        "rss_at_end_mb": result.rss_at_end_mb,
        "memory_growth_pct": 100 * result.memory_growth,
        "server_writer_mb": result.split_mb,
        "rss_max_mb": max(result.samples_mb, default=0.0),
        "exit_code": code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--mutations", type=int, default=10_000)
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--shipments-per-day", type=int, default=400)
    args = parser.parse_args()

    config = default_world(days=args.days, shipments_per_day=args.shipments_per_day)
    bundle, events, end = prepare(config)
    rows = request_rows(events, end)
    print(f"crash loop: {args.kills} x SIGKILL (server / writer / writer then server)")
    crashes = crash_loop(config, bundle, rows, args.kills, args.seed)
    print(f"fuzz: {args.cases} generated cases + hostile + {args.mutations} mutated requests")
    fuzzed = fuzz(config, bundle, rows, args.cases, args.mutations, args.seed)
    print(f"soak: {args.soak_seconds:.0f} s")
    soaked = soak_run(config, bundle, rows, args.soak_seconds)

    print("\ncrash loop")
    for key, value in crashes.items():
        print(f"  {key:22} {value:.1f}" if isinstance(value, float) else f"  {key:22} {value}")
    print("fuzz")
    for key, value in fuzzed.items():
        print(f"  {key:22} {value:.1f}" if isinstance(value, float) else f"  {key:22} {value}")
    print("soak")
    for key, value in soaked.items():
        print(f"  {key:22} {value:.1f}" if isinstance(value, float) else f"  {key:22} {value}")
    print(
        f"\nacknowledged predictions lost: {crashes['lost']} (target 0), "
        f"duplicated: {crashes['duplicated']} (target 0) over {crashes['kills']} kills"
    )
    print(
        f"5xx answers: {fuzzed['server_errors_5xx']} (target 0), dropped connections: "
        f"{fuzzed['dropped_connections']} (target 0) over "
        f"{fuzzed['generated_requests'] + fuzzed['hostile_requests'] + fuzzed['mutated_requests']}"
        " requests"
    )
    print(
        f"soak {soaked['seconds']:.0f} s: memory growth {soaked['memory_growth_pct']:.1f}% "
        f"(target < 5%), errors {soaked['errors']} (target 0), acknowledged not persisted "
        f"{soaked['not_persisted']} of {soaked['acknowledged']} (target 0)"
    )


if __name__ == "__main__":
    main()
