"""SHA-256 digests of model artifacts, and the checks a model passes before it may decide.

A registered version records the digest of every file it is made of (its bundle folder and
the registered booster) in a model-version tag and in the audit trail; every load recomputes
them and refuses a file that differs, by name. A model must then score a probe row: first
in a child process, because a corrupt booster can crash XGBoost's C++ code and must not take
the caller (a server, a promotion) down with it; then in-process, before anyone uses it.

``python -m training.integrity BUNDLE_FOLDER [BOOSTER_FILE]`` runs that child's check.
"""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ontime.errors import OntimeError
from training.bundle import BOOSTER_FILE, CHECKSUMS_FILE, META_FILE, ModelBundle

log = logging.getLogger(__name__)

DIGESTS_TAG = "ontime.artifact_sha256"
# The child loads a Booster only: keeping XGBoost from importing scikit-learn halves its
# start-up, which every model load and every promotion waits for.
_CHILD = (
    "import sys; sys.modules['sklearn'] = None; from training.integrity import main; "
    "sys.exit(main(sys.argv[1:]))"
)


class ModelRejected(OntimeError):
    """A model failed verification: a file differs from its record, or it cannot score."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_digests(folder: Path, prefix: str) -> dict[str, str]:
    """``{prefix/relative path: sha256}`` of every file under ``folder``."""
    folder = Path(folder)
    return {
        f"{prefix}/{path.relative_to(folder).as_posix()}": sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def recorded_digests(tags: Mapping[str, str], what: str) -> dict[str, str]:
    """The digests a version recorded at registration (its model-version tag)."""
    raw = tags.get(DIGESTS_TAG)
    if not raw:
        raise ModelRejected(
            f"{what} records no artifact SHA-256 (registered before verification existed, "
            "or its registration did not finish); re-register it with `ontime train`"
        )
    try:
        digests = json.loads(raw)
    except ValueError:
        raise ModelRejected(f"{what}: its artifact SHA-256 tag is not valid JSON") from None
    if not isinstance(digests, dict) or not digests:
        raise ModelRejected(f"{what}: its artifact SHA-256 tag is empty")
    return {str(k): str(v) for k, v in digests.items()}


def verify_digests(
    recorded: Mapping[str, str],
    folders: Mapping[str, Path],
    what: str,
    required: tuple[str, ...] = (),
) -> None:
    """Refuse unless every recorded file exists and hashes to its record.

    ``folders`` maps a record's first path part (``bundle``, ``model``) to a local folder;
    ``required`` names the files that are loaded, so that a record which omits them is no
    record at all.
    """
    unrecorded = [name for name in required if name not in recorded]
    if unrecorded:
        raise ModelRejected(f"{what}: no SHA-256 was recorded for {', '.join(unrecorded)}")
    for name, expected in sorted(recorded.items()):
        prefix, _, relative = name.partition("/")
        folder = folders.get(prefix)
        path = folder / relative if folder is not None else None
        if path is None or not path.is_file():
            raise ModelRejected(f"{what}: {name} is missing; refusing it")
        actual = sha256_file(path)
        if actual != expected:
            raise ModelRejected(
                f"{what}: {name} does not match the SHA-256 recorded at registration "
                f"(recorded {expected[:12]}, found {actual[:12]}); refusing it"
            )


def verify_checksums(folder: Path, what: str) -> None:
    """Check a bundle folder against its own ``SHA256SUMS`` (a folder served without a
    registry has no other record; the registry's tag is the stronger one)."""
    listing = Path(folder) / CHECKSUMS_FILE
    if not listing.is_file():
        raise ModelRejected(f"{what} has no {CHECKSUMS_FILE}; save it with ModelBundle.save")
    recorded = {}
    for line in listing.read_text().splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            recorded[f"bundle/{name}"] = digest
    required = (f"bundle/{BOOSTER_FILE}", f"bundle/{META_FILE}")
    verify_digests(recorded, {"bundle": Path(folder)}, what, required=required)


def probe_frame(bundle: ModelBundle) -> pd.DataFrame:
    """Two model rows: every value missing, and every value zero or the first category."""
    booster = bundle.booster
    kinds = dict(zip(booster.feature_names or [], booster.feature_types or [], strict=False))
    columns = {}
    for name in bundle.model_columns:
        if kinds.get(name) == "c" or name in bundle.categories:
            known = list(bundle.categories.get(name) or [])
            codes = [-1, 0 if known else -1]
            columns[name] = pd.Categorical.from_codes(codes, categories=known)
        else:
            columns[name] = np.array([np.nan, 0.0])
    return pd.DataFrame(columns)


def probe(bundle: ModelBundle, what: str) -> np.ndarray:
    """Score the probe rows; refuse a model whose answers are not probabilities."""
    try:
        scores = np.asarray(bundle.predict_proba(probe_frame(bundle)), dtype="float64")
    except Exception as exc:
        raise ModelRejected(f"{what} cannot score a probe row: {one_line(exc)}") from None
    if scores.shape != (2,) or not np.all((scores >= 0.0) & (scores <= 1.0)):  # NaN fails too
        raise ModelRejected(f"{what} scored a probe row as {scores.tolist()}, not probabilities")
    return scores


def child_command(bundle_folder: Path, booster_file: Path | None = None) -> list[str]:
    """The command of the child check: it prints probe scores, or fails on one line."""
    command = [sys.executable, "-c", _CHILD, str(bundle_folder)]
    return command if booster_file is None else [*command, str(booster_file)]


def check_in_child(
    bundle_folder: Path, booster_file: Path | None, what: str, timeout_s: float
) -> np.ndarray:
    """Load and probe the model in a child process; its crash or hang is a refusal, not ours."""
    command = child_command(bundle_folder, booster_file)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ModelRejected(f"{what}: the isolated load check took over {timeout_s:g} s") from None
    if result.returncode < 0:
        try:
            name = signal.Signals(-result.returncode).name
        except ValueError:
            name = f"signal {-result.returncode}"
        raise ModelRejected(f"{what} crashed the isolated load check ({name}); refusing it")
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise ModelRejected(f"{what} failed the isolated load check: {lines[-1] if lines else ''}")
    try:
        return np.asarray(json.loads(result.stdout.strip().splitlines()[-1]), dtype="float64")
    except (ValueError, IndexError):
        raise ModelRejected(f"{what}: the isolated load check gave no scores") from None


def same_scores(isolated: np.ndarray, in_process: np.ndarray, what: str) -> None:
    """The model checked in the child must be the one loaded here."""
    if isolated.shape != in_process.shape or not np.allclose(isolated, in_process, atol=1e-6):
        raise ModelRejected(
            f"{what} scored {in_process.tolist()} here but {isolated.tolist()} when checked"
        )


def load_checked_folder(folder: Path, what: str, timeout_s: float = 60.0) -> ModelBundle:
    """A bundle folder served without a registry: checksums, child check, load, probe."""
    verify_checksums(folder, what)
    isolated = check_in_child(folder, None, what, timeout_s)
    try:
        bundle = ModelBundle.load(folder)
    except Exception as exc:
        raise ModelRejected(f"{what} cannot be loaded: {one_line(exc)}") from None
    same_scores(isolated, probe(bundle, what), what)
    return bundle


def one_line(exc: BaseException) -> str:
    """An exception as one short line (XGBoost's errors carry a C++ backtrace)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


def main(argv: list[str]) -> int:
    """The child: load a bundle (and a registered booster file), print its probe scores."""
    logging.basicConfig(level=logging.WARNING)
    try:
        booster = Path(argv[1]) if len(argv) > 1 else None
        bundle = ModelBundle.load(Path(argv[0]), booster_file=booster)
        scores = probe(bundle, "the model")
    except Exception as exc:  # any failure is reported on one line to the parent
        sys.stderr.write(one_line(exc) + "\n")  # the parent reads the last line
        return 1
    sys.stdout.write(json.dumps(scores.tolist()) + "\n")  # the reply, not a log line
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
