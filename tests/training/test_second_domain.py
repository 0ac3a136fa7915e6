"""The same training code on an unrelated Feast repo: helpdesk ticket escalations.

The repo in tests/fixtures/second_domain has its own entity, one FileSource + FeatureView,
a FeatureService and a contract; this test writes its data into a temp copy, points an
``ontime.yaml`` at it (events, labels, segments and the critical slice are settings) and
runs train, evaluate and gate through the real entry point.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.training.conftest import run_cli

pytestmark = pytest.mark.integration

START = pd.Timestamp("2026-01-01", tz="UTC")
DAYS, CUSTOMERS, TICKETS = 60, 150, 6000
PLANS = np.array(["basic", "pro", "enterprise"])

SETTINGS = """feature_repo: repo
feature_service: escalation_v1
events:
  table: repo/data/tickets.parquet
  time_column: opened_at
labels:
  table: repo/data/ticket_outcomes.parquet
  join_key: ticket_id
  column: escalated
  available_at: resolved_at
training:
  segments: [plan, channel]
  min_slice_count: 40
  label_wait: 3 days
  gate:
    critical_segment: {plan: enterprise}
    top_bucket_tolerance: 0.15
  registry:
    experiment: helpdesk
"""


def us(values) -> pd.Series:
    return pd.Series(values).astype("datetime64[us, UTC]")


def write_world(data) -> None:
    """Daily customer health, tickets (the asks) and escalation outcomes that arrive later."""
    rng = np.random.default_rng(3)
    data.mkdir(parents=True)
    customers = np.array([f"C-{i:03d}" for i in range(CUSTOMERS)])
    plan = rng.choice(PLANS, CUSTOMERS, p=[0.5, 0.35, 0.15])
    days = pd.date_range(START, periods=DAYS, freq="D")
    grid = pd.MultiIndex.from_product([range(CUSTOMERS), range(DAYS)], names=["c", "d"])
    c, d = grid.get_level_values("c"), grid.get_level_values("d")
    load = rng.poisson(2 + 3 * (plan[c] == "basic"))
    activity = pd.DataFrame(
        {
            "customer_id": customers[c],
            "event_timestamp": us(days[d]),
            "created_at": us(days[d] + pd.Timedelta(minutes=30)),
            "plan": plan[c],
            "open_tickets": load.astype(float),
            "csat_30d": np.clip(rng.normal(0.8 - 0.04 * load, 0.1), 0, 1),
        }
    )
    activity.loc[rng.random(len(activity)) < 0.03, "csat_30d"] = np.nan  # survey gaps
    activity.to_parquet(data / "customer_activity.parquet", index=False)

    who = rng.integers(0, CUSTOMERS, TICKETS)
    opened = (
        START
        + pd.Timedelta(days=1)
        + pd.to_timedelta(np.sort(rng.integers(0, (DAYS - 2) * 86400, TICKETS)), unit="s")
    )
    state = activity.set_index(["customer_id", "event_timestamp"])
    today = state.reindex(pd.MultiIndex.from_arrays([customers[who], us(opened.floor("D"))]))
    logit = (
        -2.2
        + 0.35 * today["open_tickets"].to_numpy()
        - 2.5 * (today["csat_30d"].fillna(0.7).to_numpy() - 0.7)
        + 0.8 * (plan[who] == "enterprise")
    )
    escalated = rng.random(TICKETS) < 1 / (1 + np.exp(-logit))
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"T-{i:05d}" for i in range(TICKETS)],
            "customer_id": customers[who],
            "opened_at": us(opened),
            "channel": rng.choice(["email", "chat", "phone"], TICKETS),
        }
    ).drop_duplicates(["customer_id", "opened_at"])
    tickets.to_parquet(data / "tickets.parquet", index=False)
    resolved = us(opened + pd.to_timedelta(rng.uniform(0.5, 3.0, TICKETS), unit="D"))
    outcomes = pd.DataFrame(
        {
            "ticket_id": [f"T-{i:05d}" for i in range(TICKETS)],
            "escalated": escalated,
            "resolved_at": resolved,
        }
    )
    outcomes.to_parquet(data / "ticket_outcomes.parquet", index=False)


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory, monkeypatch_session):
    base = tmp_path_factory.mktemp("helpdesk")
    repo = base / "repo"
    shutil.copytree(
        ROOT / "tests/fixtures/second_domain",
        repo,
        ignore=shutil.ignore_patterns("__pycache__", "data"),
    )
    write_world(repo / "data")
    config = base / "ontime.yaml"
    config.write_text(SETTINGS)
    applied = run_cli(config, "apply")
    assert applied.code == 0, applied.err
    return config


def test_a_second_domain_trains_evaluates_and_gates_with_the_same_code(helpdesk):
    trained = run_cli(helpdesk, "train")
    assert trained.code == 0, trained.err[-2000:]
    assert "registered version 1" in trained.out
    assert "escalation_v1" in trained.out.splitlines()[0]  # the snapshot names its service

    evaluated = run_cli(helpdesk, "evaluate", "1", "--json")
    assert evaluated.code == 0, evaluated.err
    document = json.loads(evaluated.out)
    assert document["feature_service"] == "escalation_v1"
    assert document["features"] == "plan,open_tickets,csat_30d"
    assert set(document["model"]["slices"]) == {"plan", "channel"}  # channel: an event column
    assert document["model"]["critical"]["selector"] == {"plan": "enterprise"}
    # The signal is real (escalation depends on load and satisfaction), so ranking works.
    assert document["model"]["metrics"]["roc_auc"] > 0.6

    gated = run_cli(helpdesk, "gate", "1")
    assert gated.code in (0, 2)
    assert (
        "no champion yet" in gated.out and "critical_missed_delay: (plan=enterprise)" in gated.out
    )
