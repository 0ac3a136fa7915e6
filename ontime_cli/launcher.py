"""Run ``ontime serve`` as a real subprocess (for the demo, replays and scenario tests)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ontime.errors import OntimeError

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """``with ServiceProcess(config) as url:`` serves until the block ends; when it returns,
    every acknowledged prediction is in the log tables (the writer has drained)."""

    def __init__(
        self,
        config: Path | None,
        port: int | None = None,
        ready_timeout: float = 180,
        profile: Path | None = None,
        stop_timeout: float = 600,
    ):
        self.config = config
        self.profile = profile  # another feature_store.yaml (--profile), passed on to serve
        self.port = port or free_port()
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        # The server's stderr goes to a file: a pipe nobody reads would block it once full.
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in __exit__)
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
            stderr=self.stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OntimeError(f"ontime serve exited: {self._stderr_tail()}")
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
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                log.error("ontime serve did not stop within %.0f s; killing it", self.stop_timeout)
                self.process.kill()
                self.process.wait()
        self._wait_for_log()
        self.stderr.close()

    def _wait_for_log(self) -> None:
        """Until the log writer is done: it may outlive a server that was killed."""
        from ontime.settings import load_settings
        from serving.log_process import wait_for_writer

        log_dir = load_settings(self.config).serving.log_dir
        if not wait_for_writer(log_dir, self.stop_timeout):
            log.error("the prediction log writer of %s is still busy", log_dir)

    def _stderr_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-500:]
