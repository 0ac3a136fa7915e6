"""Split a snapshot by prediction time into train, validation and test (never shuffled).

Rows are grouped by the label's join key (e.g. one order asked about three times) and each
group goes wholly to the split of its *first* prediction time, so no outcome is seen in
training and then again in validation or test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ontime.errors import OntimeError

SPLITS = ("train", "validation", "test")


@dataclass
class TimeSplit:
    """Three frames in time order and the prediction times that separate them."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    boundaries: tuple[pd.Timestamp, pd.Timestamp]
    time_column: str | None = None  # what the split was cut on, for folds cut the same way
    group_key: str | None = None

    def part(self, name: str) -> pd.DataFrame:
        if name not in SPLITS:
            raise OntimeError(f"unknown split '{name}'; choose one of {list(SPLITS)}")
        return getattr(self, name)

    def sizes(self) -> dict[str, int]:
        return {name: len(self.part(name)) for name in SPLITS}


def split_by_time(
    rows: pd.DataFrame,
    time_column: str,
    group_key: str | None,
    train_share: float,
    validation_share: float,
) -> TimeSplit:
    """Cut at the prediction times below which ``train_share`` (and then the validation
    share) of the groups start; ties on a boundary time all fall on the later side."""
    if rows.empty:
        raise OntimeError("cannot split an empty snapshot")
    times = pd.to_datetime(rows[time_column], utc=True)
    grouped = group_key is not None and group_key in rows.columns
    starts = times.groupby(rows[group_key]).transform("min") if grouped else times
    ordered = starts.sort_values(ignore_index=True)
    first = ordered.iloc[min(int(len(ordered) * train_share), len(ordered) - 1)]
    second = ordered.iloc[
        min(int(len(ordered) * (train_share + validation_share)), len(ordered) - 1)
    ]
    masks = {
        "train": starts < first,
        "validation": (starts >= first) & (starts < second),
        "test": starts >= second,
    }
    parts = {name: rows.loc[mask].reset_index(drop=True) for name, mask in masks.items()}
    empty = [name for name, part in parts.items() if part.empty]
    if empty:
        raise OntimeError(
            f"the {'/'.join(empty)} split is empty: {len(rows)} rows are too few to split "
            f"{train_share:.0%}/{validation_share:.0%}/rest by prediction time"
        )
    return TimeSplit(
        **parts,
        boundaries=(first, second),
        time_column=time_column,
        group_key=group_key if grouped else None,
    )
