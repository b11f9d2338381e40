"""What keeps other web sites away from the dashboard, which has no login and listens on a local address.

- **DNS rebinding**: a page of another site whose name comes to resolve to 127.0.0.1 could read the
  dashboard as its own origin. Requests must therefore name one of the server's own host names in their
  ``Host`` header (Starlette's ``TrustedHostMiddleware``, over ``trusted_hosts``); others get 400.
- **Cross-site requests**: any page may send a POST to a local address (a form, or ``fetch`` in ``no-cors``
  mode) and start or cancel runs or upload files. Browsers name the sending page in the ``Origin`` header,
  so a request that changes something (POST, PUT, PATCH, DELETE) whose ``Origin`` is not the server
  itself (the host and port of its ``Host`` header) is refused with 403. Requests without ``Origin``
  (curl, scripts, same-origin GETs) pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1", "testserver")
"""Always allowed in ``Host``; ``testserver`` is the host name of Starlette's test client."""
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def trusted_hosts(extra: Sequence[str]) -> list[str]:
    """The host names a request may address: the local ones and ``extra`` (an IPv6 address also in
    brackets, as a ``Host`` header writes it)."""
    hosts = list(LOCAL_HOSTS)
    for host in extra:
        bare = host.strip("[]")
        forms = [bare, f"[{bare}]"] if ":" in bare else [bare]
        hosts += [form.lower() for form in forms if form and form.lower() not in hosts]
    return hosts


def same_origin(origin: str, host: str) -> bool:
    """Whether an ``Origin`` header names the server its request was sent to (``host`` is the request's
    ``Host`` header: host and port as the browser wrote them)."""
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == host.lower()


class SameOriginMiddleware:
    """Refuses (403, JSON ``detail``) a request that changes something when its ``Origin`` is another
    site's (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not same_origin(origin, headers.get("host", "")):
                refused = JSONResponse({"detail": f"cross-origin request refused (Origin {origin!r})"}, 403)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
