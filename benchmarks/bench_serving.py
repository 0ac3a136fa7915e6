"""Online serving: `ontime serve` side by side with `feast serve` on the same store.

Both servers run as subprocesses on the same FeatureService and the same materialized
SQLite online store. One closed-loop client per scenario (keep-alive, sequential):
  feast  /get-online-features   1 row   (feature retrieval only)
  ontime /v1/predict            1 row   (features + freshness + contract + model + log)
  feast  /get-online-features 100 rows
  ontime /v1/predict/batch    100 rows
ontime logs every request (sample rate 1, Feast logged features on). Prints p50/p99 and
throughput per scenario and the ratio ontime p99 / feast p99; medians over --repeat runs.

    python benchmarks/bench_serving.py [--repeat 3] [--requests 400]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._world import ROOT, default_world

SERVICE = "late_delivery_v1"


def prepare(config: Path) -> tuple[Path, pd.DataFrame, pd.Timestamp]:
    """Materialize the world to its end and save a small real bundle trained on it."""
    import xgboost as xgb

    from ontime.contract import apply_contract, fit_categories
    from ontime.features import entity_frame, historical_rows
    from ontime.materialize import materialize
    from ontime.repo import describe_service, load_contract, open_store
    from ontime.settings import load_settings
    from training.bundle import Calibration, ModelBundle

    settings = load_settings(config)
    events = pd.read_parquet(settings.events.table)
    end = events["prediction_time"].max()
    materialize(settings.feature_repo, end=end.to_pydatetime())
    store = open_store(settings.feature_repo)
    spec = describe_service(store, SERVICE)
    contract = load_contract(settings.feature_repo)
    train = events.sample(1000, random_state=1).reset_index(drop=True)
    rows = historical_rows(
        store, spec, entity_frame(train, spec, "prediction_time", contract.request_time_field)
    )
    categories = fit_categories(rows, contract, spec.features)
    result = apply_contract(rows, contract, spec.features, categories)
    labels = pd.read_parquet(settings.labels.table).set_index(settings.labels.join_key)
    target = train["order_id"].map(labels[settings.labels.column]).astype(float)
    keep = (result.accepted & target.notna()).to_numpy()
    data = xgb.DMatrix(result.frame[keep], label=target[keep], enable_categorical=True)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4}, data, 50)
    bundle = ModelBundle(
        booster, Calibration([0.0, 1.0], [0.0, 1.0]), SERVICE, list(spec.features),
        list(result.frame.columns), categories, 0.4,
    )  # fmt: skip
    folder = bundle.save(config.parent / "bench-bundle")
    recent = events[events["prediction_time"] > end - pd.Timedelta(hours=12)]
    return folder, recent.reset_index(drop=True), end


def wait_ready(url: str, process: subprocess.Popen, path: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {process.stderr.read()[-2000:]}")
        try:
            if httpx.get(url + path, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not become ready")


def start_servers(config: Path, bundle: Path, feast_port: int, ontime_port: int):
    from ontime.settings import load_settings

    repo = load_settings(config).feature_repo
    feast = subprocess.Popen(
        # --max-requests 0: no gunicorn worker recycling inside the measured window.
        [sys.executable, "-m", "feast.cli.cli", "serve", "-p", str(feast_port),
         "--no-access-log", "--max-requests", "0", "-w", "1"],
        cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ontime = subprocess.Popen(
        [sys.executable, "-m", "ontime_cli", "--config", str(config), "serve",
         "--bundle", str(bundle), "--port", str(ontime_port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return feast, ontime


def feast_body(rows: pd.DataFrame, at: pd.Timestamp) -> dict:
    entities = {k: rows[k].tolist() for k in ("order_id", "origin_warehouse", "carrier_id")}
    entities["request_time_epoch_s"] = [at.timestamp()] * len(rows)
    return {"feature_service": SERVICE, "entities": entities}


def ontime_rows(rows: pd.DataFrame, at: pd.Timestamp) -> list[dict]:
    body = rows[["order_id", "origin_warehouse", "carrier_id"]].to_dict(orient="records")
    return [{**r, "prediction_time": at.isoformat()} for r in body]


def measure(url: str, bodies: list[dict], warmup_s: float = 3.0) -> dict:
    """Sequential requests over one keep-alive connection; latency per request in ms.

    Each scenario first sends ``warmup_s`` of untimed requests (at least 30), so both servers
    are measured warm: for ontime this spans a log flush, whose first Feast write imports the
    offline store's writer once per process.
    """
    latencies = []
    with httpx.Client(timeout=30) as client:
        warm_until, sent = time.monotonic() + warmup_s, 0
        while sent < 30 or time.monotonic() < warm_until:
            _post(client, url, bodies[sent % len(bodies)])
            sent += 1
        for body in bodies:
            started = time.perf_counter()
            _post(client, url, body)
            latencies.append((time.perf_counter() - started) * 1000)
    values = np.array(latencies)
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "per_s": float(len(values) / (values.sum() / 1000)),
    }


def _post(client: httpx.Client, url: str, body: dict) -> None:
    response = client.post(url, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")


def one_run(feast_url: str, ontime_url: str, events: pd.DataFrame, at, requests: int) -> dict:
    rng = np.random.default_rng(len(events))
    singles = [events.iloc[[i]] for i in rng.integers(0, len(events), requests)]
    batches = [
        events.iloc[rng.integers(0, len(events), 100)] for _ in range(max(20, requests // 10))
    ]
    feast, predict = feast_url + "/get-online-features", ontime_url + "/v1/predict"
    return {
        "feast_single": measure(feast, [feast_body(r, at) for r in singles]),
        "ontime_single": measure(predict, [ontime_rows(r, at)[0] for r in singles]),
        "feast_batch100": measure(feast, [feast_body(b, at) for b in batches]),
        "ontime_batch100": measure(
            predict + "/batch", [{"rows": ontime_rows(b, at)} for b in batches]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--shipments-per-day", type=int, default=400)
    args = parser.parse_args()

    from serving.server import free_port

    config = default_world(days=args.days, shipments_per_day=args.shipments_per_day)
    bundle, events, end = prepare(config)
    feast_port, ontime_port = free_port(), free_port()
    feast, ontime = start_servers(config, bundle, feast_port, ontime_port)
    feast_url, ontime_url = f"http://127.0.0.1:{feast_port}", f"http://127.0.0.1:{ontime_port}"
    runs = []
    try:
        wait_ready(feast_url, feast, "/health")
        wait_ready(ontime_url, ontime, "/readyz")
        for run in range(args.repeat):
            result = one_run(feast_url, ontime_url, events, end, args.requests)
            result["ratio_single_p99"] = (
                result["ontime_single"]["p99_ms"] / result["feast_single"]["p99_ms"]
            )
            result["ratio_batch_p99"] = (
                result["ontime_batch100"]["p99_ms"] / result["feast_batch100"]["p99_ms"]
            )
            runs.append(result)
            print(f"run {run + 1}: " + json.dumps(result, default=lambda v: round(v, 2)))
    finally:
        for process in (feast, ontime):
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)

    print(
        f"\n{'scenario':18} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}   (median of {len(runs)} runs)"
    )
    for name in ("feast_single", "ontime_single", "feast_batch100", "ontime_batch100"):
        p50, p99, rate = (
            statistics.median(r[name][k] for r in runs) for k in ("p50_ms", "p99_ms", "per_s")
        )
        print(f"{name:18} {p50:8.2f} {p99:8.2f} {rate:8.1f}")
    single = statistics.median(r["ratio_single_p99"] for r in runs)
    batch = statistics.median(r["ratio_batch_p99"] for r in runs)
    print(
        "\nratio p99 ontime /v1/predict (full) / feast feature-only, 1 row: "
        f"{single:.2f}  (target <= 1.0)"
    )
    print(f"ratio p99 ontime batch 100 / feast feature-only batch 100:      {batch:.2f}")


if __name__ == "__main__":
    main()
