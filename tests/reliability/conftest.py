"""Fixtures for fault tests: a served world on disk and `ontime serve` as a real process.

Kept generic: a private copy of an applied, materialized world; a saved real bundle; and
``ServeProcess``, which starts ``ontime serve`` in a subprocess, finds its log writer, and
can stop it cleanly or kill either with SIGKILL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import TempRepo
from tests.serving import conftest as serving_fixtures
from tests.serving.conftest import copy_world
from tests.serving.processes import ServeProcess

# The serving tests' world and bundles, registered here too (built once per session).
world = serving_fixtures.world
live_world = serving_fixtures.live_world
bundles = serving_fixtures.bundles


@dataclass
class Served:
    """A private copy of a materialized world and a saved champion bundle."""

    temp: TempRepo
    bundle: Path

    def config(self, name: str, **serving) -> Path:
        """A settings file beside the world's own (so its relative paths resolve)."""
        lines = "".join(f"  {key}: {_yaml(value)}\n" for key, value in serving.items())
        path = self.temp.root / f"ontime-{name}.yaml"
        path.write_text(self.temp.config.read_text() + "serving:\n" + lines)
        return path


def _yaml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return f"'{value}'" if isinstance(value, str) else str(value)


@pytest.fixture
def served(live_world, bundles, tmp_path) -> Served:
    temp = copy_world(live_world, tmp_path / "world")
    folder = bundles.v1.bundle.save(tmp_path / "bundle-v1")
    return Served(temp=temp, bundle=folder)


@pytest.fixture
def serve_process(tmp_path) -> Iterator:
    """A factory of ServeProcess objects; every one still running is stopped at the end."""
    started: list[ServeProcess] = []

    def make(config: Path, bundle: Path | None = None, env=None) -> ServeProcess:
        process = ServeProcess(config, bundle, tmp_path / f"serve-{len(started)}.err", env)
        started.append(process)
        return process

    yield make
    for process in started:
        if process.process is not None and process.process.poll() is None:
            process.process.kill()
            process.process.wait()
