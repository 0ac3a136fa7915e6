"""Materializing in time slices leaves the online store exactly as one pass does, and a
run that has nothing to load says what it skipped and why."""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd

from tests.integration.conftest import TempRepo


def copy_of(applied: TempRepo, base) -> TempRepo:
    shutil.copytree(applied.root, base, dirs_exist_ok=True)
    return TempRepo(root=base, repo=base / "feature_repo", config=base / "ontime.yaml")


def online_contents(repo: TempRepo) -> dict[str, list[tuple]]:
    """Every row of every table of the SQLite online store, in a stable order."""
    with sqlite3.connect(repo.repo / "data" / "online_store.db") as db:
        tables = [
            name for (name,) in db.execute("select name from sqlite_master where type='table'")
        ]
        return {t: sorted(db.execute(f'select * from "{t}"').fetchall()) for t in tables}


def test_slices_leave_the_online_store_exactly_as_one_pass(applied_repo, tmp_path):
    events = applied_repo.table("prediction_events")["prediction_time"]
    start, end = (events.min() - pd.Timedelta(days=2)).isoformat(), events.max().isoformat()
    sliced, whole = (
        copy_of(applied_repo, tmp_path / "sliced"),
        copy_of(applied_repo, tmp_path / "one"),
    )
    out = sliced.ontime("materialize", "--start", start, "--end", end, "--slice-days", "2").stdout
    whole.ontime("materialize", "--start", start, "--end", end, "--slice-days", "1000")
    assert "in 16 slice(s)" in out, out  # 32 days in 2-day slices
    contents = online_contents(sliced)
    assert sum(len(rows) for rows in contents.values()) > 100
    assert contents == online_contents(whole)


def test_a_run_with_nothing_to_load_says_what_it_skipped(applied_repo, tmp_path):
    repo = copy_of(applied_repo, tmp_path / "repo")
    end = applied_repo.table("prediction_events")["prediction_time"].max()
    repo.ontime("materialize", "--end", end.isoformat())
    earlier = (end - pd.Timedelta(days=3)).isoformat()
    out = repo.ontime("materialize", "--end", earlier).stdout
    assert "skipped, already materialized up to" in out and "pass --start" in out, out
    assert "nothing materialized" in out and "\nmaterialized up to" not in out, out
