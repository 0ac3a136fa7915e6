"""Feast's DuckDB offline store with the point-in-time join done as DuckDB ASOF joins.

Feast's own join (``feast.infra.offline_stores.ibis.point_in_time_join``) inner-joins every
entity row with every source row of its key that is old enough, then keeps the newest per
row with a window: work and memory grow with rows x history. Here each view becomes a
timeline (see ``asof_timeline``) and one ASOF join per view picks the row directly. Semantics are
Feast's, with and without ``filter_by_created_timestamp``; tests/integration/test_asof_*.py
prove the rows equal.

Only ``get_historical_features`` changes, and only for FileSource views without field
mappings and an entity DataFrame with timezone-aware times. Anything else goes to the
parent store (logged at DEBUG). Pulls for materialization, saved datasets, logging,
monitoring and writes are the DuckDB store's, untouched.
"""

from __future__ import annotations

import logging
from typing import Literal

import duckdb
import pandas as pd
from feast.feature_view import FeatureView
from feast.infra.offline_stores.duckdb import (
    DuckDBOfflineStore,
    DuckDBOfflineStoreConfig,
    _write_data_source,
)
from feast.infra.offline_stores.offline_store import RetrievalJob
from feast.infra.registry.base_registry import BaseRegistry
from feast.repo_config import RepoConfig
from ibis.common.exceptions import IbisError
from pydantic import Field

from ontime.feast_plugins.asof_plan import Unsupported, plan_views
from ontime.feast_plugins.asof_query import asof_join

log = logging.getLogger(__name__)

STORE_TYPE = "ontime.feast_plugins.asof_store.AsofDuckDBOfflineStore"
MEMORY_SIZE = r"^(\d+(\.\d+)?\s*([KMGT]i?B|B))?$"  # what DuckDB's SET memory_limit accepts


class AsofDuckDBOfflineStoreConfig(DuckDBOfflineStoreConfig):
    """The DuckDB store's options, plus one; Feast finds the store class next to this one."""

    type: Literal["ontime.feast_plugins.asof_store.AsofDuckDBOfflineStore"] = STORE_TYPE
    # Under filter_by_created_timestamp, a view whose keys have at most this many rows each
    # is joined row-to-row instead of through a sorted timeline (0: always the timeline).
    newest_pick_max_rows_per_key: int = 64
    # DuckDB's memory limit while a historical retrieval runs ("" or null: DuckDB's default,
    # 80% of RAM, which it fills before spilling); the query is as fast under 1 GB.
    duckdb_memory_limit: str | None = Field("1GB", pattern=MEMORY_SIZE)
    # A request with more entity rows is joined this many at a time (0: all at once), so
    # DuckDB's working set stays that of one slice (4.3M rows: the query's peak fell from
    # 2.49 to 1.92 GB; smaller slices cost time: 250k rows were 5-15% slower on 431k).
    chunk_rows: int = Field(500_000, ge=0)


class AsofDuckDBOfflineStore(DuckDBOfflineStore):
    """DuckDB offline store whose historical retrieval is an ASOF join."""

    @staticmethod
    def get_historical_features(
        config: RepoConfig,
        feature_views: list[FeatureView],
        feature_refs: list[str],
        entity_df: pd.DataFrame | str,
        registry: BaseRegistry,
        project: str,
        full_feature_names: bool = False,
        filter_by_created_timestamp: bool = False,
    ) -> RetrievalJob:
        """Point-in-time rows for ``entity_df``; Feast's own join for what is not supported."""
        try:
            if not isinstance(entity_df, pd.DataFrame):
                raise Unsupported("the entity frame is SQL, not a DataFrame")
            return asof_join(
                config=config,
                plans=plan_views(
                    feature_views, feature_refs, full_feature_names, list(entity_df.columns)
                ),
                feature_refs=feature_refs,
                entity_df=entity_df,
                registry=registry,
                project=project,
                full_feature_names=full_feature_names,
                write_time_cutoff=filter_by_created_timestamp,
                write_source=_write_data_source,
                max_rows_per_key=config.offline_store.newest_pick_max_rows_per_key,
                memory_limit=config.offline_store.duckdb_memory_limit,
                chunk_rows=config.offline_store.chunk_rows,
            )
        except Unsupported as reason:
            log.debug("as-of store: Feast's DuckDB join serves this request (%s)", reason)
        except (duckdb.Error, IbisError) as exc:
            # A source the plan cannot read or compare (an unreadable file, a key typed
            # differently in the frame): Feast's own join reports it, or serves it, as it would
            # without the plugin.
            log.debug("as-of store: Feast's DuckDB join serves this request (%s)", exc)
        return DuckDBOfflineStore.get_historical_features(
            config=config,
            feature_views=feature_views,
            feature_refs=feature_refs,
            entity_df=entity_df,
            registry=registry,
            project=project,
            full_feature_names=full_feature_names,
            filter_by_created_timestamp=filter_by_created_timestamp,
        )
