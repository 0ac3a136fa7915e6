"""Concurrent ``ontime promote`` and ``ontime rollback`` as real processes, on a real registry.

Every racer is its own ``python -m ontime_cli`` process, all started at once. Afterwards the
alias and the audit trail must agree: replaying the trail gives the alias, every champion
move starts where the previous one ended, each rollback returned to the champion below it,
each racer that said it moved the alias has exactly one entry, and each racer that did not
says why in one line. ``benchmarks/bench_release_races.py`` runs the same race with 50.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import TempRepo, make_repo

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

RACERS = 10
# v1 and v2 are the same model, so each ships against the other; racers wait for the lock.
TRAINING = (
    "training:\n  label_wait: 5 days\n  model:\n    max_rounds: 60\n"
    "  gate:\n    top_bucket_tolerance: 0.5\n"
    "  registry:\n    release_wait_seconds: 1800\n"
)
# What a racer may answer instead of moving the alias: the race made its move pointless.
EXPECTED_REFUSALS = ("is already the champion", "nothing to roll back to")


def build_world(base: Path) -> TempRepo:
    """Simulate, apply, train v1 and v2 (equal), and make v1 the champion."""
    temp = make_repo(base)
    temp.config.write_text(temp.config.read_text() + TRAINING)
    for args in (
        ("simulate",),
        ("apply",),
        ("train",),
        ("train",),
        ("promote", "1", "--force", "--reason", "bootstrap"),
    ):
        temp.ontime(*args)
    return temp


@dataclass
class Racer:
    command: tuple[str, ...]
    code: int
    out: str
    err: str


def race(temp: TempRepo, racers: int, seed: int, forked: bool = False) -> list[Racer]:
    """Start ``racers`` random promote/rollback processes at once and wait for all.

    ``forked``: fork them from one launcher that imported everything once
    (``tests/reliability/racers.py``), so that 50 fit in memory.
    """
    choices = [("promote", "1"), ("promote", "2"), ("rollback",)]
    commands = [random.Random(seed * 1000 + i).choice(choices) for i in range(racers)]
    if forked:
        return _forked_race(temp, commands)
    started = [
        (
            command,
            subprocess.Popen(
                [sys.executable, "-m", "ontime_cli", "--config", str(temp.config), *command],
                cwd=temp.root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for command in commands
    ]
    finished = []
    for command, process in started:
        out, err = process.communicate()  # reads both pipes, so no racer blocks on a full one
        finished.append(Racer(command, process.returncode, out, err))
    return finished


def _forked_race(temp: TempRepo, commands: list[tuple[str, ...]]) -> list[Racer]:
    work = Path(tempfile.mkdtemp(prefix="racers-", dir=temp.root))
    result = work / "racers.json"
    subprocess.run(
        [sys.executable, "-m", "tests.reliability.racers", str(temp.config), str(result),
         *(json.dumps(list(c)) for c in commands)],
        cwd=temp.root, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    return [
        Racer(tuple(r["command"]), r["code"], r["out"], r["err"])
        for r in json.loads(result.read_text())
    ]


def champion_line(out: str) -> str:
    """What a racer said it did to the champion (the CLI may print more lines after it)."""
    said = [line for line in out.splitlines() if line.startswith("champion: ")]
    return said[-1] if said else out.strip()[-200:]


def disagreements(settings, before: int, racers: list[Racer]) -> list[str]:
    """Everything wrong with the registry after a race (an empty list: alias and trail agree)."""
    from training import audit, registry
    from training.release import history

    problems = []
    trail = history(settings)
    moves = [e for e in trail if e["alias"] == registry.CHAMPION]
    stack: list[str] = []
    for number, entry in enumerate(moves):
        if entry["from"] != (stack[-1] if stack else None):
            problems.append(f"move {number} is from {entry['from']}, the champion was {stack}")
        if entry["action"] == "rollback":
            if len(stack) < 2 or entry["to"] != stack[-2]:
                problems.append(f"rollback {number} went to {entry['to']}, not below {stack}")
            stack.pop()
        else:
            stack.append(entry["to"])
    alias = registry.alias_versions(settings).get(registry.CHAMPION)
    if audit.alias_stack(trail, registry.CHAMPION)[-1:] != [alias]:
        problems.append(f"the trail replays to {stack[-1:]}, the alias is {alias}")
    moved = [r for r in racers if r.code == 0]
    if len(moves) - before != len(moved):
        problems.append(f"{len(moved)} racers moved the alias, {len(moves) - before} entries")
    said = Counter(champion_line(r.out) for r in moved)
    recorded = Counter(
        f"champion: {e['from'] or '-'} -> {e['to']} ({e['action']})" for e in moves[before:]
    )
    if said != recorded:
        problems.append(f"racers said {dict(said)}, the trail has {dict(recorded)}")
    for racer in racers:
        if racer.code != 0 and not (
            racer.err.count("\n") == 1 and any(why in racer.err for why in EXPECTED_REFUSALS)
        ):
            problems.append(f"{' '.join(racer.command)} exited {racer.code}: {racer.err[-500:]}")
    if audit.read(settings.training.registry.audit_log, model=moves[0]["model"]) != trail:
        problems.append("the local copy differs from the trail in the database")
    return problems


@pytest.fixture(scope="module")
def race_world(tmp_path_factory):
    from ontime.settings import load_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        temp = build_world(tmp_path_factory.mktemp("races"))
        yield temp, load_settings(temp.config)


def test_concurrent_promotes_and_rollbacks_leave_alias_and_trail_in_agreement(race_world):
    from training.release import history

    temp, settings = race_world
    before = sum(e["alias"] == "champion" for e in history(settings))
    racers = race(temp, RACERS, seed=1)
    assert disagreements(settings, before, racers) == []
    assert any(r.code == 0 for r in racers)


def test_a_release_that_cannot_get_the_lock_fails_clearly_and_changes_nothing(race_world):
    from training import registry
    from training.release import history

    temp, settings = race_world
    impatient = temp.root / "ontime-impatient.yaml"
    impatient.write_text(temp.config.read_text().replace("1800", "2"))
    before_alias, before_trail = registry.alias_versions(settings), history(settings)
    holder = sqlite3.connect(settings.training.registry.mlflow_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another host's release, holding the lock throughout
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ontime_cli", "--config", str(impatient), "promote", "2"],
            cwd=temp.root,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "held the registry lock for over 2 s; nothing was changed" in result.stderr
    assert registry.alias_versions(settings) == before_alias
    assert history(settings) == before_trail
