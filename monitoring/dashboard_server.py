"""Evidently's UI server over the monitoring workspace, in this process (``ontime ui``)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from ontime.errors import OntimeError


def check_port(host: str, port: int) -> None:
    """Fail with one clear line, before Evidently's import, when the address is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise OntimeError(
                    f"port {port} on {host} is in use; pick another with --port"
                ) from None
            raise OntimeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def serve(workspace: Path, host: str, port: int) -> None:
    """Run the UI until interrupted (uvicorn stops cleanly on Ctrl-C)."""
    import uvicorn
    from evidently.ui.service.app import create_app, get_config

    config = get_config(host=host, port=port, workspace=str(workspace))
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
