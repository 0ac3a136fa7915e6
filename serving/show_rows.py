"""``ontime show-rows``: one training row beside the online row serving would read for it."""

from __future__ import annotations

import pandas as pd

from ontime.contract import FeatureContract
from ontime.errors import OntimeError
from ontime.repo import ServiceSpec
from ontime.settings import Settings
from serving.freshness import allowed_ages


def read_prediction_events(settings: Settings) -> pd.DataFrame:
    """The entity frame: one row per (entity, prediction_time) at which the product asks."""
    path = settings.events.table
    if not path.exists():
        raise OntimeError(f"no prediction events at {path}; run `ontime simulate` first")
    return pd.read_parquet(path)


def show_training_and_online_row(settings: Settings) -> str:
    """Materialize to the newest prediction event and show its training and online rows."""
    from ontime.features import entity_frame, historical_rows
    from ontime.materialize import materialize
    from ontime.repo import describe_service, load_contract, open_store
    from serving.online import online_rows

    events = read_prediction_events(settings)
    event = events.sort_values(settings.events.time_column).iloc[[-1]].reset_index(drop=True)
    asked_at = event[settings.events.time_column].iloc[0].to_pydatetime()
    materialize(settings.feature_repo, end=asked_at, profile=settings.profile)

    store = open_store(settings.feature_repo, settings.profile)
    spec = describe_service(store, settings.feature_service)
    contract = load_contract(settings.feature_repo)
    entities = entity_frame(event, spec, settings.events.time_column, contract.request_time_field)
    offline = historical_rows(store, spec, entities)
    online = online_rows(store, spec, entities, with_timestamps=True)
    table = pd.DataFrame(
        {
            "training (offline, point-in-time)": offline[list(spec.features)].iloc[0],
            "serving (online store)": online[list(spec.features)].iloc[0],
        }
    )
    stale = stale_features(spec, contract, online.iloc[0], asked_at.timestamp())
    table["match"] = [
        stale.get(name) or ("yes" if _same(a, b) else "NO")
        for name, a, b in zip(table.index, table.iloc[:, 0], table.iloc[:, 1], strict=True)
    ]
    keys = ", ".join(f"{k}={event[k].iloc[0]}" for k in spec.entity_keys)
    return (
        f"FeatureService {spec.name}; {keys}; prediction_time={asked_at.isoformat()}\n"
        f"{table.to_string()}"
    )


def stale_features(
    spec: ServiceSpec, contract: FeatureContract, online: pd.Series, asked_at_s: float
) -> dict[str, str]:
    """Features whose online value is older than allowed at ``asked_at_s``, as serving sees it.

    Feast ignores the TTL online, so the online store still returns a value that the offline
    join drops as expired: that is staleness, not a mismatch.
    """
    limits = allowed_ages(spec, contract, spec.features)
    found = {}
    for name, limit in limits.items():
        stamp = float(online.get(f"{name}__ts") or 0.0)
        if stamp > 0 and asked_at_s - stamp > limit:
            age_h, limit_h = (asked_at_s - stamp) / 3600, limit / 3600
            found[name] = f"stale online (age {age_h:.1f} h > {limit_h:.1f} h)"
    return found


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return a == b
