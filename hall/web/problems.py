"""One error model for HTTP: an endpoint raises an error of the tree (``hall.kernel.errors``) and
``answer`` turns it into a response in one place — JSON under ``/api/``, the error page elsewhere.

Every answer has the same shape as a device's reply and a websocket error frame: ``code`` for
programs, ``message`` for people, and the details. ``error`` repeats the code for the clients
written before ``code`` existed. The status comes from the code (``STATUS``); a ``Problem`` carries
its own (a body too large, not JSON). The message is put into the request's language here, at the
edge, from the untranslated text the error carries (``hall.kernel.i18n.Text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hall.kernel.errors import CommandTimeout, DomainError, HallError, WriterClosed
from hall.kernel.i18n import N_, Text
from hall.web.responses import JSONResponse
from hall.web.templating import error_page

# The HTTP status of each code a rule or a request check may give; a code not listed is a refusal (409).
STATUS: Mapping[str, int] = {
    "not_found": 404,
    "forbidden": 403,
    "bad_transition": 409,
    "refused": 409,
    "nothing_waiting": 409,
    "closed": 409,
    "sold_out": 409,
    "priority_not_offered": 403,
    "no_counter": 409,
    "not_accepted_here": 409,
    "username_taken": 409,
    "counter_inactive": 409,
    "in_service": 409,
    "live_ticket_held": 409,
    "outside_check_in": 409,
    "invalid": 422,
    "invalid_id_number": 422,
    "missing_materials": 422,
    "timeout": 503,
    "unavailable": 503,
}
REFUSED = 409


class Problem(HallError):
    """A request that cannot be answered as asked, for reasons of HTTP rather than of the rules: a
    body too large (413), not JSON (400), a service that cannot answer now (503).

    ``message`` is an English template filled from ``details`` and ``say``, as a ``DomainError``'s."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | Text,
        *,
        headers: Mapping[str, str] | None = None,
        say: Mapping[str, Any] | None = None,
        **details: Any,
    ) -> None:
        self.text = message if isinstance(message, Text) else Text(message, {**details, **(say or {})})
        self.message = self.text.english
        super().__init__(self.message)
        self.status = status
        self.code = code
        self.details = details
        # Headers the answer carries (``Retry-After`` on a 429).
        self.headers = dict(headers or {})

    def said(self) -> str:
        return self.text.said()

    def as_json(self, locale: str | None = None) -> dict[str, Any]:
        return {"code": self.code, "error": self.code, "message": self.text.said(locale), **self.details}


def status_of(code: str) -> int:
    return STATUS.get(code, REFUSED)


def problem(status: int, code: str, message: str | Text, **details: Any) -> JSONResponse:
    """An error answer in the one shape, for an endpoint that answers rather than raises."""
    return JSONResponse(Problem(status, code, message, **details).as_json(), status_code=status)


def as_problem(exc: HallError) -> Problem:
    """Any error of the tree as the HTTP problem it answers."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, DomainError):
        # Its details as the error says them, in the request's language (a list of problems).
        said = {k: v for k, v in exc.as_json().items() if k not in ("code", "error", "message")}
        return Problem(status_of(exc.code), exc.code, exc.text, **said)
    if isinstance(exc, CommandTimeout):
        return Problem(503, "timeout", N_("the server did not finish this in time; it may still be done"))
    if isinstance(exc, WriterClosed):
        return Problem(503, "unavailable", N_("the server is stopping"))
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code in STATUS:
        return Problem(STATUS[code], code, str(exc))
    return Problem(500, "internal", N_("the server could not do this"))


async def answer(request: Request, exc: Exception) -> Response:
    """The exception handler for every error of the tree that an endpoint lets through."""
    assert isinstance(exc, HallError)
    found = as_problem(exc)
    if request.url.path.startswith("/api/"):
        return JSONResponse(found.as_json(), status_code=found.status, headers=found.headers)
    return error_page(request, found.status, found.said())
