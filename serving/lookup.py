"""One online lookup per batch for a FeatureService, with event timestamps and Feast statuses.

Feast's online response gives no timestamp for on-demand features, yet their freshness is
the freshness of their inputs. So the lookup also asks for the inputs of every on-demand
view in the service (read from the registry) and dates each on-demand output by its oldest
input. Everything is derived from the FeatureService; no feature is named here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ontime.errors import OntimeError
from ontime.repo import ServiceSpec, describe_service

# Feast FieldStatus values (ServingService.proto).
FEAST_PRESENT, FEAST_NULL, FEAST_NOT_FOUND = 1, 2, 3


@dataclass
class OnlineRows:
    """Raw online values of one batch, column-wise, plus per-feature freshness facts."""

    values: dict[str, list[Any]]  # feature -> raw values as served
    event_epoch_s: dict[str, np.ndarray]  # feature -> event time (NaN when unknown)
    # feature -> the newest event time behind the value (an on-demand feature's newest
    # input), which must not be after the prediction time
    newest_epoch_s: dict[str, np.ndarray]
    found: dict[str, np.ndarray]  # feature -> the entity key had a row in its view
    feast_status: dict[str, list[int]]  # logged ref (view__feature) -> Feast FieldStatus
    feast_epoch_s: dict[str, list[int]]  # logged ref -> event time in whole seconds
    request_values: dict[str, list[Any]]  # request-time fields sent with the lookup
    logged_refs: dict[str, str]  # feature -> logged ref
    feature_keys: dict[str, tuple[str, ...]]  # feature -> join keys of the view it reads


class ServiceLookup:
    """A FeatureService resolved once, so each request costs only the online read."""

    def __init__(self, store, service_name: str) -> None:
        self.spec: ServiceSpec = describe_service(store, service_name)
        self.service = store.get_feature_service(service_name)
        views = {v.name: v for v in store.list_feature_views()}
        odfvs = {v.name: v for v in store.list_on_demand_feature_views()}
        entity_types = {e.join_key: e.value_type.name for e in store.list_entities()}
        self.key_types = {k: entity_types.get(k, "STRING") for k in self.spec.entity_keys}
        self.logged_refs: dict[str, str] = {}  # feature -> "projection__feature"
        self.feature_keys: dict[str, tuple[str, ...]] = {}  # feature -> join keys of its view
        self.inputs_of: dict[str, list[str]] = {}  # on-demand feature -> logged refs of inputs
        requested: list[tuple[str, str]] = []  # (projection, feature) the service serves
        inputs_needed: list[tuple[str, str]] = []  # inputs of its on-demand views
        python_mode: list[str] = []  # outputs of python-mode on-demand views
        remaps = False
        for projection in self.service.feature_view_projections:
            remaps |= bool(projection.join_key_map)
            for field in projection.features:
                self.logged_refs[field.name] = f"{projection.name_to_use()}__{field.name}"
                requested.append((projection.name_to_use(), field.name))
                if projection.name in views:
                    view = views[projection.name]
                    self.feature_keys[field.name] = tuple(c.name for c in view.entity_columns)
                elif projection.name in odfvs:
                    odfv = odfvs[projection.name]
                    if odfv.mode == "python":
                        python_mode.append(field.name)
                    inputs = _odfv_inputs(odfv)
                    self.inputs_of[field.name] = [f"{v}__{f}" for v, f in inputs]
                    inputs_needed.extend(i for i in inputs if i not in inputs_needed)
                    self.feature_keys[field.name] = tuple(
                        c.name
                        for s in odfv.source_feature_view_projections.values()
                        for c in views[s.name].entity_columns
                    )
        # A projection that renames join keys only works through the FeatureService object;
        # then on-demand outputs cannot be dated and their age stays unknown.
        if remaps:
            self.inputs_of = {}
        else:
            requested += [i for i in inputs_needed if i not in requested]
        self.features_arg: Any = (
            self.service if remaps else [f"{view}:{feature}" for view, feature in requested]
        )
        # Ask Feast for short names unless two views share one: Feast 0.67 leaves out the
        # outputs of python-mode on-demand views when asked for full names.
        short = [feature for _, feature in requested]
        self.full_names = len(set(short)) < len(short)
        if self.full_names and python_mode:
            raise OntimeError(
                f"FeatureService '{service_name}': feature names repeat across views, and "
                f"Feast cannot then return python-mode on-demand feature(s) {python_mode}"
            )
        # Name in Feast's response -> logged ref ("projection__feature").
        self.ref_of: dict[str, str] = {
            (f"{view}__{feature}" if self.full_names else feature): f"{view}__{feature}"
            for view, feature in requested
        }
        self._response_name = {ref: name for name, ref in self.ref_of.items()}

    def fetch(self, store, entities: dict[str, list[Any]]) -> OnlineRows:
        """Read one batch: ``entities`` maps each entity key and request field to a column."""
        response = store.get_online_features(
            features=self.features_arg, entity_rows=entities, full_feature_names=self.full_names
        )
        table = response.to_dict()
        rows = len(next(iter(entities.values())))
        statuses: dict[str, list[int]] = {}  # logged ref -> Feast FieldStatus
        epoch: dict[str, list[int]] = {}  # logged ref -> event time, whole seconds
        proto = response.proto
        derived = {self.logged_refs[f] for f in self.inputs_of if f in self.logged_refs}
        for name, result in zip(proto.metadata.feature_names.val, proto.results, strict=True):
            ref = self.ref_of.get(name)
            if ref is not None:
                stamps = [stamp.seconds for stamp in result.event_timestamps]
                states = list(result.statuses)
                if ref not in derived:
                    # Feast's Redis store returns a never-written key as present with event
                    # time 0 where SQLite says NOT_FOUND; no stored value is from 1970, so
                    # normalise and an unknown entity is a 404 on every online store.
                    states = [
                        FEAST_NOT_FOUND if sec == 0 else st
                        for st, sec in zip(states, stamps, strict=True)
                    ]
                statuses[ref] = states
                epoch[ref] = stamps

        values, event, newest, found = {}, {}, {}, {}
        for feature, ref in self.logged_refs.items():
            values[feature] = table[self._response_name[ref]]
            if feature in self.inputs_of:
                inputs = [i for i in self.inputs_of[feature] if i in epoch]
                stamps = np.array([epoch[i] for i in inputs], dtype="float64").reshape(-1, rows)
                present = np.array([statuses[i] for i in inputs]).reshape(-1, rows)
                stamps[present == FEAST_NOT_FOUND] = np.nan
                event[feature] = stamps.min(axis=0) if len(inputs) else np.full(rows, np.nan)
                newest[feature] = (
                    np.fmax.reduce(stamps, axis=0) if len(inputs) else np.full(rows, np.nan)
                )
                found[feature] = (present != FEAST_NOT_FOUND).all(axis=0)
            else:
                stamps = np.asarray(epoch.get(ref, [0] * rows), dtype="float64")
                state = np.asarray(statuses.get(ref, [FEAST_PRESENT] * rows))
                event[feature] = np.where(state == FEAST_NOT_FOUND, np.nan, stamps)
                newest[feature] = event[feature]
                found[feature] = state != FEAST_NOT_FOUND
        logged = set(self.logged_refs.values())
        return OnlineRows(
            values=values,
            event_epoch_s=event,
            newest_epoch_s=newest,
            found=found,
            feast_status={r: s for r, s in statuses.items() if r in logged},
            feast_epoch_s={r: e for r, e in epoch.items() if r in logged},
            request_values={f: entities[f] for f in self.spec.request_fields if f in entities},
            logged_refs=self.logged_refs,
            feature_keys=self.feature_keys,
        )


def _odfv_inputs(odfv) -> list[tuple[str, str]]:
    """(view, feature) of the batch/stream inputs of an on-demand view."""
    return [
        (source.name_to_use(), field.name)
        for source in odfv.source_feature_view_projections.values()
        for field in source.features
    ]
