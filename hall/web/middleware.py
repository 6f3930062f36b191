"""What wraps every request: who is asking (the session cookie), the locale, the CSRF cookie, and
the security headers on every answer."""

from __future__ import annotations

from datetime import UTC, datetime
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hall.kernel import i18n
from hall.web import csrf
from hall.web.problems import Problem, problem
from hall.web.sessions import SESSION_COOKIE, Sessions, session_key


def same_origin(conn: HTTPConnection) -> bool:
    """Whether the browser says the request comes from this site (no Origin: not a browser)."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == conn.headers.get("host", "")


class SessionMiddleware:
    """Resolves the session cookie to a staff member, picks the locale, keeps a CSRF cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        runtime = scope["app"].state.hall
        sessions: Sessions = runtime.sessions
        member = None
        session = conn.cookies.get(SESSION_COOKIE)
        # A cross-site websocket would otherwise ride on the staff cookie (CSWSH).
        if scope["type"] == "http" or same_origin(conn):
            member = await sessions.lookup(session, datetime.now(UTC))
        scope["staff"] = member
        # What the CSRF token is bound to: this staff session, or nothing for a visitor.
        scope["hall.session"] = session_key(session) if member is not None and session else ""
        set_cookies: list[str] = []
        cookie = conn.cookies.get(csrf.CSRF_COOKIE)
        if not cookie or len(cookie) > 64:
            cookie = csrf.new_cookie()
            set_cookies.append(_cookie(csrf.CSRF_COOKIE, cookie, runtime.settings.https))
        scope["hall.csrf_cookie"] = cookie
        asked = conn.query_params.get("lang")
        locale = i18n.choose(asked or conn.cookies.get(i18n.LANG_COOKIE))
        if asked:
            set_cookies.append(_cookie(i18n.LANG_COOKIE, locale, runtime.settings.https, http_only=False))
        token = i18n.current.set(locale)
        try:
            if not set_cookies or scope["type"] != "http":
                await self.app(scope, receive, send)
                return

            async def send_with_cookies(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    for value in set_cookies:
                        headers.append("set-cookie", value)
                await send(message)

            await self.app(scope, receive, send_with_cookies)
        finally:
            i18n.current.reset(token)


def _cookie(name: str, value: str, secure: bool, *, http_only: bool = True, max_age: int | None = None) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar[name] = value
    jar[name]["path"] = "/"
    jar[name]["samesite"] = "Lax"
    if http_only:
        jar[name]["httponly"] = True
    if secure:
        jar[name]["secure"] = True
    if max_age is not None:
        jar[name]["max-age"] = max_age
    return jar.output(header="").strip()


def session_cookie(token: str, secure: bool, *, max_age: int | None = None) -> str:
    return _cookie(SESSION_COOKIE, token, secure, max_age=max_age)


def fresh_csrf_cookie(secure: bool) -> str:
    """A new CSRF cookie, set at login and logout so no token from before carries over."""
    return _cookie(csrf.CSRF_COOKIE, csrf.new_cookie(), secure)


_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class BodyLimit:
    """No request body larger than ``limit`` is read, on any route: one that says it is larger is
    answered 413 at once, and one that grows past it while being read fails with ``Problem`` 413
    where it is read. Endpoints keep their own, smaller limits (JSON bodies, uploads)."""

    def __init__(self, app: ASGIApp, limit: int = 11 * 1024 * 1024) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and (len(declared) > 12 or int(declared) > self.limit):
            await problem(413, "too_large", i18n.N_("body larger than {limit} bytes"), say={"limit": self.limit})(
                scope, receive, send
            )
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise Problem(
                        413, "too_large", i18n.N_("body larger than {limit} bytes"), say={"limit": self.limit}
                    )
            return message

        await self.app(scope, counted, send)


class SecurityHeaders:
    """Headers that keep pages from being framed, sniffed or fed foreign scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
