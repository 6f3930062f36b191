"""Staff pages for cases: the lists (待办 to-do, the cases a clerk registered, every open case), the
case record, and the supervision board (督办).

The lists and the board are drawn by their scripts from the JSON API (hall.case_api) and follow the
hall's ``cases`` topic; the case record is rendered here, because it is the one page that shows the
applicant's full ID number, and only to staff of the case's halls (or above them). Which steps the
record offers follow the rules of cases.workflow; the API checks them again when one is taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from cases import turns
from cases.case_model import Actor, Case, Stage, Turn
from cases.case_timing import LightReason, Meta, light_now, light_reason
from cases.light_words import LIGHT_REASONS, LIGHT_SIGNS, LIGHTS, SPANS, light_script_words
from cases.records import case_from_record
from cases.web.api import case_record_json, may_see_case, staff_actor
from cases.web.assignees import assignable_staff
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access, Role, within
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.tables import halls, staff
from hall.web.access import guarded, member_of
from hall.web.templating import error_page, render

VIEWS = {"todo": N_("To-do"), "mine": N_("My registered cases"), "open": N_("All open")}
VIEW_NOTES = {
    "todo": N_("Cases waiting for your next step."),
    "mine": N_("Cases you accepted that are not finished yet."),
    "open": N_("Every open case of this hall and the halls below it."),
}
VIEW_EMPTY = {
    "todo": N_("Nothing is waiting for you."),
    "mine": N_("You have no unfinished cases."),
    "open": N_("No open case."),
}
STAGES = {
    "accepted": N_("Accepted"),
    "review": N_("Reviewed"),
    "approval": N_("Approved"),
    "completed": N_("Completed"),
    "collected": N_("Collected"),
    "refused": N_("Refused"),
}
# The step a case waits for, by the last step done (a case in ``review`` waits for 审批).
NEXT_STEPS = {
    "accepted": N_("Review"),
    "review": N_("Approval"),
    "approval": N_("Completion"),
    "completed": N_("Handing over"),
}
ROLES = {"clerk": N_("Clerks"), "supervisor": N_("Supervisors")}
LIGHT_COUNTS = {"green": N_("Green"), "yellow": N_("Yellow"), "red": N_("Red")}
HISTORY = {
    "accepted": N_("Case accepted"),
    "reviewed": N_("Review passed"),
    "approved": N_("Approval granted"),
    "completed": N_("Case completed"),
    "collected": N_("Result handed over"),
    "refused": N_("Application refused"),
    "supplement_requested": N_("Supplement requested"),
    "supplement_received": N_("Supplement received"),
    "returned": N_("Returned to the previous stage"),
    "assigned": N_("Assigned"),
}
STEPS = {
    "review": N_("Pass review"),
    "approve": N_("Approve"),
    "complete": N_("Complete"),
    "collect": N_("Hand over the result"),
    "supplement": N_("Ask for a supplement"),
    "supplement_received": N_("Supplement received"),
    "return": N_("Return"),
    "refuse": N_("Refuse"),
    "claim": N_("Claim"),
}
# Steps that need a written reason: the resident is told why (a refusal without one is itself a
# supervision trigger), and an undone step tells its taker what to fix.
NEEDS_REASON = ("refuse", "supplement", "return")
LEVELS = {
    "none": N_("Not escalated"),
    "reminder": N_("Reminder"),
    "yellow_card": N_("Yellow card"),
    "red_card": N_("Red card"),
}
CHANNELS = {"window": N_("At a window"), "online": N_("Online application"), "proxied": N_("Proxied")}
ERRORS = {
    "err": N_("Not done"),
    "err_network": N_("The server did not answer; check the connection and try again."),
    "err_invalid": N_("Invalid input"),
    "err_not_found": N_("Not found"),
    "err_refused": N_("Not allowed by the rules"),
    "err_forbidden": N_("Not allowed"),
    "err_bad_transition": N_("Not possible at the case's stage"),
    "err_missing_materials": N_("Materials missing"),
    "err_csrf": N_("The page has expired"),
    "err_unauthenticated": N_("Please log in again"),
    "err_reason": N_("Please give the reason."),
}
_LIST_WORDS = {
    "paused": N_("Waiting for the applicant's supplement"),
    "finished": N_("Finished"),
    "assigned": N_("assigned to {name}"),
    "provisional": N_("provisional"),
    "updated": N_("Updated {time}"),
    "partial": N_("The first {shown} of {total} cases; narrow the list in the ledgers' query."),
    "no_order": N_("None open"),
    "order": N_("Supervise"),
    "opened": N_("Supervision order {order} opened on case {number}."),
    "fix_by": N_("Fix by {time}"),
}


def _words(*groups: Mapping[str, str], prefix: str = "") -> dict[str, str]:
    """Words for a page's script, in the visitor's language: data-* attributes of one element."""
    return {f"{prefix}{key}": _(text) for group in groups for key, text in group.items()}


def _script_words() -> dict[str, str]:
    words = _words(ERRORS, _LIST_WORDS)
    words.update(_words(STAGES, prefix="stage_"))
    words.update(_words(NEXT_STEPS, prefix="next_"))
    words.update(_words(ROLES, prefix="role_"))
    words.update(light_script_words())
    words.update(_words(LEVELS, prefix="level_"))
    return words


def _item_names(request: Request) -> dict[str, str]:
    english = _locale.get() == "en"
    return {i.code: (i.name_en if english and i.name_en else i.name) for i in runtime_of(request).catalog}


async def _halls(request: Request) -> dict[int, Any]:
    async with reading(runtime_of(request).engine) as conn:
        return {r.id: r for r in await conn.execute(select(halls))}


def _hall_names(rows: Mapping[int, Any]) -> dict[int, str]:
    english = _locale.get() == "en"
    return {i: (r.name_en if english and r.name_en else r.name) for i, r in rows.items()}


def _page(request: Request, template: str, context: dict[str, Any]) -> Response:
    return render(request, template, context)


async def _colleagues(request: Request, rows: Mapping[int, Any]) -> dict[int, str]:
    """Names of the staff of this person's hall and the halls below it, for "assigned to"."""
    member = member_of(request)
    parents = {i: r.parent_id for i, r in rows.items()}
    visible = [i for i in rows if within(i, member.hall_id, parents)]
    async with reading(runtime_of(request).engine) as conn:
        found = await conn.execute(select(staff.c.id, staff.c.display_name).where(staff.c.hall_id.in_(visible)))
        return {r.id: r.display_name for r in found}


