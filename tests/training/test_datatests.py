"""Data tests before training: each names the problem in one line."""

from __future__ import annotations

import pandas as pd
import pytest

from ontime.errors import OntimeError
from training.datatests import check_label_values, check_schema, check_unique


def test_schema_names_the_missing_feature():
    with pytest.raises(OntimeError, match=r"\['speed'\].*'svc'"):
        check_schema(pd.DataFrame({"size": [1]}), "svc", ["size", "speed"])


@pytest.mark.parametrize("values", [[0, 1, 1], [True, False], [0.0, 1.0]])
def test_binary_labels_pass(values):
    check_label_values(pd.Series(values), "late")


@pytest.mark.parametrize(
    ("values", "problem"), [([0, 2], "2"), (["yes", "no"], "'yes'"), ([1, None], "missing")]
)
def test_other_labels_are_refused(values, problem):
    with pytest.raises(OntimeError, match=problem):
        check_label_values(pd.Series(values), "late")


def test_duplicate_entity_and_time_is_refused_with_an_example():
    t = pd.Timestamp("2026-01-01", tz="UTC")
    frame = pd.DataFrame({"id": ["a", "a", "b"], "t": [t, t, t]})
    with pytest.raises(OntimeError, match=r"2 rows share \['id', 't'\].*'a'"):
        check_unique(frame, ["id", "t"], "snapshot")
    check_unique(frame.iloc[1:], ["id", "t"], "snapshot")
