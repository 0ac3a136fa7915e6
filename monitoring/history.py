"""The metric history: every judged window's decision and metrics, in one SQLite file.

SQLite because it ships with Python, any SQL client reads it, and its transactions let two
overlapping cron runs write without corrupting each other (a writer waits for the lock).

Two tables. ``windows`` has one row per window *and* labels-as-of time: re-judging a window
with the same labels replaces its rows (idempotent), while re-judging it after more labels
arrived adds a row, so the history keeps what was known then and what is known now.
``metrics`` has one row per window, check and subject (a feature, a segment, or nothing):
each metric's value, and each alarm and signal with its threshold (``alarm`` = 1 for
alarms, which can block or roll back; 0 for signals, evidence only).
The view ``latest`` keeps, per window, only what the latest labels say.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from monitoring.summary import Summary

SCHEMA = """
create table if not exists windows (
    window_start text not null, window_end text not null, labels_as_of text not null,
    judged_at text not null, decision text not null, reason text not null,
    model_name text, model_version text, feature_service text, traffic real,
    primary key (window_start, window_end, labels_as_of));
create table if not exists metrics (
    window_start text not null, window_end text not null, labels_as_of text not null,
    kind text not null, check_name text not null, subject text not null,
    value real, threshold real, alarm integer not null);
create index if not exists metrics_by_window on metrics (window_start, window_end, labels_as_of);
create view if not exists latest as
    select w.* from windows w where w.labels_as_of = (
        select max(labels_as_of) from windows v
        where v.window_start = w.window_start and v.window_end = w.window_end);
"""
KEY = ("window_start", "window_end", "labels_as_of")


def connect(path: Path) -> sqlite3.Connection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=60.0)
    db.executescript(SCHEMA)
    return db


def metric_rows(summary: Summary) -> list[tuple]:
    """(kind, check, subject, value, threshold, alarm) for every metric and finding."""
    rows = []
    for name, value in summary.metrics.items():
        area, _, rest = name.partition(".")
        metric, _, subject = rest.partition(".")
        rows.append(("metric", f"{area}.{metric}" if metric else area, subject, value, None, 0))
    for kind, findings in (("alarm", summary.alarms), ("signal", summary.signals)):
        for finding in findings:
            alarm = int(kind == "alarm")
            rows.append((kind, finding.check, finding.feature or "", finding.value,
                         finding.threshold, alarm))  # fmt: skip
    return [(k, c, s, _number(v), _number(t), a) for k, c, s, v, t, a in rows]


def record(path: Path, summary: Summary) -> None:
    """Add (or replace) one judged window, in one transaction."""
    window, model = summary.window, summary.model
    key = (window["start"], window["end"], window["labels_as_of"])
    traffic = summary.metrics.get("health.rows")
    with closing(connect(path)) as db, db:
        db.execute("delete from windows where window_start=? and window_end=? and labels_as_of=?",
                   key)  # fmt: skip
        db.execute("delete from metrics where window_start=? and window_end=? and labels_as_of=?",
                   key)  # fmt: skip
        db.execute(
            "insert into windows values (?,?,?,?,?,?,?,?,?,?)",
            (*key, datetime.now(UTC).isoformat(), summary.action, summary.decision.reason,
             model.get("name"), model.get("version"), model.get("feature_service"),
             _number(traffic)),
        )  # fmt: skip
        db.executemany(
            "insert into metrics values (?,?,?,?,?,?,?,?,?)",
            [(*key, *row) for row in metric_rows(summary)],
        )


def read(
    path: Path,
    start: datetime | None = None,
    end: datetime | None = None,
    check: str | None = None,
    all_labels: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(windows, metrics) judged in [start, end), the latest labels only unless asked."""
    if not Path(path).exists():
        return pd.DataFrame(columns=_columns("windows")), pd.DataFrame(columns=_columns("metrics"))
    where, args = ["1=1"], []
    if start is not None:
        where.append("window_start >= ?")
        args.append(pd.Timestamp(start).isoformat())
    if end is not None:
        where.append("window_end <= ?")
        args.append(pd.Timestamp(end).isoformat())
    source = "windows" if all_labels else "latest"
    condition = " and ".join(where)
    with closing(connect(path)) as db:
        windows = pd.read_sql(f"select * from {source} where {condition} order by 1, 3", db,
                              params=args)  # fmt: skip
        metrics = pd.read_sql(
            f"select m.* from metrics m join {source} w using (window_start, window_end, "
            f"labels_as_of) where {condition.replace('window_', 'w.window_')}"
            + (" and m.check_name like ?" if check else "")
            + " order by 1, 3, 4, 5, 6",
            db,
            params=[*args, *([f"{check}%"] if check else [])],
        )
    return windows, metrics


def earlier_decisions(path: Path, window, count: int = 14) -> list[tuple[str, str]]:
    """(name, decision) of the last ``count`` windows of the same length that ended by this
    window's start, oldest first (what the latest labels say)."""
    if not Path(path).exists():
        return []
    length = (window.end - window.start).total_seconds()
    with closing(connect(path)) as db:
        found = db.execute(
            "select window_start, window_end, decision from latest where window_end <= ? "
            "order by window_end desc limit 1000",
            (window.start.isoformat(),),
        ).fetchall()
    name = "{:%Y%m%dT%H%MZ}_{:%Y%m%dT%H%MZ}".format
    picked = []
    for start, end, decision in found:
        start, end = datetime.fromisoformat(start), datetime.fromisoformat(end)
        if (end - start).total_seconds() == length and len(picked) < count:
            picked.append((name(start, end), decision))
    return picked[::-1]


def _columns(table: str) -> list[str]:
    with closing(sqlite3.connect(":memory:")) as db:
        db.executescript(SCHEMA)
        return [row[1] for row in db.execute(f"pragma table_info({table})")]


def _number(value: object) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
