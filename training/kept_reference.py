"""What monitoring compares each window with, kept with the released model.

Judging a window must not cost more as the history grows. Without this, every window read
the model's whole training snapshot, verified its hash and re-scored its validation part.
Instead, once per model version, the reference rows (up to ``monitoring.reference_rows``
rows of the snapshot, seeded, in snapshot order; all of them when the snapshot is small)
and the validation scores are written next to the model's monitoring profiles. Their
SHA-256 digests are a tag of the model version in the registry, so an edited file is never
used: it is rebuilt from the verified snapshot.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ontime.settings import Settings
    from training.registry import LoadedModel

log = logging.getLogger(__name__)

ROWS_FILE, SCORES_FILE = "reference_rows.parquet", "validation_scores.parquet"
TAG = "ontime.kept_reference_sha256"
SCORE = "score"


@dataclass(frozen=True)
class KeptReference:
    rows: pd.DataFrame
    validation_scores: np.ndarray


def sample_rows(rows: pd.DataFrame, cap: int, seed: int) -> pd.DataFrame:
    """At most ``cap`` rows, drawn with ``seed`` and kept in their original order."""
    if len(rows) <= cap:
        return rows
    return rows.sample(n=cap, random_state=seed).sort_index().reset_index(drop=True)


def load(settings: Settings, loaded: LoadedModel, folder: Path) -> KeptReference | None:
    """The kept reference when both files match the digests the registry recorded."""
    from training import registry
    from training.integrity import sha256_file

    recorded = registry.model_version(settings, str(loaded.version)).tags.get(TAG)
    files = {name: folder / name for name in (ROWS_FILE, SCORES_FILE)}
    if not recorded or not all(path.exists() for path in files.values()):
        return None
    digests = json.loads(recorded)
    if any(sha256_file(path) != digests.get(name) for name, path in files.items()):
        log.warning("the kept reference in %s does not match its recorded SHA-256; rebuilding",
                    folder)  # fmt: skip
        return None
    scores = pd.read_parquet(files[SCORES_FILE])[SCORE].to_numpy(dtype="float64")
    return KeptReference(pd.read_parquet(files[ROWS_FILE]), scores)


def keep(settings: Settings, loaded: LoadedModel, folder: Path, kept: KeptReference) -> None:
    """Write both files (whole, then renamed) and record their digests in the registry."""
    from training import registry
    from training.integrity import sha256_file

    frames = {ROWS_FILE: kept.rows, SCORES_FILE: pd.DataFrame({SCORE: kept.validation_scores})}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        digests = {}
        for name, frame in frames.items():
            partial = folder / f"{name}.partial"
            frame.to_parquet(partial, index=False)
            digests[name] = sha256_file(partial)
            partial.replace(folder / name)
        registry.client(settings).set_model_version_tag(
            loaded.name, str(loaded.version), TAG, json.dumps(digests, sort_keys=True)
        )
    except Exception as exc:  # a read-only disk or registry: the next window rebuilds it
        log.warning("the reference could not be kept in %s (%s)", folder, exc)
