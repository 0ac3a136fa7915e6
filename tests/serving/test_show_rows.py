"""``ontime show-rows`` tells a stale online value from a real mismatch."""

from __future__ import annotations

import pandas as pd

from ontime.repo import ServiceSpec
from serving.show_rows import stale_features

HOUR = 3600.0


def spec_with(ttls: dict[str, float]) -> ServiceSpec:
    names = tuple(ttls)
    return ServiceSpec(
        name="svc_v1",
        features=names,
        feature_refs=tuple(f"view:{n}" for n in names),
        entity_keys=("id",),
        request_fields=(),
        dtypes={n: "Float64" for n in names},
        ttl_seconds=ttls,
    )


def test_a_value_past_its_ttl_is_reported_stale_with_its_age(contract):
    # The contract's backlog rule allows 3 h; the online store still holds a 5 h old value.
    name = next(r.name for r in contract.rules if r.max_age is not None and r.max_age.seconds)
    asked_at = 1_800_000_000.0
    online = pd.Series({name: 42.0, f"{name}__ts": asked_at - 5 * HOUR})
    found = stale_features(spec_with({name: 10 * HOUR}), contract, online, asked_at)
    limit_h = contract.rule(name).max_age.total_seconds() / HOUR
    assert found == {name: f"stale online (age 5.0 h > {limit_h:.1f} h)"}


def test_fresh_and_unknown_ages_are_not_stale(contract):
    names = [r.name for r in contract.rules]
    asked_at = 1_800_000_000.0
    online = pd.Series(
        {**{n: 1.0 for n in names}, **{f"{n}__ts": asked_at - 60.0 for n in names[:-1]}}
    )
    online[f"{names[-1]}__ts"] = 0  # no event time known (e.g. an on-demand feature)
    spec = spec_with({n: 8 * 24 * HOUR for n in names})
    assert stale_features(spec, contract, online, asked_at) == {}
