"""Online feature lookups through the same FeatureService the model was trained on."""

from __future__ import annotations

import pandas as pd

from ontime.repo import ServiceSpec


def online_rows(
    store, spec: ServiceSpec, entities: pd.DataFrame, with_timestamps: bool = False
) -> pd.DataFrame:
    """One online lookup for a whole batch of entity rows (keys + request-time fields).

    ``with_timestamps`` adds Feast's ``<feature>__ts`` columns: event time in epoch seconds,
    0 when the store has no value (or the feature is computed on demand).
    """
    columns = [*spec.entity_keys, *spec.request_fields]
    entity_rows = entities[columns].to_dict(orient="records")
    service = store.get_feature_service(spec.name)
    response = store.get_online_features(features=service, entity_rows=entity_rows)
    return pd.DataFrame(response.to_dict(include_event_timestamps=with_timestamps))
