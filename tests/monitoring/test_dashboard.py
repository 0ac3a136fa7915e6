"""The monitoring dashboard on Evidently's UI: each judged window is one snapshot of the
FeatureService's workspace project (published again, it is replaced), and `ontime ui` serves
panels that a real browser renders with one point per window."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from monitoring.decision import Decision
from monitoring.history import read, record
from monitoring.summary import Summary
from ontime.settings.monitoring import MonitoringSettings

DAY = pd.Timestamp("2026-06-01", tz="UTC")
CHROMIUM = shutil.which("chromium")
# Daily windows from 06:00 in the champion's test period: no other test judges these spans,
# and their later labels change no window another test compares with a single run.
SERIES = (18.25, 21.25)


def judged(path: Path, day: int, labels_day: int | None = None, action: str = "ok") -> dict:
    """A small judged window in the history at ``path``, as ``monitor`` records one."""
    start, end = DAY + pd.Timedelta(days=day), DAY + pd.Timedelta(days=day + 1)
    labels = DAY + pd.Timedelta(days=labels_day if labels_day is not None else day + 1)
    window = {"name": f"{start:%Y%m%dT%H%MZ}_{end:%Y%m%dT%H%MZ}", "start": start.isoformat(),
              "end": end.isoformat(), "labels_as_of": labels.isoformat()}  # fmt: skip
    metrics = {"health.rows": 100.0, "health.null_rate.f": 0.1 * (day + 1),
               "health.null_rate.f.threshold": 0.3, "drift.psi.f": 0.02}  # fmt: skip
    summary = Summary(window, {"name": "m", "version": "1", "feature_service": "svc_v1"},
                      Decision(action, "test"), metrics=metrics)  # fmt: skip
    record(path, summary)
    return window


@pytest.fixture
def checks(tmp_path) -> MonitoringSettings:
    return MonitoringSettings(reports_dir=tmp_path / "reports")


def snapshots(checks: MonitoringSettings) -> list:
    from evidently.ui.storage.local.base import LocalState

    space = LocalState(str(checks.workspace_path))
    (project,) = space.list_projects()
    return [space.read_snapshot(project, sid) for sid in space.list_snapshots(project)]


def values(snapshot) -> dict[tuple[str, str, str], float]:
    found = {}
    for result in snapshot.metric_results.values():
        params = result.metric_value_location.metric.params
        found[params["check"], params["subject"], params["part"]] = result.value
    return found


def test_publishing_a_window_again_replaces_its_snapshot(checks):
    from monitoring.dashboard import publish

    window = judged(checks.history_path, 0, action="inspect")
    assert publish(checks, window["start"], window["end"])
    assert publish(checks, window["start"], window["end"])
    (snapshot,) = snapshots(checks)
    assert pd.Timestamp(snapshot.timestamp) == DAY  # window time, not wall time
    assert values(snapshot)["health.null_rate", "f", "value"] == pytest.approx(0.1)
    assert values(snapshot)["health.null_rate", "f", "threshold"] == pytest.approx(0.3)
    assert values(snapshot)["decision", "", "value"] == 1  # inspect


def test_later_labels_replace_the_window_and_sync_adds_only_missing_windows(checks):
    from monitoring.dashboard import publish, sync

    first = judged(checks.history_path, 0)
    publish(checks, first["start"], first["end"])
    judged(checks.history_path, 0, labels_day=8, action="retrain")  # the labels came in
    judged(checks.history_path, 1)
    project, added, windows = sync(checks)
    assert (added, windows) == (2, 2)
    assert sync(checks) == (project, 0, 2)
    decisions = {s.metadata["window_start"]: s.metadata["decision"] for s in snapshots(checks)}
    assert decisions == {first["start"]: "retrain", (DAY + pd.Timedelta(days=1)).isoformat(): "ok"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config_with(world, tmp_path: Path, **monitoring: str) -> Path:
    """The world's settings with other monitoring paths, next to it (paths stay relative)."""
    raw = yaml.safe_load(world.repo.config.read_text())
    raw["monitoring"] |= monitoring
    path = world.repo.config.with_name(f"ontime-{tmp_path.name}.yaml")
    path.write_text(yaml.safe_dump(raw))
    return path


def ontime(config: Path, *args: str, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "ontime_cli", "--config", str(config), *args]
    return subprocess.Popen(command, cwd=config.parent, text=True, **popen)


@pytest.fixture(scope="module")
def series(promoted):
    """A few daily windows judged for real, with their labels in (so realised quality has
    points too); each is published by `monitor` itself."""
    frm, to = promoted.day(SERIES[0]).isoformat(), promoted.day(SERIES[1]).isoformat()
    labels = promoted.day(SERIES[1] + 8).isoformat()
    promoted.repo.ontime("monitor", "--from", frm, "--to", to, "--every", "1d", "--quiet",
                         "--labels-as-of", labels, check=False)  # fmt: skip
    return promoted


