"""Ways to tamper with stored artifacts, for the artifact tests: each undoes itself.

Folders of a registered version (local artifact store), a file replaced for the length of
a block, the recorded digests rewritten for a block (an attacker who can write the registry
database), a JSON file edited, and a seeded 64-byte corruption of a booster that really
crashes XGBoost in the child check.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from training import integrity, registry


def folders(settings, version: str) -> tuple[Path, Path]:
    """The stored bundle folder and registered model folder of a version (local artifacts)."""
    mlflow_client = registry.client(settings)
    name = registry.registered_name(settings)
    run_id = mlflow_client.get_model_version(name, version).run_id
    runs = Path(urlparse(mlflow_client.get_run(run_id).info.artifact_uri).path)
    model = Path(urlparse(mlflow_client.get_model_version_download_uri(name, version)).path)
    return runs / registry.BUNDLE_ARTIFACT, model


@contextmanager
def replaced(path: Path, data: bytes) -> Iterator[None]:
    original, mode = path.read_bytes(), path.stat().st_mode
    path.chmod(0o644)
    path.write_bytes(data)
    try:
        yield
    finally:
        path.write_bytes(original)
        path.chmod(mode)


@contextmanager
def retagged(settings, version: str, digests: dict[str, str]) -> Iterator[None]:
    """An attacker who can write the registry database rewrites the recorded digests too."""
    mlflow_client = registry.client(settings)
    name = registry.registered_name(settings)
    original = mlflow_client.get_model_version(name, version).tags[integrity.DIGESTS_TAG]
    mlflow_client.set_model_version_tag(name, version, integrity.DIGESTS_TAG, json.dumps(digests))
    try:
        yield
    finally:
        mlflow_client.set_model_version_tag(name, version, integrity.DIGESTS_TAG, original)


def edited_json(path: Path, edit) -> bytes:
    document = json.loads(path.read_text())
    edit(document)
    return json.dumps(document, indent=2).encode()


def flipped(raw: bytes, seed: int) -> bytes:
    """64 bytes inverted, past the header (where the trees are)."""
    data = bytearray(raw)
    for position in random.Random(seed).sample(range(len(data) // 4, len(data)), 64):
        data[position] ^= 0xFF
    return bytes(data)


def crashing_booster(bundle_folder: Path, work: Path) -> bytes:
    """A 64-byte corruption of the folder's booster that crashes XGBoost with a signal."""
    work.mkdir(parents=True, exist_ok=True)
    raw = (bundle_folder / "booster.ubj").read_bytes()
    candidate = work / "candidate.ubj"
    for seed in range(40):
        candidate.write_bytes(flipped(raw, seed))
        command = integrity.child_command(bundle_folder, candidate)
        if subprocess.run(command, capture_output=True, timeout=600).returncode < 0:
            return candidate.read_bytes()
    pytest.fail("none of 40 seeded 64-byte corruptions crashed XGBoost")


def champion(settings) -> str | None:
    return registry.alias_versions(settings).get("champion")
