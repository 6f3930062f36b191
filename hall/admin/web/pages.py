"""The admin pages: a hall and the halls below it, its departments, services and counters.

Plain forms, posted and answered with the page again (no script needed), like the staff accounts
page. A form that is not sound comes back as it was typed, with every problem listed in the
reader's language and the fields at fault marked; nothing is changed then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hall.admin.changes import Document, Unsound, hall_entry
from hall.admin.web import actions, forms
from hall.admin.web.api import ADMIN, KEEPER
from hall.kernel.errors import DomainError, NotFound
from hall.kernel.i18n import N_, Text, _
from hall.kernel.roles import Role
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import halls
from hall.web.access import guarded, member_of
from hall.web.problems import Problem, status_of
from hall.web.templating import render

LEVELS = {"district": N_("District"), "street": N_("Street"), "community": N_("Community")}


def _failure(exc: DomainError | Problem) -> tuple[list[str], set[str], int]:
    """Every problem in the reader's language, the fields at fault, and the page's status."""
    if isinstance(exc, Unsound):
        fields = {f for f in (_named_field(p.path) for p in exc.problems) if f}
        # The form marks the field; the words alone say what is wrong (the path is for files).
        return [p.text.said() for p in exc.problems], fields, 422
    field = exc.details.get("field") if isinstance(exc, DomainError) else None
    return [exc.said()], {str(field)} if field else set(), status_of(exc.code)


def _named_field(path: tuple[str | int, ...]) -> str | None:
    named = [step for step in path if isinstance(step, str)]
    return named[-1] if named else None


async def _context(request: Request, section: str) -> dict[str, Any]:
    hall_id = request.path_params["hall"]
    row = await actions.hall_row(request, hall_id)
    member = member_of(request)
    return {
        "hall": row,
        "section": section,
        "is_admin": member.has(Role.ADMIN),
        "district": await actions.district(request),
        "errors": [],
        "bad": set(),
        "notice": _("Saved.") if request.query_params.get("saved") else "",
    }


async def _attempt(
    request: Request, context: dict[str, Any], action: Callable[[], Awaitable[Any]], done: str | None = None
) -> Response | None:
    """Run ``action``; on success go to ``done`` (or say it is saved), on failure fill the context."""
    try:
        await action()
    except (DomainError, Problem) as exc:
        context["errors"], context["bad"], context["http_status"] = _failure(exc)
        return None
    if done is not None:
        return RedirectResponse(done, status_code=303)
    context["notice"] = _("Saved.")
    context["district"] = await actions.district(request)
    return None


def _page(request: Request, template: str, context: dict[str, Any]) -> Response:
    return render(request, template, context, status_code=int(context.pop("http_status", 200)))


def _entry(context: Mapping[str, Any]) -> Document:
    return hall_entry(context["district"], context["hall"].code)


# -- halls --------------------------------------------------------------------------------------


async def _hall_ids(request: Request) -> dict[str, int]:
    async with reading(runtime_of(request).engine) as conn:
        return {row.code: row.id for row in await conn.execute(select(halls.c.code, halls.c.id))}


@guarded(ADMIN, page=True)
async def halls_page(request: Request) -> Response:
    """A hall and every hall below it: rename, take out of service, put back, add one below."""
    context = await _context(request, "halls")
    hall = context["hall"]
    if request.method == "POST":
        form = await request.form()
        action = forms.text(form, "action", 20)
        ids = await _hall_ids(request)
        target = ids.get(forms.text(form, "target", 64), -1)

        async def act() -> Any:
            if action == "create":
                entry = {
                    "code": forms.text(form, "code", 64),
                    "name": forms.names(form),
                    "level": actions.BELOW.get(hall.level),
                }
                if forms.text(form, "level", 20):
                    entry["level"] = forms.text(form, "level", 20)
                return await actions.add_hall(request, hall.id, entry)
            if target < 0:
                raise NotFound(N_("no hall {hall}"), say={"hall": forms.text(form, "target", 64)})
            if action == "rename":
                return await actions.change_hall(request, target, {"name": forms.names(form)})
            if action in ("deactivate", "activate"):
                return await actions.change_hall(request, target, {"active": action == "activate"})
            raise NotFound(N_("unknown action {action}"), say={"action": action})

        if response := await _attempt(request, context, act):
            return response
    rows, parents = [], {hall.code}
    ids = await _hall_ids(request)
    for entry in context["district"]["halls"]:
        if entry["code"] == hall.code or entry["parent"] in parents:
            parents.add(entry["code"])
            depth = 0 if entry["code"] == hall.code else 1 + (entry["parent"] != hall.code)
            rows.append(
                {**entry, "id": ids.get(entry["code"]), "depth": depth, "level_name": _(LEVELS[entry["level"]])}
            )
    levels = [(k, _(v)) for k, v in LEVELS.items() if hall.level != "community" and k != "district"]
    if hall.level == "street":
        levels = [("community", _(LEVELS["community"]))]
    context.update(rows=rows, levels=levels, default_level=actions.BELOW.get(hall.level))
    return _page(request, "admin_halls.html", context)


# -- departments ----------------------------------------------------------------------------------


@guarded(ADMIN, page=True)
async def departments_page(request: Request) -> Response:
    context = await _context(request, "departments")
    hall_id = context["hall"].id
    if request.method == "POST":
        form = await request.form()
        action, code = forms.text(form, "action", 20), forms.text(form, "code", 40)
        current = next((d for d in _entry(context)["departments"] if d["code"] == code), None)

        async def act() -> Any:
            if action == "create":
                return await actions.put_department(request, hall_id, forms.department(form, active=True), create=True)
            if action == "rename":
                active = current["active"] if current else True
                return await actions.put_department(
                    request, hall_id, forms.department(form, active=active), create=False
                )
            return await actions.set_active(request, hall_id, "departments", code, action == "activate")

        if response := await _attempt(request, context, act):
            return response
        context["typed"] = dict(form)
    counts: dict[str, int] = {}
    for counter in _entry(context)["counters"]:
        if counter.get("department"):
            counts[counter["department"]] = counts.get(counter["department"], 0) + 1
    context.update(departments=_entry(context)["departments"], counts=counts)
    return _page(request, "admin_departments.html", context)


# -- services -------------------------------------------------------------------------------------


@guarded(KEEPER, page=True)
async def services_page(request: Request) -> Response:
    """The hall's services in the kiosk's order, with their numbering, cap, hours and target."""
    context = await _context(request, "services")
    hall_id = context["hall"].id
    if request.method == "POST":
        form = await request.form()
        action, code = forms.text(form, "action", 20), forms.text(form, "code", 40)
        if response := await _attempt(
            request, context, lambda: actions.set_active(request, hall_id, "services", code, action == "activate")
        ):
            return response
    state = await runtime_of(request).writer.read_state(hall_id, "queue")
    waiting = state[1].waiting_counts() if state is not None else {}
    context.update(services=_entry(context)["services"], waiting=waiting)
    return _page(request, "admin_services.html", context)


@guarded(KEEPER, page=True)
async def service_page(request: Request) -> Response:
    """One service's form: a new one, or the settings of one the hall has."""
    context = await _context(request, "services")
    hall_id, code = context["hall"].id, request.path_params.get("code")
    current = next((s for s in _entry(context)["services"] if s["code"] == code), None) if code else None
    if code and current is None:
        raise Problem(404, "not_found", N_("no service '{service}' in this hall"), say={"service": code})
    form: Any = None
    if request.method == "POST":
        form = await request.form()
        entry = forms.service(form, active=current["active"] if current else True)
        if code:
            entry["code"] = code
        done = f"/admin/services/{hall_id}?saved=1"
        if response := await _attempt(
            request, context, lambda: actions.put_service(request, hall_id, entry, create=current is None), done
        ):
            return response
        shown: Document | None = entry
    else:
        shown = current
    context.update(service=shown, editing=current is not None, week=forms.week_rows(current, form))
    return _page(request, "admin_service.html", context)


