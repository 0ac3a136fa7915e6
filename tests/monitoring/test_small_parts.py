"""Small parts: value comparison, windows, the features of a service, settings."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from monitoring.parity import same_values
from monitoring.schema import monitored_features, normalized
from monitoring.window import Window
from ontime.errors import ContractViolation, OntimeError
from ontime.repo import ServiceSpec
from ontime.settings.monitoring import ParitySettings


def test_values_match_with_tolerance_and_missing_on_both_sides():
    a = pd.Series([1.0, np.nan, 2.0, 3.0, np.nan])
    b = pd.Series([1.0 + 1e-9, np.nan, 2.1, np.nan, 4.0])
    assert same_values(a, b, True, ParitySettings()).tolist() == [True, True, False, False, False]
    words = pd.Series(["x", None, "y"], dtype=object)
    assert same_values(words, pd.Series(["x", None, "z"]), False, ParitySettings()).tolist() == [
        True,
        True,
        False,
    ]


def test_served_booleans_equal_offline_booleans_after_normalizing(contract):
    spec = ServiceSpec("s", ("expedited",), ("v:expedited",), ("k",), (), {"expedited": "Bool"}, {})
    features = monitored_features(spec, contract)
    served = normalized(pd.DataFrame({"expedited": [1.0, 0.0, np.nan]}), features)
    offline = normalized(pd.DataFrame({"expedited": [True, False, None]}), features)
    assert same_values(served["expedited"], offline["expedited"], True, ParitySettings()).all()


def test_budgets_come_from_the_contract_then_the_ttl_then_settings(contract):
    names = ("origin_backlog", "hours_since_last_scan", "carrier")
    spec = ServiceSpec(
        "s", names, names, ("k",), (), dict.fromkeys(names, "Float64"),
        {"origin_backlog": 10_800.0, "hours_since_last_scan": 691_200.0, "carrier": 0.0},
    )  # fmt: skip
    found = {f.name: f for f in monitored_features(spec, contract)}
    assert found["origin_backlog"].budget_s == 3 * 3600  # contract max_age
    assert found["hours_since_last_scan"].budget_s == 691_200.0  # view TTL
    assert found["carrier"].budget_s is None and found["carrier"].kind == "categorical"
    tuned = monitored_features(spec, contract, {"hours_since_last_scan": 7200.0})
    assert {f.name: f.budget_s for f in tuned}["hours_since_last_scan"] == 7200.0
    with pytest.raises(ContractViolation, match="typo"):
        monitored_features(spec, contract, {"typo": 1.0})


def test_window_checks_its_bounds_and_names_its_folder():
    start, end = datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 2, 6, tzinfo=UTC)
    assert Window.of(start, end).name == "20260701T0000Z_20260702T0600Z"
    assert Window.of(start, end).labels_as_of == end
    with pytest.raises(OntimeError, match="not after"):
        Window.of(end, start)
    with pytest.raises(OntimeError, match="labels_as_of"):
        Window.of(start, end, labels_as_of=start)


def test_monitoring_section_is_strict(tmp_path):
    from ontime.errors import ConfigError
    from ontime.settings import load_settings

    path = tmp_path / "ontime.yaml"
    path.write_text("monitoring:\n  parity:\n    sample_rows: 10\n  reports_dir: out\n")
    settings = load_settings(path)
    assert settings.monitoring.parity.sample_rows == 10
    assert settings.monitoring.reports_dir == tmp_path / "out"
    path.write_text("monitoring:\n  parity:\n    sample_row: 10\n")
    with pytest.raises(ConfigError, match="sample_row"):
        load_settings(path)
