"""Whether two registered versions of a world are the same model on the same rows.

    python benchmarks/compare_train_versions.py WORLD_DIR VERSION_A VERSION_B

Prints, for the two versions: their snapshot ids and hashes, whether the boosters' saved
bytes are equal, the thresholds and calibration maps, and the largest absolute difference
of their calibrated probabilities on the test split of their (hash-verified) snapshot.
Exits 1 if anything differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    world, first, second = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    from ontime.repo import load_contract
    from ontime.settings import load_settings
    from training import registry
    from training.evaluate import snapshot_split
    from training.frames import prepare
    from training.snapshot import load_snapshot

    settings = load_settings(world / "ontime.yaml")
    contract = load_contract(settings.feature_repo)
    loaded = {v: registry.load_version(settings, v) for v in (first, second)}
    a, b = (loaded[v].bundle for v in (first, second))
    same = True

    def check(what: str, left, right) -> None:
        nonlocal same
        equal = left == right
        same &= bool(equal)
        print(f"{what:<28} {'same' if equal else 'DIFFERENT'}  {left!s:.70} | {right!s:.70}")

    for key in ("snapshot_id", "snapshot_hash", "split_rows", "best_iteration", "folds"):
        check(key, a.metadata.get(key), b.metadata.get(key))
    check("booster bytes", bytes(a.booster.save_raw("ubj")), bytes(b.booster.save_raw("ubj")))
    check("threshold", a.threshold, b.threshold)
    check(
        "segment thresholds",
        a.metadata.get("segment_thresholds"),
        b.metadata.get("segment_thresholds"),
    )
    check("calibration", a.calibration.__dict__.__repr__(), b.calibration.__dict__.__repr__())
    check("categories", a.categories, b.categories)
    check("test metrics", a.metadata.get("test_metrics"), b.metadata.get("test_metrics"))

    meta = a.metadata
    snapshot = load_snapshot(settings, meta["snapshot_id"], meta.get("snapshot_hash"))
    test = snapshot_split(snapshot, meta, settings).test
    part = prepare(test, contract, a.features, a.categories, settings.labels.column)
    pa, pb = a.predict_proba(part.frame), b.predict_proba(part.frame)
    gap = float(np.max(np.abs(pa - pb)))
    same &= gap == 0.0
    print(f"test probabilities           max |a - b| = {gap:.3g} over {len(pa)} rows")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
