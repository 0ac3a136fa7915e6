"""The dead-letter file: log rows that could not be written, kept with their error.

One JSON line per row in ``<log_dir>/dead_letter.jsonl``, appended and fsync'ed, so a row
that no table can hold is never silently dropped and never blocks the rows behind it.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


class DeadLetter:
    """Appends quarantined rows; ``count`` is how many the file holds."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.count = _lines(self.path)

    def add(self, table: str, row: object, error: object) -> None:
        """Quarantine one row of ``table`` with the error that kept it out."""
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        entry = {
            "quarantined_at": datetime.now(UTC).isoformat(),
            "table": table,
            "error": reason.splitlines()[0] if reason else "",
            "row": row,
        }
        line = json.dumps(entry, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())
        self.count += 1
        request = row.get("request_id") if isinstance(row, dict) else None
        log.error("log row %s quarantined in %s: %s", request, self.path.name, entry["error"])


def _lines(path: Path) -> int:
    try:
        with open(path, "rb") as file:
            return sum(1 for _ in file)
    except FileNotFoundError:
        return 0
