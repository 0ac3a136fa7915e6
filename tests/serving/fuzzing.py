"""Fuzzing a live scoring service: schemathesis cases with real entity values, plus
hand-made hostile requests over raw keep-alive sockets. Shared by the reliability test
(a few hundred cases) and the reliability benchmark (10,000 and more).

Every answer must be below 500, and no connection may be dropped: after each hostile
request, a valid request on the same connection must still be answered (unless the server
said ``Connection: close``, which it does only after refusing an unread body).
"""

from __future__ import annotations

import json
import random
import socket
from collections import Counter
from dataclasses import dataclass, field

import requests

KEYS = ("order_id", "origin_warehouse", "carrier_id")


@dataclass
class FuzzResult:
    """Status counts, and what went wrong (5xx answers, dropped connections)."""

    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def merge(self, other: FuzzResult) -> FuzzResult:
        self.statuses.update(other.statuses)
        self.server_errors += other.server_errors
        self.dropped += other.dropped
        return self


def schema_cases(url: str, rows: list[dict], cases: int, seed: int) -> FuzzResult:
    """``cases`` generated requests (positive and negative) against the OpenAPI document.

    Half of the generated bodies get real entity keys and prediction times, so generation
    reaches the scorer and the log, not only the validator.
    """
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    strategy = st.one_of(
        schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
        schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    result = FuzzResult()
    session = requests.Session()
    rng = random.Random(seed)

    @hypothesis_seed(seed)
    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=strategy)
    def run(case) -> None:
        case.body = _with_real_values(case.body, rows, rng)
        label = f"{case.method} {case.path} {json.dumps(case.body, default=str)[:300]}"
        try:
            response = case.call(base_url=url, session=session, timeout=30)
        except requests.ConnectionError as exc:
            result.dropped.append(f"{label}: {exc}")
            session.close()
            return
        result.statuses[response.status_code] += 1
        if response.status_code >= 500 and response.status_code != 503:
            result.server_errors.append(f"{response.status_code} {label}: {response.text[:300]}")
        elif response.status_code == 503 and "internal" in response.text:
            result.server_errors.append(f"503 internal {label}: {response.text[:300]}")

    run()
    return result


def _with_real_values(body, rows: list[dict], rng: random.Random):
    if rng.random() < 0.5:
        return body
    if isinstance(body, dict) and isinstance(body.get("rows"), list):
        return {**body, "rows": [_with_real_values(r, rows, rng) for r in body["rows"]]}
    if isinstance(body, dict):
        real = rng.choice(rows)
        keep = {k: v for k, v in body.items() if k not in KEYS or rng.random() < 0.2}
        return {**real, **keep} if rng.random() < 0.3 else {**body, **real}
    return body


def hostile_requests(row: dict) -> list[tuple[str, bytes]]:
    """Hand-made edge cases as raw HTTP/1.1 requests (name, bytes)."""
    good = json.dumps(row).encode()

    def post(path: str, body: bytes, media: str | None = "application/json", extra: str = ""):
        head = f"POST {path} HTTP/1.1\r\nHost: fuzz\r\nContent-Length: {len(body)}\r\n{extra}"
        if media is not None:
            head += f"Content-Type: {media}\r\n"
        return (head + "\r\n").encode() + body

    def changed(**values) -> bytes:
        return json.dumps({**row, **values}).encode()

    nested = b"[" * 50_000 + b"]" * 50_000
    cases = {
        "empty body": post("/v1/predict", b""),
        "null": post("/v1/predict", b"null"),
        "list": post("/v1/predict", b"[]"),
        "string": post("/v1/predict", b'"x"'),
        "truncated": post("/v1/predict", good[:-3]),
        "not utf-8": post("/v1/predict", good.replace(b'"O-', b'"\xff\xfe')),
        "nan key": post("/v1/predict", good.replace(b'"O-', b'NaN, "x": "')),
        "deep nesting": post("/v1/predict", nested),
        "deep batch": post("/v1/predict/batch", b'{"rows": [' + nested[30_000:-30_000] + b"]}"),
        "huge int key": post("/v1/predict", changed(order_id=10**40)),
        "year 1600": post("/v1/predict", changed(prediction_time="1600-01-01")),
        "year 0 +14": post("/v1/predict", changed(prediction_time="0001-01-01T00:00:00+14:00")),
        "year 9999 -14": post("/v1/predict", changed(prediction_time="9999-12-31T23:59:59-14:00")),
        "number time": post("/v1/predict", changed(prediction_time=1e300)),
        "long key": post("/v1/predict", changed(order_id="O" * 100_000)),
        "null key in batch": post(
            "/v1/predict/batch", json.dumps({"rows": [row, {**row, "order_id": None}]}).encode()
        ),
        "rows not objects": post("/v1/predict/batch", b'{"rows": [1, "a", null, []]}'),
        "rows null": post("/v1/predict/batch", b'{"rows": null}'),
        "extra top-level": post("/v1/predict/batch", b'{"rows": [], "x": 1}'),
        "text/plain": post("/v1/predict", good, "text/plain"),
        "no media type": post("/v1/predict", good, None),
        "json with charset": post("/v1/predict", good, "application/json; charset=latin-1"),
        "lying length": post("/v1/predict", good).replace(
            f"Content-Length: {len(good)}".encode(), b"Content-Length: 99000000"
        ),
        "unknown path": b"GET /v1/unknown HTTP/1.1\r\nHost: fuzz\r\n\r\n",
        "wrong method": b"DELETE /v1/predict HTTP/1.1\r\nHost: fuzz\r\n\r\n",
        "bad bearer": post("/v1/predict", good, extra="Authorization: Bearer \x01\x02\r\n"),
    }
    return list(cases.items())


def hostile_cases(url: str, row: dict, rounds: int = 1) -> FuzzResult:
    """Send every hostile request ``rounds`` times, each followed by a valid request on the
    same connection (a new connection only after the server said ``Connection: close``)."""
    host, port = url.removeprefix("http://").split(":")
    valid = (
        f"POST /v1/predict HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(json.dumps(row))}\r\n\r\n{json.dumps(row)}"
    ).encode()
    result = FuzzResult()
    sock = socket.create_connection((host, int(port)), timeout=30)
    try:
        for _ in range(rounds):
            for name, request in hostile_requests(row):
                try:
                    sock.sendall(request)
                    status, headers = _read(sock)
                except (OSError, ConnectionError) as exc:
                    result.dropped.append(f"{name}: {exc}")
                    sock.close()
                    sock = socket.create_connection((host, int(port)), timeout=30)
                    continue
                result.statuses[status] += 1
                if status >= 500:
                    result.server_errors.append(f"{name}: {status}")
                if headers.get("connection") == "close":
                    sock.close()
                    sock = socket.create_connection((host, int(port)), timeout=30)
                try:
                    sock.sendall(valid)
                    after, _ = _read(sock)
                except (OSError, ConnectionError) as exc:
                    result.dropped.append(f"valid request after {name}: {exc}")
                    sock.close()
                    sock = socket.create_connection((host, int(port)), timeout=30)
                    continue
                result.statuses[after] += 1
                if after >= 500:
                    result.server_errors.append(f"valid request after {name}: {after}")
    finally:
        sock.close()
    return result


def _read(sock: socket.socket) -> tuple[int, dict[str, str]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed mid-body")
        body += chunk
    return int(lines[0].split()[1]), headers
