"""A temporary copy of the feature repo over a small simulated world, applied for real.

``ontime simulate`` and ``ontime apply`` (which runs ``feast apply``) run in subprocesses,
as a user would run them; the DuckDB offline store and SQLite online store are real.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT

SMALL_WORLD = "days: 30\n  shipments_per_day: 120\n  seed: 11\n"


@dataclass
class TempRepo:
    root: Path
    repo: Path
    config: Path

    @property
    def raw(self) -> Path:
        return self.repo / "data" / "raw"

    def table(self, name: str) -> pd.DataFrame:
        folder = "derived" if name == "carrier_reliability" else "raw"
        return pd.read_parquet(self.repo / "data" / folder / f"{name}.parquet")

    def ontime(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "ontime_cli", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"ontime {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result


def make_repo(base: Path, scenarios: str = "[]") -> TempRepo:
    """Copy the declarations (not the data) and write a settings file for a small world."""
    repo = base / "feature_repo"
    shutil.copytree(
        ROOT / "feature_repo", repo, ignore=shutil.ignore_patterns("data", "__pycache__")
    )
    config = base / "ontime.yaml"
    config.write_text(
        "feature_repo: feature_repo\nfeature_service: late_delivery_v1\n"
        "raw_data_dir: feature_repo/data/raw\n"
        "events:\n  table: feature_repo/data/raw/prediction_events.parquet\n"
        "labels:\n  table: feature_repo/data/raw/deliveries.parquet\n"
        f"simulation:\n  {SMALL_WORLD}"
        f"  scenarios: {scenarios}\n"
    )
    return TempRepo(root=base, repo=repo, config=config)


@pytest.fixture(scope="session")
def applied_repo(tmp_path_factory) -> TempRepo:
    temp = make_repo(tmp_path_factory.mktemp("world"))
    temp.ontime("simulate")
    temp.ontime("apply")
    return temp


@pytest.fixture(scope="session")
def store(applied_repo):
    from ontime.repo import open_store

    return open_store(applied_repo.repo)
