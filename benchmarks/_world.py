"""A default-size simulated world in its own copy of the feature repo, shared by benchmarks."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "results" / "world"


def default_world(days: int = 120, shipments_per_day: int = 1800) -> Path:
    """Simulate and apply once; later calls reuse the world. Returns the settings file."""
    config = WORK / f"ontime-{days}x{shipments_per_day}.yaml"
    repo = WORK / f"repo-{days}x{shipments_per_day}"
    stamp = repo / "data" / "definitions.sha256"
    fingerprint = definitions_fingerprint()
    applied = (repo / "data" / "registry.db").exists() and stamp.exists()
    if applied and stamp.read_text() == fingerprint:  # same definitions: reuse the world
        return config
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(
        ROOT / "feature_repo", repo, ignore=shutil.ignore_patterns("data", "__pycache__")
    )
    config.write_text(
        f"feature_repo: {repo.name}\nraw_data_dir: {repo.name}/data/raw\n"
        f"simulation:\n  days: {days}\n  shipments_per_day: {shipments_per_day}\n"
        f"events:\n  table: {repo.name}/data/raw/prediction_events.parquet\n"
        f"labels:\n  table: {repo.name}/data/raw/deliveries.parquet\n"
    )
    for command in ("simulate", "apply"):
        subprocess.run(
            [sys.executable, "-m", "ontime_cli", "--config", str(config), command],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
    stamp.write_text(fingerprint)
    return config


def definitions_fingerprint() -> str:
    """Hash of the feature repo's declarations, so a changed definition rebuilds the world."""
    digest = hashlib.sha256()
    folder = ROOT / "feature_repo"
    for path in [*sorted(folder.glob("*.py")), folder / "feature_store.yaml"]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()
