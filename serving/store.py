"""Opening the online store, and the store as a dependency that can fail and come back.

When a lookup fails (file gone, database locked, Redis down) the handle is marked down:
requests fail fast with 503 instead of each waiting for a timeout, and a background probe
re-opens the store every few seconds until a lookup works again. Re-opening a fresh
FeatureStore drops whatever broken connection the old one held, for any online store type.

A file-backed online store (SQLite) is watched by identity (device and inode): a file that
was replaced or renamed is reopened, and a missing file is a 503, never re-created (Feast's
SQLite store would create an empty one on connect). Reasons given to clients name the kind
of failure only; the exception text, which can hold paths, goes to the server log.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ontime.feast_import import import_feast
from ontime.repo import load_repo_module
from serving.lookup import ServiceLookup

log = logging.getLogger(__name__)


def open_serving_store(repo: Path, yaml_file: Path | None = None):
    """A FeatureStore for the repo, optionally with another profile (e.g. Redis online)."""
    import_feast()
    from feast import FeatureStore

    repo = Path(repo).resolve()
    if (repo / "transforms.py").exists():
        load_repo_module(repo, "transforms")  # ODFVs unpickle their functions from it
    if yaml_file is None:
        return FeatureStore(repo_path=str(repo))
    return FeatureStore(repo_path=str(repo), fs_yaml_file=Path(yaml_file))


def store_file(store) -> Path | None:
    """The online store's database file, for a file-backed store (SQLite); else None."""
    config = store.config.online_store
    kind = str(getattr(config, "type", ""))
    if kind != "sqlite" and not kind.endswith("SqliteOnlineStore"):
        return None
    path = Path(config.path)
    return path if path.is_absolute() else Path(store.repo_path) / path


def public_reason(exc: BaseException) -> str:
    """Why the store is down, in words safe to show a client (no paths, no exception text)."""
    text = str(exc).lower()
    if isinstance(exc, StoreFileMissing):
        what = "its database file is missing"
    elif "locked" in text or "busy" in text:
        what = "the database is locked"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        what = "its database file is damaged"
    elif isinstance(exc, FileNotFoundError) or "unable to open" in text:
        what = "its database cannot be opened"
    elif isinstance(exc, ConnectionError) or "connect" in text:
        what = "it cannot be reached"
    else:
        what = "it failed (details in the server log)"
    return f"online store unavailable: {what}"


class StoreUnavailable(Exception):
    """The online store cannot answer; the message says why (safe to show a client)."""


class StoreFileMissing(Exception):
    """The online store's database file is not there (and must not be created)."""


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
        self._reopen_lock = threading.Lock()
        self._probe: threading.Thread | None = None
        self._closed = threading.Event()
        self._file: Path | None = None  # the database file of a file-backed store
        self._identity: tuple[int, int] | None = None  # its (device, inode) when opened

    @property
    def up(self) -> bool:
        return self.down_reason is None

    def open(self) -> bool:
        """Open the store and prove it answers; False (and a probe running) if it does not."""
        try:
            store = self._opener()
            file = store_file(store)
            identity = _identity(file) if file is not None else None
            lookup = ServiceLookup(store, self.probe_service)
            lookup.fetch(store, _probe_rows(lookup))
        except Exception as exc:
            self.mark_down(exc)
            return False
        with self._lock:
            self.store, self._lookups = store, {self.probe_service: lookup}
            self._file, self._identity = file, identity
            self.down_reason = None
        log.info("online store is up")
        return True

    def _check_file(self) -> None:
        """Reopen when the database file was replaced; StoreUnavailable when it is gone."""
        try:
            identity = _identity(self._file)
        except StoreFileMissing as exc:
            raise StoreUnavailable(self.mark_down(exc)) from None
        if identity == self._identity:
            return
        with self._reopen_lock:
            if self._identity != identity:  # not reopened by another request meanwhile
                log.warning("online store file was replaced; reopening it")
                if not self.open():
                    raise StoreUnavailable(self.down_reason or "online store unavailable")

    def lookup(self, service_name: str) -> tuple[Any, ServiceLookup]:
        """The store and the resolved lookup for a FeatureService, or StoreUnavailable."""
        if self._file is not None and self.down_reason is None:
            self._check_file()
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
        reason = public_reason(exc)
        with self._lock:
            # Said once per change of reason, the first failure to open included (the
            # reason was "not opened yet": a store that never opened logged nothing).
            first = self.down_reason != reason
            self.down_reason = reason
            if first:
                detail = (str(exc).splitlines() or [""])[0]
                log.error("%s (%s: %s)", reason, type(exc).__name__, detail)
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


def _identity(file: Path) -> tuple[int, int]:
    """(device, inode) of the database file; StoreFileMissing when it is not there."""
    try:
        stat = os.stat(file)
    except FileNotFoundError:
        raise StoreFileMissing("the online store's database file is missing") from None
    return stat.st_dev, stat.st_ino


def _probe_rows(lookup: ServiceLookup) -> dict[str, list]:
    """One entity row that exercises every view's table without needing real keys."""
    rows: dict[str, list] = {
        key: [0 if kind.startswith("INT") else "__probe__"]
        for key, kind in lookup.key_types.items()
    }
    for field in lookup.spec.request_fields:
        rows[field] = [time.time()]
    return rows