async def _board_context(request: Request, rows: Mapping[int, Any]) -> dict[str, Any]:
    return {
        "hall": rows[request.path_params["hall"]],
        "words": _script_words(),
        "items": _item_names(request),
        "hall_names": _hall_names(rows),
        "timezone": runtime_of(request).settings.timezone,
        "signs": LIGHT_SIGNS,
        "light_counts": LIGHT_COUNTS,
        "people": await _colleagues(request, rows),
    }


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def case_list(request: Request) -> Response:
    """待办 and the other lists, chosen with ``?view=todo`` (default), ``mine`` or ``open``."""
    rows = await _halls(request)
    if request.path_params["hall"] not in rows:
        return error_page(request, 404, _("No such hall."))
    view = request.query_params.get("view", "todo")
    if view not in VIEWS:
        view = "todo"
    member = member_of(request)
    context = {
        **(await _board_context(request, rows)),
        "view": view,
        "views": VIEWS,
        "view_note": VIEW_NOTES[view],
        "view_empty": VIEW_EMPTY[view],
        "is_supervisor": member.has(Role.SUPERVISOR),
    }
    return _page(request, "cases.html", context)


@guarded(Access.staff(Role.SUPERVISOR), page=True)
async def supervision_page(request: Request) -> Response:
    """督办: the hall's cases by light, the yellow and red ones, the orders waiting for an answer."""
    rows = await _halls(request)
    if request.path_params["hall"] not in rows:
        return error_page(request, 404, _("No such hall."))
    return _page(request, "supervision.html", {**(await _board_context(request, rows)), "views": VIEWS})


# -- the case record ----------------------------------------------------------------------------


