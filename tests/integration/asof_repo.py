"""A tiny synthetic Feast repo for comparing the as-of offline store with Feast's DuckDB store.

Three feature views over three parquet sources cover the shapes that matter for a
point-in-time join: a view with a write-time column and a short TTL keyed by a string,
one keyed by an integer with a longer TTL and another write-time column name, and one
with no write-time column and no TTL; an on-demand view adds a request-time input. The
definitions are applied once, in process; tests then rewrite the parquet files and ask both
stores for the same rows. Two FeatureStores share one registry and differ only in their
``offline_store``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PLUGIN = "ontime.feast_plugins.asof_store.AsofDuckDBOfflineStore"
BASE = pd.Timestamp("2026-03-01", tz="UTC")
USER_TTL = timedelta(minutes=10)
ZONE_TTL = timedelta(minutes=25)
SERVICE = "asof_probe_v1"
TIME = pa.timestamp("us", tz="UTC")
# Fixed parquet types, so an empty or all-NULL column is still text, int or time on disk.
SCHEMAS = {
    "user_stats": pa.schema(
        [("user_id", pa.string()), ("ts", TIME), ("written_at", TIME), ("score", pa.float64()),
         ("label", pa.string())]
    ),
    "zone_load": pa.schema(
        [("zone_id", pa.int64()), ("event_time", TIME), ("loaded_at", TIME), ("load", pa.int64())]
    ),
    "user_profile": pa.schema([("user_id", pa.string()), ("ts", TIME), ("tier", pa.float64())]),
}  # fmt: skip


# The plugin joins a view either through a sorted timeline or row-to-row (few rows per key,
# write-time cutoff); 0 forces the timeline everywhere, so both ways are compared to Feast.
TIMELINE_ONLY = {"newest_pick_max_rows_per_key": 0}
# The timeline store also joins the entity rows a few at a time (a query per slice, over
# the source rows of that slice's times), so the slices' edges are compared to Feast too.
SLICED = {"chunk_rows": 3}


@dataclass
class AsofRepo:
    folder: Path
    feast_store: object  # feast.FeatureStore on Feast's own DuckDB offline store
    plugin_store: object  # the same registry through the as-of plugin, default options
    timeline_store: object  # the plugin, sorted timelines only, 3 entity rows per query

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Replace one source table (``user_stats``, ``zone_load`` or ``user_profile``)."""
        table = pa.Table.from_pandas(frame, schema=SCHEMAS[name], preserve_index=False)
        pq.write_table(table, self.folder / f"{name}.parquet")


def _config(folder: Path, offline_type: str, **options):
    from feast import RepoConfig

    return RepoConfig(
        project="asof_probe",
        provider="local",
        registry=str(folder / "registry.db"),
        online_store={"type": "sqlite", "path": str(folder / "online.db")},
        offline_store={"type": offline_type, **options},
        entity_key_serialization_version=3,
        repo_path=folder,
    )


