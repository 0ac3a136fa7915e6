"""Audit entries of alias moves (MLflow keeps no history of aliases), and what they imply.

An entry says which alias moved, from which version to which, when, who did it, why, the
gate report that allowed it and the SHA-256 of the files that were verified. The trail
itself is a table in the registry's database (``training.release_store``); this module
builds entries, replays them, and keeps the local JSON-lines copy (one object per line,
appended under an exclusive lock and flushed to disk).
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from ontime.errors import OntimeError


def current_user() -> str:
    """Who is acting: $USER, else the login name, else 'unknown'."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record(
    *,
    model: str,
    alias: str,
    previous: str | None,
    new: str | None,
    action: str,
    reason: str,
    gate: dict | None = None,
    artifacts: dict[str, str] | None = None,
) -> dict:
    """An audit entry; ``previous``/``new`` are versions (None = alias unset), ``artifacts``
    the SHA-256 of each file of ``new`` as verified for this move."""
    return {
        "model": model,
        "alias": alias,
        "from": previous,
        "to": new,
        "action": action,
        "at": datetime.now(tz=UTC).isoformat(),
        "who": current_user(),
        "why": reason,
        "gate": gate,
        "artifacts": artifacts,
    }


def append(path: Path, entry: dict) -> None:
    """Add one line and make sure it reached the disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, sort_keys=True, default=str) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read(path: Path, model: str | None = None) -> list[dict]:
    """All entries, oldest first (optionally of one model); a corrupt line is an error."""
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise OntimeError(f"audit log {path} line {number} is not valid JSON") from None
        if model is None or entry.get("model") == model:
            entries.append(entry)
    return entries


def alias_stack(entries: list[dict], alias: str) -> list[str]:
    """The versions an alias has held, as a stack: a move pushes, a rollback pops.

    The top is where the alias should point now; the entry below it is where a rollback
    goes.
    """
    stack: list[str] = []
    for entry in entries:
        if entry.get("alias") != alias:
            continue
        if entry.get("action") == "rollback":
            if stack:
                stack.pop()
        elif entry.get("to") is None:
            stack.clear()
        else:
            stack.append(str(entry["to"]))
    return stack
