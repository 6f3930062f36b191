"""The application factory: routes, middleware and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from cases.web import routes as case_routes
from cases.web import stats_cases
from devices.web import routes as device_routes
from displays.web import routes as display_routes
from hall.accounts.web import routes as account_routes
from hall.admin.web import routes as admin_routes
from hall.kernel.errors import HallError
from hall.kernel.i18n import _
from hall.kernel.roles import Access
from hall.runtime import Runtime
from hall.settings import Settings, from_env
from hall.web import api, pages, paths, problems
from hall.web.middleware import BodyLimit, SecurityHeaders, SessionMiddleware, same_origin
from hall.web.problems import problem
from hall.web.sessions import SESSION_COOKIE, session_key
from hall.web.templating import error_page
from queueing.web import routes as queue_routes
from realtime.endpoint import RealtimeEndpoint
from realtime.sockets import Identity

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


async def identify_socket(ws: WebSocket) -> Identity | None:
    """The session behind a websocket, looked up afresh (a logout is seen at once). A cross-site
    websocket would otherwise ride on the staff cookie (CSWSH), so it is nobody's."""
    token = ws.cookies.get(SESSION_COOKIE)
    if not token or not same_origin(ws):
        return None
    member = await ws.app.state.hall.sessions.lookup(token, datetime.now(UTC))
    if member is None:
        return None
    return Identity(session=session_key(token), roles=member.roles, hall_id=member.hall_id)


def routes() -> list[BaseRoute]:
    """Every URL of hall. Each part lists its own (``<part>/web/routes.py``); the order here only
    matters where two patterns could match one path, and each part keeps those in order itself."""
    paths.register()
    static = StaticFiles(directory=STATIC_DIR)
    static.access = Access.anyone()  # type: ignore[attr-defined]
    return [
        Route("/", pages.home, name="home"),
        Route("/healthz", pages.health),
        Route("/login", pages.login, methods=["GET", "POST"], name="login"),
        Route("/logout", pages.logout, methods=["POST"], name="logout"),
        *queue_routes.PAGES,
        *device_routes.PAGES,
        *case_routes.PAGES,
        *account_routes.PAGES,
        *admin_routes.PAGES,
        Mount(
            "/api/v1",
            routes=[
                Route("/openapi.json", api.openapi, include_in_schema=False),
                Route("/me", api.me),
                Route("/hub", api.hub_stats),
                Route("/login-limits/unlock", api.unlock_login, methods=["POST"]),
                Route("/halls", api.list_halls),
                Route("/halls/{hall:id}/events", api.list_events),
                *queue_routes.API,
                *case_routes.API,
                *device_routes.API,
                *display_routes.API,
                *account_routes.API,
                *admin_routes.API,
            ],
        ),
        *display_routes.PAGES,
        WebSocketRoute("/ws", RealtimeEndpoint(identify_socket)),
        Mount("/static", static, name="static"),
    ]


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        # A path no route takes is as unknown as an object no rule finds: the same code.
        return problem(exc.status_code, "not_found" if exc.status_code == 404 else "http", str(exc.detail))
    message = _("No such page.") if exc.status_code == 404 else str(exc.detail)
    return error_page(request, exc.status_code, message)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    runtime = runtime or Runtime.build(settings or from_env())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = Starlette(
        routes=routes(),
        middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit), Middleware(SessionMiddleware)],
        exception_handlers={HTTPException: _not_found, HallError: problems.answer},
        lifespan=lifespan,
    )
    app.state.hall = runtime
    # The statistics page (the queue's slice) lists the cases at the end of its drill-down with
    # the cases' slice's section: the two slices know each other only through this wiring.
    app.state.stats_sections = (stats_cases.case_section,)
    return app
