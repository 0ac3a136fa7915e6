"""Settings section for monitoring (``monitoring:`` in ``ontime.yaml``).

Every alarm has its threshold here, so a team tunes noise in one file and never in code.
Feature names may appear only as keys in ``ontime.yaml`` (e.g. a freshness budget), never
in monitoring code.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ontime.settings.section import Section


class HealthSettings(Section):
    """Fast input alarms: what a request already tells us, before any label exists.

    Rates are judged against the clean-window range of the model's monitoring profile
    (``monitoring.profile``): an alarm needs the window beyond that range's quantile by the
    margin below. Null, unseen and late-value alarms are hard input failures (``block``).
    """

    # Margins over the clean-window quantile (over the reference rate without a profile).
    null_rate_excess: float = Field(0.05, ge=0.0, le=1.0)
    unseen_rate_excess: float = Field(0.02, ge=0.0, le=1.0)
    # Share of values older than their freshness budget (or marked stale by serving).
    late_rate_excess: float = Field(0.05, ge=0.0, le=1.0)
    # A feed that breaks for one partner (a carrier, a warehouse) shows as one segment of an
    # entity key whose values are much older than the rest of the same window. Comparing
    # within the window keeps holidays and weekday effects, which age everything, quiet.
    # Values still inside their budget are no hard failure: this alarm asks for `inspect`.
    segment_age_quantile: float = Field(0.75, gt=0.0, lt=1.0)
    segment_age_excess: float = Field(
        0.2, ge=0.0, le=1.0, description="Floor of the segment-lag threshold."
    )
    segment_age_margin: float = Field(
        0.1, ge=0.0, le=1.0, description="Margin over the clean-window quantile."
    )
    segment_min_rows: int = Field(
        20, ge=1, description="A segment with fewer aged rows is reported 'insufficient'."
    )
    max_segments: int = Field(50, ge=2, description="Keys with more values are not segments.")
    # Share of a window's served rows allowed past their view's freshness SLA (the view's
    # `freshness_sla` tag, or serving.freshness_sla) before an `inspect` alarm names the view.
    sla_breach_rate: float = Field(0.05, ge=0.0, le=1.0)
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
    # Evidently's per-column reports (drift.html, parity.html). Off, only PSI and missing
    # rates are computed: for backtests over many windows, where the pages go unread.
    evidently_reports: bool = True


class PredictionDriftSettings(Section):
    """Score drift against the champion's reference scores, stratified to the window's mix.

    The threshold is the larger of the clean-window quantile (``monitoring.profile``) and a
    bootstrap quantile at the window's own row count (``quantile``; rows drawn
    independently, which matters when a window holds far fewer rows than the reference's).
    """

    sample_rows: int = Field(50_000, ge=100)
    bootstrap_resamples: int = Field(200, ge=20)
    quantile: float = Field(0.99, gt=0.5, lt=1.0)
    # A distance below this floor (probability units) is never a signal.
    min_distance: float = Field(0.02, ge=0.0)


class LabelQualitySettings(Section):
    """Delayed-label quality per slice, compared with the model's test metrics.

    Costs, segments and risk buckets are training's (``training.costs``, ``.segments``,
    ``.risk_buckets``), so the window is judged by the numbers the release gate used.
    """

    min_samples: int = Field(100, ge=1, description="Per cell; smaller cells are 'insufficient'.")
    # Early labels over-represent on-time parcels, so a verdict needs most labels in.
    min_coverage: float = Field(0.6, ge=0.0, le=1.0)
    # A metric is significantly worse when it is past its interval: what the reference
    # predicts for this window's rows, widened to the clean windows' ``profile.quantile`` of
    # standardised errors (never narrower than this normal confidence).
    confidence: float = Field(0.99, gt=0.5, lt=1.0)
    # ...and materially worse: beyond these tolerances from that expectation.
    max_cost_increase: float = Field(
        0.2, ge=0.0, description="Allowed relative rise of cost per order over the expected."
    )
    max_recall_drop: float = Field(0.1, ge=0.0, le=1.0)
    max_precision_drop: float = Field(0.1, ge=0.0, le=1.0)
    # The metrics whose significant and material worsening calls for a retrain. Precision
    # and recall move with the base rate even when decisions stay as cheap as expected, so
    # by default they are reported with their intervals but decide nothing.
    retrain_on: list[Literal["cost_per_order", "precision", "recall"]] = Field(
        default_factory=lambda: ["cost_per_order"], min_length=1
    )
    # A regression this soon after the champion's promotion points at the release.
    rollback_window_days: float = Field(7.0, ge=0.0)


class ProfileSettings(Section):
    """The monitoring profile: every statistic measured on clean reference windows.

    The reference period (the champion's validation and test periods) is cut into windows
    as long as the monitored one, one starting every ``step_hours`` (every alignment of the
    day), and every check's statistic is computed on each. An alarm threshold is the
    ``quantile`` of that distribution (plus the check's margin).
    """

    quantile: float = Field(0.99, gt=0.5, lt=1.0)
    step_hours: float = Field(1.0, gt=0.0)
    # Fewer clean windows than this: thresholds fall back to the configured ones (noted).
    min_windows: int = Field(20, ge=2)
    # Strata that change scores and base rates: blocks of the hour of day x groups of days.
    hour_block_hours: int = Field(4, ge=1, le=24)
    day_groups: list[list[int]] = Field(default_factory=lambda: [[0], [1, 2, 3, 4], [5], [6]])

    @field_validator("day_groups")
    @classmethod
    def _every_weekday_once(cls, groups: list[list[int]]) -> list[list[int]]:
        days = sorted(day for group in groups for day in group)
        if days != list(range(7)):
            raise ValueError(
                f"day_groups must name each weekday 0 (Monday) to 6 once, got {groups}"
            )
        return groups

    # Public holidays count as the last day group (Sunday by default): closed days look like
    # closed days, not like the weekday they fall on.
    holidays: list[date] = Field(default_factory=list)
    # A stratum with fewer reference rows borrows its hour block pooled over all days.
    min_stratum_rows: int = Field(30, ge=1)
    # Per-stratum calibration ratios are shrunk toward 1 with this many pseudo-positives.
    calibration_prior: float = Field(20.0, ge=0.0)


class AlertSettings(Section):
    """Where decisions that need someone go: a webhook (JSON POST), retried, else a file."""

    webhook_url: str | None = None
    actions: list[str] = ["block", "repair_parity", "rollback", "retrain"]
    attempts: int = Field(4, ge=1)
    timeout_s: float = Field(5.0, gt=0.0)
    backoff_s: float = Field(0.5, ge=0.0, description="Doubled after each failed attempt.")
    # Alerts the endpoint did not take, one JSON line each (default: reports_dir/...).
    dead_letter: Path | None = None


class MonitoringSettings(Section):
    """Thresholds and outputs of ``ontime monitor``."""

    # Which clock a window means. prediction_time: when the question was asked (the same as
    # served_at for live traffic, and the only meaningful one for replayed history).
    window_time: Literal["prediction_time", "served_at"] = "prediction_time"

    reports_dir: Path = Path("reports")
    seed: int = 0
    # The champion's reference rows: up to this many rows of its snapshot, sampled once and
    # kept with the released model, so judging a window never reads the whole history.
    reference_rows: int = Field(500_000, ge=1000)
    # Every judged window's metrics and decision (SQLite; default: reports_dir/history.sqlite).
    history_db: Path | None = None
    # The Evidently workspace its dashboard reads (`ontime ui`; default: reports_dir/workspace).
    workspace: Path | None = None
    alerts: AlertSettings = AlertSettings()
    health: HealthSettings = HealthSettings()
    parity: ParitySettings = ParitySettings()
    drift: DriftSettings = DriftSettings()
    prediction_drift: PredictionDriftSettings = PredictionDriftSettings()
    labels: LabelQualitySettings = LabelQualitySettings()
    profile: ProfileSettings = ProfileSettings()

    @property
    def history_path(self) -> Path:
        return self.history_db or self.reports_dir / "history.sqlite"

    @property
    def workspace_path(self) -> Path:
        return self.workspace or self.reports_dir / "workspace"

    @property
    def dead_letter_path(self) -> Path:
        return self.alerts.dead_letter or self.reports_dir / "alerts-dead-letter.jsonl"
