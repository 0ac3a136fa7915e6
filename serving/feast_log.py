"""Served features through Feast's own logging (``store.write_logged_features``).

Feast's Python feature server writes no feature logs, so serving builds the table itself,
in exactly the schema Feast derives from the FeatureService (``FeatureServiceLoggingSource``):
join keys, request fields, and per feature ``<view>__<feature>`` with ``__timestamp`` and
``__status`` (Feast FieldStatus), plus ``__log_timestamp``, ``__log_date``, ``__request_id``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from serving.records import ServedBatch

log = logging.getLogger(__name__)


class FeastLogSink:
    """Writes the answered rows of served batches to each FeatureService's LoggingConfig."""

    def __init__(self, store_handle) -> None:
        self.handle = store_handle

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
            table = logged_features_table(store, service, group)
            if table.num_rows == 0:
                continue
            path = getattr(service.logging_config.destination, "path", None)
            if path and "://" not in str(path):
                # Feast's file destination writes into this folder but does not create it.
                Path(path).mkdir(parents=True, exist_ok=True)
            store.write_logged_features(logs=table, source=service)
            written += table.num_rows
        return written


def logged_features_table(store, service, batches: list[ServedBatch]) -> pa.Table:
    """The answered rows of ``batches`` as a table in Feast's logging schema."""
    from feast.feature_logging import FeatureServiceLoggingSource

    schema = FeatureServiceLoggingSource(service, store.project).get_schema(store.registry)
    columns: dict[str, list] = {name: [] for name in schema.names}
    for batch in batches:
        rows = batch.answered
        served = batch.served_at.astimezone(UTC)
        sources = {**batch.keys, **batch.online.request_values}
        for ref, values in _feature_columns(batch).items():
            sources[ref] = values
        for name in schema.names:
            if name == "__log_timestamp":
                columns[name].extend([served] * len(rows))
            elif name == "__log_date":
                columns[name].extend([served.date()] * len(rows))
            elif name == "__request_id":
                columns[name].extend(batch.request_ids[i] for i in rows)
            elif name.endswith("__timestamp"):
                stamps = batch.online.feast_epoch_s.get(name[: -len("__timestamp")])
                columns[name].extend(_stamp(stamps, i) for i in rows)
            elif name.endswith("__status"):
                states = batch.online.feast_status.get(name[: -len("__status")])
                columns[name].extend(int(states[i]) if states else 0 for i in rows)
            else:
                values = sources.get(name)
                columns[name].extend(values[i] if values is not None else None for i in rows)
    return pa.Table.from_pydict(columns, schema=schema)


def _feature_columns(batch: ServedBatch) -> dict[str, list]:
    """Logged ref (``view__feature``) -> served values."""
    return {ref: batch.online.values[f] for f, ref in batch.online.logged_refs.items()}


def _stamp(stamps: list[int] | None, i: int) -> datetime | None:
    if not stamps or not stamps[i]:
        return None
    return datetime.fromtimestamp(stamps[i], tz=UTC)
