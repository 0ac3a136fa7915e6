"""Request streams against a live server that remember exactly what was acknowledged.

Used by the crash tests and the reliability benchmark: clients post single rows and small
batches until stopped or until the server goes away; every request id answered 200 is an
acknowledgement the prediction log must keep.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import httpx


class Stream:
    """``clients`` threads posting predictions; ``acknowledged`` holds every 200'd id."""

    def __init__(self, url: str, rows: list[dict], clients: int = 2, seed: int = 0) -> None:
        self.url = url
        self.rows = rows
        self.clients = clients
        self.seed = seed
        self.acknowledged: list[str] = []
        self.statuses: Counter = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Stream:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._run, args=(self.seed * 100 + i,), daemon=True)
            for i in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def wait_for_acknowledgements(self, count: int, timeout_s: float) -> bool:
        """Wait until at least ``count`` rows were acknowledged (False on timeout)."""
        deadline = time.monotonic() + timeout_s
        while len(self.acknowledged) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> Stream:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        return self

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    if rng.random() < 0.2:
                        rows = rng.sample(self.rows, min(5, len(self.rows)))
                        answer = client.post("/v1/predict/batch", json={"rows": rows})
                        ids = _batch_ids(answer)
                    else:
                        answer = client.post("/v1/predict", json=rng.choice(self.rows))
                        ids = [answer.json()["request_id"]] if answer.status_code == 200 else []
                except httpx.TransportError as exc:
                    with self._lock:
                        self.statuses[f"transport:{type(exc).__name__}"] += 1
                    if self._stop.wait(0.05):
                        return
                    continue
                with self._lock:
                    self.statuses[answer.status_code] += 1
                    self.acknowledged.extend(ids)


def _batch_ids(answer: httpx.Response) -> list[str]:
    if answer.status_code != 200:
        return []
    return [
        item["prediction"]["request_id"]
        for item in answer.json()["results"]
        if item["status"] == 200
    ]
