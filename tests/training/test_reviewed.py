"""The reviewed critical case set on a real Feast repo: built by the CLI, scored by the gate.

Cases are fetched point-in-time through the FeatureService and scored with the candidate's
own thresholds; the gate demands that no late reviewed case goes unflagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.training.conftest import run_cli
from training.registry import load_version

pytestmark = pytest.mark.integration


def with_cases(settings, path):
    gate = settings.training.gate.model_copy(update={"reviewed_cases": path})
    return settings.model_copy(
        update={"training": settings.training.model_copy(update={"gate": gate})}
    )


def scored_test_rows(settings, bundle):
    """The candidate's test rows with its probability and threshold per row."""
    from ontime.repo import load_contract
    from training.evaluate import row_thresholds, snapshot_split
    from training.frames import prepare
    from training.snapshot import load_snapshot

    snapshot = load_snapshot(settings, bundle.metadata["snapshot_id"])
    split = snapshot_split(snapshot, bundle.metadata, settings)
    contract = load_contract(settings.feature_repo)
    part = prepare(
        split.test, contract, bundle.features, bundle.categories, snapshot.manifest.label
    )
    rows = part.rows.assign(
        p=bundle.predict_proba(part.frame), threshold=row_thresholds(bundle, part.rows)
    )
    return rows.rename(columns={"event_timestamp": settings.events.time_column})


def case_table(rows: pd.DataFrame, settings, keys: list[str]) -> pd.DataFrame:
    label, time = settings.labels.column, settings.events.time_column
    return rows[[*keys, time, label]].assign(**{label: rows[label].astype(bool)})


def test_the_cli_builds_critical_cases_with_known_outcomes(trained, tmp_path):
    world, _, _ = trained
    out = tmp_path / "cases.csv"
    result = run_cli(world.config, "reviewed-cases", "--size", "20", "--out", str(out))
    assert result.code == 0, result.err
    cases = pd.read_csv(out)
    late = int(cases["delivered_after_promise"].sum())
    assert len(cases) == 20 and f"wrote 20 critical cases ({late} late)" in result.out
    assert not cases["order_id"].duplicated().any()  # one ask per order
    shipments = pd.read_parquet(world.repo / "data" / "raw" / "shipments.parquet")
    expedited = set(shipments.loc[shipments["expedited"], "order_id"])
    assert set(cases["order_id"]) <= expedited  # only the critical segment
    bad = run_cli(world.config, "reviewed-cases", "--size", "0", "--out", str(out))
    assert bad.code != 0 and "--size must be at least 1" in bad.err and "Traceback" not in bad.err


def test_a_model_missing_one_reviewed_case_is_blocked_and_one_missing_none_is_not(
    trained, tmp_path
):
    from training.gate import run_gate

    _, settings, _ = trained
    bundle = load_version(settings, "1").bundle
    keys = list(bundle.metadata["entity_keys"])
    label = settings.labels.column
    rows = scored_test_rows(settings, bundle)
    critical = rows[rows["expedited"].astype(bool)]
    caught = critical[(critical["p"] >= critical["threshold"]) & (critical[label] == 1)]
    quiet = critical[critical[label] == 0]
    missed = critical[(critical["p"] < critical["threshold"]) & (critical[label] == 1)]
    assert len(caught) >= 5 and len(missed) >= 1  # the small world has both

    clean = tmp_path / "clean.parquet"
    case_table(pd.concat([caught.head(10), quiet.head(10)]), settings, keys).to_parquet(clean)
    one_miss = tmp_path / "one_miss.parquet"
    table = pd.concat([caught.head(10), missed.head(1), quiet.head(10)])
    case_table(table, settings, keys).to_parquet(one_miss)

    passed = run_gate(with_cases(settings, clean), "1", against="baseline")
    check = next(c for c in passed.checks if c.name == "reviewed_cases")
    assert check.passed, check.detail
    assert "0 of 10 late reviewed critical cases missed" in check.detail

    blocked = run_gate(with_cases(settings, one_miss), "1", against="baseline")
    check = next(c for c in blocked.checks if c.name == "reviewed_cases")
    assert blocked.decision == "BLOCK" and not check.passed
    assert "1 of 11 late reviewed critical cases missed" in check.detail
    assert str(missed.iloc[0]["order_id"]) in check.detail
    assert np.isclose(check.candidate, 1.0)


def test_a_missing_case_table_fails_the_check_with_one_line(trained, tmp_path):
    from ontime.repo import load_contract
    from training.reviewed import reviewed_summary

    _, settings, _ = trained
    bundle = load_version(settings, "1").bundle
    absent = tmp_path / "nowhere.parquet"
    summary = reviewed_summary(
        with_cases(settings, absent), bundle, load_contract(settings.feature_repo)
    )
    assert summary["error"] == (
        f"reviewed case set not found at {absent}; build one with `ontime reviewed-cases`"
    )
