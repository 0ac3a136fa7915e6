"""The online store handle says in the server log why a store is down, the first time."""

from __future__ import annotations

import logging
import sqlite3

from serving.store import StoreHandle


def _failing_opener():
    raise sqlite3.OperationalError("no such table: ontime_shipment_profile")


def test_a_store_that_never_opened_logs_why_once(caplog):
    handle = StoreHandle(_failing_opener, retry_seconds=0.05, probe_service="any")
    try:
        with caplog.at_level(logging.ERROR, logger="serving.store"):
            assert handle.open() is False
            assert handle.open() is False  # the same failure again: said once
        assert (
            handle.down_reason == "online store unavailable: it failed (details in the server log)"
        )
        details = [r.getMessage() for r in caplog.records if "no such table" in r.getMessage()]
        assert details == [
            "online store unavailable: it failed (details in the server log) "
            "(OperationalError: no such table: ontime_shipment_profile)"
        ]
    finally:
        handle.close()
