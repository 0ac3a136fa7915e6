"""What the as-of store needs to know about each feature view, or why it cannot serve a request.

Names are derived exactly as Feast's ibis join derives them (``name_to_use`` selects the
references, ``name_alias or name`` prefixes full feature names), so both stores return the
same columns. Anything outside the shapes proven identical raises :class:`Unsupported`, and
the store hands the request to Feast's own join.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import ibis
import pandas as pd


class Unsupported(Exception):
    """The request is valid Feast, but not one the as-of join is proven identical for."""


@dataclass(frozen=True)
class ViewPlan:
    """One feature view's part of the join: where, on what keys, which columns, how old."""

    name: str
    source: object  # feast FileSource
    join_keys: tuple[tuple[str, str], ...]  # (source column, entity-frame column)
    timestamp_field: str
    created_field: str | None
    features: tuple[tuple[str, str], ...]  # (source column, output column)
    ttl: timedelta | None  # None: any age joins (Feast ignores a zero TTL too)


def plan_views(
    feature_views: Sequence,
    feature_refs: Sequence[str],
    full_feature_names: bool,
    entity_columns: Sequence[str],
) -> list[ViewPlan]:
    """A plan per feature view, in Feast's order, or :class:`Unsupported` with the reason."""
    from feast.infra.offline_stores.file_source import FileSource

    internal = [c for c in entity_columns if str(c).startswith("__asof_")]
    if internal:  # the join's own columns (row number, keys, times) carry this prefix
        raise Unsupported(f"entity column(s) {internal} use the reserved prefix __asof_")
    plans = []
    for view in feature_views:
        source = view.batch_source
        if type(source) is not FileSource:  # subclasses may read differently
            raise Unsupported(f"view '{view.name}' has a {type(source).__name__} source")
        if source.field_mapping:
            raise Unsupported(f"view '{view.name}' source has a field mapping")
        if not is_local_parquet(source):
            raise Unsupported(f"view '{view.name}' source {source.path} is not a local parquet")
        prefix = view.projection.name_to_use()
        names = [ref.split(":")[1] for ref in feature_refs if ref.startswith(f"{prefix}:")]
        base = view.projection.name_alias or view.name
        outputs = [f"{base}__{name}" if full_feature_names else name for name in names]
        keys = view.projection.join_key_map or {e.name: e.name for e in view.entity_columns}
        missing = [column for column in keys.values() if column not in entity_columns]
        if missing:
            raise Unsupported(f"entity frame lacks join key(s) {missing} of '{view.name}'")
        if view.ttl:
            try:  # the expiry interval Feast adds; ibis cannot type some (days plus seconds)
                ibis.literal(view.ttl)
            except ValueError as exc:
                raise Unsupported(f"view '{view.name}' TTL {view.ttl}: {exc}") from exc
        plans.append(
            ViewPlan(
                name=view.name,
                source=source,
                join_keys=tuple(keys.items()),
                timestamp_field=source.timestamp_field,
                created_field=source.created_timestamp_column or None,
                features=tuple(zip(names, outputs, strict=True)),
                ttl=view.ttl or None,
            )
        )
    outputs = [out for plan in plans for _, out in plan.features]
    clashes = sorted({c for c in outputs if outputs.count(c) > 1 or c in entity_columns})
    if clashes:
        raise Unsupported(f"output column(s) {clashes} appear twice")
    return plans


def is_local_parquet(source) -> bool:
    """Whether Feast's DuckDB reader would read ``source`` with a plain ``read_parquet``."""
    from feast.data_format import ParquetFormat

    path = str(source.path)
    fmt = source.file_format
    parquet = isinstance(fmt, ParquetFormat) or (fmt is None and path.endswith(".parquet"))
    return parquet and "://" not in path


def require_aware_timestamps(entity_df: pd.DataFrame, column: str) -> None:
    """Only timezone-aware prediction times are compared exactly as Feast compares them."""
    dtype = entity_df[column].dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        raise Unsupported(f"entity column '{column}' is {dtype}, not timezone-aware datetime64")