def offered_steps(case: Case, actor: Actor) -> list[str]:
    """The steps the record page offers this person now, by the rules of cases.workflow and
    cases.turns (whose turn it is, at which hall, assigned to whom). ``claim`` is 认领: taking the
    next step for oneself."""
    turn = turns.waiting_on(case)
    ours = turns.may_act(actor, case, turn)
    steps: list[str] = []
    if case.stage is Stage.ACCEPTED and case.paused:
        accepting = Turn(Role.CLERK, case.accepted_hall, None)
        deciding = Turn(Role.CLERK, case.deciding_hall, case.department)
        if actor.admin or turns.fits(actor, accepting) or turns.fits(actor, deciding):
            steps.append("supplement_received")
        if turns.may_act(actor, case, turns.waiting_on(case, during_pause=True)):
            steps.append("refuse")
    elif ours:
        steps += {
            Stage.ACCEPTED: ["review", "supplement", "refuse"],
            Stage.REVIEW: ["approve", "return", "refuse"],
            Stage.APPROVAL: ["complete", "return"],
            Stage.COMPLETED: ["collect"],
        }.get(case.stage, [])
    pending = turns.waiting_on(case, during_pause=True)
    if pending is not None and case.assignee is None and turns.fits(actor, pending):
        steps.append("claim")
    return steps


def may_answer(order: Mapping[str, Any], case: Case, actor: Actor) -> bool:
    """Whether this person answers the 督办 order for the office it is addressed to."""
    if order.get("answered_at"):
        return False
    office = Turn(Role.CLERK, int(order["deciding_hall"]), order.get("department") or None)
    return actor.admin or actor.staff_id == case.assignee or turns.fits(actor, office)


def _name(row: Any) -> str:
    # The staff number tells apart two colleagues of the same name.
    return f"{row.display_name} · {row.staff_no}" if row.staff_no else str(row.display_name)


