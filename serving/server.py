"""Run the scoring service under uvicorn: in the foreground (``ontime serve``) or in a thread."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

from ontime.errors import OntimeError

log = logging.getLogger(__name__)


def run_server(
    settings,
    host: str | None = None,
    port: int | None = None,
    bundle: Path | None = None,
) -> None:
    """Serve until interrupted; logs are flushed on a clean shutdown (SIGINT/SIGTERM)."""
    import uvicorn

    from serving.api import create_app
    from serving.models import BundleFolderSource
    from serving.service import build_service

    source = BundleFolderSource({settings.serving.champion_alias: bundle}) if bundle else None
    service = build_service(settings, source=source)
    app = create_app(service)
    uvicorn.run(
        app,
        host=host or settings.serving.host,
        port=port or settings.serving.port,
        access_log=False,
        log_level="warning",
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class BackgroundServer:
    """A real uvicorn server on a localhost port, in a thread (tests, benchmarks)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int | None = None) -> None:
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 30.0) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise OntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
