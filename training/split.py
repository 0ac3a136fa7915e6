"""Split a snapshot by prediction time into train, validation and test (never shuffled).

Rows are grouped by the label's join key (e.g. one order asked about three times) and each
group goes wholly to the split of its *first* prediction time, so no outcome is seen in
training and then again in validation or test.

The rows are copied once, in split order (train, validation, test); the three frames are
views of that copy, so train + validation (the development rows) is a view too, not a
concatenated copy: on a 4M-row snapshot each copy is about 0.3 GB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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
    ordered: pd.DataFrame  # all rows, train then validation then test: the parts are views
    time_column: str | None = None  # what the split was cut on, for folds cut the same way
    group_key: str | None = None

    def part(self, name: str) -> pd.DataFrame:
        if name not in SPLITS:
            raise OntimeError(f"unknown split '{name}'; choose one of {list(SPLITS)}")
        return getattr(self, name)

    def sizes(self) -> dict[str, int]:
        return {name: len(self.part(name)) for name in SPLITS}

    def development_rows(self) -> pd.DataFrame:
        """Train then validation rows, indexed from 0: a view of ``ordered``, not a copy."""
        return row_range(self.ordered, 0, len(self.train) + len(self.validation))


def row_range(frame: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    """Rows ``start:stop`` of ``frame``, indexed from 0, sharing ``frame``'s memory (no copy).

    A new frame, not a slice pandas tracks, so adding a column to it never warns or
    reaches ``frame``; values edited in place would, and nothing here edits them."""
    return frame.iloc[start:stop].set_axis(pd.RangeIndex(stop - start), axis=0, copy=False)


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
    positions = [np.flatnonzero(mask.to_numpy()) for mask in masks.values()]
    in_order = rows.take(np.concatenate(positions))  # the one copy; each part keeps row order
    in_order.index = pd.RangeIndex(len(in_order))
    ends = np.cumsum([0, *(len(p) for p in positions)]).tolist()
    parts = {
        name: row_range(in_order, start, stop)
        for name, start, stop in zip(masks, ends, ends[1:], strict=False)
    }
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
        ordered=in_order,
    )
