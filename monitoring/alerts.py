"""Send decisions that need someone to a webhook; keep what it would not take.

A window whose decision is in ``monitoring.alerts.actions`` (by default block,
repair_parity, rollback and retrain) is POSTed as JSON to ``monitoring.alerts.webhook_url``:
the window, the decision and its reason, the evidence, and where its report is. A refused
or failed POST is retried with a doubling wait; after the last attempt the alert is
appended to a dead-letter file (one JSON line each), so no alert is lost when the endpoint
is down. ``ontime monitor alerts --resend`` sends them again.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitoring.summary import Summary
    from ontime.settings import Settings

log = logging.getLogger(__name__)


def payload(settings: Settings, summary: Summary) -> dict:
    report = settings.monitoring.reports_dir / summary.window["name"]
    overview = summary.reports.get("overview_html", "summary.json")
    return {
        "window": summary.window,
        "model": summary.model,
        "decision": summary.action,
        "reason": summary.decision.reason,
        "evidence": summary.to_dict()["decision"]["evidence"],
        "links": {"report": str(report / overview), "summary": str(report / "summary.json")},
        "sent_at": datetime.now(UTC).isoformat(),
    }


def post(url: str, body: dict, timeout_s: float) -> None:
    """One POST; raises on a refused connection, a timeout or a non-2xx answer."""
    import httpx

    response = httpx.post(url, json=body, timeout=timeout_s)
    response.raise_for_status()


def send(settings: Settings, body: dict) -> bool:
    """POST with retries; on failure append ``body`` to the dead-letter file. True if sent."""
    alerts = settings.monitoring.alerts
    wait, error = alerts.backoff_s, None
    for attempt in range(1, alerts.attempts + 1):
        try:
            post(alerts.webhook_url, body, alerts.timeout_s)
            return True
        except Exception as exc:  # refused, timed out, 4xx/5xx: all worth a retry
            error = exc
            log.warning("alert POST attempt %d failed: %s", attempt, exc)
            if attempt < alerts.attempts:
                time.sleep(wait)
                wait *= 2
    dead = settings.monitoring.dead_letter_path
    dead.parent.mkdir(parents=True, exist_ok=True)
    with open(dead, "a") as out:
        out.write(json.dumps(body | {"error": str(error)}) + "\n")
        out.flush()
    log.error("alert for %s kept in %s: %s", body["window"]["name"], dead, error)
    return False


def deliver(settings: Settings, summary: Summary) -> bool | None:
    """Send the window's alert if its decision needs someone; None when nothing was sent."""
    alerts = settings.monitoring.alerts
    if not alerts.webhook_url or summary.action not in alerts.actions:
        return None
    return send(settings, payload(settings, summary))


def resend(settings: Settings) -> tuple[int, int]:
    """Send the dead-letter file's alerts again; keep those still refused. (sent, kept)"""
    dead = settings.monitoring.dead_letter_path
    taken = dead.with_suffix(".resending")  # left behind if a resend was interrupted
    if not settings.monitoring.alerts.webhook_url:
        return 0, 0
    if dead.exists():  # failures are appended to a fresh file while these go out
        with open(taken, "a") as out:
            out.write(dead.read_text())
        dead.unlink()
    if not taken.exists():
        return 0, 0
    bodies = [json.loads(line) for line in taken.read_text().splitlines() if line.strip()]
    sent = sum(send(settings, {k: v for k, v in b.items() if k != "error"}) for b in bodies)
    taken.unlink()
    return sent, len(bodies) - sent
