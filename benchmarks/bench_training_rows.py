"""Training-row build for every prediction event of the default world.

Peer: a hand-written DuckDB ASOF JOIN over the same parquet tables (same TTLs, latest write
per event). Each side runs in its own process so peak memory is its own. Prints wall time,
peak RSS and the ratio ontime/peer; medians over --repeat runs.

    python benchmarks/bench_training_rows.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._world import ROOT, default_world

PEER_SQL = """
WITH ev AS (
  SELECT order_id, carrier_id, origin_warehouse, prediction_time AS t
  FROM read_parquet('{raw}/prediction_events.parquet')),
backlog AS (
  SELECT origin_warehouse, event_timestamp, arg_max(origin_backlog, created_at) AS origin_backlog
  FROM read_parquet('{raw}/warehouse_backlog.parquet') GROUP BY ALL),
scans AS (
  SELECT order_id, scan_at, arg_max(last_scan_epoch_s, ingested_at) AS last_scan_epoch_s
  FROM read_parquet('{raw}/scan_events.parquet') GROUP BY ALL),
rates AS (
  SELECT carrier_id, event_timestamp, arg_max(carrier_late_rate_28d, created_at) AS rate
  FROM read_parquet('{derived}/carrier_reliability.parquet') GROUP BY ALL)
SELECT ev.*, s.carrier, s.distance_km, s.expedited,
  CASE WHEN b.event_timestamp >= ev.t - INTERVAL 3 HOUR THEN b.origin_backlog END AS origin_backlog,
  CASE WHEN r.event_timestamp >= ev.t - INTERVAL 2 DAY THEN r.rate END AS carrier_late_rate_28d,
  CASE WHEN sc.scan_at >= ev.t - INTERVAL 8 DAY
       THEN least((epoch(ev.t) - sc.last_scan_epoch_s) / 3600.0, 168.0) END AS hours_since_last_scan
FROM ev
ASOF LEFT JOIN read_parquet('{raw}/shipments.parquet') s
  ON s.order_id = ev.order_id AND s.created_at <= ev.t
ASOF LEFT JOIN backlog b ON b.origin_warehouse = ev.origin_warehouse AND b.event_timestamp <= ev.t
ASOF LEFT JOIN rates r ON r.carrier_id = ev.carrier_id AND r.event_timestamp <= ev.t
ASOF LEFT JOIN scans sc ON sc.order_id = ev.order_id AND sc.scan_at <= ev.t
"""


def run_ontime(config: Path) -> int:
    import pandas as pd

    from ontime.features import entity_frame, historical_rows
    from ontime.repo import describe_service, load_contract, open_store
    from ontime.settings import load_settings

    settings = load_settings(config)
    store = open_store(settings.feature_repo)
    spec = describe_service(store, settings.feature_service)
    contract = load_contract(settings.feature_repo)
    events = pd.read_parquet(settings.events.table)
    entities = entity_frame(events, spec, settings.events.time_column, contract.request_time_field)
    rows = historical_rows(store, spec, entities)
    return len(rows)


def run_peer(config: Path) -> int:
    import duckdb

    from ontime.settings import load_settings

    raw = load_settings(config).raw_data_dir
    sql = PEER_SQL.format(raw=raw, derived=raw.parent / "derived")
    return len(duckdb.sql(sql).df())


def measure(side: str, config: Path) -> dict:
    """Run one side in a fresh process; report its wall time, rows and peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--side", side, "--config", str(config)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=["ontime", "peer"])
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    if args.side:
        start = time.perf_counter()
        rows = (run_ontime if args.side == "ontime" else run_peer)(args.config)
        wall = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"rows": rows, "wall_s": wall, "peak_mb": peak_mb}))
        return

    config = default_world()
    results = {"ontime": [], "peer": []}
    for _ in range(args.repeat):
        for side in results:
            results[side].append(measure(side, config))
    med = {
        side: {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "peak_mb", "rows")}
        for side, runs in results.items()
    }
    print(
        f"training rows for {int(med['ontime']['rows']):,} prediction events "
        f"(median of {args.repeat} runs)"
    )
    print(f"{'':28}{'wall s':>10}{'peak MB':>10}")
    print(
        f"{'ontime (Feast PIT + ODFV)':28}{med['ontime']['wall_s']:>10.2f}"
        f"{med['ontime']['peak_mb']:>10.0f}"
    )
    print(
        f"{'raw DuckDB ASOF JOIN':28}{med['peer']['wall_s']:>10.2f}{med['peer']['peak_mb']:>10.0f}"
    )
    print(
        f"{'ratio ontime/peer':28}{med['ontime']['wall_s'] / med['peer']['wall_s']:>10.2f}"
        f"{med['ontime']['peak_mb'] / med['peer']['peak_mb']:>10.2f}"
    )
    print(
        "note: the peer ignores write times (created_at/ingested_at <= t), which ontime "
        "enforces, so it does less work and is not leak-free."
    )


if __name__ == "__main__":
    main()
