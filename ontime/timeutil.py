"""One rule for instants: a time without a zone is UTC, and every instant is compared in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive value is taken to be UTC already."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_timestamp(moment: datetime | str | pd.Timestamp) -> pd.Timestamp:
    """A pandas Timestamp in UTC; a naive value is taken to be UTC already."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)


def utc_series(values: pd.Series) -> pd.Series:
    """A datetime column in UTC (naive values are UTC), microsecond precision."""
    return pd.to_datetime(values, utc=True).astype("datetime64[us, UTC]")
