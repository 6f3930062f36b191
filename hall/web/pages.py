"""The pages every visitor starts from: home with the hall's screens, health, staff login and logout."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hall.kernel.i18n import N_, _
from hall.kernel.roles import Access
from hall.storage.database import reading
from hall.storage.tables import halls
from hall.web.access import guarded
from hall.web.middleware import fresh_csrf_cookie, session_cookie
from hall.web.responses import JSONResponse
from hall.web.sessions import SESSION_COOKIE
from hall.web.templating import render


@dataclass(frozen=True)
class Screen:
    path: str
    title: str
    who: str


# Later parts of hall add their screens here (kiosk, counter console, queue display, ...).
SCREENS: list[Screen] = [
    Screen("/wallboard/{hall}", N_("Wallboard"), N_("Supervisors")),
    Screen("/counter/{hall}", N_("Counter console"), N_("Clerks")),
    Screen("/cases/{hall}", N_("Cases: to-do"), N_("Clerks and supervisors")),
    Screen("/supervision/{hall}", N_("Supervision"), N_("Supervisors")),
    Screen("/counter/{hall}/1/citizen", N_("Citizen screen"), N_("Second screen at the counter")),
    Screen("/kiosk/{hall}", N_("Ticket kiosk"), N_("Residents")),
    Screen("/display/{hall}", N_("Queue display"), N_("Residents")),
    Screen("/devices/{hall}", N_("Device console"), N_("Technicians")),
]


_LEVEL_LABELS = {"district": N_("District hall"), "street": N_("Street hall"), "community": N_("Community station")}


@guarded(Access.anyone())
async def home(request: Request) -> Response:
    async with reading(request.app.state.hall.engine) as conn:
        rows = (await conn.execute(select(halls).order_by(halls.c.id))).all()
    listed = [
        {"id": r.id, "name": r.name, "name_en": r.name_en, "level_label": _LEVEL_LABELS.get(r.level, r.level)}
        for r in rows
    ]
    return render(request, "home.html", {"halls": listed, "screens": SCREENS})


@guarded(Access.anyone())
async def health(request: Request) -> Response:
    writer = request.app.state.hall.writer
    return JSONResponse({"ok": True, "committed": writer.committed})


def _safe_next(target: str) -> str:
    """Only a path on this site: an open redirect would let a phishing link borrow our login."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_page(
    request: Request, *, error: str = "", username: str = "", nxt: str | None = None, status: int = 200
) -> Response:
    nxt = _safe_next(nxt if nxt is not None else request.query_params.get("next", "/"))
    return render(request, "login.html", {"error": error, "username": username, "next": nxt}, status_code=status)


@guarded(Access.anyone(), page=True)
async def login(request: Request) -> Response:
    runtime = request.app.state.hall
    if request.method == "GET":
        return _login_page(request)
    form = await request.form()
    username = str(form.get("username", ""))[:64].strip()
    password = str(form.get("password", ""))[:200]
    nxt = _safe_next(str(form.get("next", "/")))
    client = request.client.host if request.client else "unknown"
    now = time.monotonic()
    limits = runtime.attempts
    wait = limits.retry_after(username, client, now)
    if wait > 0:
        response = _login_page(
            request, error=_("Too many failed attempts. Try again later."), username=username, nxt=nxt, status=429
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    member = await runtime.sessions.check_password(username, password) if username and password else None
    if member is None:
        limits.fail(username, client, now)
        # One message for an unknown user and a wrong password: no telling which usernames exist.
        return _login_page(request, error=_("Wrong username or password."), username=username, nxt=nxt, status=400)
    limits.succeed(username, client, now)
    # A new session id at every login (and the old one ended), with a new CSRF cookie: nothing a
    # visitor or the previous user of this browser held works in the new session.
    before = request.cookies.get(SESSION_COOKIE)
    if before:
        await runtime.sessions.end(before)
    token = await runtime.sessions.start(member, datetime.now(UTC))
    response = RedirectResponse(nxt, status_code=303)
    response.headers.append("set-cookie", session_cookie(token, runtime.settings.https))
    response.headers.append("set-cookie", fresh_csrf_cookie(runtime.settings.https))
    return response


@guarded(Access.staff(), page=True, before_password_change=True)
async def logout(request: Request) -> Response:
    runtime = request.app.state.hall
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await runtime.sessions.end(token)
    response = RedirectResponse("/", status_code=303)
    response.headers.append("set-cookie", session_cookie("", runtime.settings.https, max_age=0))
    response.headers.append("set-cookie", fresh_csrf_cookie(runtime.settings.https))
    return response
