"""Served features through Feast's own logging (``store.write_logged_features``).

Feast's Python feature server writes no feature logs, so serving builds the table itself,
in exactly the schema Feast derives from the FeatureService (``FeatureServiceLoggingSource``):
join keys, request fields, and per feature ``<view>__<feature>`` with ``__timestamp`` and
``__status`` (Feast FieldStatus), plus ``__log_timestamp``, ``__log_date``, ``__request_id``.
"""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from datetime import UTC
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from serving.records import ServedBatch
from serving.store import open_serving_store

log = logging.getLogger(__name__)


class FeastLogSink:
    """Writes the answered rows of served batches to each FeatureService's LoggingConfig."""

    def __init__(self, store_handle) -> None:
        self.handle = store_handle
        # Service name -> (its definition, logging schema): resolving the schema reads the
        # registry for every view, which costs more than building the table.
        self._schemas: dict[str, tuple[bytes, pa.Schema]] = {}

    def write(self, batches: list[ServedBatch]) -> int:
        """Write one table per FeatureService; returns rows written."""
        by_service: dict[str, list[ServedBatch]] = defaultdict(list)
        for batch in batches:
            by_service[batch.feature_service].append(batch)
        written = 0
        for name, group in by_service.items():
            store = self.handle.store
            if store is None:
                raise RuntimeError("no feature store open for Feast logging")
            service = store.get_feature_service(name, allow_cache=True)
            if service.logging_config is None:
                continue
            table = logged_features_table(store, service, group, self._schema(store, service))
            if table.num_rows == 0:
                continue
            path = getattr(service.logging_config.destination, "path", None)
            if path and "://" not in str(path):
                # Feast's file destination writes into this folder but does not create it.
                Path(path).mkdir(parents=True, exist_ok=True)
            store.write_logged_features(logs=table, source=service)
            _forget_ibis_tables()
            written += table.num_rows
        return written

    def _schema(self, store, service) -> pa.Schema:
        definition = service.to_proto().spec.SerializeToString()
        cached = self._schemas.get(service.name)
        if cached is None or cached[0] != definition:
            cached = (definition, logging_schema(store, service))
            self._schemas[service.name] = cached
        return cached[1]


def _forget_ibis_tables() -> None:
    """Drop ibis's default DuckDB connection after a write.

    Feast's file-destination logging (DuckDB offline store) writes through
    ``ibis.memtable(...).to_parquet``, which leaves each table registered in ibis's default
    connection: the log writer grew without bound (about 10 MB a minute at 80 requests a
    second). A fresh connection per write keeps it flat.
    """
    ibis = sys.modules.get("ibis")
    if ibis is not None:
        ibis.options.default_backend = None


def open_feast_sink(repo: Path, yaml_file: Path | None = None) -> FeastLogSink:
    """A sink on its own FeatureStore (for the log writer process; picklable by reference)."""
    from types import SimpleNamespace

    return FeastLogSink(SimpleNamespace(store=open_serving_store(repo, yaml_file)))


def logging_schema(store, service) -> pa.Schema:
    """The table schema Feast derives from the FeatureService for its logs."""
    from feast.feature_logging import FeatureServiceLoggingSource

    return FeatureServiceLoggingSource(service, store.project).get_schema(store.registry)


def logged_features_table(
    store, service, batches: list[ServedBatch], schema: pa.Schema | None = None
) -> pa.Table:
    """The answered rows of ``batches`` as a table in Feast's logging schema."""
    schema = schema if schema is not None else logging_schema(store, service)
    columns: dict[str, list] = {name: [] for name in schema.names}
    for batch in batches:
        rows = batch.answered.tolist()
        count = len(rows)
        if count == len(batch.request_ids):  # every row (positions are sorted and unique)
            take = list
        else:

            def take(values, rows=rows) -> list:
                return [values[i] for i in rows]

        served = batch.served_at.astimezone(UTC)
        sources = {**batch.keys, **batch.online.request_values, **_feature_columns(batch)}
        for name in schema.names:
            if name == "__log_timestamp":
                columns[name] += [served] * count
            elif name == "__log_date":
                columns[name] += [served.date()] * count
            elif name == "__request_id":
                columns[name] += take(batch.request_ids)
            elif name.endswith("__timestamp"):
                stamps = batch.online.feast_epoch_s.get(name[: -len("__timestamp")])
                columns[name] += take(stamps) if stamps else [0] * count
            elif name.endswith("__status"):
                states = batch.online.feast_status.get(name[: -len("__status")])
                columns[name] += take(states) if states else [0] * count
            else:
                values = sources.get(name)
                columns[name] += take(values) if values is not None else [None] * count
    arrays = {
        name: _timestamps(columns[name], schema.field(name).type)
        if name.endswith("__timestamp")
        else columns[name]
        for name in schema.names
    }
    return pa.Table.from_pydict(arrays, schema=schema)


def _feature_columns(batch: ServedBatch) -> dict[str, list]:
    """Logged ref (``view__feature``) -> served values."""
    return {ref: batch.online.values[f] for f, ref in batch.online.logged_refs.items()}


def _timestamps(epoch_s: list[int], kind: pa.DataType) -> pa.Array:
    """Whole epoch seconds as Feast's timestamp type; 0 (no event time) becomes null."""
    seconds = pa.array(epoch_s, type=pa.int64())
    seconds = pc.if_else(pc.equal(seconds, 0), pa.scalar(None, pa.int64()), seconds)
    return seconds.cast(pa.timestamp("s", tz="UTC")).cast(kind)