# -- counters -------------------------------------------------------------------------------------


@guarded(KEEPER, page=True)
async def counters_page(request: Request) -> Response:
    context = await _context(request, "counters")
    hall_id = context["hall"].id
    if request.method == "POST":
        form = await request.form()
        action, number = forms.text(form, "action", 20), forms.whole(forms.text(form, "number", 6))
        if response := await _attempt(
            request, context, lambda: actions.set_active(request, hall_id, "counters", number, action == "activate")
        ):
            return response
    entry = _entry(context)
    state = await runtime_of(request).writer.read_state(hall_id, "queue")
    states = (
        {n: Text(c.status.value, context="state").said() for n, c in state[1].counters.items()}
        if state is not None
        else {}
    )
    names = {s["code"]: s["name"]["zh"] for s in entry["services"]}
    departments = {d["code"]: d["name"]["zh"] for d in entry["departments"]}
    context.update(counters=entry["counters"], states=states, service_names=names, department_names=departments)
    return _page(request, "admin_counters.html", context)


@guarded(KEEPER, page=True)
async def counter_page(request: Request) -> Response:
    context = await _context(request, "counters")
    hall_id, number = context["hall"].id, request.path_params.get("number")
    entry = _entry(context)
    current = next((c for c in entry["counters"] if c["number"] == number), None) if number is not None else None
    if number is not None and current is None:
        raise Problem(404, "not_found", N_("no counter number {counter} in this hall"), say={"counter": number})
    offered = [s["code"] for s in entry["services"]]
    shown: Document | None = current
    if request.method == "POST":
        form = await request.form()
        typed = forms.counter(form, offered, active=current["active"] if current else True)
        if number is not None:
            typed["number"] = number
        done = f"/admin/counters/{hall_id}?saved=1"
        if response := await _attempt(
            request, context, lambda: actions.put_counter(request, hall_id, typed, create=current is None), done
        ):
            return response
        shown = typed
    context.update(
        counter=shown,
        editing=current is not None,
        services=entry["services"],
        departments=[
            d for d in entry["departments"] if d["active"] or (shown and shown.get("department") == d["code"])
        ],
    )
    return _page(request, "admin_counter.html", context)