async def _people(request: Request, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    async with reading(runtime_of(request).engine) as conn:
        found = await conn.execute(
            select(staff.c.id, staff.c.display_name, staff.c.staff_no).where(staff.c.id.in_(wanted))
        )
        return {r.id: _name(r) for r in found}


async def assignable(request: Request, case: Case, actor: Actor) -> list[tuple[int, str]] | None:
    """指派: whom this person may give the case's next step to - the active staff of the hall it
    waits at who hold the role the step needs - or None when they may not assign it (only a
    supervisor of that hall, or admin, may; cases.workflow.assign)."""
    turn = turns.waiting_on(case, during_pause=True)
    if turn is None or not (actor.admin or turns.fits(actor, turn, Role.SUPERVISOR)):
        return None
    async with reading(runtime_of(request).engine) as conn:
        return [(row.id, _name(row)) for row in await assignable_staff(conn, turn)]


def _when(value: str | datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def _waiting(case: Case, meta: Meta, names: Mapping[int, str], hall_names: Mapping[int, str]) -> str:
    if case.stage.finished:
        return _("Finished")
    if case.paused:
        return _(_LIST_WORDS["paused"])
    turn = turns.waiting_on(case)
    if turn is None:
        return ""
    parts = [_(NEXT_STEPS[case.stage.value]), _(ROLES[turn.role.value]), hall_names.get(turn.hall, str(turn.hall))]
    if case.assignee is not None:
        parts.append(_(_LIST_WORDS["assigned"]).replace("{name}", names.get(case.assignee, f"#{case.assignee}")))
    return " · ".join(parts)


def light_word(reason: LightReason) -> str:
    """The light's word with what it is for: "红灯 · 审核环节超时" rather than a bare "overdue"."""
    if reason.clock is None:
        return _(LIGHTS[reason.light.value])
    stage = _(SPANS.get(reason.stage or "", reason.stage or ""))
    return _(LIGHT_REASONS[f"{reason.clock}_{reason.light.value}"]).replace("{stage}", stage)


def light_due(reason: LightReason, tz: ZoneInfo) -> str:
    """The due time of the clock the light is for, or nothing for a green light."""
    if reason.clock is None or reason.due is None:
        return ""
    stage = _(SPANS.get(reason.stage or "", reason.stage or ""))
    return _(LIGHT_REASONS[f"{reason.clock}_due"]).replace("{stage}", stage).replace("{time}", _when(reason.due, tz))


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def case_record(request: Request) -> Response:
    """The case record: the applicant in full, materials and scans, every step, 补正 pauses, the
    light and due time, 督办 orders; the steps this person may take, and answers to orders."""
    runtime = runtime_of(request)
    hall_id: int = request.path_params["hall"]
    number: str = request.path_params["number"]
    found = await case_record_json(runtime, number)
    # A case outside the person's halls is "not found", as in the API: no telling which numbers exist.
    if found is None or not await may_see_case(request, list(found["hall_ids"].values())):
        return error_page(request, 404, _("No such case."))
    member = member_of(request)
    case, meta = case_from_record(found["record"])
    actor = staff_actor(member, hall_id)
    tz = runtime.settings.zone
    rows = await _halls(request)
    hall_names = _hall_names(rows)
    orders = found["orders"]
    names = await _people(
        request,
        [
            case.registered_by,
            case.assignee,
            *(s.actor for s in case.history),
            *(p.requested_by for p in case.pauses),
            *(o.get("opened_by") for o in orders),
            *(o.get("answered_by") for o in orders),
        ],
    )
    item = runtime.catalog.get(case.item)
    english = _locale.get() == "en"
    now = runtime.writer.now()
    shown = light_now(meta, now) if not case.stage.finished else meta.light
    light = shown.value
    reason = light_reason(meta, shown, now)
    steps = offered_steps(case, actor)
    people = await assignable(request, case, actor)
    assign: dict[str, Any] | None = None
    if people is not None:
        assign = {"people": people, "current": case.assignee, "unlisted": ""}
        if case.assignee is not None and case.assignee not in dict(people):
            # Someone who has since left or moved: shown as the choice now, not offered again.
            assign["unlisted"] = names.get(case.assignee, f"#{case.assignee}")
    base = f"/api/v1/halls/{hall_id}/cases/{number}"
    context = {
        "hall": rows[hall_id],
        "case": case,
        "number": number,
        "item_name": (item.name_en if english and item.name_en else item.name) if item else case.item,
        "stage": _(STAGES[case.stage.value]),
        "light": light,
        "light_word": light_word(reason),
        "light_due": light_due(reason, tz),
        "light_sign": LIGHT_SIGNS[light],
        "due": _when(meta.due, tz),
        "provisional": meta.provisional,
        "waiting": _waiting(case, meta, names, hall_names),
        "channel": _(CHANNELS.get(case.channel, case.channel)),
        "accepted_hall": hall_names.get(case.accepted_hall, str(case.accepted_hall)),
        "deciding_hall": hall_names.get(case.deciding_hall, str(case.deciding_hall)),
        "registered_by": names.get(case.registered_by, f"#{case.registered_by}"),
        "assignee": names.get(case.assignee, f"#{case.assignee}") if case.assignee is not None else "",
        "accepted_at": _when(case.accepted_at, tz),
        "counter": meta.counter,
        "history": [
            {
                "at": _when(s.at, tz),
                "action": _(HISTORY.get(s.action, s.action)),
                "from": _(STAGES[s.stage_from.value]) if s.stage_from else "",
                "to": _(STAGES[s.stage_to.value]),
                "actor": names.get(s.actor, f"#{s.actor}"),
                "remark": s.remark,
            }
            for s in case.history
        ],
        "pauses": [
            {
                "start": _when(p.start, tz),
                "end": _when(p.end, tz),
                "reason": p.reason,
                "wanted": p.wanted,
                "by": names.get(p.requested_by, f"#{p.requested_by}"),
            }
            for p in case.pauses
        ],
        "attachments": [
            {**a, "url": f"{base}/attachments/{a['sha256']}", "size_text": _size(int(a["size"]))}
            for a in found["attachments"]
        ],
        "orders": [
            {
                **o,
                "opened_at_text": _when(o.get("opened_at"), tz),
                "reply_due_text": _when(o.get("reply_due"), tz),
                "answered_at_text": _when(o.get("answered_at"), tz),
                "fix_due_text": _when(o.get("fix_due"), tz),
                "level_word": _(LEVELS.get(o.get("level", "none"), LEVELS["none"])),
                "opened_by_name": names.get(o.get("opened_by") or 0, ""),
                "answered_by_name": names.get(o.get("answered_by") or 0, ""),
                "answerable": may_answer(o, case, actor),
            }
            for o in orders
        ],
        "rating": meta.rating,
        "steps": [(step, _(STEPS[step])) for step in steps],
        "step_names": steps,
        "assign": assign,
        "needs_reason": NEEDS_REASON,
        "wanted": case.pauses[-1].wanted if case.paused else (),
        "me": member.id,
        "base": base,
        "words": _words(ERRORS),
        "light_counts": LIGHT_COUNTS,
    }
    return _page(request, "case.html", context)
