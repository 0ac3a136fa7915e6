"""The labelled entity frame: only labels that had arrived by the cutoff, one-line errors."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from ontime.errors import OntimeError
from ontime.settings import Settings
from training.labels import labelled_events

T0 = pd.Timestamp("2026-03-01", tz="UTC")


@pytest.fixture
def tables(tmp_path) -> Settings:
    events = pd.DataFrame(
        {
            "ticket": ["a", "a", "b", "c", "d"],
            "asked": [
                T0,
                T0 + timedelta(days=1),
                T0 + timedelta(days=2),
                T0 + timedelta(days=3),
                T0 + timedelta(days=9, hours=12),
            ],
        }
    )
    labels = pd.DataFrame(
        {
            "ticket": ["a", "b", "c", "d"],
            "escalated": [True, False, True, False],
            "known": [
                T0 + timedelta(days=4),
                T0 + timedelta(days=5),
                T0 + timedelta(days=8),
                T0 + timedelta(days=10),
            ],
        }
    )
    events.to_parquet(tmp_path / "events.parquet")
    labels.to_parquet(tmp_path / "labels.parquet")
    return Settings.model_validate(
        {
            "events": {"table": tmp_path / "events.parquet", "time_column": "asked"},
            "labels": {
                "table": tmp_path / "labels.parquet",
                "join_key": "ticket",
                "column": "escalated",
                "available_at": "known",
            },
            "training": {"label_wait": "1 day"},
        }
    )


def test_only_labels_known_by_the_cutoff_are_joined(tables):
    result = labelled_events(tables, cutoff=(T0 + timedelta(days=6)).to_pydatetime())
    # window ends at day 5: events a, a, b, c; c's label arrives on day 8 -> excluded
    assert result.events["ticket"].tolist() == ["a", "a", "b"]
    assert result.events["escalated"].tolist() == [1, 1, 0]
    assert result.counts == {
        "events_total": 5,
        "events_after_window": 1,
        "events_without_label": 1,
        "events_labelled": 3,
    }


def test_default_cutoff_is_the_newest_label(tables):
    result = labelled_events(tables)
    assert result.cutoff == (T0 + timedelta(days=10)).to_pydatetime()
    assert result.events["ticket"].tolist() == ["a", "a", "b", "c"]  # d is inside label_wait


def test_a_cutoff_before_any_label_is_refused(tables):
    with pytest.raises(OntimeError, match="no labels available by cutoff"):
        labelled_events(tables, cutoff=(T0 + timedelta(days=3)).to_pydatetime())


def test_an_empty_window_is_refused(tables):
    later_wait = tables.model_copy(
        update={"training": tables.training.model_copy(update={"label_wait": timedelta(days=30)})}
    )
    with pytest.raises(OntimeError, match="empty window"):
        labelled_events(later_wait)


def test_a_missing_label_column_is_named(tables):
    broken = tables.model_copy(
        update={"labels": tables.labels.model_copy(update={"column": "escalation"})}
    )
    with pytest.raises(OntimeError, match=r"label table lacks column\(s\) \['escalation'\]"):
        labelled_events(broken)
