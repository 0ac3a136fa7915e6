"""The append-only audit log and the champion history it implies."""

from __future__ import annotations

import pytest

from ontime.errors import OntimeError
from training import audit


def move(alias: str, old, new, action: str = "promote") -> dict:
    return audit.record(model="m", alias=alias, previous=old, new=new, action=action, reason="r")


def test_entries_are_appended_and_read_back_in_order(tmp_path):
    path = tmp_path / "deep" / "audit.jsonl"
    audit.append(path, move("champion", None, "1"))
    audit.append(path, move("champion", "1", "2"))
    entries = audit.read(path)
    assert [(e["from"], e["to"]) for e in entries] == [(None, "1"), ("1", "2")]
    assert entries[0]["who"] and entries[0]["at"] <= entries[1]["at"]
    assert audit.read(path, model="other") == []


def test_rollback_pops_and_promote_pushes():
    entries = [
        move("champion", None, "1"),
        move("challenger", None, "5", "challenger"),  # other aliases do not count
        move("champion", "1", "2"),
        move("champion", "2", "3"),
        move("champion", "3", "2", "rollback"),
    ]
    assert audit.alias_stack(entries, "champion") == ["1", "2"]
    entries.append(move("champion", "2", "1", "rollback"))
    assert audit.alias_stack(entries, "champion") == ["1"]


def test_a_corrupt_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "audit.jsonl"
    audit.append(path, move("champion", None, "1"))
    with path.open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(OntimeError, match="line 2"):
        audit.read(path)
