"""Run ``ontime serve`` as a real subprocess (for the demo, replays and scenario tests)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ontime.errors import OntimeError

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """``with ServiceProcess(config) as url:`` serves until the block ends, then flushes logs."""

    def __init__(
        self,
        config: Path | None,
        port: int | None = None,
        ready_timeout: float = 180,
        profile: Path | None = None,
    ):
        self.config = config
        self.profile = profile  # another feature_store.yaml (--profile), passed on to serve
        self.port = port or free_port()
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> str:
        import httpx

        command = [sys.executable, "-m", "ontime_cli"]
        if self.config is not None:
            command += ["--config", str(self.config)]
        command += ["serve", "--port", str(self.port)]
        command += ["--profile", str(self.profile)] if self.profile else []
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OntimeError(f"ontime serve exited: {self.process.stderr.read()[-500:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    log.info("scoring service ready at %s", self.url)
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise OntimeError(f"ontime serve was not ready within {self.ready_timeout:.0f} s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # clean shutdown flushes the logs
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
