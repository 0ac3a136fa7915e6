"""Run the scoring service under uvicorn: in the foreground (``ontime serve``) or in a thread."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time
from pathlib import Path

from ontime.errors import ConfigError, OntimeError

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

    serving = settings.serving
    host = host or serving.host
    check_binding(host, serving)
    source = BundleFolderSource({serving.champion_alias: bundle}) if bundle else None
    service = build_service(settings, source=source)
    # Started here, before uvicorn: a problem (say, another server on the same log folder)
    # is then one line from the CLI instead of uvicorn's traceback. The app's lifespan stops
    # it (uvicorn re-raises SIGTERM after its shutdown, so a finally here may never run).
    service.start()
    try:
        uvicorn.run(
            create_app(service),
            host=host,
            port=port or serving.port,
            access_log=False,
            log_level="warning",
        )
    finally:
        service.stop()


def check_binding(host: str, serving) -> None:
    """Refuse a non-loopback address unless allowed; refuse a required but absent token."""
    loopback = is_loopback(host)
    if not loopback and not serving.allow_remote:
        raise ConfigError(
            f"binding to {host} exposes the service beyond this machine; set "
            "serving.allow_remote: true to allow it"
        )
    required = serving.require_token if serving.require_token is not None else not loopback
    token = os.environ.get(serving.api_token_env)
    if required and not token:
        raise ConfigError(
            f"a bearer token is required on {host}: set the environment variable "
            f"{serving.api_token_env} (or serving.require_token: false)"
        )
    if not loopback:
        log.warning(
            "serving on %s: reachable from other machines (%s)",
            host, "token required on /v1/*" if token else "NO token: anyone can call /v1/*",
        )  # fmt: skip


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


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

    def stop(self, timeout_s: float = 600.0) -> None:
        """Ask uvicorn to exit and wait for its shutdown, which stops the service and so
        drains the prediction log (slow on a busy machine: the wait is bounded, not timed)."""
        self.server.should_exit = True
        self.thread.join(timeout=timeout_s)
