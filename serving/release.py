"""Release control: who answers (champion or canary), who is shadowed, and hot alias switches.

The current lineup is one immutable object swapped by a single assignment, so a request
that started with version 3 finishes with version 3 while the next one may get version 4.
A background thread polls the registry's alias -> version map and loads only what moved.
A loaded model must score a probe row here before it is swapped in; a model that fails
(here or in the source's own checks) is not served: the current one keeps answering, the
failure is logged with the version and counted in ``ontime_model_load_failures_total``, and
a refused version is not tried again until its alias moves.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from prometheus_client import Counter

from serving.models import ModelSource, ServedModel
from training.integrity import ModelRejected, probe

log = logging.getLogger(__name__)

CHAMPION, CANARY, SHADOW = "champion", "canary", "shadow"


@dataclass(frozen=True)
class Lineup:
    """The models serving right now and how traffic is split between them."""

    champion: ServedModel | None
    challenger: ServedModel | None
    mode: str  # off | shadow | canary
    canary_share: float

    @property
    def versions(self) -> dict[str, str]:
        return {m.alias: m.version for m in (self.champion, self.challenger) if m is not None}


def canary_mask(keys: Sequence[Sequence[str]], share: float) -> np.ndarray:
    """True for rows whose entity key falls in the canary share (stable across restarts).

    ``keys`` holds one column of values per entity key. A keyed hash, not Python's salted
    ``hash``, so the same order goes to the same model in every process.
    """
    rows = len(keys[0]) if keys else 0
    if share <= 0.0 or rows == 0:
        return np.zeros(rows, dtype=bool)
    buckets = np.empty(rows, dtype="float64")
    for i, parts in enumerate(zip(*keys, strict=True)):
        digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8)
        buckets[i] = int.from_bytes(digest.digest(), "big") / 2.0**64
    return buckets < share


def prepare(model: ServedModel) -> ServedModel:
    """Make a freshly loaded model cheap to call per request."""
    # One thread per prediction (see Scorer): set on the booster too, for its own calls.
    model.bundle.booster.set_param({"nthread": 1})
    return model


class Release:
    """Holds the lineup and keeps it in step with the registry's aliases."""

    def __init__(
        self,
        source: ModelSource,
        champion_alias: str,
        challenger_alias: str,
        mode: str,
        canary_share: float,
    ) -> None:
        self.source = source
        self.champion_alias = champion_alias
        self.challenger_alias = challenger_alias
        self.lineup = Lineup(None, None, mode, canary_share)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._refused: dict[str, str] = {}  # alias -> version refused for what it is
        # Registered by the service into its metrics registry (counts from the first load on).
        self.load_failures = Counter(
            "ontime_model_load_failures",
            "Model versions that failed to load or verify, by alias and version.",
            ["alias", "version"],
            registry=None,
        )

    def refresh(self) -> bool:
        """Poll the aliases once; load and swap in what moved. True if the lineup changed."""
        with self._lock:
            try:
                wanted = self.source.alias_versions()
            except Exception as exc:  # registry briefly unreachable: keep serving what we have
                self.last_error = f"cannot read model aliases: {exc}"
                log.warning(self.last_error)
                return False
            current = self.lineup
            champion = self._resolve(current.champion, self.champion_alias, wanted)
            challenger = self._resolve(current.challenger, self.challenger_alias, wanted)
            if champion is current.champion and challenger is current.challenger:
                return False
            self.lineup = Lineup(champion, challenger, current.mode, current.canary_share)
            log.info("serving lineup now %s", self.lineup.versions)
            return True

    def _resolve(
        self, held: ServedModel | None, alias: str, wanted: dict[str, str]
    ) -> ServedModel | None:
        version = wanted.get(alias)
        if version is None:
            if held is not None and alias == self.champion_alias:
                # Never go dark because an alias vanished; keep the last champion.
                log.warning("alias '%s' is gone; still serving version %s", alias, held.version)
                return held
            return None
        if held is not None and held.version == version:
            return held
        if self._refused.get(alias) == version:
            return held  # refused already (logged and counted once)
        try:
            model = self.source.load(alias)
            if model is None:
                return held
            model = prepare(model)
            # The last check before any request sees it; a crash-prone booster never gets
            # here (the source probes it in a child process first).
            probe(model.bundle, f"model {model.name} v{model.version}")
        except Exception as exc:
            self.load_failures.labels(alias, version).inc()
            self.last_error = f"cannot load model version {version} for alias '{alias}': {exc}"
            kept = f"; still serving version {held.version}" if held is not None else ""
            log.error("%s%s", self.last_error, kept)
            if isinstance(exc, ModelRejected):
                self._refused[alias] = version
            return held
        self._refused.pop(alias, None)
        return model

    def start(self, interval_s: float) -> None:
        """Poll in the background every ``interval_s`` seconds until ``stop``."""
        self.refresh()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._poll, args=(interval_s,), name="alias-poller", daemon=True
        )
        self._thread.start()

    def _poll(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
