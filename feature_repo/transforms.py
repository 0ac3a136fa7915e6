"""Pure, typed feature transforms. ODFVs wrap them; tests and pipelines import them directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

SECONDS_PER_HOUR = 3600.0
SCAN_AGE_CAP_HOURS = 168.0


def hours_since_last_scan(
    last_scan_epoch_s: ArrayLike,
    request_time_epoch_s: ArrayLike,
    cap_hours: float = SCAN_AGE_CAP_HOURS,
) -> np.ndarray | pd.Series:
    """Hours between the parcel's last known scan and the moment the prediction is asked.

    Capped at ``cap_hours``: beyond a week a parcel is simply lost, and the exact age adds
    nothing. A missing last scan (NaN) stays missing; the contract decides what that means.
    Built from numpy ufuncs, so pandas Series in give a Series out and arrays give an array:
    the on-demand view calls it on a single online row, where pandas would cost more than
    the arithmetic.
    """
    seconds = np.subtract(request_time_epoch_s, last_scan_epoch_s, dtype="float64")
    return np.minimum(np.divide(seconds, SECONDS_PER_HOUR), cap_hours)


def carrier_late_rate(
    shipments: pd.DataFrame,
    deliveries: pd.DataFrame,
    days: pd.DatetimeIndex,
    window_days: int = 28,
    prior_weight: float = 20.0,
) -> pd.DataFrame:
    """Daily carrier late rate from labels that had *arrived* before each day began.

    A label counts for day ``d`` only if ``label_available_at < d`` and it arrived within the
    trailing window, so the feature never uses an outcome the business did not yet know.
    Rates are shrunk towards the all-carrier rate with ``prior_weight`` pseudo-labels so a
    carrier with three deliveries does not get a rate of 0 or 1.
    """
    labels = deliveries[["order_id", "delivered_after_promise", "label_available_at"]].merge(
        shipments[["order_id", "carrier"]], on="order_id", how="inner"
    )
    # Day d sees labels that arrived on days d-window .. d-1 (strictly before midnight of d).
    labels["visible_day"] = labels["label_available_at"].dt.floor("D") + pd.Timedelta(days=1)
    daily = (
        labels.groupby(["carrier", "visible_day"])["delivered_after_promise"]
        .agg(late="sum", total="count")
        .reset_index()
    )
    grid = pd.MultiIndex.from_product(
        [sorted(labels["carrier"].unique()), days], names=["carrier", "visible_day"]
    )
    daily = daily.set_index(["carrier", "visible_day"]).reindex(grid, fill_value=0)
    rolling = (
        daily.groupby(level="carrier")[["late", "total"]]
        .rolling(window_days, min_periods=1)
        .sum()
        .droplevel(0)
    )
    # Shrink towards the same window's all-carrier rate.
    overall = rolling.groupby(level="visible_day").sum()
    prior = (overall["late"] / overall["total"].where(overall["total"] > 0)).fillna(0.0)
    rolling = rolling.join(prior.rename("prior"), on="visible_day")
    rate = (rolling["late"] + prior_weight * rolling["prior"]) / (rolling["total"] + prior_weight)
    out = pd.DataFrame(
        {
            "carrier_id": rolling.index.get_level_values("carrier"),
            "event_timestamp": rolling.index.get_level_values("visible_day"),
            "carrier_late_rate_28d": rate.to_numpy(),
            "carrier_labels_28d": rolling["total"].to_numpy().astype("int64"),
        }
    )
    out = out[out["carrier_labels_28d"] > 0].reset_index(drop=True)
    out["created_at"] = out["event_timestamp"]
    return out
