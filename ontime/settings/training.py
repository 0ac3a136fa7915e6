"""Settings section for training, evaluation, the registry and release gates.

Nothing here names a feature: segments and the critical slice are column names chosen in
``ontime.yaml``; features, keys and dtypes always come from the FeatureService.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ontime.settings.section import Section


class CostMatrix(Section):
    """What a decision costs, per order (any currency, used only for comparisons)."""

    intervention: float = Field(3.0, ge=0, description="Acting on one flagged order.")
    missed_delay: float = Field(10.0, ge=0, description="A late order nobody flagged.")
    caught_delay: float = Field(0.0, ge=0, description="A late order that was flagged.")


class CostOverride(Section):
    """The costs that differ for one segment value; an unset cost keeps the global one."""

    intervention: float | None = Field(None, ge=0)
    missed_delay: float | None = Field(None, ge=0)
    caught_delay: float | None = Field(None, ge=0)


class SegmentCosts(Section):
    """Costs by the value of one column, so each value's threshold follows from its costs.

    The column must be a model feature or an entity key: serving decides with it per row.
    """

    column: str = Field(description="A feature or entity key, e.g. expedited.")
    values: dict[str | bool | int | float, CostOverride] = Field(
        default_factory=dict,
        description="Value -> cost overrides (e.g. {true: {missed_delay: 30}}); values are "
        "compared as lower-case text, so YAML true matches a boolean column.",
    )

    def for_value(self, value: object, base: CostMatrix) -> CostMatrix:
        """The cost matrix of one segment value: ``base`` with that value's overrides."""
        wanted = str(value).lower()
        for key, override in self.values.items():
            if str(key).lower() == wanted:
                return base.model_copy(update=override.model_dump(exclude_none=True))
        return base


class SplitSettings(Section):
    """Shares of the snapshot, by prediction time; the test split is what remains."""

    train: float = Field(0.70, gt=0, lt=1)
    validation: float = Field(0.15, gt=0, lt=1)

    @model_validator(mode="after")
    def _leaves_a_test_split(self) -> SplitSettings:
        if self.train + self.validation >= 1:
            raise ValueError("train + validation must leave a share for the test split")
        return self


class ModelSettings(Section):
    """XGBoost hyper-parameters (native categorical support, early stopping across folds)."""

    max_depth: int = 6
    learning_rate: float = 0.05
    max_rounds: int = 1000
    early_stopping_rounds: int = 50
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bytree: float = 1.0
    seed: int = 7
    nthread: int = Field(
        1,
        ge=0,
        description="Threads for XGBoost; 0 = all cores. At this data size (8 columns, "
        "~300k rows) one thread measured 3x faster than two on a shared 2-core machine.",
    )


class GateSettings(Section):
    """Release gates a candidate must pass against the champion (or the baseline)."""

    critical_segment: dict[str, str | bool | int | float] = Field(
        default_factory=dict,
        description="Column -> value selecting the slice whose misses matter most "
        "(e.g. {expedited: true}); empty = no critical slice.",
    )
    critical_missed_rate_tolerance: float = Field(
        0.02, ge=0, description="Allowed absolute rise of the missed-delay rate there."
    )
    cost_tolerance: float = Field(
        0.0, ge=0, description="Allowed relative rise of expected cost per order."
    )
    top_bucket_tolerance: float = Field(
        0.05, ge=0, description="Allowed |predicted - observed| in the highest risk bucket."
    )
    slice_cost_tolerance: float = Field(
        0.10, ge=0, description="Allowed relative rise of cost per order in any slice."
    )
    slice_auc_tolerance: float = Field(
        0.03, ge=0, description="Allowed ROC AUC drop in any slice with both classes."
    )
    reviewed_cases: Path | None = Field(
        None,
        description="A reviewed critical case set (parquet or csv: entity keys, prediction "
        "time, known outcome). A candidate may miss none of its late cases. When set, it "
        "replaces the population-wide critical missed-rate comparison.",
    )


class RegistrySettings(Section):
    """MLflow tracking and model registry; embedded sqlite + local artifacts by default."""

    tracking_uri: str | None = Field(
        None, description="A tracking server; else $MLFLOW_TRACKING_URI; else the sqlite file."
    )
    mlflow_db: Path = Path("mlflow.db")
    artifact_dir: Path = Path("mlruns")
    experiment: str = "ontime"
    model_name: str | None = Field(None, description="Default: the FeatureService name.")
    audit_log: Path = Field(
        Path("data/registry/audit.jsonl"),
        description="A local copy of the audit trail; the trail itself is the ontime_audit "
        "table in the registry's database.",
    )
    release_db: str | None = Field(
        None,
        description="SQLAlchemy URL of the database behind the tracking server, where alias "
        "moves are locked and audited; default: the tracking URI when it is a database.",
    )
    release_wait_seconds: float = Field(
        120.0, gt=0, description="How long a release waits for another one to finish."
    )
    check_timeout_seconds: float = Field(
        60.0, gt=0, description="Time allowed to load and probe a model in a child process."
    )
    feast_mlflow: bool = Field(True, description="Tag runs through Feast's MLflow integration.")


class TrainingSettings(Section):
    """How snapshots are built and models are trained, evaluated and gated."""

    segments: list[str] = Field(
        default_factory=list,
        description="Columns to report metrics per value of (features, keys or event columns).",
    )
    min_slice_count: int = 100
    label_wait: timedelta = Field(
        timedelta(days=10),
        description="Events this close to the cutoff are left out: only their fast (mostly "
        "on-time) outcomes have arrived, which would bias the newest split.",
    )
    snapshot_dir: Path = Path("data/snapshots")
    report_dir: Path = Path("reports/training")
    register_saved_dataset: bool = True
    folds: int = Field(
        4,
        ge=1,
        description="Rolling-origin folds over train + validation: early stopping, "
        "calibration and thresholds use every fold's held-out window, not one.",
    )
    calibration: Literal["isotonic", "sigmoid", "auto", "none"] = Field(
        "isotonic",
        description="Fitted on the out-of-fold scores of every fold. auto: the map (isotonic, "
        "sigmoid or none) with the lowest log loss on each next fold when fitted on the "
        "earlier ones.",
    )
    risk_buckets: int = Field(10, ge=2)
    calibration_bins: int = Field(10, ge=2)
    split: SplitSettings = SplitSettings()
    model: ModelSettings = ModelSettings()
    costs: CostMatrix = CostMatrix()
    segment_costs: SegmentCosts | None = None
    gate: GateSettings = GateSettings()
    registry: RegistrySettings = RegistrySettings()
