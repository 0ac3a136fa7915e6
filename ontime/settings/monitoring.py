"""Settings section for monitoring (``monitoring:`` in ``ontime.yaml``).

Every alarm has its threshold here, so a team tunes noise in one file and never in code.
Feature names may appear only as keys in ``ontime.yaml`` (e.g. a freshness budget), never
in monitoring code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ontime.settings.section import Section


class HealthSettings(Section):
    """Fast input alarms: what a request already tells us, before any label exists."""

    # Alarms fire on the excess over the reference rate, so a feature that is legitimately
    # sometimes missing does not alarm.
    null_rate_excess: float = Field(0.05, ge=0.0, le=1.0)
    unseen_rate_excess: float = Field(0.02, ge=0.0, le=1.0)
    # Share of values older than their freshness budget (or marked stale by serving).
    late_rate_excess: float = Field(0.05, ge=0.0, le=1.0)
    # A feed that breaks for one partner (a carrier, a warehouse) shows as one segment of an
    # entity key whose values are much older than the rest of the same window. Comparing
    # within the window keeps holidays and weekday effects, which age everything, quiet.
    segment_age_quantile: float = Field(0.75, gt=0.0, lt=1.0)
    segment_age_excess: float = Field(0.25, ge=0.0, le=1.0)
    max_segments: int = Field(50, ge=2, description="Keys with more values are not segments.")
    # Per-feature freshness budget in seconds; default: the contract's max_age, else the TTL.
    freshness_budget_s: dict[str, float] = Field(default_factory=dict)
    error_rate: float = Field(0.01, ge=0.0, le=1.0)
    latency_p95_ms: float = Field(500.0, gt=0.0)
    # Rates over fewer rows than this are reported but never alarm.
    min_rows: int = Field(50, ge=1)


class ParitySettings(Section):
    """Row-level parity: served values against an offline point-in-time recompute."""

    sample_rows: int = Field(2000, ge=0, description="0 switches the recompute off.")
    abs_tolerance: float = Field(1e-6, ge=0.0)
    rel_tolerance: float = Field(1e-6, ge=0.0)
    skew_rate: float = Field(0.01, ge=0.0, le=1.0)
    stale_rate: float = Field(0.05, ge=0.0, le=1.0)
    min_mismatches: int = Field(3, ge=1)
    # A value becomes visible offline when written, a little after its event time.
    visibility_slack_s: float = Field(900.0, ge=0.0)


class DriftSettings(Section):
    """Feature drift: computed and stored for investigation, never an alarm by itself."""

    sample_rows: int = Field(50_000, ge=100)
    numeric_method: str = "wasserstein"
    categorical_method: str = "jensenshannon"
    psi_bins: int = Field(10, ge=2)
    # Per-feature drift is stored, never acted on. Time-varying features (rolling rates,
    # calendar-driven ages) drift between any two periods, so only drift across most of the
    # inputs at once is a signal that can ask for `inspect`.
    inspect_share: float = Field(0.75, gt=0.0, le=1.0)


class PredictionDriftSettings(Section):
    """Score drift against the champion's frozen validation scores."""

    sample_rows: int = Field(50_000, ge=100)
    bootstrap_resamples: int = Field(200, ge=20)
    quantile: float = Field(0.99, gt=0.5, lt=1.0)
    # Sampling noise alone sets the bootstrap quantile; real traffic also moves with the
    # weekday mix, so a distance below this floor (probability units) is never a signal.
    min_distance: float = Field(0.02, ge=0.0)


class LabelQualitySettings(Section):
    """Delayed-label quality per slice, compared with the model's test metrics.

    Costs, segments and risk buckets are training's (``training.costs``, ``.segments``,
    ``.risk_buckets``), so the window is judged by the numbers the release gate used.
    """

    min_samples: int = Field(100, ge=1, description="Per cell; smaller cells are 'insufficient'.")
    # Early labels over-represent on-time parcels, so a verdict needs most labels in.
    min_coverage: float = Field(0.6, ge=0.0, le=1.0)
    max_cost_increase: float = Field(
        0.2, ge=0.0, description="Allowed relative rise of cost per order over the test split."
    )
    max_recall_drop: float = Field(0.1, ge=0.0, le=1.0)
    max_precision_drop: float = Field(0.1, ge=0.0, le=1.0)
    # A regression this soon after the champion's promotion points at the release.
    rollback_window_days: float = Field(7.0, ge=0.0)


class MonitoringSettings(Section):
    """Thresholds and outputs of ``ontime monitor``."""

    # Which clock a window means. prediction_time: when the question was asked (the same as
    # served_at for live traffic, and the only meaningful one for replayed history).
    window_time: Literal["prediction_time", "served_at"] = "prediction_time"

    reports_dir: Path = Path("reports")
    seed: int = 0
    health: HealthSettings = HealthSettings()
    parity: ParitySettings = ParitySettings()
    drift: DriftSettings = DriftSettings()
    prediction_drift: PredictionDriftSettings = PredictionDriftSettings()
    labels: LabelQualitySettings = LabelQualitySettings()
