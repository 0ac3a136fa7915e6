"""Opening the online store, and the store as a dependency that can fail and come back.

When a lookup fails (file gone, database locked, Redis down) the handle is marked down:
requests fail fast with 503 instead of each waiting for a timeout, and a background probe
re-opens the store every few seconds until a lookup works again. Re-opening a fresh
FeatureStore drops whatever broken connection the old one held, for any online store type.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ontime.repo import load_repo_module
from serving.lookup import ServiceLookup

log = logging.getLogger(__name__)


def open_serving_store(repo: Path, yaml_file: Path | None = None):
    """A FeatureStore for the repo, optionally with another profile (e.g. Redis online)."""
    from feast import FeatureStore

    repo = Path(repo).resolve()
    if (repo / "transforms.py").exists():
        load_repo_module(repo, "transforms")  # ODFVs unpickle their functions from it
    if yaml_file is None:
        return FeatureStore(repo_path=str(repo))
    return FeatureStore(repo_path=str(repo), fs_yaml_file=Path(yaml_file))


class StoreUnavailable(Exception):
    """The online store cannot answer; the message says why."""


class StoreHandle:
    """A FeatureStore, its resolved FeatureServices, and its health."""

    def __init__(self, opener: Callable[[], Any], retry_seconds: float, probe_service: str) -> None:
        self._opener = opener
        self.retry_seconds = retry_seconds
        self.probe_service = probe_service
        self.store: Any = None
        self.down_reason: str | None = "not opened yet"
        self._lookups: dict[str, ServiceLookup] = {}
        self._lock = threading.Lock()
        self._probe: threading.Thread | None = None
        self._closed = threading.Event()

    @property
    def up(self) -> bool:
        return self.down_reason is None

    def open(self) -> bool:
        """Open the store and prove it answers; False (and a probe running) if it does not."""
        try:
            store = self._opener()
            lookup = ServiceLookup(store, self.probe_service)
            lookup.fetch(store, _probe_rows(lookup))
        except Exception as exc:
            self.mark_down(exc)
            return False
        with self._lock:
            self.store, self._lookups = store, {self.probe_service: lookup}
            self.down_reason = None
        log.info("online store is up")
        return True

    def lookup(self, service_name: str) -> tuple[Any, ServiceLookup]:
        """The store and the resolved lookup for a FeatureService, or StoreUnavailable."""
        store, reason = self.store, self.down_reason
        if reason is not None or store is None:
            raise StoreUnavailable(reason or "online store not opened")
        lookup = self._lookups.get(service_name)
        if lookup is None:
            lookup = ServiceLookup(store, service_name)  # an unknown name raises OntimeError
            with self._lock:
                self._lookups[service_name] = lookup
        return store, lookup

    def mark_down(self, exc: BaseException) -> str:
        """Record a failure and make sure a recovery probe is running; returns the reason."""
        reason = f"online store unavailable: {type(exc).__name__}: {exc}".splitlines()[0]
        with self._lock:
            first = self.down_reason is None
            self.down_reason = reason
            if first:
                log.error(reason)
            if (self._probe is None or not self._probe.is_alive()) and not self._closed.is_set():
                self._probe = threading.Thread(
                    target=self._recover, name="store-probe", daemon=True
                )
                self._probe.start()
        return reason

    def _recover(self) -> None:
        while not self._closed.wait(self.retry_seconds):
            if self.open():
                return

    def refresh_registry(self) -> None:
        """Reload Feast's registry cache off the request path (never inside a request)."""
        store = self.store
        if store is not None:
            try:
                store.refresh_registry()
            except Exception as exc:
                log.warning("registry refresh failed: %s", exc)

    def close(self) -> None:
        self._closed.set()
        if self._probe is not None:
            self._probe.join(timeout=self.retry_seconds + 5)


def _probe_rows(lookup: ServiceLookup) -> dict[str, list]:
    """One entity row that exercises every view's table without needing real keys."""
    rows: dict[str, list] = {
        key: [0 if kind.startswith("INT") else "__probe__"]
        for key, kind in lookup.key_types.items()
    }
    for field in lookup.spec.request_fields:
        rows[field] = [time.time()]
    return rows
