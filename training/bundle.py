"""The model artifact: an XGBoost booster in its own format plus everything needed to use it.

Nothing is pickled. The booster is saved by XGBoost (UBJSON), the isotonic calibration map
and the metadata as JSON, and ``SHA256SUMS`` lists the digest of both (``sha256sum -c``
reads it). Serving loads exactly this folder, so a decision can always be traced to the
artifact, the FeatureService and the snapshot that produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from training.linear_inputs import LinearInputs

BOOSTER_FILE = "booster.ubj"
META_FILE = "bundle.json"
CHECKSUMS_FILE = "SHA256SUMS"
# Metadata key: {"column": name, "values": {segment key: threshold}}, chosen from each
# segment's costs; a row whose value is not listed uses the global ``threshold``.
SEGMENT_THRESHOLDS = "segment_thresholds"


def segment_key(value: object) -> str:
    """A segment value as thresholds are keyed: lower-case text (YAML true matches True)."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return "<missing>"
    return str(value).lower()


@dataclass
class Calibration:
    """A monotone map from raw booster scores to probabilities (isotonic, stored as knots)."""

    x: list[float]
    y: list[float]

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        if not self.x:
            return scores
        return np.interp(scores, self.x, self.y)


@dataclass
class ModelBundle:
    booster: xgb.Booster
    calibration: Calibration
    feature_service: str
    features: list[str]  # raw features, in FeatureService order
    model_columns: list[str]  # contract output columns fed to the booster
    categories: dict[str, list[str]]  # known values per categorical feature
    threshold: float  # cost-optimal decision threshold on the probability
    metadata: dict = field(default_factory=dict)
    # Set for a linear (gblinear) booster, e.g. the logistic baseline: its numeric inputs.
    linear_inputs: LinearInputs | None = None

    def raw_scores(self, model_frame: pd.DataFrame) -> np.ndarray:
        if self.linear_inputs is not None:  # gblinear has no inplace_predict
            matrix = self.linear_inputs.matrix(model_frame, self.model_columns)
            return self.booster.predict(xgb.DMatrix(matrix, feature_names=self.model_columns))
        matrix = self._encoded(model_frame)
        if matrix is None:  # let XGBoost re-code the categories itself
            data = xgb.DMatrix(model_frame[self.model_columns], enable_categorical=True)
            return self.booster.predict(data)
        return self.booster.inplace_predict(matrix)

    def _encoded(self, model_frame: pd.DataFrame) -> np.ndarray | None:
        """The model columns as one float32 matrix, each category as its training code.

        Serving scores one row at a time, and XGBoost's own pandas conversion costs several
        times the prediction. The codes are only reused when a categorical column carries
        exactly the categories the booster was trained with (then XGBoost's re-coding would
        be the identity); otherwise, or for any other column type, this returns None.
        """
        trained = self._trained_categories
        if trained is None:
            return None
        matrix = np.empty((len(model_frame), len(self.model_columns)), dtype="float32")
        for position, name in enumerate(self.model_columns):
            column = model_frame[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                known = trained.get(name)
                if known is None or not column.cat.categories.equals(known):
                    return None
                codes = column.cat.codes.to_numpy()
                matrix[:, position] = np.where(codes < 0, np.nan, codes)
            elif name not in trained and column.dtype.kind in "fiub":
                matrix[:, position] = column.to_numpy()
            else:
                return None
        return matrix

    @cached_property
    def _trained_categories(self) -> dict[str, pd.Index] | None:
        """Categorical model column -> categories in training code order, from the booster.

        None when the booster's columns are not ``model_columns`` or it stores no categories.
        """
        if self.linear_inputs is not None:
            return None
        if list(self.booster.feature_names or []) != list(self.model_columns):
            return None
        kinds = dict(zip(self.model_columns, self.booster.feature_types or [], strict=False))
        try:
            stored = self.booster.get_categories(export_to_arrow=True).to_arrow()
        except Exception:  # an older booster without stored categories
            return None
        trained = {
            name: pd.Index(values.to_pylist(), dtype=object)
            for name, values in stored
            if values is not None
        }
        if {name for name, kind in kinds.items() if kind == "c"} != set(trained):
            return None
        return trained

    def predict_proba(self, model_frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the positive class for each model row."""
        return self._calibrated(self.raw_scores(model_frame))

    def predict_proba_columns(
        self, columns: Mapping[str, np.ndarray], categories: Mapping[str, Sequence[str]]
    ) -> np.ndarray:
        """``predict_proba`` from contract output columns, without a DataFrame (serving).

        ``columns`` maps each model column to float values, or for a categorical column to
        codes (-1 = missing) into ``categories[name]``. When those are exactly the booster's
        trained categories the codes go to XGBoost as they are; otherwise the columns become
        a model frame and take the ``predict_proba`` path.
        """
        trained = self._trained_labels
        if (
            trained is not None
            and categories.keys() == trained.keys()
            and all(tuple(categories[name]) == labels for name, labels in trained.items())
        ):
            matrix = np.empty((len(columns[self.model_columns[0]]), len(self.model_columns)))
            for position, name in enumerate(self.model_columns):
                values = columns[name]
                matrix[:, position] = (
                    np.where(values < 0, np.nan, values) if name in trained else values
                )
            return self._calibrated(self.booster.inplace_predict(matrix.astype("float32")))
        frame = pd.DataFrame(
            {
                name: pd.Categorical.from_codes(columns[name], categories=list(categories[name]))
                if name in categories
                else columns[name]
                for name in self.model_columns
            }
        )
        return self.predict_proba(frame)

    def _calibrated(self, scores: np.ndarray) -> np.ndarray:
        return np.clip(self.calibration(scores), 0.0, 1.0)

    @cached_property
    def _trained_labels(self) -> dict[str, tuple[str, ...]] | None:
        """Categorical model column -> trained categories as a tuple (cheap to compare)."""
        trained = self._trained_categories
        return None if trained is None else {n: tuple(i) for n, i in trained.items()}

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        return probabilities >= self.threshold

    @property
    def threshold_column(self) -> str | None:
        """The column whose value picks each row's threshold; None = one threshold for all."""
        return (self.metadata.get(SEGMENT_THRESHOLDS) or {}).get("column")

    def row_thresholds(self, values: Sequence) -> np.ndarray:
        """Each row's threshold from its ``threshold_column`` value; unlisted: the global one."""
        table = (self.metadata.get(SEGMENT_THRESHOLDS) or {}).get("values") or {}
        if not table:
            return np.full(len(values), self.threshold, dtype=float)
        return np.array([table.get(segment_key(v), self.threshold) for v in values], dtype=float)

    def save(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(folder / BOOSTER_FILE)
        meta = {
            "calibration": asdict(self.calibration),
            "feature_service": self.feature_service,
            "features": self.features,
            "model_columns": self.model_columns,
            "categories": self.categories,
            "threshold": self.threshold,
            "metadata": self.metadata,
            "linear_inputs": asdict(self.linear_inputs) if self.linear_inputs else None,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        sums = [
            f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n"
            for name in (BOOSTER_FILE, META_FILE)
        ]
        (folder / CHECKSUMS_FILE).write_text("".join(sums))
        return folder

    @classmethod
    def load(cls, folder: Path, booster_file: Path | None = None) -> ModelBundle:
        """Read a saved bundle; ``booster_file`` replaces its booster (the registered one).

        Nothing is verified here: ``training.integrity`` does that before calling this.
        """
        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text())
        linear = meta.get("linear_inputs")
        booster = xgb.Booster()
        booster.load_model(booster_file or folder / BOOSTER_FILE)
        return cls(
            booster=booster,
            calibration=Calibration(**meta["calibration"]),
            feature_service=meta["feature_service"],
            features=meta["features"],
            model_columns=meta["model_columns"],
            categories=meta["categories"],
            threshold=float(meta["threshold"]),
            metadata=meta.get("metadata", {}),
            linear_inputs=LinearInputs(**linear) if linear else None,
        )
