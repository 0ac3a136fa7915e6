"""How old each feature value of a point-in-time row was, dated as serving dates it.

Serving logs ``<feature>__age_s``: the request's prediction time minus the event time (whole
seconds) of the online row it read; an on-demand output takes the age of its oldest input.
Training rows carry no such column, so a monitoring profile built from them cannot calibrate
freshness. These functions give a reference period the same ages: the event time of the row
the point-in-time join picked (newest event, then newest write, both at or before the
prediction time), before the view's TTL drops it, since online the expired value is still
read and then judged stale.

The dating runs the as-of plugin's join (``ontime.feast_plugins``) on the service's views,
so it needs what that join needs: local parquet FileSources. Elsewhere (a Spark profile) it
says why and returns None, and freshness keeps its configured thresholds.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ontime.repo import ServiceSpec

log = logging.getLogger(__name__)

AGE_SUFFIX = "__age_s"  # the column of a feature's age, in serving's log and here
ROW = "__ages_row"


def feature_ages(
    store, spec: ServiceSpec, keys: pd.DataFrame, times: pd.Series
) -> dict[str, np.ndarray] | None:
    """Age in seconds (NaN: no usable row) of every feature of ``spec`` at ``times``, for the
    entity rows ``keys``; None when the store's sources cannot be dated here."""
    import duckdb
    from ibis.common.exceptions import IbisError

    from ontime.feast_plugins.asof_plan import Unsupported, plan_views
    from ontime.feast_plugins.asof_query import asof_join, event_time_column

    sources = _source_views(store, spec)
    names = dict.fromkeys(name for names in sources.values() for name in names)
    views = [v for v in map(store.get_feature_view, names) if v.features]
    refs = [f"{view.name}:{view.features[0].name}" for view in views]
    entities = keys.reset_index(drop=True).copy()
    entities["event_timestamp"] = pd.to_datetime(times, utc=True).astype("datetime64[us, UTC]")
    entities[ROW] = np.arange(len(entities), dtype="int64")
    offline = store.config.offline_store
    try:
        job = asof_join(
            config=store.config,
            plans=plan_views(views, refs, False, list(entities.columns)),
            feature_refs=refs,
            entity_df=entities,
            registry=store.registry,
            project=store.project,
            full_feature_names=False,
            write_time_cutoff=True,
            write_source=None,
            max_rows_per_key=getattr(offline, "newest_pick_max_rows_per_key", 64),
            memory_limit=getattr(offline, "duckdb_memory_limit", "1GB"),
            chunk_rows=getattr(offline, "chunk_rows", 0),
            event_times=True,
        )
        columns = [ROW, *(event_time_column(v.name) for v in views)]
        picked = job.to_arrow().select(columns).to_pandas()
    except (Unsupported, duckdb.Error, IbisError) as exc:
        log.info("feature ages cannot be dated here (%s)", exc)
        return None
    picked = picked.sort_values(ROW).reset_index(drop=True)
    prediction_s = _epoch_us(entities["event_timestamp"]) / 1e6
    events = {v.name: _whole_seconds(picked[event_time_column(v.name)]) for v in views}
    unknown = np.full(len(entities), np.nan)
    # An on-demand output is as old as its oldest input (NaN if an input is missing, or if
    # it has only request inputs), as serving dates it.
    return {
        feature: prediction_s - np.minimum.reduce([events[n] for n in names] or [unknown])
        for feature, names in sources.items()
    }


def _source_views(store, spec: ServiceSpec) -> dict[str, list[str]]:
    """Feature -> the batch feature views its value comes from."""
    odfvs = {v.name: v for v in store.list_on_demand_feature_views()}
    sources = {}
    for feature in spec.features:
        view = spec.views[feature]
        if view in odfvs:
            sources[feature] = [
                p.name for p in odfvs[view].source_feature_view_projections.values()
            ]
        else:
            sources[feature] = [view]
    return sources


def _whole_seconds(stamps: pd.Series) -> np.ndarray:
    """Epoch seconds, truncated as serving's protobuf timestamps are (NaN where NULL)."""
    times = pd.to_datetime(stamps, utc=True)
    seconds = np.floor(_epoch_us(times) / 1e6)
    return np.where(times.isna().to_numpy(), np.nan, seconds)


def _epoch_us(times: pd.Series) -> np.ndarray:
    """Microseconds since the epoch of tz-aware times, whatever their unit."""
    return times.dt.as_unit("us").astype("int64").to_numpy().astype("float64")
