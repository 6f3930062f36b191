"""The account pages: one's own password, and the admin's list of a hall's staff.

Plain forms, posted and answered with the page again (no script): a one-time password is shown on
the page that made it, once, and kept nowhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hall.accounts.web import actions
from hall.accounts.web.api import ADMIN, hall_accounts
from hall.kernel.errors import DomainError
from hall.kernel.i18n import N_, _
from hall.kernel.roles import Access, Role
from hall.web.access import guarded, member_of
from hall.web.problems import Problem
from hall.web.render import hall_and_state
from hall.web.templating import render

ROLE_CHOICES = (Role.CLERK, Role.SUPERVISOR, Role.TECHNICIAN, Role.ADMIN)
ROLE_NAMES = {
    Role.CLERK: N_("Clerk"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.TECHNICIAN: N_("Technician"),
    Role.ADMIN: N_("Administrator"),
}


def _safe_next(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@guarded(Access.staff(), page=True, before_password_change=True)
async def password_page(request: Request) -> Response:
    member = member_of(request)
    nxt = _safe_next(request.query_params.get("next", "/"))
    context: dict[str, Any] = {"forced": member.must_change_password, "next": nxt, "error": "", "done": False}
    if request.method == "POST":
        form = await request.form()
        nxt = _safe_next(str(form.get("next", "/")))
        context["next"] = nxt
        try:
            await actions.change_own_password(
                request,
                str(form.get("old_password", ""))[:200],
                str(form.get("new_password", ""))[:200],
                str(form.get("confirm", ""))[:200],
            )
        except (DomainError, Problem) as exc:
            context["error"] = exc.said()
            return render(request, "account_password.html", context, status_code=422)
        return RedirectResponse(nxt, status_code=303)
    return render(request, "account_password.html", context)


def _roles_of(form: Any) -> list[str]:
    return [role.value for role in ROLE_CHOICES if form.get(f"role_{role.value}")]


@guarded(ADMIN, page=True)
async def staff_page(request: Request) -> Response:
    """A hall's staff: who they are, their roles, whether active; create, reset, deactivate."""
    row, _state = await hall_and_state(request, "accounts")
    hall_id = row.id
    notice: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        form = await request.form()
        action = str(form.get("action", ""))
        username = str(form.get("username", ""))[:64].strip()
        try:
            if action == "create":
                data = {
                    "username": username,
                    "display_name": str(form.get("display_name", ""))[:100],
                    "staff_no": str(form.get("staff_no", ""))[:32],
                    "roles": _roles_of(form),
                }
                done = await actions.create(request, hall_id, data)
                notice = {"username": done.account["username"], "password": done.password}
            elif action == "reset":
                done = await actions.reset_password(request, hall_id, username)
                notice = {"username": username, "password": done.password}
            elif action in ("deactivate", "activate"):
                await actions.set_active(request, hall_id, username, action == "activate")
                notice = {"username": username, "message": _("Done.")}
            elif action == "rename":
                changes = {
                    "display_name": str(form.get("display_name", ""))[:100],
                    "staff_no": str(form.get("staff_no", ""))[:32],
                }
                await actions.change(request, hall_id, username, changes)
                notice = {"username": username, "message": _("Done.")}
            elif action == "roles":
                await actions.change(request, hall_id, username, {"roles": _roles_of(form)})
                notice = {"username": username, "message": _("Done.")}
            else:
                notice = {"error": _("Unknown action.")}
                status = 400
        except (DomainError, Problem) as exc:
            notice = {"error": exc.said(), "username": username}
            status = 422 if exc.code != "not_found" else 404
    context = {
        "hall": row,
        "accounts": await hall_accounts(request, hall_id),
        "roles": [(role.value, _(ROLE_NAMES[role])) for role in ROLE_CHOICES],
        "notice": notice,
    }
    return render(request, "admin_staff.html", context, status_code=status)
