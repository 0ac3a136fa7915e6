"""Training rows for every prediction event of the default world: three ways, same rows.

- ``feast``: ``store.get_historical_features`` on Feast's own DuckDB offline store;
- ``asof``: the same call on ``ontime.feast_plugins.asof_store.AsofDuckDBOfflineStore``;
- ``peer``: a hand-written DuckDB query with the same semantics as training (the floor):
  event and write time both at or before the prediction time, the newest event wins, then
  the newest write of that event, the view's TTL applies, and ``hours_since_last_scan``
  comes from the same pure function in ``feature_repo/transforms.py``.

Each run is a fresh process, so peak RSS is its own. "rows s" is the timed work: entity
frame + retrieval + on-demand features into pandas (for the peer: query + transform);
"setup s" is imports, opening the store and loading ibis' DuckDB backend (the peer: its
DuckDB connection), not in the ratios. Both the plugin and the peer cap DuckDB at 1 GB.
The sides' rows are compared after the runs; a mismatch fails the benchmark. Medians over
--repeat runs, the sides interleaved.

    python benchmarks/bench_training_rows.py [--repeat 3] [--scale 10] [--sides asof,peer]
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

from benchmarks._world import ROOT, WORK, default_world

SIDES = ("feast", "asof", "peer")
STORE_TYPES = {
    "feast": "duckdb",
    "asof": "ontime.feast_plugins.asof_store.AsofDuckDBOfflineStore",
}
DEFAULT_SHIPMENTS_PER_DAY = 1800


STAMP = "epoch_us({event})::HUGEINT * 18446744073709551616 + epoch_us({written})"


def newest_usable(table: str, key: str, event: str, written: str, columns: str) -> str:
    """Rows of ``table`` an ASOF join may pick when event and write time must both be <= t.

    A row is visible from max(event, written). It is kept only if it is the newest (event,
    written) of all its key's rows visible by then, so the latest visible kept row is the
    newest usable one, even when an old event is corrected late. (event, written) is
    compared as one number, event_us * 2**64 + written_us, in one running max.
    """
    stamp = STAMP.format(event=event, written=written)
    return f"""
  SELECT {key}, visible, {event} AS event, {columns} FROM (
    SELECT *, max(stamp) OVER (PARTITION BY {key} ORDER BY visible
                               RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS newest
    FROM (SELECT *, greatest({event}, {written}) AS visible, {stamp} AS stamp
          FROM read_parquet('{table}') WHERE {written} IS NOT NULL))
  WHERE stamp = newest"""


def peer_sql(raw: Path, derived: Path) -> str:
    """The faithful hand-written query for the late_delivery_v1 rows (TTLs as declared).

    Warehouses and carriers have long histories per key: ASOF joins on timelines. A parcel
    has a handful of scans: each ask joins all of its parcel's usable scans and keeps the
    newest (event, write) with arg_max, which skips the timeline's sort (15% faster here).
    An order has one profile row: a plain join with the visible-from test.
    """
    backlog = newest_usable(
        f"{raw}/warehouse_backlog.parquet", "origin_warehouse", "event_timestamp",
        "created_at", "origin_backlog",
    )  # fmt: skip
    rates = newest_usable(
        f"{derived}/carrier_reliability.parquet", "carrier_id", "event_timestamp",
        "created_at", "carrier_late_rate_28d",
    )  # fmt: skip
    return f"""
WITH ev AS (
  SELECT file_row_number AS row_id, order_id, carrier_id, origin_warehouse, prediction_time AS t
  FROM read_parquet('{raw}/prediction_events.parquet', file_row_number = true)),
shipments AS (  -- no write-time column: an order is known from its created_at
  SELECT order_id, created_at AS visible, carrier, distance_km, expedited
  FROM read_parquet('{raw}/shipments.parquet')),
backlog AS ({backlog}),
rates AS ({rates}),
scans AS (
  SELECT order_id, scan_at, greatest(scan_at, ingested_at) AS visible, last_scan_epoch_s,
         {STAMP.format(event="scan_at", written="ingested_at")} AS stamp
  FROM read_parquet('{raw}/scan_events.parquet') WHERE ingested_at IS NOT NULL),
last_scan AS (
  SELECT ev.row_id,
         arg_max({{'event': scans.scan_at, 'epoch': scans.last_scan_epoch_s}}, scans.stamp)
           AS picked
  FROM ev JOIN scans ON scans.order_id = ev.order_id AND scans.visible <= ev.t
  GROUP BY ev.row_id)
SELECT ev.row_id, ev.order_id, ev.carrier_id, ev.origin_warehouse, ev.t AS event_timestamp,
  epoch_us(ev.t) / 1e6 AS request_time_epoch_s,
  CASE WHEN s.visible >= ev.t - INTERVAL 30 DAY THEN s.carrier END AS carrier,
  CASE WHEN s.visible >= ev.t - INTERVAL 30 DAY THEN s.distance_km END AS distance_km,
  CASE WHEN s.visible >= ev.t - INTERVAL 30 DAY THEN s.expedited END AS expedited,
  CASE WHEN b.event >= ev.t - INTERVAL 3 HOUR THEN b.origin_backlog END AS origin_backlog,
  CASE WHEN r.event >= ev.t - INTERVAL 2 DAY THEN r.carrier_late_rate_28d END
    AS carrier_late_rate_28d,
  CASE WHEN l.picked.event >= ev.t - INTERVAL 8 DAY THEN l.picked.epoch END AS last_scan_epoch_s
FROM ev
LEFT JOIN last_scan l USING (row_id)
LEFT JOIN shipments s ON s.order_id = ev.order_id AND s.visible <= ev.t
ASOF LEFT JOIN backlog b ON b.origin_warehouse = ev.origin_warehouse AND b.visible <= ev.t
ASOF LEFT JOIN rates r ON r.carrier_id = ev.carrier_id AND r.visible <= ev.t
ORDER BY ev.row_id
"""


def profile_yaml(repo: Path, side: str) -> Path:
    """The world's feature_store.yaml with only the offline store swapped."""
    import yaml

    config = yaml.safe_load((repo / "feature_store.yaml").read_text())
    config["offline_store"] = {"type": STORE_TYPES[side]}
    path = WORK / "profiles" / f"{repo.name}-{side}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path


def run_store(config: Path, side: str, out: Path | None) -> dict:
    """Entity frame + historical rows through Feast, as training builds them."""
    start = time.perf_counter()
    import pandas as pd

    from ontime.features import entity_frame, historical_rows
    from ontime.repo import describe_service, load_contract, open_store
    from ontime.settings import load_settings

    settings = load_settings(config)
    store = open_store(settings.feature_repo, profile_yaml(settings.feature_repo, side))
    spec = describe_service(store, settings.feature_service)
    # Both stores run on ibis' DuckDB backend; loading it (0.5-1 s of imports, once per
    # process) is setup, as the peer's duckdb.connect() is.
    import ibis

    ibis.get_backend()
    contract = load_contract(settings.feature_repo)
    events = pd.read_parquet(settings.events.table)
    ready = time.perf_counter()
    entities = entity_frame(events, spec, settings.events.time_column, contract.request_time_field)
    rows = historical_rows(store, spec, entities)
    done = time.perf_counter()
    if out is not None:
        rows.to_parquet(out, index=False)
    return {"rows": len(rows), "setup_s": ready - start, "wall_s": done - ready}


def run_peer(config: Path, out: Path | None) -> dict:
    """The hand-written query, then the same pure transform the on-demand view wraps."""
    start = time.perf_counter()
    import duckdb

    from ontime.repo import load_repo_module
    from ontime.settings import load_settings

    settings = load_settings(config)
    transforms = load_repo_module(settings.feature_repo, "transforms")
    raw = settings.raw_data_dir
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")  # day arithmetic on UTC timestamps
    # DuckDB keeps up to 80% of RAM by default; the plugin's default limit, for equal terms.
    connection.execute("SET memory_limit = '1GB'")
    ready = time.perf_counter()
    rows = connection.sql(peer_sql(raw, raw.parent / "derived")).df()
    rows["hours_since_last_scan"] = transforms.hours_since_last_scan(
        rows["last_scan_epoch_s"], rows["request_time_epoch_s"]
    )
    done = time.perf_counter()
    if out is not None:
        rows.drop(columns="row_id").to_parquet(out, index=False)
    return {"rows": len(rows), "setup_s": ready - start, "wall_s": done - ready}


def measure(side: str, config: Path, out: Path | None) -> dict:
    """Run one side in a fresh process; report its timings, rows and peak RSS."""
    command = [sys.executable, __file__, "--side", side, "--config", str(config)]
    if out is not None:
        command += ["--out", str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_rows(paths: dict[str, Path]) -> tuple[list[str], list[str]]:
    """(sides compared, sides whose rows differ from the first side's: values, by column
    name). Sides that wrote no rows are skipped; fewer than two compare nothing."""
    import pandas as pd

    frames = {side: pd.read_parquet(path) for side, path in paths.items() if path.exists()}
    if len(frames) < 2:
        return list(frames), []
    first_side, first = next(iter(frames.items()))
    differing = []
    for side, frame in frames.items():
        try:
            pd.testing.assert_frame_equal(
                frame[list(first.columns)], first, check_dtype=False, check_exact=True
            )
        except (AssertionError, KeyError) as exc:
            print(f"{side} rows differ from {first_side}: {str(exc)[:300]}")
            differing.append(side)
    return list(frames), differing


def print_comparison(paths: dict[str, Path]) -> bool:
    """Compare the sides' rows and say so in one line; True when some side differs."""
    compared, differing = same_rows(paths)
    if len(compared) < 2:
        print(f"rows not compared: {' and '.join(compared) or 'no side'} alone wrote rows")
        return False
    print(f"rows identical across {', '.join(compared)}:", "no" if differing else "yes")
    return bool(differing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="world size vs the default")
    parser.add_argument("--sides", default=",".join(SIDES), help="comma-separated subset")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        if args.side == "peer":
            result = run_peer(args.config, args.out)
        else:
            result = run_store(args.config, args.side, args.out)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    sides = [s for s in args.sides.split(",") if s]
    unknown = sorted(set(sides) - set(SIDES))
    if unknown or not sides:
        parser.error(f"--sides takes some of {', '.join(SIDES)}; got {args.sides!r}")
    per_day = round(DEFAULT_SHIPMENTS_PER_DAY * args.scale)
    config = default_world(shipments_per_day=per_day)
    outputs = {side: WORK / f"rows-{per_day}-{side}.parquet" for side in sides}
    results: dict[str, list[dict]] = {side: [] for side in sides}
    for run in range(args.repeat):
        for side in sides:  # interleaved, so a busy moment hits every side alike
            results[side].append(measure(side, config, outputs[side] if run == 0 else None))
    report(results, args.repeat, per_day)
    if print_comparison(outputs):
        sys.exit(1)


def report(results: dict[str, list[dict]], repeat: int, per_day: int) -> None:
    """Print medians per side and the ratios the issue's targets are stated in."""
    med = {
        side: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for side, runs in results.items()
    }
    rows = int(next(iter(med.values()))["rows"])
    print(f"training rows for {rows:,} prediction events ({per_day} shipments/day), "
          f"median of {repeat} runs")  # fmt: skip
    names = {"feast": "Feast DuckDB store", "asof": "as-of plugin", "peer": "faithful peer SQL"}
    print(f"{'':22}{'rows s':>9}{'setup s':>9}{'peak MB':>9}")
    for side, m in med.items():
        print(f"{names[side]:22}{m['wall_s']:>9.2f}{m['setup_s']:>9.2f}{m['peak_mb']:>9.0f}")
    if "asof" in med and "peer" in med:
        print(f"plugin / peer wall: {med['asof']['wall_s'] / med['peer']['wall_s']:.2f}x")
    if "asof" in med and "feast" in med:
        print(f"Feast store / plugin wall: {med['feast']['wall_s'] / med['asof']['wall_s']:.2f}x")
        print(f"plugin / Feast store peak: {med['asof']['peak_mb'] / med['feast']['peak_mb']:.2f}x")


if __name__ == "__main__":
    main()
