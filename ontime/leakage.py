"""Leakage gate: refuse a FeatureService that reads a field only known after prediction time.

Run by ``ontime apply`` on the parsed repo before anything reaches the registry, and again
by training on the registered service. The check is by source column, through each view's
field mapping, and follows on-demand views down to the views and request fields they read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ontime.errors import LeakageError


def _source_column(view, feature: str) -> str:
    """The batch-source column a view's feature is read from (reverse of field_mapping)."""
    source = getattr(view, "batch_source", None)
    mapping = getattr(source, "field_mapping", None) or {}
    reverse = {feature_name: column for column, feature_name in mapping.items()}
    return reverse.get(feature, feature)


def find_leaks(
    service, views: Mapping[str, object], odfvs: Mapping[str, object], future_only: Iterable[str]
) -> list[str]:
    """Describe every feature of ``service`` that comes from a future-only field."""
    future_only = set(future_only)
    leaks: list[str] = []

    def check_view(view_name: str, fields, via: str) -> None:
        view = views.get(view_name)
        for field in fields:
            column = _source_column(view, field.name) if view is not None else field.name
            if column in future_only or field.name in future_only:
                leaks.append(
                    f"feature '{field.name}'{via} from view '{view_name}' reads "
                    f"future-only field '{column}'"
                )

    for projection in service.feature_view_projections:
        odfv = odfvs.get(projection.name)
        if odfv is None:
            check_view(projection.name, projection.features, "")
            continue
        via = f" (via on-demand view '{odfv.name}')"
        for source in odfv.source_feature_view_projections.values():
            check_view(source.name, source.features, via)
        for request in odfv.source_request_sources.values():
            for field in request.schema:
                if field.name in future_only:
                    leaks.append(f"request field '{field.name}'{via} is future-only")
    return leaks


def assert_no_leaks(service, views, odfvs, future_only: Iterable[str]) -> None:
    """Raise :class:`LeakageError` naming every offending feature."""
    leaks = find_leaks(service, views, odfvs, future_only)
    if leaks:
        raise LeakageError(
            f"FeatureService '{service.name}' refused by the leakage gate: " + "; ".join(leaks)
        )


def check_registered_service(store, service_name: str, future_only: Iterable[str]) -> None:
    """The gate as training runs it: against what the registry holds now."""
    service = store.get_feature_service(service_name)
    views = {v.name: v for v in store.list_feature_views()}
    odfvs = {v.name: v for v in store.list_on_demand_feature_views()}
    assert_no_leaks(service, views, odfvs, future_only)
