"""What one caller may send besides what the models check: text that is valid Unicode (422), and a
rate of intake per token (429 with Retry-After). The cap on a body's size is FastAPI's own
(`max_body_size`, set from MAX_BODY_BYTES in api/main.py: 413). Limits in settings.py.

A JSON body that may hold a lone surrogate (`\\ud800`) is parsed once more here: such text cannot be
stored or sent on, so it is refused naming the field instead of failing deep inside a write.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A surrogate escaped in JSON (\ud800–\udfff). A proper pair passes this test and the walk.
_MAY_HOLD_SURROGATE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


class UnicodeBodies:
    """ASGI middleware: a 422 naming the field for JSON text that is not valid Unicode. It reads the
    body through the app's size limit (FastAPI's `max_body_size`: 413 past MAX_BODY_BYTES), so what it
    holds is never more than the cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if scope["type"] != "http" or b"json" not in content_type:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")  # raw bytes that are no UTF-8 (an encoded surrogate among them)
        except UnicodeDecodeError as bad:
            await not_unicode(["body"], f"not UTF-8 text: byte {bad.start} cannot start or continue a character")(
                scope, receive, send)
            return
        if _MAY_HOLD_SURROGATE.search(body) and (field := lone_surrogate_at(body)) is not None:
            await not_unicode(field)(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # a disconnect, when the client goes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def lone_surrogate_at(body: bytes) -> list[str | int] | None:
    """Where in a JSON body a string (or key) holds a lone surrogate, as a FastAPI `loc`; None if nowhere
    (or if the body is not JSON at all: the app's own parser answers that)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None

    def walk(value: Any, at: list[str | int]) -> list[str | int] | None:
        if isinstance(value, str):
            return None if _is_unicode(value) else at
        if isinstance(value, list):
            return next((found for i, item in enumerate(value) if (found := walk(item, [*at, i])) is not None), None)
        if isinstance(value, dict):
            for key, item in value.items():
                if not _is_unicode(key):
                    return [*at, key.encode("utf-8", "replace").decode()]
                if (found := walk(item, [*at, key])) is not None:
                    return found
        return None

    return walk(document, ["body"])


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def not_unicode(field: list[str | int],
                message: str = "not valid Unicode text: it holds a lone surrogate (such as \\ud800)") -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": [{"type": "string_unicode", "loc": field, "msg": message}]})


class SlidingWindow:
    """At most `limit` requests per key within the last `window` seconds, counted in this process."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}

    def wait_needed(self, key: str, now: float, limit: int, window: float) -> int | None:
        """Admit a request (None) or say how many whole seconds until one more would be admitted."""
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - window:
            seen.popleft()
        if len(seen) >= limit:
            return max(1, math.ceil(seen[len(seen) - limit] + window - now))
        seen.append(now)
        return None
