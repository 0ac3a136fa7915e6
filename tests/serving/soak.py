"""A soak: a steady request stream against a running `ontime serve`, with memory sampled.

Shared by the short soak in ``tests/reliability/test_soak.py`` and the 10-minute one in
``benchmarks/bench_reliability.py``. Memory is the resident set of the server and of its
log writer, read from /proc: the first reading is taken after a warm-up (imports, caches
and allocator pools have settled), the last at the end, so growth between them is what a
long-running service would keep accumulating.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.serving.processes import ServeProcess
from tests.serving.streams import Stream


@dataclass
class SoakResult:
    """What a soak saw: answers, acknowledged ids and memory after warm-up and at the end."""

    seconds: float
    statuses: dict
    acknowledged: list[str]
    rss_after_warmup_mb: float
    rss_at_end_mb: float
    samples_mb: list[float] = field(default_factory=list)
    # (server, writer) resident MB after warm-up and at the end, to tell which one grew.
    split_mb: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))

    @property
    def errors(self) -> int:
        """Answers other than 200, and requests that got no answer at all."""
        return sum(count for status, count in self.statuses.items() if status != 200)

    @property
    def memory_growth(self) -> float:
        """Growth of server + writer resident memory after warm-up, as a fraction."""
        return self.rss_at_end_mb / self.rss_after_warmup_mb - 1.0


def resident_mb(pid: int) -> float:
    """The resident set of a process in MB (0 if it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def soak(
    server: ServeProcess,
    rows: list[dict],
    seconds: float,
    warmup_s: float,
    clients: int = 2,
    log_dir: Path | None = None,
) -> SoakResult:
    """Stream for ``warmup_s`` + ``seconds``; memory is server + writer, sampled each second.

    With ``log_dir``, the warm-up also lasts until the writer has written its first part:
    that write opens Feast's log sink (a one-off import of a few hundred MB), which on a
    busy machine can come after ``warmup_s`` and would read as growth.
    """
    writer = server.writer_pid()

    def memory() -> float:
        return resident_mb(server.pid) + resident_mb(writer)

    stream = Stream(server.url, rows, clients=clients, seed=7).start()
    started = time.monotonic()
    time.sleep(warmup_s)
    deadline = time.monotonic() + 600
    while log_dir is not None and time.monotonic() < deadline:
        if any((Path(log_dir) / "predictions").rglob("part-*.parquet")):
            break
        time.sleep(0.5)
    # The rest of that first write (Feast's sink opens after the parquet part): until the
    # writer's memory has settled, for at most two minutes, so a leak is still measured.
    settle_until, before = time.monotonic() + 120, resident_mb(writer)
    while log_dir is not None and time.monotonic() < settle_until:
        time.sleep(3.0)
        now = resident_mb(writer)
        if now <= before * 1.01:
            break
        before = now
    # The median of a few readings, so a single allocation burst does not set the baseline.
    baseline = sorted(_readings(memory, 5))[2]
    first = (resident_mb(server.pid), resident_mb(writer))
    samples = []
    while time.monotonic() - started < warmup_s + seconds:
        samples.append(memory())
        time.sleep(1.0)
    end = sorted(_readings(memory, 5))[2]
    last = (resident_mb(server.pid), resident_mb(writer))
    stream.stop()
    return SoakResult(
        seconds=time.monotonic() - started,
        statuses=dict(stream.statuses),
        acknowledged=list(stream.acknowledged),
        rss_after_warmup_mb=baseline,
        rss_at_end_mb=end,
        samples_mb=samples,
        split_mb=(first, last),
    )


def _readings(memory, count: int) -> list[float]:
    readings = []
    for _ in range(count):
        readings.append(memory())
        time.sleep(0.2)
    return readings