@pytest.mark.integration
def test_monitor_publishes_each_window_it_judges(series):
    from monitoring.dashboard import open_project, snapshot_id

    checks = series.settings.monitoring
    space, project = open_project(checks.workspace_path, series.settings.feature_service)
    published = set(space.list_snapshots(project.id))
    windows, _ = read(checks.history_path, series.day(SERIES[0]), series.day(SERIES[1]))
    starts = {series.day(day).isoformat() for day in (18.25, 19.25, 20.25)}
    windows = windows[windows["window_start"].isin(starts)]
    assert len(windows) == len(starts) and (windows["labels_as_of"] > windows["window_end"]).all()
    for row in windows.itertuples():
        assert snapshot_id(project, row.window_start, row.window_end, row.labels_as_of) in published


@pytest.mark.integration
def test_ui_refuses_bad_input_in_one_line(series, tmp_path):
    empty = config_with(series, tmp_path, history_db=str(tmp_path / "none.sqlite"))
    result = ontime(empty, "ui", "--port", str(free_port()), stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)  # fmt: skip
    _, err = result.communicate(timeout=120)
    assert result.returncode == 1 and "no judged windows" in err and "Traceback" not in err, err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = ontime(series.repo.config, "ui", "--port", port, stderr=subprocess.PIPE)
        _, err = busy.communicate(timeout=120)
    assert busy.returncode == 1 and "in use" in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.integration
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_dashboard_renders_one_point_per_window_in_a_browser(series, tmp_path):
    from monitoring.dashboard_panels import TITLES

    # A workspace of its own, synced from the history by `ontime ui` itself.
    config = config_with(series, tmp_path, workspace=str(tmp_path / "workspace"))
    port = free_port()
    server = ontime(config, "ui", "--port", str(port), stdout=subprocess.PIPE)
    try:
        lines = [server.stdout.readline() for _ in range(2)]
        assert lines[1].startswith("dashboard: http://127.0.0.1:"), lines
        url = lines[1].split()[1]
        windows = int(re.search(r"\((\d+) windows", lines[0]).group(1))
        _wait_for(f"http://127.0.0.1:{port}/api/version")
        shot = tmp_path / "dashboard.png"
        browse = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                  "--virtual-time-budget=20000", "--window-size=1600,3000"]  # fmt: skip
        dom = subprocess.run([*browse, "--dump-dom", url], capture_output=True, text=True,
                             timeout=180, check=True).stdout  # fmt: skip
        subprocess.run([*browse, f"--screenshot={shot}", url], capture_output=True,
                       timeout=180, check=True)  # fmt: skip
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        code = server.wait(timeout=60)
    assert code == 0  # stopped cleanly
    history, metrics = read(series.settings.monitoring.history_path)
    assert windows == len(history)  # every window of the history, once
    marks = _marks_per_panel(dom, TITLES)
    assert set(marks) == set(TITLES), f"panels rendered: {sorted(marks)}"
    assert list(marks[TITLES[0]].values()) == [windows]  # one decision point per window
    for title, check in ((TITLES[1], "health.null_rate"), (TITLES[2], "drift.psi")):
        rows = metrics[(metrics["check_name"] == check) & (metrics["kind"] == "metric")]
        rows = rows[~rows["subject"].str.contains(r"\.(?:threshold|clean_baseline)$")]
        most = rows.groupby("subject")["window_start"].nunique().max()
        assert max(marks[title].values()) == most, (title, marks[title])
    # Every panel has points (the series' labels are in), never more than one per window.
    assert all(found and 0 < max(found.values()) <= windows for found in marks.values()), marks
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one


def _wait_for(url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _marks_per_panel(dom: str, titles: tuple[str, ...]) -> dict[str, Counter]:
    """Per panel title: the number of plotted points of each line."""
    found = {}
    heads = [(m.start(), m.group(1)) for m in re.finditer(r"<h5[^>]*>([^<]+)</h5>", dom)]
    for (at, title), (end, _) in zip(heads, [*heads[1:], (len(dom), "")], strict=True):
        if title in titles:
            points = re.findall(r"MuiMarkElement-series-([\w-]+)", dom[at:end])
            found[title] = Counter(points)
    return found


def test_ui_refuses_a_port_out_of_range_before_anything_runs():
    from click.testing import CliRunner

    from ontime_cli.main import cli

    result = CliRunner().invoke(cli, ["ui", "--port", "99999"])
    assert result.exit_code == 2 and "99999 is not in the range" in result.output, result.output
