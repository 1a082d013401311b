"""Who may use the portal: the token printed at start, exchanged for a session cookie.

A fresh random token at every start (`mapslab portal` prints it in the URL). The first request
that carries `?token=T` gets a session: an HttpOnly, SameSite=Strict cookie holding a random
session id, and is redirected to the same address without the token (so it stays out of the
browser's history). Every request without a valid session gets 401, the token is required on
every address, static assets included.

State-changing requests (anything but GET, HEAD, OPTIONS) also need, against cross-site request
forgery (OWASP CSRF cheat sheet: synchronizer token, origin verification):
  - the session's CSRF token in the `X-CSRF-Token` header (pages carry it in a meta tag), and
  - an `Origin` (or, without one, a `Referer`) of the portal's own scheme, host and port.
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

COOKIE = "mapslab_portal"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Session:
    id: str
    csrf: str


@dataclass
class Gate:
    """The portal's token and the sessions it opened, for one run of the portal."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    sessions: dict[str, Session] = field(default_factory=dict)

    def exchange(self, offered: str) -> Session | None:
        """A new session for the right token; None for any other."""
        if not hmac.compare_digest(offered.encode(), self.token.encode()):
            return None
        session = Session(secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        self.sessions[session.id] = session
        return session

    def session(self, cookie_value: str | None) -> Session | None:
        if not cookie_value:
            return None
        return self.sessions.get(cookie_value)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cookie(headers: dict[str, str]) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:           # a malformed Cookie header is no session
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def own_origin(scope: Scope, headers: dict[str, str]) -> str:
    """The portal's origin as this request addressed it (scheme://host[:port])."""
    return f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"


def same_origin(scope: Scope, headers: dict[str, str]) -> bool:
    """Origin, else Referer, names the portal itself; a request with neither is refused."""
    mine = own_origin(scope, headers)
    origin = headers.get("origin")
    if origin:
        return origin == mine
    referer = headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == mine
    return False


async def _plain(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] = ()) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *extra]})
    await send({"type": "http.response.body", "body": body})


def _page(title: str, text: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<link rel='icon' href='data:,'></head><body style='font-family:sans-serif;"
            f"margin:3em'><h1>{title}</h1><p>{text}</p></body></html>")


UNAUTHORIZED = _page(
    "401 Unauthorized",
    "This is a maps-lab portal. Open it with the address that <code>mapslab portal</code> "
    "printed when it started (<code>http://HOST:PORT/?token=...</code>); a new token is made at "
    "every start.")
FORBIDDEN = _page(
    "403 Forbidden",
    "A change was asked without the page's CSRF token or from another site; reload the page and "
    "try again.")


class TokenGate:
    """ASGI middleware: the session check on every request, CSRF on state-changing ones."""

    def __init__(self, app: ASGIApp, gate: Gate):
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query:
            session = self.gate.exchange(query["token"])
            if session is None:
                await _plain(send, 401, UNAUTHORIZED)
                return
            rest = urlencode({k: v for k, v in query.items() if k != "token"})
            location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
            cookie = (f"{COOKIE}={session.id}; HttpOnly; SameSite=Strict; Path=/")
            await _plain(send, 303, "", [(b"location", location.encode()),
                                         (b"set-cookie", cookie.encode())])
            return
        session = self.gate.session(_cookie(headers))
        if session is None:
            await _plain(send, 401, UNAUTHORIZED)
            return
        if scope["method"] not in SAFE_METHODS:
            offered = headers.get(CSRF_HEADER, "")
            if not (hmac.compare_digest(offered.encode(), session.csrf.encode())
                    and same_origin(scope, headers)):
                await _plain(send, 403, FORBIDDEN)
                return
        scope.setdefault("state", {})["session"] = session
        await self.app(scope, receive, send)
