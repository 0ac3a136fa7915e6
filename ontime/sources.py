"""Batch sources that follow the profile: each table is declared once, read by any store.

Feast's DuckDB offline store reads ``FileSource`` and its Spark offline store reads only
``SparkSource``, and a registry stores the source object itself. So a repo declares each
table once through :func:`batch_source`, and the kind is chosen here, in one place, from
``ONTIME_SOURCE_KIND``, which ``ontime apply`` sets from the profile's offline store. Views,
services and the contract never name a source class.
"""

from __future__ import annotations

import os

from ontime.errors import ConfigError

SOURCE_KIND_ENV = "ONTIME_SOURCE_KIND"
SOURCE_KINDS = ("file", "spark")


def kind_for_offline_store(offline_store_type: str) -> str:
    """The source kind an offline store reads: ``spark`` for Spark, else ``file``."""
    return "spark" if offline_store_type == "spark" else "file"


def source_class_for(offline_store_type: str) -> str | None:
    """The batch source class an offline store reads, for the stores ontime has profiles for."""
    if offline_store_type == "spark":
        return "SparkSource"
    # Plugins built on the DuckDB store (ontime.feast_plugins) read what it reads.
    if offline_store_type in ("duckdb", "file", "dask") or offline_store_type.endswith(
        "DuckDBOfflineStore"
    ):
        return "FileSource"
    return None


def source_kind() -> str:
    """The kind of source this process declares (``file`` unless a profile said otherwise)."""
    kind = os.environ.get(SOURCE_KIND_ENV, "file").strip().lower() or "file"
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"{SOURCE_KIND_ENV}={kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    return kind


def batch_source(
    *,
    name: str,
    path: str,
    timestamp_field: str,
    created_timestamp_column: str | None = None,
    description: str = "",
):  # -> feast.FileSource | SparkSource (lazy import: Spark's module needs pyspark)
    """A parquet table as a Feast batch source of the kind the profile's store reads."""
    common = {
        "name": name,
        "path": path,
        "timestamp_field": timestamp_field,
        "created_timestamp_column": created_timestamp_column or "",
        "description": description,
    }
    if source_kind() == "spark":
        from feast.infra.offline_stores.contrib.spark_offline_store.spark_source import (
            SparkSource,
        )

        return SparkSource(file_format="parquet", **common)
    from feast import FileSource

    return FileSource(**common)
