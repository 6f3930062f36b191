"""The application factory: routes, middleware and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hall import (
    api,
    case_api,
    case_files,
    case_pages,
    catalog_pages,
    counter_people,
    device_api,
    ledger_api,
    pages,
    queue_api,
    receipt_pages,
    track_pages,
    voice_routes,
)
from hall.i18n import _
from hall.roles import Access
from hall.runtime import Runtime
from hall.settings import Settings, from_env
from hall.web import SessionMiddleware
from realtime.endpoint import RealtimeEndpoint

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


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


def routes() -> list[BaseRoute]:
    static = StaticFiles(directory=STATIC_DIR)
    static.access = Access.anyone()  # type: ignore[attr-defined]
    return [
        Route("/", pages.home, name="home"),
        Route("/healthz", pages.health),
        Route("/login", pages.login, methods=["GET", "POST"], name="login"),
        Route("/logout", pages.logout, methods=["POST"], name="logout"),
        Route("/wallboard/{hall:int}", pages.wallboard, name="wallboard"),
        Route("/counter/{hall:int}", pages.counter_picker, name="counters"),
        Route("/counter/{hall:int}/{number:int}", pages.counter_console, name="counter"),
        Route("/counter/{hall:int}/{number:int}/citizen", pages.citizen_screen, name="citizen"),
        Route("/kiosk/{hall:int}", pages.kiosk, name="kiosk"),
        Route("/devices/{hall:int}", pages.devices_console, name="devices"),
        # Ahead of the other /cases pages: a /cases/{hall}/{number}/{tab} route would take "receipt" for a tab.
        Route("/cases/{hall:int}/{number}/receipt", receipt_pages.receipt, name="receipt"),
        Route("/cases/{hall:int}/{number}/receipt/qr.svg", receipt_pages.receipt_qr, name="receipt_qr"),
        Route("/cases/{hall:int}", case_pages.case_list, name="cases"),
        Route("/cases/{hall:int}/{number}", case_pages.case_record, name="case"),
        Route("/supervision/{hall:int}", case_pages.supervision_page, name="supervision"),
        Route("/display/{hall:int}", pages.queue_display, name="display"),
        Route("/t/{hall:int}/{ticket}", pages.ticket_page, name="ticket"),
        Route("/t/{hall:int}/{ticket}/print", pages.ticket_print, name="ticket_print"),
        Route("/t/{hall:int}/{ticket}/qr.svg", pages.ticket_qr, name="ticket_qr"),
        Route("/catalog", catalog_pages.catalog_list, name="catalog"),
        Route("/catalog/{code}", catalog_pages.catalog_item, name="catalog_item"),
        Route("/catalog/{code}/materials", catalog_pages.catalog_materials, name="catalog_materials"),
        Route("/track", track_pages.track_page, name="track"),
        Route("/ledgers/{hall:int}", ledger_api.ledger_page, name="ledgers"),
        # Ahead of the /api/v1 mount, where /halls/{hall}/cases/{number} would take "query" for a number.
        Route("/api/v1/halls/{hall:int}/ledgers", ledger_api.hall_ledger),
        Route("/api/v1/halls/{hall:int}/cases/query", ledger_api.case_query),
        Route("/api/v1/me/cases", ledger_api.my_cases),
        Mount(
            "/api/v1",
            routes=[
                Route("/openapi.json", api.openapi, include_in_schema=False),
                Route("/me", api.me),
                Route("/hub", api.hub_stats),
                Route("/halls", api.list_halls),
                Route("/catalog", catalog_pages.api_catalog),
                Route("/catalog/{code}", catalog_pages.api_catalog_item),
                Route("/track", track_pages.api_track, methods=["POST"]),
                Route("/track/rate", track_pages.api_track_rate, methods=["POST"]),
                Route("/halls/{hall:int}/events", api.list_events),
                Route("/halls/{hall:int}/queue", queue_api.queue_view),
                Route("/halls/{hall:int}/tickets", queue_api.issue_ticket, methods=["POST"]),
                Route("/halls/{hall:int}/readers/{reader}", queue_api.reader_status),
                Route("/id-numbers/check", queue_api.check_id_number, methods=["POST"]),
                Route("/halls/{hall:int}/tickets/{ticket}", queue_api.ticket_view),
                Route("/halls/{hall:int}/tickets/{ticket}/escpos", queue_api.ticket_escpos),
                Route("/halls/{hall:int}/tickets/{ticket}/{action}", queue_api.ticket_action, methods=["POST"]),
                Route("/halls/{hall:int}/counters/{number:int}", queue_api.counter_state),
                Route("/halls/{hall:int}/ratings", queue_api.rate, methods=["POST"]),
                Route("/halls/{hall:int}/work-orders", queue_api.work_orders),
                Route("/halls/{hall:int}/work-orders/{order}/{action}", queue_api.work_order_action, methods=["POST"]),
                Route("/halls/{hall:int}/counters/{number:int}/card", counter_people.counter_card),
                Route("/halls/{hall:int}/counters/{number:int}/holder", counter_people.counter_holder),
                Route("/halls/{hall:int}/counters/{number:int}/{action}", queue_api.counter_action, methods=["POST"]),
                Route("/halls/{hall:int}/attachments", case_files.upload_attachment, methods=["POST"]),
                Route("/halls/{hall:int}/cases", case_api.list_cases),
                Route("/halls/{hall:int}/cases", case_api.accept_case, methods=["POST"]),
                Route("/halls/{hall:int}/supervision", case_api.supervision_view),
                Route("/halls/{hall:int}/cases/{number}", case_api.case_detail),
                Route("/halls/{hall:int}/cases/{number}/attachments/{sha256}", case_api.attachment_file),
                Route("/halls/{hall:int}/cases/{number}/orders", case_api.open_order, methods=["POST"]),
                Route(
                    "/halls/{hall:int}/cases/{number}/orders/{order}/answer", case_api.answer_order, methods=["POST"]
                ),
                Route("/halls/{hall:int}/cases/{number}/{action}", case_api.case_action, methods=["POST"]),
                Route("/halls/{hall:int}/devices", device_api.list_devices),
                Route("/halls/{hall:int}/devices", device_api.register_device, methods=["POST"]),
                Route("/halls/{hall:int}/devices/{device}/bind", device_api.bind_device, methods=["POST"]),
                Route("/halls/{hall:int}/devices/{device}/rekey", device_api.rekey_device, methods=["POST"]),
                Route("/halls/{hall:int}/devices/{device}/retire", device_api.retire_device, methods=["POST"]),
                Route("/halls/{hall:int}/devices/{device}/commands", device_api.recent_commands),
                Route("/halls/{hall:int}/devices/{device}/commands", device_api.send_command, methods=["POST"]),
            ],
        ),
        Route("/voice/chime.wav", voice_routes.chime),
        Route("/voice/call.wav", voice_routes.call),
        WebSocketRoute("/ws", RealtimeEndpoint()),
        Mount("/static", static, name="static"),
    ]


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "http", "message": exc.detail}, status_code=exc.status_code)
    templates = request.app.state.hall.templates
    message = _("No such page.") if exc.status_code == 404 else str(exc.detail)
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "error.html", {"status": exc.status_code, "message": message}, status_code=exc.status_code
    )


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
        middleware=[Middleware(SecurityHeaders), Middleware(SessionMiddleware)],
        exception_handlers={HTTPException: _not_found},
        lifespan=lifespan,
    )
    app.state.hall = runtime
    return app
