"""The HTTP edge: request ids, the bearer token, media type and body size, and no 500s.

A pure ASGI middleware around the whole app. Every response carries ``X-Request-ID``. On
``/v1/*`` it checks, before the body is read: the bearer token (when one is set), the media
type (JSON only, 415) and the declared size (413), and it counts bytes while the body
streams in (413 as soon as the limit is passed, without reading the rest). Any exception
that escapes the app becomes a 503 whose body names the request id, never the exception;
the details go to the server log under that id. Nothing is re-raised, so the server never
drops the connection over an error and the next request on it is served.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid

from serving.outcome import INTERNAL, TOO_LARGE, UNAUTHORIZED, UNSUPPORTED_MEDIA_TYPE

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
API_PREFIX = "/v1/"


class BodyTooLarge(Exception):
    """The body passed the size limit while streaming in."""


class Guard:
    """Wraps an ASGI app; see the module docstring."""

    def __init__(self, app, max_body_bytes: int, token: str | None, on_error=None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.token = token.encode() if token else None
        # Called as on_error(kind, detail, request_id) for answers made here (error log).
        self.on_error = on_error

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        refusal = self._refusal(scope) if scope["path"].startswith(API_PREFIX) else None
        if refusal is not None:
            await self._answer(send_with_id, request_id, *refusal)
            return
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted_receive, send_with_id)
        except BodyTooLarge:
            if not started:
                await self._answer(send_with_id, request_id, *self._too_large())
        except Exception:
            log.exception("request %s failed", request_id)
            if not started:
                detail = f"internal error; the server log has the details under {request_id}"
                await self._answer(send_with_id, request_id, 503, INTERNAL, detail)

    def _refusal(self, scope) -> tuple[int, str, str] | None:
        """(status, kind, detail) when the request is refused before its body is read."""
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        if self.token is not None:
            given = headers.get(b"authorization", b"")
            scheme, _, credential = given.partition(b" ")
            valid = scheme.lower() == b"bearer" and hmac.compare_digest(credential, self.token)
            if not valid:
                return 401, UNAUTHORIZED, "a valid bearer token is required (Authorization)"
        if scope["method"] != "POST":
            return None
        media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if media != b"application/json":
            detail = "the body must be JSON (Content-Type: application/json)"
            return 415, UNSUPPORTED_MEDIA_TYPE, detail
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            return self._too_large()
        return None

    def _too_large(self) -> tuple[int, str, str]:
        detail = f"the body exceeds {self.max_body_bytes} bytes (serving.max_body_bytes)"
        return 413, TOO_LARGE, detail

    async def _answer(self, send, request_id: str, status: int, kind: str, detail: str) -> None:
        if self.on_error is not None:
            self.on_error(kind, detail, request_id)
        body = json.dumps({"error": {"kind": kind, "detail": detail, "request_id": request_id}})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 413:
            headers.append((b"connection", b"close"))  # the rest of the body is never read
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})