def build_repo(folder: Path) -> AsofRepo:
    """Declare, apply and return both stores over empty-but-typed sources."""
    from feast import (
        Entity,
        FeatureService,
        FeatureStore,
        FeatureView,
        Field,
        FileSource,
        RequestSource,
        ValueType,
    )
    from feast.on_demand_feature_view import on_demand_feature_view
    from feast.types import Float64, Int64, String

    folder.mkdir(parents=True, exist_ok=True)
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
    zone = Entity(name="zone", join_keys=["zone_id"], value_type=ValueType.INT64)
    stats_source = FileSource(
        name="user_stats_source",
        path=str(folder / "user_stats.parquet"),
        timestamp_field="ts",
        created_timestamp_column="written_at",
    )
    load_source = FileSource(
        name="zone_load_source",
        path=str(folder / "zone_load.parquet"),
        timestamp_field="event_time",
        created_timestamp_column="loaded_at",
    )
    profile_source = FileSource(
        name="user_profile_source",
        path=str(folder / "user_profile.parquet"),
        timestamp_field="ts",
    )
    user_stats = FeatureView(
        name="user_stats",
        entities=[user],
        ttl=USER_TTL,
        schema=[Field(name="score", dtype=Float64), Field(name="label", dtype=String)],
        source=stats_source,
    )
    zone_load = FeatureView(
        name="zone_load",
        entities=[zone],
        ttl=ZONE_TTL,
        schema=[Field(name="load", dtype=Int64)],
        source=load_source,
    )
    user_profile = FeatureView(
        name="user_profile",
        entities=[user],
        ttl=timedelta(0),  # no TTL: Feast joins any age
        schema=[Field(name="tier", dtype=Float64)],
        source=profile_source,
    )
    # Not in the service: a renamed column, which the plugin leaves to Feast's own join.
    renamed_source = FileSource(
        name="user_profile_renamed",
        path=str(folder / "user_profile.parquet"),
        timestamp_field="ts",
        field_mapping={"tier": "rank"},
    )
    user_rank = FeatureView(
        name="user_rank",
        entities=[user],
        ttl=timedelta(0),
        schema=[Field(name="rank", dtype=Float64)],
        source=renamed_source,
    )
    request = RequestSource(name="probe_request", schema=[Field(name="asked_s", dtype=Float64)])

    @on_demand_feature_view(
        sources=[user_stats, request],
        schema=[Field(name="score_per_hour", dtype=Float64)],
        mode="python",
    )
    def score_rate(inputs: dict[str, list]) -> dict[str, list]:
        out = []
        for score, asked in zip(inputs["score"], inputs["asked_s"], strict=True):
            out.append(None if score is None else score * 3600.0 / (1.0 + asked % 7))
        return {"score_per_hour": out}

    service = FeatureService(
        name=SERVICE,
        features=[user_stats, zone_load, user_profile, score_rate],
    )
    repo = AsofRepo(
        folder=folder,
        feast_store=FeatureStore(config=_config(folder, "duckdb")),
        plugin_store=FeatureStore(config=_config(folder, PLUGIN)),
        timeline_store=FeatureStore(config=_config(folder, PLUGIN, **TIMELINE_ONLY, **SLICED)),
    )
    empty_tables(repo)
    repo.feast_store.apply(
        [user, zone, stats_source, load_source, profile_source, renamed_source, user_stats,
         zone_load, user_profile, user_rank, request, score_rate, service]
    )  # fmt: skip
    repo.plugin_store.refresh_registry()
    repo.timeline_store.refresh_registry()
    return repo


def us(values) -> pd.Series:
    """Timestamps as the DuckDB store wants them on disk: microseconds, UTC."""
    return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[us, UTC]")


def empty_tables(repo: AsofRepo) -> None:
    """One typed row per source so ``feast apply`` can infer schemas."""
    at = us([BASE])
    repo.write(
        "user_stats",
        pd.DataFrame(
            {"user_id": ["u0"], "ts": at, "written_at": at, "score": [1.0], "label": ["a"]}
        ),
    )
    repo.write(
        "zone_load",
        pd.DataFrame(
            {
                "zone_id": pd.Series([1], dtype="int64"),
                "event_time": at,
                "loaded_at": at,
                "load": pd.Series([1], dtype="Int64"),
            }
        ),
    )
    repo.write("user_profile", pd.DataFrame({"user_id": ["u0"], "ts": at, "tier": [1.0]}))


def all_stores(repo: Path, folder: Path) -> tuple[object, object, object]:
    """Feast's DuckDB store, the plugin, and the plugin on timelines only and 500 entity rows
    per query, over an applied repo, whatever its yaml says.

    Each is the repo's ``feature_store.yaml`` with only ``offline_store`` replaced, opened
    as a profile, so the comparison holds before and after the plugin becomes the default.
    """
    import yaml

    from ontime.repo import open_store

    stores = []
    offline_stores = {
        "duckdb": {"type": "duckdb"},
        "asof": {"type": PLUGIN},
        "timeline": {"type": PLUGIN, **TIMELINE_ONLY, "chunk_rows": 500},
    }
    for name, offline in offline_stores.items():
        config = yaml.safe_load((repo / "feature_store.yaml").read_text())
        config["offline_store"] = offline
        profile = folder / f"{name}.yaml"
        profile.write_text(yaml.safe_dump(config))
        stores.append(open_store(repo, profile))
    return stores[0], stores[1], stores[2]
