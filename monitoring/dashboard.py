"""The monitoring dashboard on Evidently's own UI: one workspace project per FeatureService.

The one module that reaches Evidently's workspace API. Each judged window becomes one
snapshot, stamped with the window's start (so the dashboard's x-axis is window time), made
of ``WindowValue`` metrics: one number of the history each, labelled by check, subject and
part (``monitoring.dashboard_values``). A window's snapshot id is derived from the window
and its labels-as-of time, so publishing it again replaces it, and later labels replace the
snapshot of earlier ones: the project shows what the history's ``latest`` view says.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from monitoring.dashboard_panels import panels
from monitoring.dashboard_values import window_points
from monitoring.history import read

if TYPE_CHECKING:
    from evidently.sdk.models import ProjectModel
    from evidently.ui.storage.local.base import LocalState

    from monitoring.summary import Summary
    from ontime.settings.monitoring import MonitoringSettings

log = logging.getLogger(__name__)
NAMESPACE = uuid.UUID("5f0b8a8e-51c2-4e0e-9f43-6c1f2c7c7d10")
NAME = "{:%Y%m%dT%H%MZ}_{:%Y%m%dT%H%MZ}".format  # the window's reports/ folder


def open_project(workspace: Path, service: str) -> tuple[LocalState, ProjectModel]:
    """The workspace's files and the service's project, created with its panels if new.

    ``LocalState`` is the file layout behind Evidently's local ``Workspace``, whose own
    constructor parses every snapshot of every project (seconds, and growing with them).
    """
    from evidently.sdk.models import ProjectModel
    from evidently.ui.storage.local.base import LocalState

    space = LocalState(str(workspace))
    space.location.makedirs("")
    for project_id in space.list_projects():
        project = space.read_project(project_id)
        if project.name == service:
            return space, project
    description = f"ontime monitoring of FeatureService {service}"
    project = space.write_project(ProjectModel(name=service, description=description))
    space.write_dashboard(project.id, panels())
    return space, project


def snapshot_id(project: ProjectModel, start: str, end: str, labels_as_of: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{project.id}|{start}|{end}|{labels_as_of}")


def publish(
    checks: MonitoringSettings, start: str, end: str, summary: Summary | None = None
) -> bool:
    """Put the window ``[start, end)`` (ISO times) into the workspace as the history's
    ``latest`` view says it now; False when the history does not hold it.

    Per-segment quality is not in the history: it comes from ``summary`` (else from the
    window's ``summary.json``) when that summary was judged with the latest labels.
    """
    windows, metrics = read(checks.history_path, pd.Timestamp(start), pd.Timestamp(end))
    windows = windows[(windows["window_start"] == start) & (windows["window_end"] == end)]
    if windows.empty:
        return False
    window = windows.iloc[0]
    key = [window[k] for k in ("window_start", "window_end", "labels_as_of")]
    metrics = metrics[(metrics[["window_start", "window_end", "labels_as_of"]] == key).all(axis=1)]
    space, project = open_project(checks.workspace_path, window["feature_service"])
    points = window_points(window, metrics, _slices(checks, window, summary))
    snapshot = _snapshot(window, points)
    every, _ = read(checks.history_path, pd.Timestamp(start), pd.Timestamp(end), all_labels=True)
    published = set(space.list_snapshots(project.id))
    same = (every["window_start"] == start) & (every["window_end"] == end)
    for labels_as_of in every.loc[same, "labels_as_of"]:
        older = snapshot_id(project, start, end, labels_as_of)
        if labels_as_of != window["labels_as_of"] and older in published:
            space.delete_snapshot(project.id, older)
    # With an id of ours: Workspace.add_run would draw a random one.
    space.write_snapshot(project.id, snapshot_id(project, *key), snapshot.to_snapshot_model())
    return True


def sync(checks: MonitoringSettings) -> tuple[str, int, int]:
    """Publish every window of the history the workspace lacks (or holds with older
    labels); (project id, windows published now, windows in the project)."""
    windows, _ = read(checks.history_path)
    if windows.empty:
        return "", 0, 0
    added = 0
    for service, group in windows.groupby("feature_service", sort=False):
        space, project = open_project(checks.workspace_path, service)
        space.write_dashboard(project.id, panels())  # the panels of this version of ontime
        published = set(space.list_snapshots(project.id))
        for row in group.itertuples(index=False):
            ids = row.window_start, row.window_end, row.labels_as_of
            if snapshot_id(project, *ids) not in published:
                added += publish(checks, row.window_start, row.window_end)
    latest = windows.iloc[-1]["feature_service"]
    space, project = open_project(checks.workspace_path, latest)
    return str(project.id), added, len(space.list_snapshots(project.id))


def _slices(checks: MonitoringSettings, window: pd.Series, summary: Summary | None) -> dict:
    if summary is None:
        start, end = pd.Timestamp(window["window_start"]), pd.Timestamp(window["window_end"])
        path = checks.reports_dir / NAME(start, end) / "summary.json"
        summary_dict = json.loads(path.read_text()) if path.exists() else {}
    else:
        summary_dict = {"window": summary.window, "labels": summary.labels}
    same = summary_dict.get("window", {}).get("labels_as_of") == window["labels_as_of"]
    return summary_dict.get("labels", {}).get("slices", {}) if same else {}


def _snapshot(window: pd.Series, points: list):
    """Evidently's report of the window's points, computed from a one-row frame of them."""
    from evidently import DataDefinition, Dataset, Report

    from monitoring.dashboard_metric import WindowValue

    by_key = {p.key: p for p in points}  # one value per label set
    # Long, not wide: Evidently collects statistics per numeric column of a Dataset.
    frame = pd.DataFrame({"key": list(by_key), "value": [p.value for p in by_key.values()]})
    definition = DataDefinition(numerical_columns=["value"], unknown_columns=["key"])
    data = Dataset.from_pandas(frame, data_definition=definition)
    metrics = [WindowValue(check=p.check, subject=p.subject, part=p.part) for p in by_key.values()]
    start = pd.Timestamp(window["window_start"])
    return Report(metrics).run(
        data, None,
        timestamp=start.to_pydatetime(),
        name=NAME(start, pd.Timestamp(window["window_end"])),
        metadata={k: str(window[k]) for k in ("window_start", "window_end", "labels_as_of",
                                                  "decision", "model_version")},
        tags=[str(window["decision"])],
    )  # fmt: skip
