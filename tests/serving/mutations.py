"""Seeded mutations of valid requests, sent over raw keep-alive sockets.

The hand-made cases in ``fuzzing.hostile_requests`` are each one idea; these are the same
ideas drawn at random and combined: a field replaced by a hostile value (odd types, odd
and out-of-range times, long and strange strings), a field dropped or added, the JSON cut
short or a byte flipped, the media type changed, rows batched with bad ones. Cheap enough to
send thousands, so a test reaches 10,000 requests in minutes. Every answer must be below 500
and every connection must stay usable unless the server said ``Connection: close``.
"""

from __future__ import annotations

import json
import random
import socket

from tests.serving.fuzzing import FuzzResult, _read

FIELDS = ("order_id", "origin_warehouse", "carrier_id", "prediction_time")
ODD_VALUES = [
    None, "", " ", "\u0000", "\ud83d\ude00" * 10, "O-" + "9" * 300, 0, -1, 2**63, 10**40,
    1e308, -0.0, True, [], {}, ["O-1"], {"$ne": None}, "NaN", "null", "../../etc/passwd",
]  # fmt: skip
ODD_TIMES = [
    "1600-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1677-09-21",
    "2262-04-12", "1970-01-01T00:00:00Z", "2024-02-30T00:00:00", "2024-12-31T23:59:60Z",
    "2024-01-01T00:00:00+25:00", "2024-13-01", "yesterday", "2024-01-01T00:00:00.1234567891Z",
    "-2024-01-01", "+002024-01-01", "2024-01-01 00:00", "20240101T000000Z", 1_700_000_000,
    -62135596800, 1e20, "1e20", "P1D",
]  # fmt: skip
MEDIA = ["application/json", "application/json; charset=utf-8", "text/plain", None,
         "application/json-patch+json", "multipart/form-data; boundary=x", "*/*"]  # fmt: skip


def mutated_body(rows: list[dict], rng: random.Random) -> tuple[str, bytes]:
    """A (path, body) pair: a real row (or batch) with one to three mutations."""
    row = dict(rng.choice(rows))
    for _ in range(rng.randint(1, 3)):
        name, roll = rng.choice(FIELDS), rng.random()
        if roll < 0.35:
            row[name] = rng.choice(ODD_TIMES if name == "prediction_time" else ODD_VALUES)
        elif roll < 0.5:
            row[name] = rng.choice(ODD_TIMES + ODD_VALUES)
        elif roll < 0.65:
            row.pop(name, None)
        else:
            row[f"extra_{rng.randint(0, 9)}"] = rng.choice(ODD_VALUES)
    if rng.random() < 0.3:
        batch = [rng.choice(rows) for _ in range(rng.randint(0, 6))] + [row]
        rng.shuffle(batch)
        path, body = "/v1/predict/batch", json.dumps({"rows": batch}).encode()
    else:
        path, body = "/v1/predict", json.dumps(row).encode()
    roll = rng.random()
    if roll < 0.08 and body:
        body = body[: rng.randrange(len(body))]  # cut short
    elif roll < 0.16 and body:
        at = rng.randrange(len(body))
        body = body[:at] + bytes([rng.randrange(256)]) + body[at + 1 :]  # one byte changed
    return path, body


def mutated_cases(url: str, rows: list[dict], count: int, seed: int) -> FuzzResult:
    """Send ``count`` mutated requests on one keep-alive connection (reopened only after the
    server said ``Connection: close``); 5xx answers and dropped connections are recorded."""
    rng = random.Random(seed)
    host, port = url.removeprefix("http://").split(":")
    result = FuzzResult()
    sock = socket.create_connection((host, int(port)), timeout=30)
    try:
        for number in range(count):
            path, body = mutated_body(rows, rng)
            media = rng.choice(MEDIA) if rng.random() < 0.15 else "application/json"
            head = f"POST {path} HTTP/1.1\r\nHost: fuzz\r\nContent-Length: {len(body)}\r\n"
            if media is not None:
                head += f"Content-Type: {media}\r\n"
            label = f"#{number} {path} {media} {body[:200]!r}"
            try:
                sock.sendall((head + "\r\n").encode() + body)
                status, headers = _read(sock)
            except (OSError, ConnectionError) as exc:
                result.dropped.append(f"{label}: {exc}")
                sock.close()
                sock = socket.create_connection((host, int(port)), timeout=30)
                continue
            result.statuses[status] += 1
            if status >= 500:
                result.server_errors.append(f"{status} {label}")
            if headers.get("connection") == "close":
                sock.close()
                sock = socket.create_connection((host, int(port)), timeout=30)
    finally:
        sock.close()
    return result
