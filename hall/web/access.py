"""Who is asking, and may they: the access rule on every route.

Every endpoint is wrapped by ``guarded(access)``; the wrapper refuses anyone the access rule does
not allow (a login redirect for pages, 401/403 JSON for the API), checks the CSRF token on every
unsafe method, and checks that staff may see the hall named in the path. A test walks the route
table and fails on any endpoint without a declared access rule.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from hall.kernel.i18n import _
from hall.kernel.roles import Access
from hall.web import csrf
from hall.web.problems import Problem, problem
from hall.web.sessions import Staff
from hall.web.templating import error_page

Endpoint = Callable[[Request], Awaitable[Response]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def staff_of(conn: HTTPConnection) -> Staff | None:
    member = conn.scope.get("staff")
    return member if isinstance(member, Staff) else None


def member_of(conn: HTTPConnection) -> Staff:
    """The staff member behind a request to a staff-only endpoint (its guard let only staff in).

    Raises:
        Problem: 401 when nobody is logged in, for an endpoint called without its guard.
    """
    member = staff_of(conn)
    if member is None:
        raise Problem(401, "unauthenticated", _("Please log in."))
    return member


def csrf_token(conn: HTTPConnection) -> str:
    scope = conn.scope
    return csrf.token_for(conn.app.state.hall.settings.secret_key, scope["hall.csrf_cookie"], scope["hall.session"])


ACCOUNT_PAGE = "/account/password"


def guarded(
    access: Access, *, page: bool = False, before_password_change: bool = False
) -> Callable[[Endpoint], Endpoint]:
    """Declare and enforce who may use an endpoint; ``page`` endpoints redirect to login.

    Staff whose password is a first or reset one may use only the endpoints marked
    ``before_password_change`` (changing it, logging out, who am I) until they have changed it."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def checked(request: Request) -> Response:
            member = staff_of(request)
            if not access.allows(member.roles if member else None):
                if member is None:
                    if page:
                        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
                    return _refuse(401, "unauthenticated", _("Please log in."))
                return _refuse(403, "forbidden", _("Your role may not use this."), page=page, request=request)
            if member is not None and member.must_change_password and not access.public and not before_password_change:
                if page:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"{ACCOUNT_PAGE}?next={quote(target)}", status_code=303)
                return _refuse(403, "password_change_required", _("Change your password first."))
            if request.method not in SAFE_METHODS and not await _csrf_ok(request):
                return _refuse(
                    403, "csrf", _("The form has expired; reload the page and try again."), page=page, request=request
                )
            hall_id = request.path_params.get("hall")
            sessions = request.app.state.hall.sessions
            if (
                member is not None
                and isinstance(hall_id, int)
                and not access.public
                and not await sessions.may_see_hall(member, hall_id)
            ):
                return _refuse(403, "forbidden", _("This hall is not yours."), page=page, request=request)
            return await endpoint(request)

        checked.access = access  # type: ignore[attr-defined]
        return checked

    return wrap


async def _csrf_ok(request: Request) -> bool:
    secret = request.app.state.hall.settings.secret_key
    cookie = request.scope["hall.csrf_cookie"]
    token = request.headers.get(csrf.CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(csrf.CSRF_FIELD)
        token = field if isinstance(field, str) else None
    return csrf.valid(secret, cookie, request.scope["hall.session"], token)


def _refuse(status: int, code: str, message: str, *, page: bool = False, request: Request | None = None) -> Response:
    if page and request is not None:
        return error_page(request, status, message)
    return problem(status, code, message)


def access_of(endpoint: Any) -> Access | None:
    found = getattr(endpoint, "access", None)
    return found if isinstance(found, Access) else None
