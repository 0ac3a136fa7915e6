"""The monitoring profile: a released model's clean-window statistics and the thresholds
that follow from them.

Built once per model version and window length (``monitoring.calibrate``) and stored with
the released model (``training.lineage``), so an alarm's threshold belongs to the artifact
it judges. It also holds what the like-for-like comparisons need: the reference scores and
the reference's calibration per stratum of the clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ontime.errors import OntimeError
from ontime.settings.monitoring import MonitoringSettings

FORMAT = 5  # 5: prediction drift is judged on a scale shared by the day groups
GROUP_DAYS = 3  # a day group's own threshold needs windows starting on this many days
# Distances to the reference, whose size follows how many reference rows a day group has
# (a sparse Sunday reference is a noisier one): judged on a scale shared by every group.
SCALED = ("prediction_drift",)


@dataclass
class MonitoringProfile:
    """Per-window values of every statistic on clean reference windows, and their quantiles.

    ``values[key]`` has one entry per window (None where the window had too few rows for the
    statistic); ``quantiles[key]`` is ``settings.profile.quantile`` of the known ones.
    ``score_counts`` is a strata x bins histogram of the reference scores;
    ``observed``/``expected`` are labelled positives and summed scores per stratum.
    ``false_alarms[key]`` is each check's out-of-sample false-alarm rate on the clean
    windows (thresholds from the other blocks of days).
    """

    model_name: str
    model_version: str
    window_hours: float
    fingerprint: str  # of the settings it was built with; another fingerprint rebuilds it
    period: dict[str, str]  # first and last reference prediction time
    window_starts: list[str]
    values: dict[str, list[float | None]]
    quantiles: dict[str, float]
    score_counts: list[list[int]]
    observed: list[float]
    expected: list[float]
    false_alarms: dict[str, float] = field(default_factory=dict)
    # Each window's main day group (monitoring.strata): thresholds are taken among windows
    # of the monitored window's own group when enough of them were measured.
    window_groups: list[int] = field(default_factory=list)
    # quality keys only: whether the window's metric was also materially worse (the
    # configured tolerance), which a retrain needs besides significance
    material: dict[str, list[bool]] = field(default_factory=dict)
    # Rows in each window: turns a share into a count (``monitoring.unseen``).
    window_rows: list[int] = field(default_factory=list)
    quantile_level: float = 0.99
    min_windows: int = 20
    format: int = FORMAT

    @property
    def windows(self) -> int:
        return len(self.window_starts)

    @property
    def window_days(self) -> list[str]:
        """The calendar day (UTC) each window starts on."""
        return [start[:10] for start in self.window_starts]

    def counts(self) -> np.ndarray:
        """The reference score histogram as an array (strata x bins)."""
        return np.asarray(self.score_counts, dtype="float64")

    def quantile(self, key: str, group: int | None = None) -> float | None:
        """The clean-window quantile of a statistic, None when it was never measured.

        With ``group``, the rule of :func:`clean_quantile` for that day group."""
        if key not in self.values or not self.window_groups:
            return self.quantiles.get(key)
        found = clean_quantile(
            key, self.values[key], self.window_groups, self.window_days, group,
            self.quantile_level, self.min_windows,
        )  # fmt: skip
        return found if found is not None else self.quantiles.get(key)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MonitoringProfile:
        """A stored profile; a profile of another format is refused (and rebuilt)."""
        if data.get("format") != FORMAT:
            raise OntimeError(f"monitoring profile format {data.get('format')} is not {FORMAT}")
        return cls(**data)


def fingerprint(settings: MonitoringSettings, window_hours: float) -> str:
    """What a profile depends on besides the model: the settings that shape its statistics."""
    shaping = {
        "window_hours": window_hours,
        "profile": settings.profile.model_dump(),
        "health": settings.health.model_dump(mode="json"),
        "labels": settings.labels.model_dump(),
        "format": FORMAT,
    }
    text = json.dumps(shaping, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def profile_key(window_hours: float) -> str:
    """The name a profile is stored under for its model version, e.g. ``window-12h``."""
    return f"window-{window_hours:g}h"


def clean_quantile(
    key: str,
    values: Sequence[float | None],
    groups: Sequence[int],
    days: Sequence[str],
    group: int | None,
    level: float,
    min_windows: int,
) -> float | None:
    """The ``level`` quantile of a statistic's clean-window values for a window of ``group``.

    Without a group, or for a group measured on fewer than ``min_windows`` windows: all
    windows. Otherwise:

    - A ``SCALED`` statistic is judged by its group's median times the quantile of every
      window's value over its own group's median. The tail's shape is learnt from all the
      windows, its scale from the group's: a reference period holds only two or three days
      of each weekday, too few for a tail of their own.
    - Any other statistic is judged by its group's own windows when they start on
      ``GROUP_DAYS`` days or more (a Monday by Mondays, never by one Monday), else by all.

    None when nothing was measured.
    """
    known = [(v, g, d) for v, g, d in zip(values, groups, days, strict=True) if v is not None]
    if not known:
        return None
    overall = float(np.quantile([v for v, _, _ in known], level))
    mine = [(v, d) for v, g, d in known if g == group]
    if group is None or len(mine) < min_windows:
        return overall
    if key in SCALED:
        by_group: dict[int, list[float]] = {}
        for v, g, _ in known:
            by_group.setdefault(g, []).append(v)
        medians = {g: float(np.median(vs)) for g, vs in by_group.items()}
        ratios = [v / medians[g] for v, g, _ in known if medians[g] > 0]
        if medians[group] > 0 and ratios:
            return float(np.quantile(ratios, level)) * medians[group]
        return overall
    if len({d for _, d in mine}) >= GROUP_DAYS:
        return float(np.quantile([v for v, _ in mine], level))
    return overall
