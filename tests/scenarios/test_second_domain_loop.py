"""The helpdesk domain through serve -> replay -> monitor, labels joined on a passthrough key.

Its labels are keyed by ``ticket_id``, which is not an entity key (the entity is the
customer). The request carries ``ticket_id`` and ``channel`` as declared passthrough
fields: they are logged beside each prediction, never used as features, and monitoring
joins the delayed labels on ``ticket_id`` and slices by ``channel``.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.training.conftest import run_cli
from tests.training.test_second_domain import SETTINGS, START, write_world

pytestmark = pytest.mark.integration

CUTOFF = START + pd.Timedelta(days=40)
WINDOW = (START + pd.Timedelta(days=45), START + pd.Timedelta(days=45, hours=12))
LABELS_AS_OF = START + pd.Timedelta(days=50)
SERVED = """serving:
  passthrough: [ticket_id, channel]
  log_dir: logs/serving
monitoring:
  reports_dir: reports
  labels: {min_samples: 20, min_coverage: 0.6}
  parity: {sample_rows: 100}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory, monkeypatch_session):
    """Train to the cutoff, promote, serve a later half-day over HTTP, and monitor it."""
    from ontime_cli.launcher import ServiceProcess

    base = tmp_path_factory.mktemp("helpdesk_served")
    repo = base / "repo"
    shutil.copytree(
        ROOT / "tests/fixtures/second_domain", repo, ignore=shutil.ignore_patterns("__pycache__")
    )
    write_world(repo / "data")
    config = base / "ontime.yaml"
    config.write_text(SETTINGS + SERVED)
    steps = {"apply": run_cli(config, "apply")}
    steps["train"] = run_cli(config, "train", "--cutoff", CUTOFF.isoformat())
    steps["promote"] = run_cli(config, "promote", "1", "--force", "--reason", "test: first")
    steps["materialize"] = run_cli(config, "materialize", "--end", WINDOW[0].isoformat())
    for name, step in steps.items():
        assert step.code == 0, (name, step.err[-2000:])
    frm, to = (t.isoformat() for t in WINDOW)
    with ServiceProcess(config) as url:  # leaving it flushes the prediction log
        steps["replay"] = run_cli(config, "replay", "--from", frm, "--to", to, "--url", url)
    assert steps["replay"].code == 0, steps["replay"].err[-2000:]
    steps["monitor"] = run_cli(
        config, "monitor", "--from", frm, "--to", to, "--labels-as-of", LABELS_AS_OF.isoformat()
    )
    assert steps["monitor"].code == 0, steps["monitor"].err[-2000:]
    return config, steps


def test_passthrough_fields_are_logged_beside_each_prediction(served):
    from serving.log_reader import PREDICTION_TIME, read_predictions

    config, steps = served
    assert "200:" in steps["replay"].out and "422" not in steps["replay"].out, steps["replay"].out
    log = read_predictions(config.parent / "logs/serving", *WINDOW, time_column=PREDICTION_TIME)
    tickets = pd.read_parquet(config.parent / "repo/data/tickets.parquet")
    asked = tickets.set_index("ticket_id")
    assert len(log) > 20
    # Each logged row carries the ticket it was asked for, and that ticket's own channel.
    assert log["ticket_id"].isin(asked.index).all()
    assert (log["channel"].to_numpy() == asked.loc[log["ticket_id"], "channel"].to_numpy()).all()
    assert (log["customer_id"].to_numpy() == asked.loc[log["ticket_id"], "customer_id"]).all()


def test_monitoring_joins_labels_on_the_passthrough_key(served):
    config, _ = served
    window = f"{WINDOW[0]:%Y%m%dT%H%MZ}_{WINDOW[1]:%Y%m%dT%H%MZ}"
    summary = json.loads((config.parent / "reports" / window / "summary.json").read_text())
    metrics = summary["metrics"]
    outcomes = pd.read_parquet(config.parent / "repo/data/ticket_outcomes.parquet")
    arrived = outcomes[outcomes["resolved_at"] <= LABELS_AS_OF]
    assert metrics["health.rows"] > 20
    # Every served ticket's outcome had arrived by then, and the join found each of them.
    assert metrics["labels.coverage"] == pytest.approx(1.0), metrics
    assert metrics["labels.labelled"] == metrics["health.rows"] <= len(arrived)
    assert summary["labels"]["aggregate"]["status"] == "ok", summary["labels"]
    assert "channel" in summary["labels"]["slices"], summary["labels"]["slices"].keys()
