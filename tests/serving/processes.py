"""`ontime serve` as a real subprocess for tests: start, find its log writer, stop, kill.

Stderr goes to a file: a full pipe would block the server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from serving.server import free_port


class ServeProcess:
    """``ontime serve`` in a subprocess; stderr goes to a file (a full pipe would block it)."""

    def __init__(self, config: Path, bundle: Path | None, stderr_file: Path, env=None) -> None:
        self.config, self.bundle = config, bundle
        self.stderr_file = stderr_file
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout_s: float = 300.0, ready: bool = True) -> ServeProcess:
        command = [sys.executable, "-m", "ontime_cli", "--config", str(self.config), "serve",
                   "--port", str(self.port)]  # fmt: skip
        if self.bundle is not None:
            command += ["--bundle", str(self.bundle)]
        with open(self.stderr_file, "a") as err:
            self.process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=err, env=self.env
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"ontime serve exited:\n{self.stderr()[-3000:]}")
            try:
                answer = httpx.get(self.url + "/readyz", timeout=2)
                if answer.status_code == 200 or (not ready and answer.status_code == 503):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"ontime serve not ready in {timeout_s} s:\n{self.stderr()[-3000:]}")

    def writer_pid(self, timeout_s: float = 30.0) -> int:
        """The log writer child of the running server."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for pid in children(self.pid):
                if b"serving.log_process" in _cmdline(pid):
                    return pid
            time.sleep(0.1)
        raise AssertionError("no log writer process found")

    def kill(self) -> None:
        """SIGKILL the server (its writer lives on until it has drained the journal)."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 90.0) -> int:
        """A clean stop; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"ontime serve did not stop:\n{self.stderr()[-3000:]}") from None

    def stderr(self) -> str:
        return self.stderr_file.read_text(errors="replace") if self.stderr_file.exists() else ""


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # Field 4 is the parent id; the name (field 2) may hold spaces, so split after it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
